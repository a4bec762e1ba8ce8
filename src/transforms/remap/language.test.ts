// Language features beyond the first cut: metadata paths (`%`), template strings, and what VRL's
// documentation shows for them (re-expressed here as our own cases).
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import pino from 'pino';
import '../../components.js';
import type { TransformDefinition } from '../../core/component.js';
import { LogEvent } from '../../core/event.js';
import { MetricsRegistry } from '../../core/metrics.js';
import { findDefinition } from '../../core/registry.js';
import { compileProgram } from './program.js';
import { diagnostics, run } from './test-helpers.js';

const value = (source: string, event?: Record<string, unknown>) => run(source, event).value;


describe('VRL metadata paths (%)', () => {
  it('reads, writes, deletes and tests metadata apart from the event', () => {
    const outcome = run('%kubernetes.pod = .pod\n%tags[1] = "b"\ndel(.pod)\n.seen = exists(%kubernetes.pod)\n%', { pod: 'web-0' });
    assert.deepEqual(outcome.events, [{ seen: true }]);
    assert.deepEqual(outcome.meta, { kubernetes: { pod: 'web-0' }, tags: [null, 'b'] });
    assert.deepEqual(outcome.value, outcome.meta);
    const removed = run('x = del(%k)\n[x, %]', {}, { k: 1, j: 2 });
    assert.deepEqual(removed.value, [1, { j: 2 }]);
    assert.equal(value('exists(%missing)'), false);
    assert.equal(value('%missing'), null);
  });

  it('tells the metadata root from the remainder operator', () => {
    assert.equal(value('a = 10\nb = 4\na % b ?? 0'), 2);
    assert.equal(value('10 % 4'), 2);
    assert.deepEqual(value('[%, (%)]', {}), [{}, {}]);
    assert.equal(run('if %level == "debug" { .d = true } else { .d = false }\n.d', {}, { level: 'debug' }).value, true);
    assert.equal(value('x = 7\nif x % 2 == 1 { "odd" } else { "even" }'), 'odd');
  });

  it('does not change the metadata it was given (copy on write)', () => {
    const meta = { k: { n: 1 } };
    const outcome = run('%k.n = 2\n%k.n', {}, meta);
    assert.equal(outcome.value, 2);
    assert.deepEqual(meta, { k: { n: 1 } });
  });

  it('rejects a non-object metadata root', () => {
    assert.match(diagnostics('% = 3'), /E315[\s\S]*metadata root must be an object/);
  });

  it('keeps metadata with the event from one remap to the next, never in the shipped fields', () => {
    const definition = findDefinition('transform', 'remap') as TransformDefinition;
    const build = (source: string) =>
      definition.build(definition.schema.parse({ source }), { id: 'm', logger: pino({ level: 'silent' }), metrics: new MetricsRegistry().forComponent('transform', 'm', 'remap'), dataDir: tmpdir() });
    const first = build('%route = "audit"\n. = [{"n": 1}, {"n": 2}]');
    const second = build('.route = %route');
    const out: LogEvent[] = [];
    first.process([new LogEvent({ message: 'x' })], (_o, events) => out.push(...events));
    const final: LogEvent[] = [];
    second.process(out, (_o, events) => final.push(...events));
    assert.deepEqual(final.map((e) => e.fields), [{ n: 1, route: 'audit' }, { n: 2, route: 'audit' }]);
    assert.deepEqual(final[0]!.metadata, { route: 'audit' });
  });
});

describe('VRL template strings', () => {
  it('interpolates string variables (the VRL reference example)', () => {
    assert.equal(value('thing = "balloon"\n"4 red {{ thing }}s"'), '4 red balloons');
    assert.equal(value('a = "x"\nb = "y"\n"{{a}}-{{ b }}:{{a}}"'), 'x-y:x');
  });

  it('escapes braces with a backslash', () => {
    assert.equal(value('"\\\\{{ not a template \\\\}}"'.replaceAll('\\\\', '\\')), '{{ not a template }}');
  });

  it('rejects a variable that is not a string, an undefined one, and anything but a name', () => {
    assert.match(diagnostics('n = 1\n"{{ n }}"'), /E110[\s\S]*template segment must be a string, "n" resolves to integer/);
    assert.match(diagnostics('"{{ nope }}"'), /E701[\s\S]*undefined variable "nope"/);
    assert.match(diagnostics('"{{ .x }}"'), /E203[\s\S]*template segment holds a variable name/);
    assert.match(diagnostics('x = "a"\n"{{ x "'), /E203[\s\S]*unterminated template segment/);
  });

  it('accepts a string coerced into a variable first', () => {
    assert.equal(value('code = to_string(.status) ?? ""\n"status {{ code }}"', { status: 404 }), 'status 404');
  });
});

