import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogBudget } from './log-budget.js';

test('at most perWindow lines per window; the next line logged tells how many were not', () => {
  const budget = new LogBudget(2, 1000);
  assert.deepEqual([budget.take(0), budget.take(1), budget.take(2), budget.take(3)], [0, 0, undefined, undefined]);
  assert.equal(budget.take(1000), 2, 'a new window: logged, with the two suppressed');
  assert.equal(budget.take(1001), 0);
  assert.equal(budget.take(1002), undefined);
});
