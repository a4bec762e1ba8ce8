import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { after, describe, it } from 'node:test';
import '../../components.js';
import type { Transform } from '../../core/component.js';
import { LogEvent, type Fields } from '../../core/event.js';
import { Finalizer } from '../../core/finalizer.js';
import { metricValue, readNdjson, startHttpFedAgent } from '../../../test/agent-process.js';
import { tempDir } from '../../../test/harness.js';
import { transformContext } from '../../../test/transform-run.js';
import { createReduce, reduceSchema } from './index.js';
import { strategyMerger, type MergeStrategy } from './mergers.js';

/** A reduce with a hand-driven clock; `push` sends one batch, `tick` runs the periodic flush. */
function harness(options: Record<string, unknown>) {
  const clock = { now: 1_000_000 };
  const ctx = transformContext('r', 'reduce');
  const transform: Transform = createReduce(reduceSchema.parse(options), ctx, () => clock.now);
  const emitted: LogEvent[] = [];
  const outcomes: string[] = [];
  const emit = (output: string | undefined, events: LogEvent[]) => {
    assert.equal(output, undefined);
    emitted.push(...events);
  };
  return {
    clock,
    ctx,
    emitted,
    outcomes,
    fields: () => emitted.map((e) => e.fields),
    push(...inputs: Fields[]) {
      const events = inputs.map((fields) => {
        const index = outcomes.push('pending') - 1;
        return new LogEvent(fields, new Finalizer(1, ({ rejected }) => (outcomes[index] = rejected > 0 ? 'rejected' : 'delivered')));
      });
      transform.process(events, emit);
    },
    tick: () => transform.flush!(emit, false),
    end: () => transform.flush!(emit, true),
  };
}

function merged(strategy: MergeStrategy, values: unknown[]): unknown {
  const merger = strategyMerger(values[0], strategy);
  if (typeof merger === 'string') return { error: merger };
  const errors = values.slice(1).map((v) => merger.add(v)).filter((e) => e !== undefined);
  let result: unknown;
  merger.result((suffix, value) => {
    if (suffix === '') result = value;
  });
  return errors.length > 0 ? { result, errors } : result;
}

