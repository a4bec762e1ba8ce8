import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileProgram } from '../program.js';

function value(source: string, event: Record<string, unknown> = {}): unknown {
  const outcome = compileProgram(source).run(structuredClone(event));
  if (outcome.kind !== 'ok') throw new Error(`${outcome.kind}: ${outcome.message}`);
  return outcome.value;
}
const fails = (source: string) => assert.equal(compileProgram(`x, err = ${source}\nerr != null`).run({}).kind === 'ok' && value(`x, err = ${source}\nerr != null`), true);

describe('VRL functions', () => {
  it('coerces and asserts types', () => {
    assert.equal(value('to_int!("42")'), 42);
    assert.equal(value('to_int(3.9)'), 3);
    assert.equal(value('to_float!("1.5")'), 1.5);
    assert.equal(value('to_bool!("yes")'), true);
    assert.equal(value('to_string(true)'), 'true');
    assert.equal(value("to_string(t'2020-01-01T00:00:00Z')"), '2020-01-01T00:00:00Z');
    fails('to_int("4x")');
    fails('string(1)');
    assert.equal(value('int!(.n)', { n: 3 }), 3);
    assert.deepEqual(value('[is_string("a"), is_integer(1), is_float(1.5), is_null(null), is_object({}), is_array([]), is_boolean(false)]'), [true, true, true, true, true, true, true]);
    assert.equal(value('is_nullish("  ")'), true);
    assert.equal(value('is_json("{}")'), true);
  });

  it('works on strings', () => {
    assert.equal(value('downcase("AbC")'), 'abc');
    assert.equal(value('contains("Hello", "ell")'), true);
    assert.equal(value('contains("Hello", "ELL", case_sensitive: false)'), true);
    assert.equal(value('starts_with("foobar", "foo") && ends_with("foobar", "bar")'), true);
    assert.equal(value('replace("a-b-c", "-", "+")'), 'a+b+c');
    assert.equal(value('replace("a-b-c", "-", "+", count: 1)'), 'a+b-c');
    assert.equal(value("replace(\"user=bob id=7\", r'(?P<k>\\w+)=(\\w+)', \"$k:$2\")"), 'user:bob id:7');
    assert.deepEqual(value('split("a,b,c", ",")'), ['a', 'b', 'c']);
    assert.deepEqual(value("split(\"a1b22c\", r'\\d+')"), ['a', 'b', 'c']);
    assert.deepEqual(value('split("a,b,c", ",", limit: 2)'), ['a', 'b,c']);
    assert.equal(value('join!(["a", "b"], ", ")'), 'a, b');
    assert.equal(value('strip_whitespace("  x  ")'), 'x');
    assert.equal(value('truncate("abcdef", 3, suffix: "...")'), 'abc...');
    assert.equal(value('truncate("abcdef", 3, ellipsis: true)'), 'abc...');
    assert.equal(value('truncate("abc", 3)'), 'abc');
  });

  it('truncates by characters, a surrogate pair counting as one, as the string iterator does', () => {
    const pieces = ['a', 'é', '😀', '\ud800', '\udc00', 'z'];
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let n = 0; n < 300; n++) {
      const text = Array.from({ length: Math.floor(random() * 8) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      const limit = Math.floor(random() * 7);
      const chars = [...text];
      const expected = chars.length <= limit ? text : chars.slice(0, limit).join('') + '…';
      assert.equal(value('truncate(string!(.text), int!(.limit), suffix: "…")', { text, limit }), expected, JSON.stringify({ text, limit }));
    }
    assert.equal(value('slice!("abcdef", 1, 3)'), 'bc');
    assert.deepEqual(value('slice!([1, 2, 3], -2)'), [2, 3]);
    assert.equal(value('length("abc") + length([1]) + length({"a": 1})'), 5);
    assert.equal(value('strip_ansi_escape_codes("\\u{1b}[31mred\\u{1b}[0m")'), 'red');
    assert.equal(value("match_any(\"disk error\", [r'warn', r'error'])"), true);
    assert.equal(value("redact(\"ssn 123-45-6789\", filters: [r'\\d{3}-\\d{2}-\\d{4}'])"), 'ssn [REDACTED]');
  });

  it('works on objects and arrays', () => {
    assert.deepEqual(value('merge({"a": {"x": 1}}, {"a": {"y": 2}}, deep: true)'), { a: { x: 1, y: 2 } });
    assert.deepEqual(value('keys({"b": 1, "a": 2})'), ['a', 'b'], 'VRL objects are ordered by key');
    assert.deepEqual(value('values({"b": 1, "a": 2})'), [2, 1]);
    assert.equal(value('encode_json({"b": 1, "a": {"d": 1, "c": 2}})'), '{"a":{"c":2,"d":1},"b":1}');
    assert.equal(value('get!({"a": [1, {"b": 5}]}, ["a", 1, "b"])'), 5);
    assert.deepEqual(value('set!({"a": 1}, ["b", "c"], 2)'), { a: 1, b: { c: 2 } });
    assert.deepEqual(value('remove!({"a": 1, "b": 2}, ["a"])'), { b: 2 });
    assert.deepEqual(value('compact({"a": null, "b": "", "c": [], "d": 1})'), { d: 1 });
    assert.deepEqual(value('flatten({"a": {"b": 1, "c": {"d": 2}}})'), { 'a.b': 1, 'a.c.d': 2 });
    assert.deepEqual(value('flatten([1, [2, [3]]])'), [1, 2, 3]);
    assert.deepEqual(value('unflatten({"a.b": 1, "a.c": 2})'), { a: { b: 1, c: 2 } });
    assert.deepEqual(value('push([1], 2)'), [1, 2]);
    assert.deepEqual(value('append([1], [2, 3])'), [1, 2, 3]);
    assert.equal(value('includes([1, "a"], "a")'), true);
    assert.deepEqual(value('x = {"a": 1, "b": 2}\ndel(x.a)\nx'), { b: 2 });
    assert.equal(value('exists(.a[1])', { a: [1, 2] }), true);
    assert.equal(value('exists(.a.b)', { a: {} }), false);
  });

  it('parses and encodes', () => {
    assert.deepEqual(value('parse_json!("{\\"a\\": [1, 2.5, null]}")'), { a: [1, 2.5, null] });
    assert.equal(value('encode_json({"a": [1, "x"]})'), '{"a":[1,"x"]}');
    assert.deepEqual(value("parse_regex!(\"GET /index 200\", r'^(?P<method>\\w+) (?P<path>\\S+) (?P<status>\\d+)$')"), { method: 'GET', path: '/index', status: '200' });
    assert.deepEqual(value("parse_regex_all!(\"a=1 b=2\", r'(?P<k>\\w)=(?P<v>\\d)')"), [{ k: 'a', v: '1' }, { k: 'b', v: '2' }]);
    fails("parse_regex(\"x\", r'\\d')");
    assert.deepEqual(value('parse_key_value!("level=info msg=\\"hello world\\" flag")'), { level: 'info', msg: 'hello world', flag: true });
    assert.deepEqual(value('parse_key_value!("a:1, b:2", key_value_delimiter: ":", field_delimiter: ",")'), { a: '1', b: '2' });
    assert.deepEqual(value('parse_logfmt!("at=info code=200 path=/x")'), { at: 'info', code: '200', path: '/x' });
    assert.equal(value('encode_logfmt!({"msg": "hi there", "lvl": "info"})'), 'lvl=info msg="hi there"');
    assert.deepEqual(value('parse_url!("https://u:p@example.com:8443/a/b?x=1&x=2#frag")'), {
      scheme: 'https', username: 'u', password: 'p', host: 'example.com', port: 8443, path: '/a/b', query: { x: ['1', '2'] }, fragment: 'frag',
    });
    assert.deepEqual(value('parse_query_string("?a=1&b=x%20y&c")'), { a: '1', b: 'x y', c: '' });
    assert.equal(value('encode_base64("hello")'), 'aGVsbG8=');
    assert.equal(value('decode_base64!("aGVsbG8=")'), 'hello');
    fails('decode_base64("@@@")');
    assert.equal(value('md5("foo")'), 'acbd18db4cc2f85cedef654fccc4a4d8');
    assert.equal(value('sha1("foo")'), '0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33');
    assert.equal(value('sha2("foo", variant: "SHA-256")'), '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae');
    assert.equal(String(value('uuid_v4()')).length, 36);
  });

  it('handles time', () => {
    assert.equal(value('format_timestamp!(parse_timestamp!("10/Oct/2000:13:55:36 -0700", "%d/%b/%Y:%H:%M:%S %z"), "%+")'), '2000-10-10T20:55:36+00:00');
    assert.equal(value('format_timestamp!(parse_timestamp!("2021-02-11 10:32:50", "%Y-%m-%d %H:%M:%S"), "%Y/%m/%d %T")'), '2021/02/11 10:32:50');
    fails('parse_timestamp("nope", "%Y")');
    assert.equal(value('parse_duration!("1.5s", "ms")'), 1500);
    assert.equal(value('parse_duration!("1h 30m", "m")'), 90);
    assert.equal(value('is_timestamp(now())'), true);
  });

  it('does numbers', () => {
    assert.deepEqual(value('[floor(2.7), ceil(2.1), round(2.5), round(-2.5), round(3.14159, precision: 2), abs(-3)]'), [2, 3, 3, -3, 3.14, 3]);
    assert.equal(value('mod(7, 3)'), 1);
    assert.equal(value('format_int!(255, 16)'), 'ff');
    assert.equal(value('format_number(1234567.891, 2, grouping_separator: ",")'), '1,234,567.89');
  });

  it('logs through the context, rate-limited per call site', () => {
    const lines: string[] = [];
    const program = compileProgram('log("seen " + string!(.n), level: "warn")\nlog(.n, rate_limit_secs: 0)');
    for (let n = 0; n < 3; n++) program.run({ n: String(n) }, { log: (level, message) => lines.push(`${level} ${message}`), env: {} });
    assert.deepEqual(lines, ['warn seen 0', 'info 0', 'info 1', 'info 2']);
  });

  it('asserts, reads the environment, checks CIDRs', () => {
    assert.equal(compileProgram('assert!(1 == 2, "nope")').run({}).kind, 'error');
    assert.equal(value('assert_eq!(1, 1)'), true);
    process.env.SLUICE_VRL_TEST = 'yes';
    assert.equal(value('get_env_var!("SLUICE_VRL_TEST")'), 'yes');
    assert.equal(value('ip_cidr_contains!("10.0.0.0/8", "10.1.2.3")'), true);
    assert.equal(value('ip_cidr_contains!("10.0.0.0/8", "11.1.2.3")'), false);
    assert.equal(value('ip_cidr_contains!("2001:db8::/32", "2001:db8::1")'), true);
  });
});

describe('VRL log parsers', () => {
  it('parses common and combined (apache) logs', () => {
    const line = '127.0.0.1 bob frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326';
    assert.equal(value(`encode_json(parse_common_log!(${JSON.stringify(line)}))`),
      '{"host":"127.0.0.1","identity":"bob","message":"GET /apache_pb.gif HTTP/1.0","method":"GET","path":"/apache_pb.gif","protocol":"HTTP/1.0","size":2326,"status":200,"timestamp":"2000-10-10T20:55:36Z","user":"frank"}');
    const combined = `${line} "http://www.example.com/start.html" "Mozilla/4.08"`;
    const parsed = value(`parse_apache_log!(${JSON.stringify(combined)}, "combined")`) as Record<string, unknown>;
    assert.equal(parsed.referrer, 'http://www.example.com/start.html');
    assert.equal(parsed.agent, 'Mozilla/4.08');
    const error = value('parse_apache_log!("[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server", "error")') as Record<string, unknown>;
    assert.deepEqual({ ...error, timestamp: (error.timestamp as Date).toISOString() }, { severity: 'error', client: '127.0.0.1', message: 'client denied by server', timestamp: '2000-10-11T14:32:52.000Z' });
    fails('parse_common_log("not a log line")');
  });

  it('parses nginx logs', () => {
    const access = value('parse_nginx_log!("172.17.0.1 - alice [01/Apr/2021:12:02:31 +0000] \\"POST /not-found HTTP/1.1\\" 404 153 \\"http://localhost/somewhere\\" \\"curl/7.64.1\\"", "combined")') as Record<string, unknown>;
    assert.equal(access.client, '172.17.0.1');
    assert.equal(access.user, 'alice');
    assert.equal(access.request, 'POST /not-found HTTP/1.1');
    assert.equal(access.status, 404);
    assert.equal(access.referer, 'http://localhost/somewhere');
    assert.equal(access.agent, 'curl/7.64.1');
    const error = value('parse_nginx_log!("2021/04/01 13:02:31 [error] 31#31: *1 open() failed (2: No such file or directory), client: 172.17.0.1, server: localhost, request: \\"GET /x HTTP/1.1\\", host: \\"localhost:8081\\"", "error")') as Record<string, unknown>;
    assert.equal(error.severity, 'error');
    assert.equal(error.pid, 31);
    assert.equal(error.cid, 1);
    assert.equal(error.message, 'open() failed (2: No such file or directory)');
    assert.equal(error.client, '172.17.0.1');
    assert.equal(error.request, 'GET /x HTTP/1.1');
    assert.equal(error.host, 'localhost:8081');
  });

  it('parses syslog (RFC 5424 with structured data, and RFC 3164)', () => {
    const rfc5424 = value('parse_syslog!(s\'<13>1 2020-03-13T20:45:38.119Z dynamicwireless.name non 2426 ID931 [exampleSDID@32473 iut="3" eventSource="Application"] Try to override the THX port\')') as Record<string, unknown>;
    assert.equal(rfc5424.severity, 'notice');
    assert.equal(rfc5424.facility, 'user');
    assert.equal(rfc5424.hostname, 'dynamicwireless.name');
    assert.equal(rfc5424.appname, 'non');
    assert.equal(rfc5424.procid, 2426);
    assert.equal(rfc5424.msgid, 'ID931');
    assert.deepEqual(rfc5424['exampleSDID@32473'], { iut: '3', eventSource: 'Application' });
    assert.equal(rfc5424.message, 'Try to override the THX port');
    const rfc3164 = value('parse_syslog!("<34>Oct 11 22:14:15 mymachine su[230]: \'su root\' failed")') as Record<string, unknown>;
    assert.equal(rfc3164.severity, 'crit');
    assert.equal(rfc3164.facility, 'auth');
    assert.equal(rfc3164.appname, 'su');
    assert.equal(rfc3164.procid, 230);
    assert.equal(rfc3164.message, "'su root' failed");
  });

  it('parses klog', () => {
    const klog = value('parse_klog!("I0505 17:59:40.692994   28133 klog.go:70] hello from klog")') as Record<string, unknown>;
    assert.equal(klog.level, 'info');
    assert.equal(klog.id, 28133);
    assert.equal(klog.file, 'klog.go');
    assert.equal(klog.line, 70);
    assert.equal(klog.message, 'hello from klog');
    assert.match((klog.timestamp as Date).toISOString(), /^\d{4}-05-05T17:59:40\.692Z$/);
  });
});

describe('VRL iteration (closures)', () => {
  it('maps keys and values, filters, iterates with for_each', () => {
    const labels = { 'app.kubernetes.io/name': 'web', 'team': 'core', 'tier': '' };
    assert.deepEqual(value('map_keys(object!(.l)) -> |k| { replace(k, ".", "_") }', { l: labels }), { 'app_kubernetes_io/name': 'web', team: 'core', tier: '' });
    assert.deepEqual(value('map_values(object!(.l)) -> |v| { upcase!(v) }', { l: labels }), { 'app.kubernetes.io/name': 'WEB', team: 'CORE', tier: '' });
    assert.deepEqual(value('filter(object!(.l)) -> |_k, v| { v != "" }', { l: labels }), { 'app.kubernetes.io/name': 'web', team: 'core' });
    assert.deepEqual(value('filter([1, 2, 3, 4]) -> |i, _v| { mod(i, 2) == 0 }'), [1, 3]);
    assert.equal(value('n = 0\nfor_each([1, 2, 3]) -> |_i, v| { n = n + int!(v) }\nn'), 6);
    assert.deepEqual(value('map_values({"a": {"b": "x"}}, recursive: true) -> |v| { if is_string(v) { upcase!(v) } else { v } }'), { a: { b: 'X' } });
  });

  it('checks closures at compile time', () => {
    assert.throws(() => compileProgram('map_keys({"a": 1})'), /takes a closure/);
    assert.throws(() => compileProgram('upcase("a") -> |x| { x }'), /takes no closure/);
    assert.throws(() => compileProgram('filter([1]) -> |i, v| { "yes" }'), /must return boolean/);
  });
});

describe('VRL functions, less common', () => {
  it('parses integers, floats and CSV', () => {
    assert.deepEqual(value('[parse_int!("42"), parse_int!("-0x1F"), parse_int!("0b101"), parse_int!("zz", 36)]'), [42, -31, 5, 1295]);
    fails('parse_int("12a")');
    assert.equal(value('parse_float!("2.5e1")'), 25);
    assert.deepEqual(value('parse_csv!("a,\\"b,c\\",\\"say \\"\\"hi\\"\\"\\"")'), ['a', 'b,c', 'say "hi"']);
    assert.deepEqual(value('parse_csv!("a|b", delimiter: "|")'), ['a', 'b']);
  });

  it('checks substrings, pops, percent-encodes, hashes', () => {
    assert.equal(value('contains_all!("The NEEDLE in", ["needle", "the"], case_sensitive: false)'), true);
    assert.deepEqual(value('pop([1, 2, 3])'), [1, 2]);
    assert.equal(value('decode_percent(encode_percent("a b/c"))'), 'a b/c');
    assert.equal(value('sha3("foo", variant: "SHA3-256")'), '76d3bc41c9f588f7fcd0d5bf4718f8f84b1c41b20882703100b9eb9413807c01');
    assert.equal(typeof value('get_hostname!()'), 'string');
  });
});
