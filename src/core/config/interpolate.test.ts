import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interpolateEnv, interpolateString } from './interpolate.js';

const env = { A: 'alpha', EMPTY: '', MULTI: 'one\ntwo', CR: 'one\rtwo' };
const text = (input: string) => {
  const result = interpolateString(input, env);
  assert.ok('text' in result, `${input}: ${'error' in result ? result.error : ''}`);
  return result.text;
};
const error = (input: string) => {
  const result = interpolateString(input, env);
  assert.ok('error' in result, `${input} should fail, gave ${JSON.stringify(result)}`);
  return result.error;
};

describe('interpolateString', () => {
  it('replaces ${VAR} and bare $VAR, and keeps $$ as a literal $', () => {
    assert.equal(text('${A}/$A/x$A.y'), 'alpha/alpha/xalpha.y');
    assert.equal(text('$$A $${A} $$$A'), '$A ${A} $alpha');
    assert.equal(text('cost: 5$, regex ^a$|$1 $'), 'cost: 5$, regex ^a$|$1 $');
    assert.equal(text('${EMPTY}|$EMPTY'), '|');
  });

  it('applies defaults: ":-" when unset or empty, "-" only when unset', () => {
    assert.equal(text('${UNSET:-d} ${EMPTY:-d} ${A:-d}'), 'd d alpha');
    assert.equal(text('${UNSET-d} ${EMPTY-d}|${A-d}'), 'd |alpha');
    assert.equal(text('${UNSET:-} ${UNSET:-a:b-c?d}'), ' a:b-c?d');
  });

  it('fails on a required variable with its message: ":?" when unset or empty, "?" only when unset', () => {
    assert.equal(error('${UNSET:?tenant must be supplied}'), 'environment variable UNSET is not set: tenant must be supplied');
    assert.equal(error('${EMPTY:?say which}'), 'environment variable EMPTY is empty: say which');
    assert.equal(error('${UNSET?}'), 'environment variable UNSET is not set');
    assert.equal(text('${EMPTY?never}|${A:?never}'), '|alpha');
  });

  it('fails on an unset variable without default, bare or braced', () => {
    const message = 'environment variable UNSET is not set (use ${UNSET:-default} for a default)';
    assert.equal(error('x ${UNSET} y'), message);
    assert.equal(error('x $UNSET y'), message);
  });

  it('rejects values with a line break, but not defaults written in the file', () => {
    assert.match(error('${MULTI}'), /^environment variable MULTI contains a line break/);
    assert.match(error('$CR'), /^environment variable CR contains a line break/);
    assert.equal(text('${UNSET:-a\nb}'), 'a\nb');
  });

  it('rejects malformed references instead of passing them through', () => {
    assert.match(error('${A'), /unterminated "\$\{"/);
    assert.match(error('${}'), /invalid reference "\$\{\}"/);
    assert.match(error('${1A}'), /invalid reference/);
    assert.match(error('${A:x}'), /invalid reference "\$\{A:x\}"/);
  });
});

describe('interpolateEnv', () => {
  it('replaces string values at any depth and names the key path of a problem; keys stay as written', () => {
    const tree = { '${A}': 'v', s: { x: { n: 3, list: ['${A}', '${UNSET}', true] } } };
    assert.deepEqual(interpolateEnv(tree, env), ['s.x.list.1: environment variable UNSET is not set (use ${UNSET:-default} for a default)']);
    assert.deepEqual(tree, { '${A}': 'v', s: { x: { n: 3, list: ['alpha', '${UNSET}', true] } } });
  });

  it('walks null-prototype tables (smol-toml) and leaves other objects alone', () => {
    const table = Object.assign(Object.create(null) as Record<string, unknown>, { path: '$A' });
    const date = Object.assign(new Date(0), { note: '$UNSET' });
    assert.deepEqual(interpolateEnv({ table, date }, env), []);
    assert.equal(table['path'], 'alpha');
  });
});
