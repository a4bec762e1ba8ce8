// unnest, find, sieve, parse_glog, parse_linux_authorization, parse_cef: VRL's documented examples
// re-expressed with our own data, and their failure cases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompileError } from '../diagnostic.js';
import { compileProgram } from '../program.js';
import { run } from '../test-helpers.js';
import { forTests } from './k8s-logs.js';

const value = (source: string, event?: Record<string, unknown>) => JSON.parse(JSON.stringify(run(source, event).value));
const error = (source: string) => value(`_, err = ${source}\nerr`) as string;

describe('unnest', () => {
  it('splits the event into one per element of the array, other fields kept', () => {
    const outcome = run('. = unnest!(.items)', { node: 'n1', items: [{ kind: 'Pod' }, { kind: 'Service' }] });
    assert.deepEqual(outcome.events, [
      { node: 'n1', items: { kind: 'Pod' } },
      { node: 'n1', items: { kind: 'Service' } },
    ]);
  });

  it('a nested path, and a variable', () => {
    assert.deepEqual(value('. = {"host": "h", "audit": {"events": ["a", "b"]}}\nunnest!(.audit.events)'), [
      { host: 'h', audit: { events: 'a' } },
      { host: 'h', audit: { events: 'b' } },
    ]);
    assert.deepEqual(value('v = {"tags": [1, 2, 3], "k": "x"}\nunnest!(v.tags)'), [
      { tags: 1, k: 'x' },
      { tags: 2, k: 'x' },
      { tags: 3, k: 'x' },
    ]);
    assert.deepEqual(value('v = {"tags": []}\nunnest!(v.tags)'), []);
  });

  it('fails on a path that is not an array; the event itself is unchanged', () => {
    assert.match(error('unnest(.items)'), /expected array at the unnested path, got null/);
    const outcome = run('parts = unnest(.items) ?? []\nlength(parts)', { items: [1, 2] });
    assert.equal(outcome.value, 2);
    assert.deepEqual(outcome.events, [{ items: [1, 2] }]);
    assert.equal(compileProgram('. = unnest!(.m)').run({ m: 'text' }).kind, 'error');
  });

  it('takes a path only, and must be handled', () => {
    assert.throws(() => compileProgram('unnest([1, 2])'), /"unnest" takes a path/);
    assert.throws(() => compileProgram('. = unnest(.items)'), (e) => e instanceof CompileError && /E103|E100/.test(e.message));
  });
});

describe('find', () => {
  it('returns the position of the first match, or -1', () => {
    assert.equal(value('find("kube-proxy", "proxy")'), 5);
    assert.equal(value('find("kube-proxy", r\'-p.o\')'), 4);
    assert.equal(value('find("ab-ab-ab", "ab", 1)'), 3);
    assert.equal(value('find("ab-ab-ab", r\'a.\', 4)'), 6);
    assert.equal(value('find("coredns", "etcd")'), -1);
    assert.equal(value('find("abc", "a", 10)'), -1);
  });
});

describe('sieve', () => {
  it('keeps only what the pattern permits', () => {
    assert.equal(value('sieve("pod/Web-0_x", permitted_characters: r\'[a-z]\')'), 'podebx');
    assert.equal(value('sieve("ns-1%2.δοκιμή.svc.", r\'[a-z0-9.-]\')'), 'ns-12..svc.');
  });

  it('replaces one rejected character and a run of them differently', () => {
    assert.equal(value('sieve("ns-1%2.δοκιμή.svc.", r\'[a-z0-9.-]\', replace_single: "_", replace_repeated: "[cut]")'), 'ns-1_2.[cut].svc.');
    assert.equal(value('sieve("AAbAA", r\'b\', replace_single: "1", replace_repeated: "2")'), '2b2');
  });
});

