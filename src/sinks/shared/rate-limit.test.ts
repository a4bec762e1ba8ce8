import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RequestRateLimit, type RateLimitClock } from './rate-limit.js';

/** A clock that only moves when a waiter sleeps: each start is stamped with the time it was allowed. */
class FakeClock implements RateLimitClock {
  time = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
  }
}

async function startTimes(limit: RequestRateLimit, clock: FakeClock, count: number): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(Array.from({ length: count }, () => limit.take()!.then(() => times.push(clock.now()))));
  return times;
}

describe('RequestRateLimit', () => {
  test('no limit: take() answers undefined, so the caller does not wait at all', () => {
    assert.equal(new RequestRateLimit(undefined, 1000).take(), undefined);
  });

  test('at most num starts per window, in the order asked, each waiting exactly until a slot frees', async () => {
    const clock = new FakeClock();
    const limit = new RequestRateLimit(2, 400, clock);
    const times = await startTimes(limit, clock, 7);
    assert.deepEqual(times, [0, 0, 400, 400, 800, 800, 1200]);
    for (let i = 2; i < times.length; i++) assert.ok(times[i]! - times[i - 2]! >= 400, `starts ${i - 2} and ${i}`);
    assert.deepEqual(clock.sleeps, [400, 400, 400]);
  });

  test('a slot frees when its start leaves the window, not when a whole window has passed since the last start', async () => {
    const clock = new FakeClock();
    const limit = new RequestRateLimit(2, 1000, clock);
    await limit.take();
    clock.time = 600;
    await limit.take();
    clock.time = 700;
    await limit.take(); // the start at 0 leaves the window at 1000
    assert.equal(clock.now(), 1000);
    await limit.take(); // the start at 600 leaves it at 1600
    assert.equal(clock.now(), 1600);
  });

  test('starts spread over time need no wait', async () => {
    const clock = new FakeClock();
    const limit = new RequestRateLimit(1, 100, clock);
    for (let i = 0; i < 5; i++) {
      clock.time = i * 150;
      await limit.take();
    }
    assert.deepEqual(clock.sleeps, []);
  });
});