describe('reduce transform', () => {
  it('groups by request_id until ends_when: numbers summed, first string kept, timestamp + timestamp_end, strategies applied', () => {
    const r = harness({ group_by: ['request_id'], ends_when: 'has(event.test_end)', merge_strategies: { message: 'concat_newline', 'meta.hosts': 'flat_unique' } });
    r.push(
      { request_id: '1', message: 'a', count: 1, timestamp: '2026-01-01T00:00:00Z', meta: { hosts: ['x'], region: 'eu' } },
      { request_id: '2', message: 'other', count: 10 },
      { request_id: '1', message: 'b', count: 2, timestamp: '2026-01-01T00:00:01Z', meta: { hosts: ['x', 'y'], region: 'us', extra: true } },
      { request_id: '1', message: 'c', count: 3, timestamp: '2026-01-01T00:00:02Z', test_end: 'yes' },
    );
    assert.deepEqual(r.fields(), [
      {
        request_id: '1',
        message: 'a\nb\nc',
        count: 6,
        timestamp: '2026-01-01T00:00:00Z',
        timestamp_end: '2026-01-01T00:00:02Z',
        meta: { hosts: ['x', 'y'], region: 'eu', extra: true },
        test_end: 'yes',
      },
    ]);
    assert.deepEqual(r.outcomes, ['pending', 'pending', 'pending', 'pending'], 'parts wait for the reduced event');
    r.end();
    assert.deepEqual(r.fields()[1], { request_id: '2', message: 'other', count: 10 });
  });

  it('the reduced event acknowledges every part with its outcome (delivered or rejected), once', () => {
    const r = harness({ starts_when: 'message.matches("^\\\\S")', merge_strategies: { message: 'concat_newline' } });
    r.push({ message: 'Exception in thread "main" java.lang.IllegalStateException: boom' }, { message: '    at a.b(C.java:1)' });
    r.push({ message: '    at d.e(F.java:2)' }, { message: 'next line' }, { message: 'last line' });
    assert.equal(r.emitted.length, 2);
    assert.equal(r.emitted[0]!.fields.message, 'Exception in thread "main" java.lang.IllegalStateException: boom\n    at a.b(C.java:1)\n    at d.e(F.java:2)');
    assert.deepEqual(r.outcomes, ['pending', 'pending', 'pending', 'pending', 'pending']);
    // Fan-out to two sinks: the copy shares the finalizer, retained once more.
    const first = r.emitted[0]!;
    const copy = first.cloneForFanout();
    first.finalizer!.retain();
    first.ack();
    assert.deepEqual(r.outcomes.slice(0, 3), ['pending', 'pending', 'pending'], 'one sink of two done');
    copy.ack();
    assert.deepEqual(r.outcomes.slice(0, 3), ['delivered', 'delivered', 'delivered']);
    const r2 = harness({ starts_when: 'message.matches("^\\\\S")' });
    r2.push({ message: 'A' }, { message: ' a' });
    r2.push({ message: 'B' });
    r2.emitted[0]!.ack('rejected');
    assert.deepEqual(r2.outcomes, ['rejected', 'rejected', 'pending'], 'a rejection rejects every part');
    r.emitted[1]!.ack();
    assert.equal(r.outcomes[3], 'delivered');
    r.end();
    r.emitted[2]!.ack();
    assert.deepEqual(r.outcomes, ['delivered', 'delivered', 'delivered', 'delivered', 'delivered']);
  });

  it('expire_after_ms: a group quiet that long leaves on the periodic flush; a busy one stays; end_every_period_ms bounds a busy one', () => {
    const r = harness({ group_by: ['k'], expire_after_ms: 5000 });
    r.push({ k: 'quiet', n: 1 }, { k: 'busy', n: 1 });
    r.clock.now += 4000;
    r.push({ k: 'busy', n: 1 });
    r.tick();
    assert.equal(r.emitted.length, 0);
    r.clock.now += 1000;
    r.tick();
    assert.deepEqual(r.fields(), [{ k: 'quiet', n: 1 }]);
    r.clock.now += 4000;
    r.tick();
    assert.deepEqual(r.fields(), [{ k: 'quiet', n: 1 }, { k: 'busy', n: 2 }]);

    const p = harness({ end_every_period_ms: 3000, expire_after_ms: 60_000 });
    for (let i = 0; i < 4; i++) {
      p.push({ n: 1 });
      p.clock.now += 1000;
      p.tick();
    }
    assert.deepEqual(p.fields(), [{ n: 3 }], 'emitted once 3 s old although never quiet');
  });

  it('max_events and max_bytes end a group; a single event over max_bytes is a group of one', () => {
    const r = harness({ max_events: 3 });
    r.push({ n: 1 }, { n: 1 }, { n: 1 }, { n: 1 });
    assert.deepEqual(r.fields(), [{ n: 3 }]);
    const b = harness({ max_bytes: 250, merge_strategies: { message: 'concat_raw' } });
    b.push({ message: 'x'.repeat(60) }, { message: 'y'.repeat(60) }, { message: 'z'.repeat(100) }, { message: 'w'.repeat(500) }, { message: 'v' });
    assert.deepEqual(
      b.fields().map((f) => f.message),
      ['x'.repeat(60) + 'y'.repeat(60), 'z'.repeat(100), 'w'.repeat(500)],
    );
    b.end();
    assert.equal(b.fields()[3]!.message, 'v');
  });

  it('bounded memory: max_groups and max_total_bytes emit the stalest groups early, counted', async () => {
    const r = harness({ group_by: ['k'], max_groups: 2 });
    r.push({ k: 'a', n: 1 }, { k: 'b', n: 1 }, { k: 'a', n: 1 }, { k: 'c', n: 1 });
    assert.deepEqual(r.fields(), [{ k: 'b', n: 1 }], 'b waited longest (a took an event after it)');
    assert.equal(r.ctx.metrics.errorCount, 1);
    const t = harness({ group_by: ['k'], max_total_bytes: 2048 });
    for (let i = 0; i < 10; i++) t.push({ k: `g${i}`, message: 'm'.repeat(500) });
    assert.ok(t.emitted.length >= 6, `most groups emitted early (${t.emitted.length})`);
    assert.deepEqual(t.fields()[0], { k: 'g0', message: 'm'.repeat(500) });
    const text = await t.ctx.metrics.root.registry.metrics();
    assert.match(text, /sluice_reduce_flushed_events_total\{[^}]*reason="max_total_bytes"[^}]*\} [1-9]/);
  });

  it('shared (frozen) metadata keeps the first object unless a strategy names a field inside it', () => {
    const meta = Object.freeze({ pod_name: 'p', restarts: 2 });
    const r = harness({ merge_strategies: { 'kubernetes.restarts': 'max' } });
    r.push({ kubernetes: meta, message: 'a' }, { kubernetes: Object.freeze({ pod_name: 'q', restarts: 5 }), message: 'b' });
    r.end();
    assert.deepEqual(r.fields(), [{ kubernetes: { pod_name: 'p', restarts: 5 }, message: 'a' }]);
    const plain = harness({});
    plain.push({ kubernetes: meta }, { kubernetes: meta });
    plain.end();
    assert.equal(plain.fields()[0]!.kubernetes, meta, 'the shared object itself, not summed field by field');
  });

  it('every merge strategy, as Vector defines it', () => {
    assert.deepEqual(merged('discard', ['foo', 'bar']), 'foo');
    assert.deepEqual(merged('retain', ['foo', 'bar', null]), 'bar');
    assert.deepEqual(merged('array', ['foo', 'bar']), ['foo', 'bar']);
    assert.deepEqual(merged('concat', ['foo', 'bar']), 'foo bar');
    assert.deepEqual(merged('concat', [[4], [2], 7]), [4, 2, 7]);
    assert.deepEqual(merged('concat_newline', ['foo', 'bar']), 'foo\nbar');
    assert.deepEqual(merged('concat_raw', ['foo', 'bar']), 'foobar');
    assert.deepEqual(merged('sum', [21, 21]), 42);
    assert.deepEqual(merged('sum', [2.5, 2]), 4.5);
    assert.deepEqual(merged('max', [41, 42, 40]), 42);
    assert.deepEqual(merged('min', [43, 42, 44]), 42);
    assert.deepEqual(merged('shortest_array', [[34], [42, 43]]), [34]);
    assert.deepEqual(merged('longest_array', [[34], [42, 43]]), [42, 43]);
    assert.deepEqual(merged('flat_unique', [34, 43, 34, [43, 50], { a: 50, b: 'x' }]), [34, 43, 50, 'x']);
    // Values that do not fit: refused at the first value, or left out of the merge with an error.
    assert.deepEqual(merged('sum', ['foo']), { error: 'sum expects a number, found string' });
    assert.deepEqual(merged('concat', [42]), { error: 'concat expects a string or an array, found number' });
    assert.deepEqual(merged('concat_newline', [[1]]), { error: 'concat_newline expects a string, found array' });
    assert.deepEqual(merged('longest_array', ['x']), { error: 'longest_array expects an array, found string' });
    assert.deepEqual(merged('concat', ['foo', 42]), { result: 'foo', errors: ['expected a string, found number'] });
    assert.deepEqual(merged('max', [1, 'x']), { result: 1, errors: ['expected a number, found string'] });
  });

  it('a value that does not fit its strategy is counted and left out; the group goes on', () => {
    const r = harness({ merge_strategies: { status: 'sum' } });
    r.push({ status: 'bad' }, { status: 200 }, { status: 'also bad' }, { status: 100 });
    r.end();
    assert.deepEqual(r.fields(), [{ status: 300 }]);
    assert.equal(r.ctx.metrics.errorCount, 2, 'the first (a string) could not start a sum; the third could not join it');
  });

  it('the README example joins indented lines to the line before, per pod container and stream', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Multiline stack traces'));
    const blocks = [...section.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const example = blocks.find((b) => b.includes('type = "reduce"'))!;
    const { transforms } = parseToml(example) as { transforms: { traces: Record<string, unknown> } };
    const { type: _type, inputs: _inputs, ...options } = transforms.traces;
    const r = harness(options);
    const k = { pod_uid: 'u', container_name: 'app' };
    r.push(
      { message: 'java.lang.RuntimeException: x', stream: 'stdout', kubernetes: k },
      { message: 'other stream', stream: 'stderr', kubernetes: k },
      { message: '\tat A.a(A.java:1)', stream: 'stdout', kubernetes: k },
      { message: 'next', stream: 'stdout', kubernetes: k },
    );
    r.end();
    assert.deepEqual(r.fields().map((f) => f.message), ['java.lang.RuntimeException: x\n\tat A.a(A.java:1)', 'other stream', 'next']);
  });

  it('config: starts_when and ends_when together is an error; a bad condition or strategy names the key', () => {
    assert.throws(() => reduceSchema.parse({ starts_when: 'a', ends_when: 'b' }), /only one of starts_when and ends_when/);
    assert.throws(() => reduceSchema.parse({ ends_when: 'a ==' }), /invalid CEL condition/);
    assert.throws(() => reduceSchema.parse({ merge_strategies: { message: 'join' } }), /merge_strategies/);
  });
});

