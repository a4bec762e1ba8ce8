import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckpointWriteBackoff } from './checkpoint-write-backoff.js';

const erofs = Object.assign(new Error('read-only file system'), { code: 'EROFS' });
const eacces = Object.assign(new Error('permission denied'), { code: 'EACCES' });

test('failed writes back off exponentially up to the cap, each code reported once per outage', () => {
  let now = 0;
  const writes = new CheckpointWriteBackoff(1000, 8000, () => now);
  assert.equal(writes.due(), true);
  const delays: number[] = [];
  const reported: boolean[] = [];
  for (let i = 0; i < 6; i++) {
    const { code, report, retryInMs } = writes.failed(erofs);
    assert.equal(code, 'EROFS');
    reported.push(report);
    delays.push(retryInMs);
    now += retryInMs - 1;
    assert.equal(writes.due(), false, 'not before the delay');
    now += 1;
    assert.equal(writes.due(), true);
  }
  assert.deepEqual(reported, [true, false, false, false, false, false]);
  // Equal jitter: each delay within [d/2, d], d doubling from the interval to the cap.
  [1000, 2000, 4000, 8000, 8000, 8000].forEach((d, i) => assert.ok(delays[i]! >= d / 2 && delays[i]! <= d, `${i}: ${delays[i]} for ${d}`));
  assert.equal(writes.failed(eacces).report, true, 'a new code is reported');
  assert.equal(writes.succeeded(), true, 'the outage ends');
  assert.equal(writes.succeeded(), false);
  assert.equal(writes.due(), true);
  const again = writes.failed(erofs);
  assert.equal(again.report, true, 'a new outage is reported again');
  assert.ok(again.retryInMs <= 1000, 'and backs off from the start');
});
