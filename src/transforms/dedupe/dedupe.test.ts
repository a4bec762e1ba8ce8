import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { join } from 'node:path';
import '../../components.js';
import { startHttpFedAgent, metricValue, readNdjson } from '../../../test/agent-process.js';
import { tempDir } from '../../../test/harness.js';
import { runBatch, transformContext } from '../../../test/transform-run.js';
import { createDedupe, dedupeSchema } from './index.js';
import { LruSet } from './fingerprint.js';

function dedupe(options: Record<string, unknown>) {
  const ctx = transformContext('dedup', 'dedupe');
  return { ctx, transform: createDedupe(dedupeSchema.parse(options), ctx) };
}

describe('dedupe transform', () => {
  it('by default matches timestamp, host and message; duplicates are dropped as delivered and counted', () => {
    const { ctx, transform } = dedupe({});
    const base = { timestamp: '2026-12-01T00:00:00Z', host: 'n1', message: 'boom' };
    const first = runBatch(transform, [base, { ...base, extra: 1 }, { ...base, host: 'n2' }, { ...base, message: 'other' }]);
    assert.deepEqual(first.kept, [base, { ...base, host: 'n2' }, { ...base, message: 'other' }]);
    assert.deepEqual(first.outcomes, ['pending', 'delivered', 'pending', 'pending']);
    const second = runBatch(transform, [{ ...base }, { timestamp: base.timestamp, message: 'boom' }]);
    assert.deepEqual(second.kept, [{ timestamp: base.timestamp, message: 'boom' }], 'remembered across batches; a missing host differs');
    assert.equal(ctx.metrics.discardedCount, 2);
  });

  it('fields.match compares nested values regardless of key order, and tells missing from null', () => {
    const { transform } = dedupe({ fields: { match: ['kubernetes.pod_name', 'body'] } });
    const { kept } = runBatch(transform, [
      { kubernetes: { pod_name: 'a' }, body: { x: 1, y: [1, 2] }, n: 1 },
      { kubernetes: { pod_name: 'a' }, body: { y: [1, 2], x: 1 }, n: 2 },
      { kubernetes: { pod_name: 'a' }, body: { x: 1, y: [2, 1] }, n: 3 },
      { kubernetes: { pod_name: 'a' }, body: null, n: 4 },
      { kubernetes: { pod_name: 'a' }, n: 5 },
      { kubernetes: { pod_name: 'a' }, n: 6 },
      { kubernetes: { pod_name: 'a' }, body: '1', n: 7 },
      { kubernetes: { pod_name: 'a' }, body: 1, n: 8 },
    ]);
    assert.deepEqual(kept.map((f) => f.n), [1, 3, 4, 5, 7, 8]);
  });

  it('fields.ignore compares every other field, a path ignoring what is under it', () => {
    const { transform } = dedupe({ fields: { ignore: ['timestamp', 'kubernetes.pod_labels'] } });
    const { kept } = runBatch(transform, [
      { message: 'm', timestamp: 't1', kubernetes: { pod_name: 'a', pod_labels: { v: '1' } } },
      { message: 'm', timestamp: 't2', kubernetes: { pod_name: 'a', pod_labels: { v: '2' } } },
      { message: 'm', timestamp: 't3', kubernetes: { pod_name: 'b', pod_labels: { v: '1' } } },
      { message: 'm', timestamp: 't4', kubernetes: { pod_name: 'a' }, level: 'info' },
    ]);
    assert.deepEqual(kept.map((f) => f.timestamp), ['t1', 't3', 't4']);
  });

  it('remembers cache.num_events events, forgetting the least recently seen', () => {
    const { transform } = dedupe({ fields: { match: ['message'] }, cache: { num_events: 2 } });
    const send = (...messages: string[]) => runBatch(transform, messages.map((message) => ({ message }))).kept.map((f) => f.message);
    assert.deepEqual(send('a', 'b', 'a'), ['a', 'b'], 'a is a duplicate and becomes the most recent');
    assert.deepEqual(send('c'), ['c'], 'c pushes out b, the least recently seen');
    assert.deepEqual(send('a', 'b'), ['b'], 'a was remembered, b was forgotten');
    const lru = new LruSet(3);
    for (let i = 0; i < 100; i++) lru.touch(`k${i}`);
    assert.equal(lru.size, 3);
  });

  it('validates: match or ignore, not both; positive num_events; unknown keys', () => {
    assert.throws(() => dedupeSchema.parse({ fields: { match: ['a'], ignore: ['b'] } }), /set one of fields.match and fields.ignore, not both/);
    assert.throws(() => dedupeSchema.parse({ fields: {} }), /set one of fields.match and fields.ignore/);
    assert.throws(() => dedupeSchema.parse({ fields: { match: [] } }));
    assert.throws(() => dedupeSchema.parse({ cache: { num_events: 0 } }));
    assert.throws(() => dedupeSchema.parse({ cache: { num_event: 10 } }));
    assert.deepEqual(dedupeSchema.parse({}), { fields: { match: ['timestamp', 'host', 'message'] }, cache: { num_events: 5000 } });
  });
});

describe('dedupe in the sluice process', () => {
  const dir = tempDir('dedupe-e2e-');
  after(() => dir.cleanup());

  it('http_server -> dedupe -> file: ships each distinct message once, drops the copies and still answers 200 (all acked)', async () => {
    const out = join(dir.path, 'out.ndjson');
    const agent = await startHttpFedAgent(
      dir.path,
      'dedupe',
      `[transforms.dedup]\ntype = "dedupe"\ninputs = ["in"]\nfields.match = ["message", "pod"]\n` +
        `[sinks.out]\ntype = "file"\ninputs = ["dedup"]\npath = "${out}"\nencoding.codec = "json"\n`,
    );
    try {
      const lines = Array.from({ length: 30 }, (_, i) => ({ message: `retry ${i % 5}`, pod: i % 10 < 5 ? 'a' : 'b', seq: i }));
      assert.equal(await agent.post(lines), 200, agent.stderr());
      assert.deepEqual(readNdjson(out).map((l) => l.seq), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // A second request of only duplicates: every event dropped, and the request still completes.
      assert.equal(await agent.post(lines.slice(0, 10)), 200, agent.stderr());
      assert.equal(readNdjson(out).length, 10);
      const metrics = await agent.metrics();
      assert.equal(metricValue(metrics, 'sluice_component_discarded_events_total', { component_id: 'dedup', reason: 'duplicate' }), 30);
    } finally {
      assert.equal(await agent.stop(), 0, agent.stderr());
    }
  });
});
