import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { collector, startTopology } from '../../test/harness.js';
import { LogEvent } from './event.js';
import { MetricsRegistry } from './metrics.js';
import { isLoopbackAddress, TapClient, TapHub, type TapWriter } from './tap.js';

/** A writer that takes chunks; `full` makes it answer "backed up" and wait for drain(). */
class FakeWriter extends EventEmitter implements TapWriter {
  chunks: string[] = [];
  full = false;
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return !this.full;
  }
  drain(): void {
    this.full = false;
    this.emit('drain');
  }
  get lines(): Array<Record<string, unknown>> {
    return linesOf(this.chunks);
  }
}

function linesOf(chunks: string[]): Array<Record<string, unknown>> {
  {
    return chunks.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

const events = (from: number, count: number): LogEvent[] => Array.from({ length: count }, (_, i) => new LogEvent({ message: `m${from + i}`, seq: from + i }));

describe('tap', () => {
  it('tells loopback clients from others', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopbackAddress(address), true, address);
    for (const address of ['192.0.2.2', '10.0.0.1', '::ffff:10.1.2.3', 'fd00::2', '::', '0.0.0.0', '128.0.0.1', undefined]) assert.equal(isLoopbackAddress(address), false, String(address));
  });

  it('keeps a bounded queue for a backed-up client, drops the rest and says how many', async () => {
    const writer = new FakeWriter();
    const client = new TapClient(writer, { outputsOf: ['*'], inputsOf: [], maxQueued: 3, maxPerSecond: Infinity });
    client.offer('src', events(0, 2));
    await tick();
    assert.deepEqual(writer.lines, [
      { component_id: 'src', event: { message: 'm0', seq: 0 } },
      { component_id: 'src', event: { message: 'm1', seq: 1 } },
    ]);
    writer.chunks = [];
    writer.full = true;
    assert.equal(client.offer('src', events(2, 10)), 7, 'only 3 fit');
    await tick();
    assert.equal(writer.chunks.length, 1, 'one write, then it waits for drain');
    assert.equal(client.offer('src', events(12, 5)), 2, 'queued while waiting, up to the bound');
    await tick();
    assert.equal(writer.chunks.length, 1, 'nothing written before drain');
    writer.drain();
    await tick();
    const lines = linesOf(writer.chunks);
    assert.deepEqual(
      lines.map((l) => (l.notice ? `dropped ${l.dropped}/${l.dropped_total}` : (l.event as { seq: number }).seq)),
      ['dropped 7/7', 2, 3, 4, 'dropped 2/9', 12, 13, 14],
    );
    assert.equal(client.droppedTotal, 9);
  });

  it('samples a fast stream: at most maxPerSecond events a second, the rest counted and announced', async () => {
    const writer = new FakeWriter();
    const client = new TapClient(writer, { outputsOf: ['*'], inputsOf: [], maxPerSecond: 5 });
    assert.equal(client.offer('src', events(0, 20)), 0, 'sampling is not dropping');
    await tick();
    const lines = writer.lines;
    assert.deepEqual(lines[0], { notice: 'sampled: at most 5 events a second are shown', sampled_out: 15, sampled_out_total: 15 });
    assert.deepEqual(lines.slice(1).map((l) => (l.event as { seq: number }).seq), [0, 1, 2, 3, 4]);
    assert.equal(client.sampledOutTotal, 15);
  });

  it('encodes an event when it is tapped, not when a later component has changed it', async () => {
    const writer = new FakeWriter();
    const client = new TapClient(writer, { outputsOf: ['src'], inputsOf: [] });
    const [event] = events(0, 1);
    client.offer('src', [event!]);
    event!.fields.message = 'changed downstream';
    await tick();
    assert.deepEqual(writer.lines, [{ component_id: 'src', event: { message: 'm0', seq: 0 } }]);
  });

  it('a tap client that never reads does not slow the pipeline: every event reaches the sink', async () => {
    const metrics = new MetricsRegistry();
    const hub = new TapHub(metrics);
    const writer = new FakeWriter();
    writer.full = true; // never drains
    const client = new TapClient(writer, { outputsOf: ['src'], inputsOf: ['sink'], maxQueued: 100, maxPerSecond: Infinity });
    hub.subscribe(client);
    const sink = collector('tap-never-reads');
    const running = await startTopology(
      {
        sources: { src: { type: 'test_counter', count: 5000, batch_size: 50 } },
        transforms: { pass: { type: 'filter', inputs: ['src'], condition: 'true' } },
        sinks: { sink: { type: 'test_collect', inputs: ['pass'], name: 'tap-never-reads' } },
      },
      { tap: hub },
    );
    await running.finished();
    assert.equal(sink.events.length, 5000);
    await tick();
    await tick();
    assert.equal(writer.chunks.length, 1, 'the client took one write and never drained');
    // Tapped twice (outputs of src, inputs of sink): 10000 offered, at most two queues' worth kept.
    assert.ok(client.droppedTotal >= 10_000 - 200, `dropped ${client.droppedTotal}`);
    assert.equal(hub.droppedTotal, client.droppedTotal);
    const text = await metrics.registry.metrics();
    assert.match(text, new RegExp(`sluice_tap_events_not_shown_total\\{reason="dropped"\\} ${client.droppedTotal}\n`));
    assert.match(text, /sluice_tap_events_not_shown_total\{reason="sampled_out"\} 0\n/);
    await running.stop();
  });

  it('shows outputs of matching components and inputs of matching ones, named outputs as id.output', async () => {
    const hub = new TapHub();
    const outputs = new FakeWriter();
    const inputs = new FakeWriter();
    const named = new FakeWriter();
    hub.subscribe(new TapClient(outputs, { outputsOf: ['s*'], inputsOf: [] }));
    hub.subscribe(new TapClient(inputs, { outputsOf: [], inputsOf: ['low'] }));
    hub.subscribe(new TapClient(named, { outputsOf: ['split.high'], inputsOf: [] }));
    collector('tap-low');
    collector('tap-high');
    const running = await startTopology(
      {
        sources: { src: { type: 'test_counter', count: 10, batch_size: 10 } },
        transforms: { split: { type: 'route', inputs: ['src'], route: { low: 'seq < 3', high: 'seq >= 3' } } },
        sinks: {
          low: { type: 'test_collect', inputs: ['split.low'], name: 'tap-low' },
          high: { type: 'test_collect', inputs: ['split.high'], name: 'tap-high' },
        },
      },
      { tap: hub },
    );
    await running.finished();
    await tick();
    const summary = (w: FakeWriter) => w.lines.map((l) => `${l.component_id}:${(l.event as { seq: number }).seq}`);
    const fromSrc = Array.from({ length: 10 }, (_, i) => `src:${i}`);
    assert.deepEqual(summary(outputs).filter((s) => s.startsWith('src:')), fromSrc);
    assert.ok(summary(outputs).includes('split.low:0') && summary(outputs).includes('split.high:9'), summary(outputs).join());
    assert.deepEqual(summary(inputs), ['split.low:0', 'split.low:1', 'split.low:2']);
    assert.deepEqual(summary(named), Array.from({ length: 7 }, (_, i) => `split.high:${i + 3}`));
    await running.stop();
  });
});
