import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { join } from 'node:path';
import '../../components.js';
import { startHttpFedAgent, metricValue, readNdjson } from '../../../test/agent-process.js';
import { tempDir } from '../../../test/harness.js';
import { runBatch, transformContext } from '../../../test/transform-run.js';
import { createThrottle, throttleSchema } from './index.js';
import { KeyedRateLimiter } from './limiter.js';

function throttle(options: Record<string, unknown>, clock: { now: number }) {
  const ctx = transformContext('limit', 'throttle');
  return { ctx, transform: createThrottle(throttleSchema.parse(options), ctx, () => clock.now) };
}

const events = (n: number, extra: Record<string, unknown> = {}) => Array.from({ length: n }, (_, i) => ({ message: `m${i}`, ...extra }));

describe('throttle transform', () => {
  it('lets a burst of threshold through, drops the rest as delivered and counts them, then refills one per window/threshold', () => {
    const clock = { now: 1_000_000 };
    const { ctx, transform } = throttle({ threshold: 3, window_secs: 60 }, clock);
    const first = runBatch(transform, events(5));
    assert.deepEqual(first.kept.map((f) => f.message), ['m0', 'm1', 'm2']);
    assert.deepEqual(first.outcomes, ['pending', 'pending', 'pending', 'delivered', 'delivered']);
    assert.equal(ctx.metrics.discardedCount, 2);
    clock.now += 19_999;
    assert.equal(runBatch(transform, events(1)).kept.length, 0, 'no cell back before 60/3 s');
    clock.now += 1;
    assert.equal(runBatch(transform, events(2)).kept.length, 1, 'one cell back after 20 s');
    clock.now += 60_000;
    assert.equal(runBatch(transform, events(4)).kept.length, 3, 'a full window later the bucket is full again');
    assert.equal(ctx.metrics.discardedCount, 2 + 1 + 1 + 1);
  });

  it('throttles each key_field value apart; events whose key fields are missing share one bucket', () => {
    const clock = { now: 0 };
    const { transform } = throttle({ threshold: 2, window_secs: 10, key_field: '{{ kubernetes.pod_name }}/{{ stream }}' }, clock);
    const batch = [
      ...events(3, { kubernetes: { pod_name: 'a' }, stream: 'stdout' }),
      ...events(3, { kubernetes: { pod_name: 'b' }, stream: 'stdout' }),
      ...events(1, { kubernetes: { pod_name: 'a' }, stream: 'stderr' }),
      ...events(2, { stream: 'stdout' }),
      ...events(2, { kubernetes: { pod_name: 'c' } }),
    ];
    const { kept, outcomes } = runBatch(transform, batch);
    const keys = kept.map((f) => `${(f.kubernetes as { pod_name?: string } | undefined)?.pod_name ?? '-'}/${f.stream ?? '-'}`);
    assert.deepEqual(keys, ['a/stdout', 'a/stdout', 'b/stdout', 'b/stdout', 'a/stderr', '-/stdout', '-/stdout']);
    assert.equal(outcomes.filter((o) => o === 'delivered').length, 4);
  });

  it('passes events matching exclude unthrottled, without spending the bucket', () => {
    const clock = { now: 0 };
    const { ctx, transform } = throttle({ threshold: 1, window_secs: 60, exclude: 'level == "error"' }, clock);
    const { kept } = runBatch(transform, [
      { message: 'e1', level: 'error' },
      { message: 'i1', level: 'info' },
      { message: 'e2', level: 'error' },
      { message: 'i2', level: 'info' },
      { message: 'e3', level: 'error' },
    ]);
    assert.deepEqual(kept.map((f) => f.message), ['e1', 'i1', 'e2', 'e3']);
    assert.equal(ctx.metrics.discardedCount, 1);
  });

  it('rejects a broken key_field template and a broken exclude condition at validation', () => {
    assert.throws(() => throttleSchema.parse({ threshold: 1, window_secs: 1, key_field: '{{ pod' }), /unclosed/);
    assert.throws(() => throttleSchema.parse({ threshold: 1, window_secs: 1, exclude: 'level ==' }), /invalid CEL condition/);
    assert.throws(() => throttleSchema.parse({ threshold: 0, window_secs: 1 }));
    assert.throws(() => throttleSchema.parse({ threshold: 1, window_secs: 1, windows_secs: 2 }), /windows_secs/);
  });
});

describe('throttle key memory', () => {
  it('forgets keys whose bucket has refilled, at most one window after their last event', () => {
    const limiter = new KeyedRateLimiter({ threshold: 2, windowMs: 1000, maxKeys: 100 });
    for (let i = 0; i < 50; i++) assert.ok(limiter.allow(`k${i}`, 0));
    assert.equal(limiter.size, 50);
    assert.ok(limiter.allow('late', 600));
    assert.equal(limiter.size, 51, 'no sweep before a window has passed');
    assert.ok(limiter.allow('other', 1000));
    assert.deepEqual(limiter.size, 2, 'the 50 keys refilled at 500 ms and are gone; late (TAT 1100) stays');
  });

  it('caps the number of keys, forgetting the least recently used first', () => {
    const limiter = new KeyedRateLimiter({ threshold: 1, windowMs: 60_000, maxKeys: 3 });
    assert.ok(limiter.allow('a', 0));
    assert.ok(limiter.allow('b', 1));
    assert.ok(limiter.allow('c', 2));
    assert.equal(limiter.allow('a', 3), false, 'a is throttled while remembered');
    assert.ok(limiter.allow('d', 4));
    assert.equal(limiter.size, 3);
    assert.ok(limiter.allow('a', 5), 'a was the least recently updated and was forgotten: it starts afresh');
    assert.equal(limiter.allow('d', 6), false, 'd is still remembered');
  });
});

describe('throttle in the sluice process', () => {
  const dir = tempDir('throttle-e2e-');
  after(() => dir.cleanup());

  it('http_server -> throttle -> file: ships threshold per key, drops the rest and still answers 200 (all acked)', async () => {
    const out = join(dir.path, 'out.ndjson');
    const agent = await startHttpFedAgent(
      dir.path,
      'throttle',
      `[transforms.limit]\ntype = "throttle"\ninputs = ["in"]\nthreshold = 3\nwindow_secs = 3600\nkey_field = "{{ pod }}"\nexclude = 'level == "error"'\n` +
        `[sinks.out]\ntype = "file"\ninputs = ["limit"]\npath = "${out}"\nencoding.codec = "json"\n`,
    );
    try {
      const lines = [
        ...Array.from({ length: 10 }, (_, i) => ({ pod: 'noisy', seq: i })),
        ...Array.from({ length: 2 }, (_, i) => ({ pod: 'quiet', seq: 100 + i })),
        { pod: 'noisy', seq: 200, level: 'error' },
      ];
      // The source answers 200 only once every event is acknowledged, the 7 dropped ones included.
      assert.equal(await agent.post(lines), 200, agent.stderr());
      assert.deepEqual(readNdjson(out).map((l) => l.seq), [0, 1, 2, 100, 101, 200]);
      const metrics = await agent.metrics();
      assert.equal(metricValue(metrics, 'sluice_component_discarded_events_total', { component_id: 'limit', reason: 'throttled' }), 7);
    } finally {
      assert.equal(await agent.stop(), 0, agent.stderr());
    }
  });
});
