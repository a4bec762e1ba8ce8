import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileProgram } from '../program.js';
import { mayBeJson } from './parse.js';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('parse_json pre-check (mayBeJson)', () => {
  it('lets every JSON text through', () => {
    const valid = ['{}', ' {"a":1} ', '[1,2]', '"x"', '""', '0', '-0', '12', '-1.5e+3', '1E9', '2.50', 'true', 'false', 'null', '\n null \t', '{"a":{"b":[]}}\n'];
    for (const text of valid) {
      assert.equal(parses(text), true, text);
      assert.equal(mayBeJson(text), true, text);
    }
  });

  it('rejects what JSON.parse rejects, for log lines that look like JSON at the start', () => {
    const lines = ['2026-11-24T10:00:00.1Z INFO [main] x', '{"a":1} trailing', '[1, 2', 'trueish', 'nul', '-', '01', '1.', '1e', '"open', '"', 'level=info msg=x', '', '   ', '{', '12 apples'];
    for (const text of lines) assert.equal(parses(text), false, text);
    for (const text of lines) assert.equal(mayBeJson(text), false, text);
  });

  it('agrees with JSON.parse on random short texts (a false "no" would lose a parse)', () => {
    const alphabet = ['{', '}', '[', ']', '"', '1', '0', '-', '.', 'e', '+', ' ', 'a', ':', ',', 't', 'r', 'u', 'n', 'l'];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let n = 0; n < 20000; n++) {
      let text = '';
      const length = 1 + Math.floor(random() * 8);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      if (parses(text)) assert.equal(mayBeJson(text), true, JSON.stringify(text));
    }
  });

  it('gives the same result and error through ??, , err = and !', () => {
    const program = compileProgram('a = parse_json(.message) ?? "none"\nb, err = parse_json(.message)\n[a, b, err]');
    const plain = program.run({ message: '2026-11-24 plain line' });
    assert.equal(plain.kind, 'ok');
    const [a, b, err] = (plain as { value: unknown[] }).value;
    assert.equal(a, 'none');
    assert.equal(b, null);
    assert.match(String(err), /^function call error for "parse_json" at \(\d+:\d+\): unable to parse json/);
    const json = program.run({ message: '{"x":1}' });
    assert.deepEqual((json as { value: unknown }).value, [{ x: 1 }, { x: 1 }, null]);
    const bang = compileProgram('parse_json!(.message)').run({ message: 'nope' });
    assert.equal(bang.kind, 'error');
    assert.match((bang as { message: string }).message, /function call error for "parse_json"/);
  });
});
