import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompileError } from './diagnostic.js';
import { compileProgram } from './program.js';
import type { Obj } from './value.js';

function run(source: string, event: Obj = {}): { event: Obj; value: unknown } {
  const outcome = compileProgram(source).run(structuredClone(event));
  if (outcome.kind !== 'ok') throw new Error(`${outcome.kind}: ${outcome.message}`);
  return { event: outcome.events[0]!, value: outcome.value };
}
const value = (source: string, event: Obj = {}) => run(source, event).value;

function compileError(source: string): CompileError {
  try {
    compileProgram(source);
  } catch (error) {
    if (error instanceof CompileError) return error;
    throw error;
  }
  throw new Error(`expected a compile error for ${source}`);
}

describe('VRL language', () => {
  it('reads paths: nested, indexed, negative, quoted, root', () => {
    const event = { a: { b: [10, 20, 30] }, 'key with space': 'k', '@timestamp': 't' };
    assert.equal(value('.a.b[0]', event), 10);
    assert.equal(value('.a.b[-1]', event), 30);
    assert.equal(value('."key with space"', event), 'k');
    assert.equal(value('.@timestamp', event), 't');
    assert.equal(value('.missing.deeper', event), null);
    assert.deepEqual(value('.', { x: 1 }), { x: 1 });
  });

  it('assigns paths, creating parents, and variables', () => {
    assert.deepEqual(run('.a.b[2] = 1\nx = "v"\n.c = x').event, { a: { b: [null, null, 1] }, c: 'v' });
  });

  it('gives variables value semantics', () => {
    assert.deepEqual(run('x = .a\nx.b = 2\n.c = x', { a: { b: 1 } }).event, { a: { b: 1 }, c: { b: 2 } });
    assert.deepEqual(run('x = .\n.added = 1\n.snapshot = x', { m: 1 }).event, { m: 1, added: 1, snapshot: { m: 1 } });
  });

  it('copies shared collections on write (value semantics through variables and literals)', () => {
    const src = 'a = .doc\nb = a.inner\nc = a.inner.list\nb.list[0] = "x"\nc[1] = "y"\na.inner.list[1] = "z"\n[b, c, a, .doc]';
    assert.deepEqual(value(src, { doc: { inner: { list: [1, 2] }, name: 'n' } }), [
      { list: ['x', 2] },
      [1, 'y'],
      { inner: { list: [1, 'z'] }, name: 'n' },
      { inner: { list: [1, 2] }, name: 'n' },
    ]);
    assert.deepEqual(value('x = [.a]\n.a.k = 2\nx', { a: { k: 1 } }), [{ k: 1 }]);
  });

  it('has literals: escapes, raw strings, numbers, arrays, objects, timestamps, regexes', () => {
    assert.equal(value('"tab\\tquote\\" \\u{1F600} \\u{1b}"'), 'tab\tquote" \u{1F600} \u001b');
    assert.equal(value("s'no \\n escape'"), 'no \\n escape');
    assert.deepEqual(value('[1, 2.5, true, null, "s", {"k": [1]}]'), [1, 2.5, true, null, 's', { k: [1] }]);
    assert.equal(value("to_unix_timestamp(t'2021-02-11T10:32:50Z')"), 1613039570);
    assert.equal(value("match(\"ERROR x\", r'(?i)^error')"), true);
    assert.equal(value('1_000 + 0'), 1000);
  });

  it('follows operator precedence', () => {
    assert.equal(value('1 + 2 * 3'), 7);
    assert.equal(value('(1 + 2) * 3'), 9);
    assert.equal(value('10 - 4 - 3'), 3);
    assert.equal(value('1 + 2 == 3 && 2 > 1'), true);
    assert.equal(value('false || 1 < 2'), true);
    assert.equal(value('7 % 3'), 1);
    assert.equal(value('5 / 2'), 2.5);
    assert.equal(value('!false && true'), true);
    assert.equal(value('to_int("x") ?? 1 + 1'), 2);
    assert.equal(value('to_int("3") ?? 0 + 10'), 3, '?? binds loosest');
    assert.equal(value('true || false && false'), false, '|| and && share a level, left to right');
    assert.deepEqual(value('{"a": 1} | {"b": 2} == {"a": 1, "b": 2}'), true, '| binds tighter than ==');
    assert.deepEqual(value('{"a": 1} | {"b": 2}'), { a: 1, b: 2 });
    assert.equal(value('"a" + "b"'), 'ab');
    assert.equal(value('x, err = to_int("3")\n"err: " + err'), 'err: ', 'a string plus null (an error variable) is infallible');
    assert.equal(value('"ab" * 3'), 'ababab');
    assert.equal(value('1.5 + 1'), 2.5);
    assert.equal(value('(to_float(.d) ?? 0.0) * 1000', { d: '0.5' }), 500, 'float literals are floats to the checker: no handling needed');
  });

  it('runs if / else if / else and blocks', () => {
    const src = 'n = int!(.n)\nif n > 10 { "big" } else if n > 5 { "medium" } else { "small" }';
    assert.equal(value(src, { n: 20 }), 'big');
    assert.equal(value(src, { n: 7 }), 'medium');
    assert.equal(value(src, { n: 1 }), 'small');
    assert.equal(value('if false { 1 }'), null);
    assert.equal(value('x = { a = 1; a + 1 }\nx'), 2);
  });

  it('handles errors: ??, value-and-error assignment, ! aborting the program', () => {
    assert.deepEqual(value('parse_json("{") ?? {"fallback": true}'), { fallback: true });
    const { event } = run('.n, .err = to_int(.v)', { v: 'abc' });
    assert.equal(event.n, 0);
    assert.match(String(event.err), /^function call error for "to_int" at \(\d+:\d+\): invalid integer "abc"$/);
    assert.deepEqual(run('.n, .err = to_int(.v)', { v: '12' }).event, { v: '12', n: 12, err: null });
    const outcome = compileProgram('.x = 1\n.y = parse_json!(.m)').run({ m: '{' });
    assert.equal(outcome.kind, 'error');
    const aborted = compileProgram('abort "stop here"').run({});
    assert.deepEqual(aborted, { kind: 'abort', message: 'stop here' });
  });

  it('merges into paths with |= and assigns on success with ??=', () => {
    assert.deepEqual(run('. |= {"b": 2}', { a: 1 }).event, { a: 1, b: 2 });
    assert.deepEqual(run('.x = "keep"\n.x ??= to_int("bad")').event, { x: 'keep' });
    assert.deepEqual(run('.x ??= to_int("5")').event, { x: 5 });
  });

  it('tracks assigned types: no error handling needed for a known string', () => {
    assert.equal(value('.m = "abc"\nupcase(.m)'), 'ABC');
    assert.equal(value('s = to_string!(.n)\nupcase(s)', { n: 5 }), '5');
    assert.equal(compileError('s = to_string(.n)').diagnostics[0]!.code, 103);
  });
});

