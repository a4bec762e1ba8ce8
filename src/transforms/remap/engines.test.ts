// The two ways a program runs: one generated JS function (codegen.ts, the default wherever it
// covers the program) and the closure compiler (the fallback). The other VRL tests run on the
// default; here they run again on the closures, and both engines must agree on programs written
// to trip a code generator (quotes, `__proto__`, code-like text in strings and keys).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { W1_PROGRAMS } from '../../../bench/w1-remap.js';
import { compileProgram } from './program.js';

const run = (source: string, engine: 'auto' | 'closures', event: Record<string, unknown>) => {
  const program = compileProgram(source, '', { engine });
  const outcome = program.run(structuredClone(event));
  return { engine: program.engine, outcome: outcome.kind === 'ok' ? { ...outcome, events: outcome.events.map((e) => ({ ...e })) } : outcome };
};

describe('VRL engines', () => {
  it('generates the W1 programs and every language construct but closures, return and unnest', () => {
    for (const source of Object.values(W1_PROGRAMS)) assert.equal(compileProgram(source).engine, 'generated', source);
    assert.equal(compileProgram('.a = 1').engine, 'generated');
    assert.equal(compileProgram('.a = 1', '', { engine: 'closures' }).engine, 'closures');
    assert.equal(compileProgram('return 1').engine, 'closures');
    assert.equal(compileProgram('map_values({"a": 1}) -> |v| { v }').engine, 'closures');
  });

  it('agrees with the closures on programs that would break careless generated code', () => {
    const event = { message: '{"a":1,"__proto__":{"x":1}}', 'k"; throw 1; "': 'v', n: 2, list: [1, 2, 3], o: { p: { q: 'deep' } } };
    const programs = [
      '.x = "\\"); process.exit(1); (\\""',
      '."k\\"; throw 1; \\"" = "w"\n."a b" = ."k\\"; throw 1; \\""',
      '.o2 = {"__proto__": 1, "constructor": 2, "a\\u{2028}b": 3}',
      '. = merge(., object(parse_json(.message) ?? {}) ?? {})\n.keys = keys(.)',
      '.v, .err = .list[-1] + .list[0] * .n - 1 % 3\n.w = .o.p.q\n.m = .missing.deep[2]\n.u, .err2 = .o + 1',
      'x, err = parse_json(string(.nope) ?? "{")\n.err = err\n.x = x\n.e2 = string(.n) ?? int(.n) ?? 0',
      'y = "Y"\n.t = "a {{ y }} b {{y}}"',
      'n = int(.n) ?? 0\nif n > 1 && n < 3 || false { .big = true } else { .big = false }\n.not = !.big\n.neg = -n',
      'del(.o.p)\n.gone = exists(.o.p)\n.d = del(.n)\no2 = {}\no2 |= {"z": 1}\n.o2 = o2\n%m = 1\n.meta = %m',
      'd = 0\n.a = 6 / d ?? "div"\n.b, .err = .n / 4\n.c = to_float(.message) ?? -1.5\n.eq = .list == [1, 2, 3]',
      'upcase!(.n)',
      '.z = 1\nabort "why"',
      '. = merge(., object(parse_json(.message) ?? {}) ?? {})\n.level = downcase(string(.level) ?? "INFO")\n.s = truncate(string(.msg) ?? string(.message) ?? "", 5)',
    ];
    for (const source of programs) {
      const generated = run(source, 'auto', event);
      const closures = run(source, 'closures', event);
      assert.equal(generated.engine, 'generated', source);
      assert.equal(closures.engine, 'closures');
      assert.deepEqual(generated.outcome, closures.outcome, source);
    }
  });

  it('falls back to the closures where node forbids code generation from strings', () => {
    const script = `import('${join(import.meta.dirname, 'program.js')}').then(({ compileProgram }) => { const p = compileProgram('.a = 1'); console.log(p.engine, JSON.stringify(p.run({}).events)); })`;
    const result = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '-e', script], { encoding: 'utf8' });
    assert.equal(result.stdout.trim(), 'closures [{"a":1}]', result.stderr);
  });

  it('passes the language, example and property tests on the closure compiler too', () => {
    const here = import.meta.dirname;
    const files = [
      ...['language.test.js', 'vrl.test.js', 'vrl-examples.test.js', 'return-coalesce.test.js', 'remap.test.js'].map((f) => join(here, f)),
      ...readdirSync(join(here, 'stdlib')).filter((f) => f.endsWith('.test.js')).map((f) => join(here, 'stdlib', f)),
    ];
    const result = spawnSync(process.execPath, ['--test', '--test-reporter=dot', ...files], { env: { ...process.env, SLUICE_VRL_ENGINE: 'closures' }, encoding: 'utf8' });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  });
});
