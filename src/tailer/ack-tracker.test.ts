import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AckTracker } from './ack-tracker.js';

test('the checkpoint moves only over the contiguous acknowledged prefix', () => {
  const acks = new AckTracker(100);
  const a = acks.push(200);
  const b = acks.push(300);
  const c = acks.push(300); // a batch whose lines all wait in a partial merge: offset does not move
  const d = acks.push(450);
  acks.complete(d);
  acks.complete(b);
  assert.equal(acks.acknowledgedOffset, 100, 'a is still in flight');
  acks.complete(a);
  assert.equal(acks.acknowledgedOffset, 300, 'a and b done, c not');
  acks.complete(c);
  assert.equal(acks.acknowledgedOffset, 450);
  assert.equal(acks.pendingBatches, 0);
});
