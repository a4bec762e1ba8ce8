import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OpenBackoff } from './open-backoff.js';

test('out of descriptors: opening pauses, doubling up to a bound; the first failure of a run is the one to report', () => {
  const backoff = new OpenBackoff(() => {}, 60_000, 200_000); // pauses far longer than the test
  assert.equal(backoff.paused, false);
  assert.equal(backoff.failed(), true, 'first of a run: logged');
  assert.equal(backoff.paused, true);
  assert.equal(backoff.failed(), false, 'the same run: not logged again');
  assert.deepEqual([backoff.retryInMs, (backoff.failed(), backoff.retryInMs), (backoff.failed(), backoff.retryInMs)], [120_000, 200_000, 200_000]);
  backoff.close();
  assert.equal(backoff.paused, false);
  backoff.succeeded();
  assert.equal(backoff.failed(), true, 'a new run after a success');
  assert.equal(backoff.retryInMs, 60_000);
  backoff.close();
});

test('when a pause ends, the opener is told to retry', async () => {
  let retried!: () => void;
  const retry = new Promise<void>((resolve) => (retried = resolve));
  const backoff = new OpenBackoff(() => retried(), 1, 1);
  backoff.failed();
  await retry;
  assert.equal(backoff.paused, false);
  backoff.close();
});