describe('merging into the root in place (. = merge(., x), . |= x)', () => {
  it('gives the same events as a copying merge, and keeps what a statement captured', () => {
    assert.deepEqual(run('. = merge(., {"b": 2})', { a: 1 }).events, [{ a: 1, b: 2 }]);
    assert.deepEqual(run('. |= {"a": 3}\n.c = 1', { a: 1 }).events, [{ a: 3, c: 1 }]);
    const captured = run('x = .\n. = merge(., {"b": 2})\n[x, .]', { a: 1 });
    assert.deepEqual(captured.value, [{ a: 1 }, { a: 1, b: 2 }]);
    const self = run('. = merge(., {"copy": .})', { a: 1 });
    assert.deepEqual(self.events, [{ a: 1, copy: { a: 1 } }]);
    assert.deepEqual(run('. |= {"a": 2}', { a: 1 }).value, { a: 2 });
  });

  it('leaves a frozen (shared) root untouched', () => {
    const fields = Object.freeze({ a: 1 }) as Record<string, unknown>;
    const outcome = compileProgram('. = merge(., {"b": 2})').run(fields);
    assert.equal(outcome.kind, 'ok');
    assert.deepEqual(fields, { a: 1 });
    assert.deepEqual((outcome as { events: unknown[] }).events, [{ a: 1, b: 2 }]);
  });
});

describe('VRL integers are i64 (a BigInt beyond 2^53, a number below)', () => {
  it('keeps every digit of literals, arithmetic, comparisons and conversions', () => {
    assert.equal(value('to_string(9007199254740991 + 2)'), '9007199254740993');
    assert.equal(value('9007199254740993 > 9007199254740992'), true);
    assert.equal(value('9007199254740993 == 9007199254740992'), false);
    assert.equal(value('to_string(-9223372036854775807 - 1)'), '-9223372036854775808');
    assert.equal(value('format_int!(9223372036854775807, 16)'), '7fffffffffffffff');
    assert.equal(value('to_string(to_int!("9223372036854775807"))'), '9223372036854775807');
    assert.equal(value('to_string(parse_int!("7fffffffffffffff", 16))'), '9223372036854775807');
    assert.equal(value('9223372036854775807 % 10'), 7);
    assert.equal(value('is_integer(9223372036854775807)'), true);
    assert.equal(value('x = 9007199254740993\nx - 9007199254740992'), 1);
  });

  it('wraps at 64 bits as VRL does (Rust wrapping arithmetic)', () => {
    assert.equal(value('to_string(9223372036854775807 + 1)'), '-9223372036854775808');
    assert.equal(value('to_string(4611686018427387904 * 2)'), '-9223372036854775808');
  });

  it('rejects a literal beyond i64', () => {
    assert.match(diagnostics('9223372036854775808'), /integer literal out of range/);
  });

  it('parse_json and encode_json keep i64 values; larger integers are floats, as in VRL', () => {
    assert.equal(value('encode_json(parse_json!(.m))', { m: '{"n": 9007199254740993, "big": 123456789012345678901, "s": "12345678901234567"}' }), '{"big":123456789012345680000,"n":9007199254740993,"s":"12345678901234567"}');
    assert.equal(value('encode_json(parse_json!(.m))', { m: '[-9223372036854775808, 1.5e300]' }), '[-9223372036854775808,1.5e+300]');
  });

  it('hands events on with JS numbers (what the encoders write), exact ones in sluice vrl', () => {
    assert.deepEqual(run('.n = 9007199254740993\n.m = [parse_json!("9007199254740995")]').events, [{ n: 9007199254740992, m: [9007199254740996] }]);
    const exact = compileProgram('.n = 9007199254740993', '', { exactIntegers: true }).run({});
    assert.deepEqual((exact as { events: unknown[] }).events, [{ n: 9007199254740993n }]);
  });
});

