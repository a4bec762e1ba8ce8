import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import '../../components.js';
import { findDefinition } from '../../core/registry.js';
import { compileCondition, conditionSchema } from './condition.js';

const event = { message: 'ERROR: disk full', status: 503, stream: 'stderr', kubernetes: { pod_namespace: 'payments', pod_labels: { app: 'api' } } };
const vrl = (source: string) => ({ type: 'vrl' as const, source });

describe('VRL conditions ({ type = "vrl", source })', () => {
  const cases: Array<[string, boolean]> = [
    ['.kubernetes.pod_namespace == "payments"', true],
    ['.status >= 500 ?? false', true],
    ['starts_with(.message, "ERROR") && .stream == "stderr"', true],
    ['match(.message, r\'(?i)warn\')', false],
    ['exists(.kubernetes.pod_labels.canary)', false],
    ['!exists(.kubernetes.pod_labels.canary) && .kubernetes.pod_labels.app == "api"', true],
    // Local variables are fine: only the event is read only.
    ['code = int(.status) ?? 0\ncode == 503 || code == 504', true],
    ['.missing == "x"', false],
    ['is_string(.message)', true],
  ];
  for (const [source, expected] of cases) {
    it(`${JSON.stringify(source)} -> ${expected}`, () => {
      assert.equal(conditionSchema.safeParse(vrl(source)).success, true);
      assert.equal(compileCondition(vrl(source))(event), expected);
    });
  }

  it('reads the event metadata as %', () => {
    const matches = compileCondition(vrl('%tenant == "blue"'));
    assert.equal(matches({ message: 'x' }, { tenant: 'blue' }), true);
    assert.equal(matches({ message: 'x' }, { tenant: 'red' }), false);
    assert.equal(matches({ message: 'x' }), false);
  });

  it('a result that is not known to be a boolean is a compile error with the caret under the last expression', () => {
    const result = conditionSchema.safeParse(vrl('x = 1\n.status'));
    assert.equal(result.success, false);
    const message = result.error!.issues[0]!.message;
    assert.match(message, /error\[E110\]: unexpected return value/);
    assert.match(message, /:2:1\n/);
    assert.match(message, /2 │ \.status\n  │ \^{7} a condition must resolve to a boolean, this resolves to any/);
    assert.deepEqual(result.error!.issues[0]!.path, ['source']);
    assert.throws(() => compileCondition(vrl('"yes"')), /resolves to string/);
  });

  it('the event is read only: assignment and del are compile errors', () => {
    for (const source of ['.seen = true\ntrue', '%seen = true\ntrue', 'del(.message)\ntrue', '.a, err = parse_json(.message)\ntrue']) {
      const result = conditionSchema.safeParse(vrl(source));
      assert.equal(result.success, false, source);
      assert.match(result.error!.issues[0]!.message, /E315\]: mutation of read-only value/, source);
    }
  });

  it('VRL compile-time checks apply: an unhandled fallible call, an undefined function', () => {
    assert.match(conditionSchema.safeParse(vrl('parse_json(.message) == {}')).error!.issues[0]!.message, /E100\]: unhandled error/);
    assert.match(conditionSchema.safeParse(vrl('no_such(.a)')).error!.issues[0]!.message, /E105/);
  });

  it('a run-time error or abort is false and reported; the event is unchanged', () => {
    const errors: Error[] = [];
    const fields = { message: 'x', level: 3 };
    const matches = compileCondition(vrl('upcase!(.level) == "WARN"'), (e) => errors.push(e));
    assert.equal(matches(fields), false);
    assert.equal(compileCondition(vrl('if .message == "x" { abort }\ntrue'), (e) => errors.push(e))(fields), false);
    assert.equal(errors.length, 2);
    assert.match(errors[0]!.message, /VRL condition failed: .*"upcase".*expected string, got integer/);
    assert.match(errors[1]!.message, /VRL condition aborted/);
    assert.deepEqual(fields, { message: 'x', level: 3 });
  });

  it('a plain string stays CEL (existing configs keep their meaning); { type = "cel" } spells it out', () => {
    assert.equal(compileCondition('status == 503')(event), true);
    assert.equal(compileCondition({ type: 'cel', source: 'status == 503' })(event), true);
    assert.match(conditionSchema.safeParse({ type: 'cel', source: 'status ==' }).error!.issues[0]!.message, /invalid CEL condition/);
    // `.status == 503` is VRL, not CEL: as a plain string it is rejected rather than misread.
    assert.equal(conditionSchema.safeParse('.status == 503').success, false);
  });

  it('a malformed table names what it takes', () => {
    for (const bad of [{ type: 'vrl', src: 'true' }, { type: 'lua', source: 'true' }, { source: 'true' }]) {
      const result = conditionSchema.safeParse(bad);
      assert.equal(result.success, false);
      assert.match(result.error!.issues[0]!.message, /type = "vrl" \| "cel" and source/);
    }
  });

  it('filter, route and sample take the VRL table too', () => {
    for (const [type, config] of [
      ['filter', { condition: vrl('.status == 503') }],
      ['route', { route: { errors: vrl('.status >= 500 ?? false') } }],
      ['sample', { rate: 10, exclude: vrl('.stream == "stderr"') }],
    ] as const) {
      const schema = findDefinition('transform', type)!.schema;
      assert.equal(schema.safeParse(config).success, true, type);
      const bad = JSON.parse(JSON.stringify(config).replaceAll('"source":"', '"source":".x = 1; '));
      assert.equal(schema.safeParse(bad).success, false, type);
    }
  });
});