describe('VRL compile-time checks', () => {
  it('requires fallible calls to be handled, naming the three ways', () => {
    const e = compileError('.x = parse_json(.message)');
    assert.equal(e.diagnostics[0]!.code, 103);
    assert.match(e.message, /┌─ :1:6/);
    assert.match(e.message, /`!`.*`\?\? default`.*`value, err = \.\.\.`/);
    assert.match(e.message, /or change this to an infallible assignment: \.x, err = parse_json\(\.message\)/);
  });

  it('puts the caret under the span, on the right line', () => {
    const e = compileError('.a = 1\n\n  .b = to_int(.c)');
    assert.match(e.message, /┌─ :3:8/);
    assert.match(e.message, /3 │ {3}\.b = to_int\(\.c\)\n {2}│ {8}\^{10} /);
  });

  it('rejects an argument whose type cannot match, and one that might not without handling', () => {
    assert.equal(compileError('upcase(1)').diagnostics[0]!.code, 110);
    assert.equal(compileError('upcase(.m)').diagnostics[0]!.code, 110);
    assert.equal(value('upcase!(.m)', { m: 'x' }), 'X');
    assert.equal(compileError('upcase(.m) ?? ""').diagnostics[0]!.code, 110, 'as VRL: only `!` or a coercion resolves an unknown argument type');
    assert.equal(compileError('upcase(to_string(.n))').diagnostics[0]!.code, 630, 'a fallible argument is an error');
    assert.equal(value('upcase(to_string(.n) ?? "")', { n: 1 }), '1');
    assert.equal(value('upcase(string!(.m))', { m: 'x' }), 'X');
  });

  it('treats division as fallible unless the divisor is a non-zero literal', () => {
    assert.equal(compileError('.x = 10 / .y').diagnostics[0]!.code, 103);
    assert.equal(value('x = 10\nx / 4'), 2.5);
    assert.equal(compileError('1 / 0').diagnostics[0]!.code, 110);
    assert.equal(value('(10 / .y) ?? -1', { y: 0 }), -1);
  });

  it('reports unknown functions and variables, arity and keywords, and needless handling', () => {
    assert.equal(compileError('nope(1)').diagnostics[0]!.code, 105);
    assert.equal(compileError('.x = y').diagnostics[0]!.code, 701);
    assert.equal(compileError('upcase("a", "b")').diagnostics[0]!.code, 106);
    assert.equal(compileError('upcase(valu: "a")').diagnostics[0]!.code, 108);
    assert.equal(compileError('contains("a")').diagnostics[0]!.code, 107);
    assert.equal(compileError('upcase("a") ?? "b"').diagnostics[0]!.code, 651);
    assert.equal(compileError('upcase!("a")').diagnostics[0]!.code, 620);
    assert.equal(compileError('x, err = upcase("a")').diagnostics[0]!.code, 104);
    assert.equal(compileError('if .a { 1 }').diagnostics[0]!.code, 102);
    assert.equal(compileError("r'(unclosed'").diagnostics[0]!.code, 203);
    assert.equal(compileError('.x = "unterminated').diagnostics[0]!.code, 203);
    assert.equal(compileError('. = "text"').diagnostics[0]!.code, 315);
    assert.equal(compileError('1 < 2 < 3').diagnostics[0]!.code, 650);
    assert.deepEqual(value('. | {"a": 1}', { b: 2 }), { b: 2, a: 1 });
    assert.equal(compileError('.a | {"b": 1}').diagnostics[0]!.code, 652);
  });

  it('types .message as the string every source sets, and checks it when read', () => {
    assert.equal(value('upcase(.message)', { message: 'hi' }), 'HI');
    const outcome = compileProgram('.x = 1\nupcase(.message)').run({ message: { not: 'a string' } });
    assert.equal(outcome.kind, 'error');
    assert.match((outcome as { message: string }).message, /\.message is object, not the string every source sets/);
    assert.equal(compileError('.message = 1\nupcase(.message)').diagnostics[0]!.code, 110, 'an assignment replaces the source type');
  });

  it('accepts named arguments in any order', () => {
    assert.deepEqual(value('merge(from: {"b": 2}, to: {"a": 1})'), { a: 1, b: 2 });
  });
});