describe('VRL timestamps keep nanoseconds', () => {
  const text = '2021-02-11T10:32:50.553955473Z';
  it('through literals, to_string, comparisons and unix nanoseconds', () => {
    assert.equal(value(`to_string(t'${text}')`), text);
    assert.equal(value(`t'${text}' > t'2021-02-11T10:32:50.553955472Z'`), true);
    assert.equal(value(`t'${text}' == t'2021-02-11T10:32:50.553955472Z'`), false);
    assert.equal(value(`to_string(to_unix_timestamp(t'${text}', unit: "nanoseconds"))`), '1613039570553955473');
    assert.equal(value(`to_unix_timestamp(t'${text}', unit: "microseconds")`), 1613039570553955);
    assert.equal(value('to_string(from_unix_timestamp(1613039570553955473, unit: "nanoseconds"))'), text);
    assert.equal(value("to_string(t'2021-02-11T10:32:50.5Z')"), '2021-02-11T10:32:50.500Z');
    assert.equal(value("to_string(t'2021-02-11T10:32:50.000001Z')"), '2021-02-11T10:32:50.000001Z');
  });

  it('through parse_timestamp and format_timestamp (%f %.f %.3f %6f %9f)', () => {
    assert.equal(value(`format_timestamp!(parse_timestamp!("${text}", "%+"), "%f|%.f|%.3f|%6f|%9f")`), '553955473|.553955473|.553|553955|553955473');
    assert.equal(value('format_timestamp!(parse_timestamp!("24/11/2026 10:00:00,000000001", "%d/%m/%Y %H:%M:%S%.f"), "%+")'), '2026-11-24T10:00:00.000000001+00:00');
  });

  it('round-trips any nanosecond through format and parse (property)', () => {
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let n = 0; n < 300; n++) {
      const ms = Math.floor(random() * 4e12);
      const nanos = String(Math.floor(random() * 1e6)).padStart(6, '0');
      const iso = new Date(ms).toISOString().slice(0, 23) + nanos + 'Z';
      const program = `s = format_timestamp!(parse_timestamp!(.t, "%Y-%m-%dT%H:%M:%S%.9fZ"), "%Y-%m-%dT%H:%M:%S%.9fZ")\nto_string(parse_timestamp!(s, "%+")) == to_string(parse_timestamp!(.t, "%+")) && s == .t`;
      assert.equal(value(program, { t: iso }), true, iso);
    }
  });

  it('writes the full precision into the event (JSON of the timestamp)', () => {
    const outcome = run(`.ts = t'${text}'`);
    assert.equal(JSON.stringify(outcome.events[0]), `{"ts":"${text}"}`);
  });
});

describe('hostile field names', () => {
  it('keeps a `__proto__` field from a log line as a field: merged, copied, listed, never a prototype', () => {
    const event = { message: '{"__proto__":{"polluted":1},"b":2}' };
    const outcome = run('. = merge(., object!(parse_json!(.message)))\n.seen = .polluted\n.keys = keys(.)\n.copy = .\ndel(.b)\n.inner = .__proto__.polluted', event);
    const [out] = outcome.events as [Record<string, unknown>];
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal(out.seen, null, 'nothing shows through as inherited');
    assert.deepEqual(out.keys, ['__proto__', 'b', 'message', 'seen']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { polluted: 1 });
    assert.equal(out.inner, 1);
    assert.deepEqual(Object.getOwnPropertyDescriptor(out.copy, '__proto__')?.value, { polluted: 1 }, 'a copy of the event keeps it');
    assert.equal(Object.hasOwn(out, 'b'), false);
    const logfmt = run('. = parse_logfmt!("__proto__=x constructor=y a=1")\n.t = .toString', {}).events[0] as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(logfmt), Object.prototype);
    assert.equal(JSON.stringify(logfmt), '{"__proto__":"x","constructor":"y","a":"1","t":null}');
    const nested = run('.a.__proto__ = {"x": 1}\n.r = .a.x\n.o = {"__proto__": 2}', {}).events[0] as Record<string, unknown>;
    assert.equal(JSON.stringify(nested), '{"a":{"__proto__":{"x":1}},"r":null,"o":{"__proto__":2}}');
  });

  it("reads, tests and deletes names every object inherits as absent fields unless the event has them", () => {
    assert.deepEqual(run('[.constructor, .toString, .a.hasOwnProperty, exists(.valueOf), del(.isPrototypeOf), .(constructor | a)]', { a: {} }).value, [null, null, null, false, null, {}]);
    assert.deepEqual(run('[.constructor, exists(.toString), del(.valueOf), .]', { constructor: 'c', toString: 't', valueOf: 'v' }).value, ['c', true, 'v', { constructor: 'c', toString: 't' }]);
  });
});
