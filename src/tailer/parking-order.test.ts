import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParkingOrder } from './parking-order.js';

test('choosing a file to park looks at O(1) entries, not at every tracked file', () => {
  const order = new ParkingOrder<number>();
  for (let i = 0; i < 10_000; i++) order.enlist(i);
  const parked: number[] = [];
  for (let i = 0; i < 100; i++) parked.push(order.choose(() => true)!);
  assert.deepEqual(parked, Array.from({ length: 100 }, (_, i) => i), 'least recently active first');
  assert.equal(order.examined, 100);
  assert.equal(order.size, 9_900);
});

test('touch moves a file to the back, enlist keeps its place, remove and non-parkable entries drop out', () => {
  const order = new ParkingOrder<string>();
  for (const name of ['a', 'b', 'c', 'd']) order.enlist(name);
  order.touch('a'); // read data just now
  order.enlist('b'); // at its end again without data: keeps its place
  order.remove('c'); // closed
  const reading = new Set(['b']);
  assert.equal(order.choose((f) => !reading.has(f)), 'd');
  assert.equal(order.examined, 2, 'b looked at once and dropped');
  assert.equal(order.choose((f) => !reading.has(f)), 'a');
  assert.equal(order.choose(() => true), undefined, 'b enlists again only when it next reaches its end');
});
