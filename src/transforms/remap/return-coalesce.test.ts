// `return` (VRL's RFC 7496) and coalesced paths `.(a | b)`: VRL's test cases re-expressed as our own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diagnostics as diagnostic, run } from './test-helpers.js';

describe('VRL return', () => {
  it('ends the program with its value and keeps the changes made so far', () => {
    const outcome = run('.seen = true\nreturn .\n.seen = false\nabort "never here"', { message: 'm' });
    assert.deepEqual(outcome.value, { message: 'm', seen: true });
    assert.deepEqual(outcome.events, [{ message: 'm', seen: true }]);
  });

  it('returns any value: a variable built up by paths', () => {
    assert.deepEqual(run('answer.ok = true\nanswer.n = 42\nreturn answer').value, { ok: true, n: 42 });
  });

  it('returns early from a branch only when it runs', () => {
    const program = 'if .level == "debug" { return "skipped" }\n.kept = true\n"done"';
    assert.equal(run(program, { level: 'debug' }).value, 'skipped');
    assert.deepEqual(run(program, { level: 'debug' }).events, [{ level: 'debug' }]);
    assert.equal(run(program, { level: 'info' }).value, 'done');
    assert.deepEqual(run(program, { level: 'info' }).events, [{ level: 'info', kept: true }]);
  });

  it('inside a closure ends that invocation only, with the closure value', () => {
    // filter: the returned boolean decides for the element; later statements do not run for it.
    assert.deepEqual(run('filter([1, 2, 3, 4]) -> |_i, v| {\n  if v == 2 || v == 4 { return false }\n  true\n}').value, [1, 3]);
    // for_each ignores the closure value: the assignment after `return` never runs.
    assert.equal(run('n = 0\nfor_each({"a": 1, "b": 2}) -> |_k, _v| {\n  return 42\n  n = 1\n}\nn').value, 0);
    // A closure that never runs returns nothing; the outer one still runs once per key.
    assert.deepEqual(run('a = 0\nb = 0\nfor_each({ "k": for_each({}) -> |_k, _v| { a = 1; return true } }) -> |_k, _v| {\n  b = 1\n}\n[a, b]').value, [0, 1]);
  });

  it('a returned value that does not fit the closure is a compile error', () => {
    const message = diagnostic('filter([1, 2, 3]) -> |_k, _v| {\n  return 0\n  true\n}');
    assert.match(message, /must return boolean, this block resolves to integer or boolean/);
    assert.match(message, /2:1|1:31/);
  });

  it('a fallible return value is E631 with the span under it', () => {
    const message = diagnostic('.a = 1\nreturn parse_json(.message)');
    assert.match(message, /error\[E631\]: unhandled fallible expression/);
    assert.match(message, /:2:8/);
    assert.match(message, /\n2 │ return parse_json\(\.message\)\n  │        \^{20} return only accepts an infallible expression argument/);
  });

  it('needs a value', () => {
    assert.match(diagnostic('.a = 1\nreturn\n'), /"return" needs a value/);
  });
});

describe('VRL coalesced paths', () => {
  const event = { grand: { second: { child: 'from second' }, third: { child: 'from third' } }, nulled: null, list: [{ b: 1 }] };

  it('takes the first field present in the group', () => {
    assert.equal(run('.grand.(first | second | third).child', event).value, 'from second');
    assert.equal(run('.grand.(third | second).child', event).value, 'from third');
    assert.equal(run('.(nope | grand).second.child', event).value, 'from second');
  });

  it('a field holding null counts as present; nothing present is null', () => {
    assert.equal(run('.(nulled | grand)', event).value, null);
    assert.equal(run('.(x | y).z', event).value, null);
    assert.equal(run('.grand.(x | y)', event).value, null);
  });

  it('works on variables, quoted fields, metadata-like chains and several groups', () => {
    assert.equal(run('v = {"a b": {"x": 1}, "c": {"y": 2}}\nv.("nope" | "a b").x').value, 1);
    assert.equal(run('.list[0].(a | b)', event).value, 1);
    assert.equal(run('.(grand | x).(first | third).(child | other)', event).value, 'from third');
    assert.equal(run('parse_json!(s\'{"k": {"v": 3}}\').(j | k).v').value, 3);
  });

  it('is read only: assigning to one is a syntax error with a caret', () => {
    const message = diagnostic('.a = 1\n.(a | b).c = 2');
    assert.match(message, /a coalesced path can be read, not assigned to/);
    assert.match(message, /:2:1/);
    assert.match(diagnostic('del(.(a | b))'), /error\[E110\].*\n[\s\S]*"del" takes a path/);
  });

  it('reports a malformed group', () => {
    assert.match(diagnostic('.(a | 1)'), /expected a field name/);
    assert.match(diagnostic('x = 1\n.(a b)'), /expected "\)"|expected "\|"/);
  });
});
