import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { Wake } from './wake.js';

let clock = 0;
beforeEach(() => {
  clock = 0;
  mock.timers.enable({ apis: ['setTimeout'] });
});
afterEach(() => mock.timers.reset());

function advance(ms: number): void {
  clock += ms;
  mock.timers.tick(ms);
}

/** Sleeps and reports whether the sleep has ended after the microtasks queued so far ran. */
function sleepOn(wake: Wake): { readonly woken: () => boolean } {
  let woken = false;
  void wake.sleep().then(() => (woken = true));
  return { woken: () => woken };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('wake: a wake-up while busy makes the next sleep return at once, only once', async () => {
  const wake = new Wake(() => clock);
  wake.wake();
  const first = sleepOn(wake);
  await flush();
  assert.equal(first.woken(), true);
  const second = sleepOn(wake);
  await flush();
  assert.equal(second.woken(), false);
  assert.equal(wake.sleeping, true);
  wake.wake();
  await flush();
  assert.equal(second.woken(), true);
});

test('wake: soon() while busy is remembered like wake()', async () => {
  const wake = new Wake(() => clock);
  wake.soon(100);
  const sleep = sleepOn(wake);
  await flush();
  assert.equal(sleep.woken(), true);
});

test('wake: soon() while asleep wakes after the delay, not before', async () => {
  const wake = new Wake(() => clock);
  const sleep = sleepOn(wake);
  wake.soon(100);
  advance(99);
  await flush();
  assert.equal(sleep.woken(), false);
  advance(1);
  await flush();
  assert.equal(sleep.woken(), true);
});

test('wake: writes in the same window coalesce into one wake-up at the first one\'s deadline', async () => {
  const wake = new Wake(() => clock);
  const sleep = sleepOn(wake);
  wake.soon(100);
  advance(50);
  wake.soon(100); // would come later: the pending one stands
  advance(50);
  await flush();
  assert.equal(sleep.woken(), true);
});

test('wake: a shorter delay brings the wake-up forward, a longer one never delays it', async () => {
  const wake = new Wake(() => clock);
  let sleep = sleepOn(wake);
  wake.soon(100);
  advance(10);
  wake.soon(20); // due at 30 instead of 100
  advance(19);
  await flush();
  assert.equal(sleep.woken(), false);
  advance(1);
  await flush();
  assert.equal(sleep.woken(), true);

  sleep = sleepOn(wake);
  wake.soon(20);
  wake.soon(100);
  advance(20);
  await flush();
  assert.equal(sleep.woken(), true);
});

test('wake: a shorter delay that would not come sooner keeps the pending timer', async () => {
  const wake = new Wake(() => clock);
  const sleep = sleepOn(wake);
  wake.soon(100);
  advance(95);
  wake.soon(20); // due at 115, later than 100
  advance(5);
  await flush();
  assert.equal(sleep.woken(), true);
});

test('wake: close() drops a pending coalescing timer', async () => {
  const wake = new Wake(() => clock);
  const sleep = sleepOn(wake);
  wake.soon(100);
  wake.close();
  advance(1000);
  await flush();
  assert.equal(sleep.woken(), false);
  wake.wake();
  await flush();
  assert.equal(sleep.woken(), true);
});

test('wake: an event once the first has waited its delay wakes the loop itself, before the latest timer', async () => {
  const wake = new Wake(() => clock);
  const sleep = sleepOn(wake);
  wake.soon(100, 200);
  advance(99);
  wake.soon(100, 200); // too early: the first has not waited 100 ms yet
  await flush();
  assert.equal(sleep.woken(), false);
  advance(1);
  wake.soon(100, 200);
  await flush();
  assert.equal(sleep.woken(), true);
});

test('wake: without a further event the latest timer wakes the loop', async () => {
  const wake = new Wake(() => clock);
  const sleep = sleepOn(wake);
  wake.soon(100, 200);
  advance(199);
  await flush();
  assert.equal(sleep.woken(), false);
  advance(1);
  await flush();
  assert.equal(sleep.woken(), true);
});

test('wake: a wake-up drops the coalescing timer (its pass serves the files marked so far)', async () => {
  const wake = new Wake(() => clock);
  let sleep = sleepOn(wake);
  wake.soon(100, 200);
  wake.wake();
  await flush();
  assert.equal(sleep.woken(), true);
  sleep = sleepOn(wake);
  advance(1000);
  await flush();
  assert.equal(sleep.woken(), false, 'no second wake-up from the dropped timer');
  wake.soon(100, 200); // a new run of events starts its own delay
  advance(99);
  wake.soon(100, 200);
  await flush();
  assert.equal(sleep.woken(), false);
});
