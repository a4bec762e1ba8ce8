import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collector, sourceOutcomes, startTopology, waitUntil } from '../../../test/harness.js';

describe('topology runtime', () => {
  it('acknowledges a batch only once every sink of a fan-out has accepted it', async () => {
    const fast = collector('fanout-fast');
    const slow = collector('fanout-slow');
    slow.mode = 'hold';
    const running = await startTopology({
      sources: { src: { type: 'test_counter', count: 20, batch_size: 10 } },
      sinks: {
        a: { type: 'test_collect', inputs: ['src'], name: 'fanout-fast' },
        b: { type: 'test_collect', inputs: ['src'], name: 'fanout-slow' },
      },
    });
    await fast.waitFor(20);
    await slow.waitFor(20);
    const outcomes = sourceOutcomes.get('src')!;
    assert.equal(outcomes.length, 0, 'no batch may complete while one sink holds it');
    slow.events.slice(0, 10).forEach((e) => e.ack('delivered'));
    await waitUntil(() => outcomes.length === 1, 2000, 'first batch acked');
    slow.releaseAll('rejected');
    await waitUntil(() => outcomes.length === 2, 2000, 'second batch finished');
    assert.deepEqual(outcomes, [{ rejected: 0 }, { rejected: 10 }], 'a permanent rejection still finishes the batch');
    assert.notEqual(fast.events[0], slow.events[0], 'each sink gets its own event object');
    assert.equal(fast.events[0]!.fields, slow.events[0]!.fields, 'non-mutating consumers share fields');
    await running.stop();
  });

  it('acks events a filter drops and routes the rest by condition', async () => {
    const errors = collector('route-errors');
    const rest = collector('route-rest');
    const running = await startTopology({
      sources: { src: { type: 'test_counter', count: 30, batch_size: 30 } },
      transforms: {
        odd: { type: 'filter', inputs: ['src'], condition: 'seq % 2 == 1' },
        split: { type: 'route', inputs: ['odd'], route: { big: 'seq >= 20', small: 'seq < 10' } },
      },
      sinks: {
        big: { type: 'test_collect', inputs: ['split.big'], name: 'route-errors' },
        rest: { type: 'test_collect', inputs: ['split.small', 'split._unmatched'], name: 'route-rest' },
      },
    });
    await errors.waitFor(5);
    await rest.waitFor(10);
    assert.deepEqual(errors.events.map((e) => e.fields.seq), [21, 23, 25, 27, 29]);
    assert.deepEqual(rest.events.map((e) => e.fields.seq).sort((a, b) => Number(a) - Number(b)), [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    await waitUntil(() => sourceOutcomes.get('src')!.length === 1, 2000, 'batch finished');
    await running.stop();
  });

  it('keeps memory bounded when a sink never completes: the source is held back', async () => {
    const stuck = collector('stuck');
    const running = await startTopology({
      sources: { fast: { type: 'demo_logs', interval_secs: 0, batch_size: 100, format: 'json' } },
      sinks: { out: { type: 'test_collect', inputs: ['fast'], name: 'stuck', never_complete: true, buffer: { max_events: 1000 } } },
    });
    const rssBefore = process.memoryUsage().rss;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const produced = (await running.metrics.registry.getSingleMetricAsString('sluice_component_sent_events_total')).match(/component_id="fast"[^}]*} (\d+)/);
    const sent = Number(produced?.[1]);
    // One batch taken by the stuck sink, up to max_events buffered, plus one batch waiting to be admitted.
    assert.ok(sent <= 100 + 1000 + 100, `source produced ${sent} events; expected it to be blocked near the buffer size`);
    assert.ok(sent >= 1000, `buffer should have filled, got ${sent}`);
    const growthMiB = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    assert.ok(growthMiB < 50, `RSS grew by ${growthMiB.toFixed(1)} MiB`);
    assert.equal(stuck.events.length, 100);
    void running.topology.stop();
  });

  it('drains in-flight events into the sinks on shutdown', async () => {
    const out = collector('drain');
    const running = await startTopology({
      sources: { src: { type: 'test_counter', count: 5000, batch_size: 50 } },
      transforms: { all: { type: 'filter', inputs: ['src'], condition: 'true' } },
      sinks: { out: { type: 'test_collect', inputs: ['all'], name: 'drain' } },
    });
    await out.waitFor(50); // the source is producing: batches are in flight when the stop comes
    await running.stop();
    const outcomes = sourceOutcomes.get('src')!;
    // Every batch the source emitted before stopping reached the sink and was acknowledged.
    assert.ok(outcomes.length >= 1, 'at least the batch seen before the stop was acknowledged');
    assert.equal(out.events.length, outcomes.length * 50);
    assert.equal(running.topology.state, 'stopped');
  });

  it('reports per-component counters for GET /components (sluice top)', async () => {
    const out = collector('stats');
    const running = await startTopology({
      sources: { src: { type: 'test_counter', count: 30, batch_size: 10 } },
      transforms: { odd: { type: 'filter', inputs: ['src'], condition: 'seq % 2 == 1' } },
      sinks: { out: { type: 'test_collect', inputs: ['odd'], name: 'stats', buffer: { max_events: 123 } } },
    });
    await running.finished();
    assert.equal(out.events.length, 15);
    const stats = new Map(running.topology.componentStats().map((c) => [c.id, c]));
    assert.deepEqual(
      [...stats.values()].map((c) => [c.id, c.kind, c.type, c.received_events, c.sent_events, c.discarded_events, c.errors]),
      [
        ['src', 'source', 'test_counter', 0, 30, 0, 0],
        ['odd', 'transform', 'filter', 30, 15, 15, 0],
        ['out', 'sink', 'test_collect', 15, 0, 0, 0],
      ],
    );
    assert.equal(stats.get('src')!.buffer_events, undefined, 'a source has no input buffer');
    assert.equal(stats.get('odd')!.buffer_events, 0);
    assert.equal(stats.get('out')!.buffer_max_events, 123);
    await running.stop();
  });
});