describe('reduce in the sluice process', () => {
  const dir = tempDir('reduce-e2e-');
  after(() => dir.cleanup());

  it('http_server -> reduce -> file: a stack trace becomes one event, and the source answers 200 only once every part is acknowledged', async () => {
    const out = join(dir.path, 'out.ndjson');
    const agent = await startHttpFedAgent(
      dir.path,
      'reduce',
      `[transforms.join]\ntype = "reduce"\ninputs = ["in"]\ngroup_by = ["pod"]\nstarts_when = 'message.matches("^[^\\\\s]")'\nexpire_after_ms = 300\nflush_period_ms = 50\nmerge_strategies.message = "concat_newline"\n` +
        `[sinks.out]\ntype = "file"\ninputs = ["join"]\npath = "${out}"\nencoding.codec = "json"\n`,
    );
    try {
      const lines = [
        { pod: 'a', message: 'java.lang.RuntimeException: boom' },
        { pod: 'b', message: 'hello from b' },
        { pod: 'a', message: '\tat com.example.Main.run(Main.java:10)' },
        { pod: 'a', message: '\tat com.example.Main.main(Main.java:3)' },
        { pod: 'a', message: 'after the trace' },
      ];
      // The last groups are emitted by expire_after_ms: the 200 waits for them.
      assert.equal(await agent.post(lines), 200, agent.stderr());
      const shipped = readNdjson(out).map((l) => `${l.pod}:${l.message}`).sort();
      assert.deepEqual(shipped, [
        'a:after the trace',
        'a:java.lang.RuntimeException: boom\n\tat com.example.Main.run(Main.java:10)\n\tat com.example.Main.main(Main.java:3)',
        'b:hello from b',
      ]);
      const metrics = await agent.metrics();
      assert.equal(metricValue(metrics, 'sluice_reduce_flushed_events_total', { component_id: 'join', reason: 'starts_when' }), 3);
      assert.equal(metricValue(metrics, 'sluice_reduce_flushed_events_total', { component_id: 'join', reason: 'expired' }), 2);
    } finally {
      assert.equal(await agent.stop(), 0, agent.stderr());
    }
  });
});
