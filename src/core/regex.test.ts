import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRegex, RegexCache, RegexSyntaxError } from './regex.js';

describe('RE2 regexes', () => {
  it('takes RE2 inline flags, which JS RegExp rejects', () => {
    assert.throws(() => new RegExp('(?i)error'));
    assert.equal(compileRegex('(?i)error').test('disk ERROR'), true);
    assert.equal(compileRegex('error').test('disk ERROR'), false);
  });

  it('refuses lookaround and backreferences, naming the pattern', () => {
    for (const pattern of ['a(?=b)', '(?<!x)y', '(a)\\1']) {
      assert.doesNotThrow(() => new RegExp(pattern)); // JS would run them, by backtracking
      assert.throws(() => compileRegex(pattern), (error: Error) => error instanceof RegexSyntaxError && error.message.includes(JSON.stringify(pattern)));
    }
  });

  it('answers a catastrophic-backtracking pattern on a long line', () => {
    const line = 'a'.repeat(100_000) + '!';
    assert.equal(compileRegex('^(\\w+\\s?)*$').test(line), false);
    assert.equal(compileRegex('^(\\w+\\s?)*$').test(line.slice(0, -1)), true);
  });

  it('keeps at most `capacity` runtime patterns, dropping the least recently used', () => {
    const cache = new RegexCache(2);
    const a = cache.get('a');
    cache.get('b');
    assert.equal(cache.get('a'), a); // a is now the most recent
    cache.get('c'); // evicts b
    assert.equal(cache.size, 2);
    assert.equal(cache.get('a'), a);
    assert.throws(() => cache.get('('), RegexSyntaxError);
    assert.equal(cache.size, 2);
  });
});
