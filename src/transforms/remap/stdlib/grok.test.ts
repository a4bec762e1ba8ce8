// parse_grok: VRL's documented examples (re-expressed), the classic patterns on real log lines,
// compile-time errors, and linear time on hostile input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompileError } from '../diagnostic.js';
import { compileProgram } from '../program.js';
import { compileGrok, GROK_PATTERNS, grokMatch } from './grok.js';

function value(source: string): unknown {
  const outcome = compileProgram(source).run({});
  return outcome.kind === 'ok' ? outcome.value : { error: outcome.message };
}

function compileError(source: string): string {
  try {
    compileProgram(source);
  } catch (error) {
    if (error instanceof CompileError) return error.message;
    throw error;
  }
  return 'compiled';
}

describe('parse_grok', () => {
  it("matches VRL's examples: named captures only, an alternative that did not match left out", () => {
    const pattern = '%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{GREEDYDATA:message}';
    assert.deepEqual(value(`parse_grok!("2020-10-02T23:22:12.223222Z info Hello world", "${pattern}")`), { timestamp: '2020-10-02T23:22:12.223222Z', level: 'info', message: 'Hello world' });
    assert.deepEqual(value(`parse_grok!("2020-10-02T23:22:12.223222Z", "(%{TIMESTAMP_ISO8601:timestamp}|%{LOGLEVEL:level})")`), { timestamp: '2020-10-02T23:22:12.223222Z' });
    assert.match(String((value(`parse_grok!("an ungrokkable message", "${pattern}")`) as { error: string }).error), /unable to parse input with grok pattern/);
    assert.match(String((value(`parse_grok!("2020-10-02T23:22:12.223222Z an ungrokkable message", "${pattern}")`) as { error: string }).error), /unable to parse input with grok pattern/);
    // The documented form: the pattern in a variable assigned a literal.
    assert.deepEqual(value(`value = "2020-10-02T23:22:12.223222Z info Hello world"\npattern = "${pattern}"\nparse_grok!(value, pattern)`), { timestamp: '2020-10-02T23:22:12.223222Z', level: 'info', message: 'Hello world' });
  });

  it('rejects at compile time an unknown pattern name, a pattern that is not a literal, and regex syntax RE2 lacks', () => {
    assert.match(compileError('parse_grok!("foo", "%{NOG}")'), /grok pattern error: The given pattern definition name "NOG" could not be found in the definition map/);
    assert.match(compileError('parse_grok!(.message, .pattern)'), /the pattern must be a literal string/);
    assert.match(compileError('p = "%{WORD:w}"\nif .x == 1 { p = "%{INT:i}" }\nparse_grok!(.message, p)'), /the pattern must be a literal string/, 'two possible values: not a constant');
    assert.match(compileError('p = "%{WORD:w}"\nfor_each([1]) -> |_i, _v| { p = "%{INT:i}" }\nparse_grok!(.message, p)'), /the pattern must be a literal string/, 'a closure may have changed it');
    assert.match(compileError('parse_grok!(.message, "(?<=a)b")'), /grok pattern error: invalid grok pattern/);
    assert.notEqual(compileError('p = "%{WORD:w}"\ndel(p)\nparse_grok!(.message, p)'), 'compiled', 'del changed it: no longer the literal');
    assert.match(compileError('parse_grok(.message, "%{WORD:w}")'), /unhandled/, 'fallible: a line may not match');
  });

  it('parses Apache combined, syslog, IPv6 and Java stack lines with the classic names', () => {
    const apache = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"';
    assert.deepEqual(grokMatch(compileGrok('%{COMBINEDAPACHELOG}'), apache), {
      clientip: '127.0.0.1', ident: '-', auth: 'frank', timestamp: '10/Oct/2000:13:55:36 -0700', verb: 'GET', request: '/apache_pb.gif',
      httpversion: '1.0', response: '200', bytes: '2326', referrer: '"http://www.example.com/start.html"', agent: '"Mozilla/4.08 [en] (Win98; I ;Nav)"',
    });
    assert.deepEqual(grokMatch(compileGrok('%{SYSLOGBASE} %{GREEDYDATA:message}'), "Oct 11 22:14:15 mymachine su[123]: 'su root' failed"), {
      timestamp: 'Oct 11 22:14:15', logsource: 'mymachine', program: 'su', pid: '123', message: "'su root' failed",
    });
    assert.deepEqual(grokMatch(compileGrok('client %{IP:a} and %{IP:b} and %{IP:c} x'), 'client fe80::1:2 and 2001:db8::ff00:42:8329 and ::ffff:10.0.0.1 x'), {
      a: 'fe80::1:2', b: '2001:db8::ff00:42:8329', c: '::ffff:10.0.0.1',
    });
    assert.deepEqual(grokMatch(compileGrok('%{IP:ip}'), 'from 10.1.2.254'), { ip: '10.1.2.254' });
    assert.deepEqual(grokMatch(compileGrok('%{JAVASTACKTRACEPART}'), '\tat com.example.Foo.<init>(Foo.java:42)'), { class: 'com.example.Foo', method: '<init>', file: 'Foo.java', line: '42' });
    assert.deepEqual(grokMatch(compileGrok('%{URI:u}'), 'see https://user@example.com:8443/a/b?x=1&y=2 now'), { u: 'https://user@example.com:8443/a/b?x=1&y=2' });
    assert.deepEqual(grokMatch(compileGrok('%{UUID:id} %{MAC:mac} %{EMAILADDRESS:mail}'), '123e4567-e89b-12d3-a456-426614174000 00:1a:2b:3c:4d:5e ops@example.org'), {
      id: '123e4567-e89b-12d3-a456-426614174000', mac: '00:1a:2b:3c:4d:5e', mail: 'ops@example.org',
    });
    // A field name is any text (VRL's grok keeps `n:int` whole); a repeated field keeps its first match.
    assert.deepEqual(grokMatch(compileGrok('%{WORD:x.y} %{NUMBER:n:int} %{WORD:x.y}'), 'a 12 b'), { 'x.y': 'a', 'n:int': '12' });
  });

  it('compiles every named pattern with RE2 (linear-time matching), and gets through a 1 MiB hostile line', () => {
    for (const name of Object.keys(GROK_PATTERNS)) assert.ok(compileGrok(`%{${name}:v}`).re, name);
    // Quotes and backslashes that make a backtracking QUOTEDSTRING/DATA explode; RE2 has no backtracking.
    const line = 'a'.repeat(1 << 18) + ' ' + '"'.repeat(1 << 18) + '\\'.repeat(1 << 18) + ' x';
    assert.deepEqual(grokMatch(compileGrok('%{IPORHOST:a} %{DATA:b} %{QS:c} %{GREEDYDATA:d}'), line), undefined);
    assert.equal(grokMatch(compileGrok('%{WORD:w} %{GREEDYDATA:rest}'), line)?.w, 'a'.repeat(1 << 18));
  });
});
