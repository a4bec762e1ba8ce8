import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { join } from 'node:path';
import '../../components.js';
import { startHttpFedAgent, metricValue, readNdjson } from '../../../test/agent-process.js';
import { tempDir } from '../../../test/harness.js';
import { runBatch, transformContext } from '../../../test/transform-run.js';
import { createSample, keyHash, sampleSchema } from './index.js';

function sample(options: Record<string, unknown>) {
  const ctx = transformContext('sampler', 'sample');
  return { ctx, transform: createSample(sampleSchema.parse(options), ctx) };
}

const messages = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ message: `m${from + i}` }));

describe('sample transform', () => {
  it('keeps every rate-th event from the first, across batches, adding sample_rate; drops the rest as delivered', () => {
    const { ctx, transform } = sample({ rate: 4 });
    const first = runBatch(transform, messages(0, 10));
    assert.deepEqual(first.kept, [
      { message: 'm0', sample_rate: '4' },
      { message: 'm4', sample_rate: '4' },
      { message: 'm8', sample_rate: '4' },
    ]);
    assert.deepEqual(first.outcomes.filter((o) => o === 'delivered').length, 7);
    assert.equal(first.outcomes[0], 'pending');
    assert.equal(ctx.metrics.discardedCount, 7);
    const second = runBatch(transform, messages(10, 3));
    assert.deepEqual(second.kept.map((f) => f.message), ['m12'], 'the count carries over between batches');
  });

  it('samples by key_field: all events of a value are kept or dropped together, about 1 value in rate, the same every time', () => {
    const traces = Array.from({ length: 2000 }, (_, i) => `trace-${i}`);
    const batch = traces.flatMap((trace_id) => [{ trace_id, n: 1 }, { trace_id, n: 2 }, { trace_id, n: 3 }]);
    const run = () => runBatch(sample({ rate: 10, key_field: 'trace_id' }).transform, batch).kept;
    const kept = run();
    const keptTraces = new Set(kept.map((f) => f.trace_id));
    assert.equal(kept.length, keptTraces.size * 3, 'a kept trace is kept whole');
    assert.ok(keptTraces.size > 140 && keptTraces.size < 260, `kept ${keptTraces.size} of 2000 traces at 1/10`);
    for (const trace of keptTraces) assert.equal(keyHash(String(trace)) % 10, 0);
    assert.deepEqual(run(), kept, 'deterministic: a fresh instance keeps the same traces');
  });

  it('hashes nested and non-string key values, and counts events without the key', () => {
    const { transform } = sample({ rate: 2, key_field: 'kubernetes.pod_uid' });
    const uid = Array.from({ length: 50 }, (_, i) => i).find((i) => keyHash(JSON.stringify(i)) % 2 === 0)!;
    const { kept } = runBatch(transform, [
      { kubernetes: { pod_uid: uid }, n: 'a' },
      { n: 'b' },
      { kubernetes: { pod_uid: uid }, n: 'c' },
      { n: 'd' },
      { n: 'e' },
    ]);
    // b, d, e fall back to the count, which every event advances: b and d see 1, e sees 0.
    assert.deepEqual(kept.map((f) => f.n), ['a', 'c', 'e']);
  });

  it('keeps excluded events unsampled, without the rate field and without advancing the count', () => {
    const { transform } = sample({ rate: 3, exclude: 'level == "error"' });
    const { kept } = runBatch(transform, [
      { message: 'i0' },
      { message: 'e0', level: 'error' },
      { message: 'i1' },
      { message: 'e1', level: 'error' },
      { message: 'i2' },
      { message: 'i3' },
    ]);
    assert.deepEqual(kept, [{ message: 'i0', sample_rate: '3' }, { message: 'e0', level: 'error' }, { message: 'e1', level: 'error' }, { message: 'i3', sample_rate: '3' }]);
  });

  it('writes sample_rate_key as a path (copying frozen shared objects), or nothing when empty', () => {
    const shared = Object.freeze({ origin: 'node-1' });
    const { kept } = runBatch(sample({ rate: 1, sample_rate_key: 'meta.rate' }).transform, [{ message: 'x', meta: shared }]);
    assert.deepEqual(kept, [{ message: 'x', meta: { origin: 'node-1', rate: '1' } }]);
    assert.deepEqual(shared, { origin: 'node-1' });
    assert.deepEqual(runBatch(sample({ rate: 1, sample_rate_key: '' }).transform, [{ message: 'y' }]).kept, [{ message: 'y' }]);
    assert.throws(() => sampleSchema.parse({ rate: 0 }));
    assert.throws(() => sampleSchema.parse({ rate: 2, exclude: '&&' }), /invalid CEL condition/);
  });
});

describe('sample in the sluice process', () => {
  const dir = tempDir('sample-e2e-');
  after(() => dir.cleanup());

  it('http_server -> sample -> file: ships whole traces for 1 value in rate, drops the rest and still answers 200 (all acked)', async () => {
    const out = join(dir.path, 'out.ndjson');
    const agent = await startHttpFedAgent(
      dir.path,
      'sample',
      `[transforms.sampler]\ntype = "sample"\ninputs = ["in"]\nrate = 3\nkey_field = "trace_id"\n` +
        `[sinks.out]\ntype = "file"\ninputs = ["sampler"]\npath = "${out}"\nencoding.codec = "json"\n`,
    );
    try {
      const lines = Array.from({ length: 60 }, (_, i) => ({ trace_id: `t${i % 20}`, seq: i }));
      const expected = lines.filter((l) => keyHash(l.trace_id) % 3 === 0);
      assert.ok(expected.length > 0 && expected.length < lines.length);
      assert.equal(await agent.post(lines), 200, agent.stderr());
      const shipped = readNdjson(out);
      assert.deepEqual(shipped.map((l) => l.seq), expected.map((l) => l.seq));
      assert.ok(shipped.every((l) => l.sample_rate === '3'));
      const metrics = await agent.metrics();
      assert.equal(metricValue(metrics, 'sluice_component_discarded_events_total', { component_id: 'sampler', reason: 'sampled_out' }), lines.length - expected.length);
    } finally {
      assert.equal(await agent.stop(), 0, agent.stderr());
    }
  });
});
