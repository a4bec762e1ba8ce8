import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCondition, conditionSchema } from './condition.js';

const event = { message: 'ERROR: disk full', status: 503, bytes: 2048.5, stream: 'stderr', kubernetes: { pod_namespace: 'payments', pod_labels: { app: 'api' } } };

describe('CEL conditions', () => {
  const cases: Array<[string, boolean]> = [
    ['kubernetes.pod_namespace == "payments"', true],
    ['kubernetes.pod_namespace != "payments"', false],
    ['message.matches("^ERROR")', true],
    ['message.matches("(?i)warn")', false],
    ['has(kubernetes.pod_labels.app)', true],
    ['has(kubernetes.pod_labels.canary)', false],
    ['status >= 500 && status < 600', true],
    ['status % 100 == 3', true],
    ['event.bytes / 1024 > 2', true],
    ['event.kubernetes.pod_namespace == "payments" && event.status == 503', true],
    ['!(stream == "stdout") || false', true],
    ['status in [500, 503]', true],
    ['kubernetes.missing == "x"', false],
    ['no_such_field > 1', false],
  ];
  for (const [expression, expected] of cases) {
    it(`${expression} -> ${expected}`, () => assert.equal(compileCondition(expression)(event), expected));
  }

  it('rejects a syntax error at validation time', () => {
    const result = conditionSchema.safeParse('status >=');
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0]!.message, /invalid CEL condition/);
  });

  it('reports evaluation errors other than missing fields and evaluates to false', () => {
    const errors: Error[] = [];
    assert.equal(compileCondition('message + 1 == 2', (e) => errors.push(e))(event), false);
    assert.equal(errors.length, 1);
  });
});