describe('parse_glog', () => {
  it('parses a glog line', () => {
    assert.deepEqual(value('parse_glog!("W20240229 23:59:01.000123  4711 server.cc:120] slow request took 3s")'), {
      level: 'warning',
      timestamp: '2024-02-29T23:59:01.000123Z',
      id: 4711,
      file: 'server.cc',
      line: 120,
      message: 'slow request took 3s',
    });
  });

  it('strips surrounding whitespace; rejects other lines, levels and dates', () => {
    assert.equal(value('parse_glog!("\\n E20230101 00:00:00.000001 1 a.go:1] boom  \\n").message'), 'boom');
    assert.match(error('parse_glog("just a line")'), /failed parsing glog message/);
    assert.match(error('parse_glog("Q20230101 00:00:00.000001 1 a.go:1] x")'), /unrecognized log level "Q"/);
    assert.match(error('parse_glog("I20231301 00:00:00.000001 1 a.go:1] x")'), /failed parsing timestamp/);
  });
});

describe('parse_linux_authorization', () => {
  it('parses an auth.log line', () => {
    const year = new Date().getUTCFullYear();
    const parsed = value("x = parse_linux_authorization!(s'Jun  4 07:12:09 node-3 sudo[2042]: pam_unix(sudo:session): session opened for user root')\nx.timestamp = to_string!(x.timestamp)\nx");
    assert.deepEqual(parsed, {
      appname: 'sudo',
      hostname: 'node-3',
      message: 'pam_unix(sudo:session): session opened for user root',
      procid: 2042,
      timestamp: `${year}-06-04T07:12:09Z`,
    });
    assert.match(error('parse_linux_authorization("not syslog")'), /unable to parse input as valid syslog message/);
  });

  it('a December line read in January belongs to the year before', () => {
    const january = new Date(Date.UTC(2027, 0, 2));
    const line = 'Dec 31 23:59:59 node-3 sshd[9]: Connection closed';
    const parsed = forTests.parseLinuxAuthorization(line, january);
    assert.equal((parsed.timestamp as Date).getUTCFullYear(), new Date().getUTCFullYear() - 1);
    const june = forTests.parseLinuxAuthorization(line, new Date(Date.UTC(2027, 5, 1)));
    assert.equal((june.timestamp as Date).getUTCFullYear(), new Date().getUTCFullYear());
  });
});

describe('parse_cef', () => {
  const header = { cefVersion: '0', deviceVendor: 'Acme', deviceProduct: 'WAF', deviceVersion: '3.1', deviceEventClassId: '42', name: 'SQL injection blocked', severity: '9' };

  it('parses the header and the extension as strings', () => {
    assert.deepEqual(value('parse_cef!("CEF:0|Acme|WAF|3.1|42|SQL injection blocked|9|src=10.1.2.3 dst=10.9.8.7 spt=51514 request=/login?user=admin OR x")'), {
      ...header,
      src: '10.1.2.3',
      dst: '10.9.8.7',
      spt: '51514',
      request: '/login?user=admin OR x',
    });
  });

  it('skips what comes before the header (a syslog prefix); only a header is fine', () => {
    assert.deepEqual(value('parse_cef!("<134>Jan  2 03:04:05 fw01 CEF:0|Acme|WAF|3.1|42|SQL injection blocked|9|")'), header);
  });

  it('unescapes \\| in the header and \\= \\\\ \\n in values; empty values are empty strings; quotes are removed', () => {
    assert.deepEqual(
      value("parse_cef!(s'CEF:0|Acme|WAF|3.1|42|pipe \\| in name|9|msg=line one\\nline two eq=a \\= b path=C:\\\\tmp empty= quoted=\"x y\"')"),
      { ...header, name: 'pipe | in name', msg: 'line one\nline two', eq: 'a = b', path: 'C:\\tmp', empty: '', quoted: 'x y' },
    );
  });

  it('translate_custom_fields turns cs1Label/cs1 pairs into label: value', () => {
    assert.deepEqual(value('parse_cef!("CEF:0|Acme|WAF|3.1|42|SQL injection blocked|9|cs1Label=Rule cs1=942100 cn1Label=Score cn1=5 src=1.2.3.4", translate_custom_fields: true)'), {
      ...header,
      Rule: '942100',
      Score: '5',
      src: '1.2.3.4',
    });
  });

  it('rejects a line without a CEF header or with too few fields', () => {
    assert.match(error('parse_cef("hello")'), /could not find a CEF header/);
    assert.match(error('parse_cef("CEF:0|Acme|WAF|3.1")'), /incomplete CEF header/);
    assert.match(error('parse_cef("CEF:0|Acme|WAF|3.1|42|n|9|garbage without pairs")'), /invalid CEF extension/);
  });
});
