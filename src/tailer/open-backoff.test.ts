import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OpenBackoff } from './open-backoff.js';

test('out of descriptors: opening pauses, doubling up to a bound, reports the first failure of a run, retries', async () => {
  let retries = 0;
  let retried!: () => void;
  const backoff = new OpenBackoff(() => (retries++, retried()), 5, 20);
  assert.equal(backoff.paused, false);
  const firstRetry = new Promise<void>((resolve) => (retried = resolve));
  assert.equal(backoff.failed(), true, 'first of a run: logged');
  assert.equal(backoff.paused, true);
  await firstRetry;
  assert.equal(retries, 1);
  assert.equal(backoff.paused, false);
  assert.equal(backoff.failed(), false, 'the same run: not logged again');
  assert.deepEqual([backoff.retryInMs, (backoff.failed(), backoff.retryInMs), (backoff.failed(), backoff.retryInMs)], [10, 20, 20]);
  backoff.succeeded();
  assert.equal(backoff.paused, false);
  assert.equal(backoff.failed(), true, 'a new run after a success');
  assert.equal(backoff.retryInMs, 5);
  backoff.close();
});
