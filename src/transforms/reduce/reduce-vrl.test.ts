// reduce with VRL conditions, as Vector configures multiline Java stack traces.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { after, describe, it } from 'node:test';
import '../../components.js';
import { LogEvent, type Fields } from '../../core/event.js';
import { Finalizer } from '../../core/finalizer.js';
import { metricValue, readNdjson, startHttpFedAgent } from '../../../test/agent-process.js';
import { tempDir } from '../../../test/harness.js';
import { transformContext } from '../../../test/transform-run.js';
import { createReduce, reduceSchema } from './index.js';

// A new group starts at a line that does not begin with whitespace, "at ", "..." or "Caused by:".
const STARTS_WHEN = String.raw`!match(.message, r'^(\s|at |\.\.\.|Caused by:)')`;

describe('reduce with a VRL starts_when', () => {
  it('joins a Java stack trace per pod; every part is acknowledged with the merged event', () => {
    const ctx = transformContext('traces', 'reduce');
    const config = reduceSchema.parse({ group_by: ['pod'], starts_when: { type: 'vrl', source: STARTS_WHEN }, merge_strategies: { message: 'concat_newline' } });
    const transform = createReduce(config, ctx, () => 1_000);
    const outcomes: string[] = [];
    const out: Fields[] = [];
    const emitted: LogEvent[] = [];
    const push = (...inputs: Fields[]) =>
      transform.process(
        inputs.map((fields) => {
          const i = outcomes.push('pending') - 1;
          return new LogEvent(fields, new Finalizer(1, ({ rejected }) => (outcomes[i] = rejected > 0 ? 'rejected' : 'delivered')));
        }),
        (_output, events) => emitted.push(...events),
      );
    push(
      { pod: 'a', message: 'Exception in thread "main" java.lang.IllegalStateException: boom' },
      { pod: 'b', message: 'GET /healthz 200' },
      { pod: 'a', message: '\tat com.example.Service.handle(Service.java:42)' },
      { pod: 'a', message: 'Caused by: java.io.IOException: closed' },
      { pod: 'a', message: '\tat com.example.Io.read(Io.java:7)' },
      { pod: 'a', message: '\t... 3 more' },
      { pod: 'a', message: 'INFO recovered' },
    );
    transform.flush!((_o, events) => emitted.push(...events), true);
    out.push(...emitted.map((e) => e.fields));
    assert.deepEqual(
      out.map((f) => `${f.pod}:${f.message}`),
      [
        'a:Exception in thread "main" java.lang.IllegalStateException: boom\n\tat com.example.Service.handle(Service.java:42)\nCaused by: java.io.IOException: closed\n\tat com.example.Io.read(Io.java:7)\n\t... 3 more',
        'b:GET /healthz 200',
        'a:INFO recovered',
      ],
    );
    // Nothing is acknowledged before the merged event is.
    assert.deepEqual(outcomes, Array(7).fill('pending'));
    emitted[0]!.ack('rejected');
    emitted[1]!.ack('delivered');
    emitted[2]!.ack('delivered');
    assert.deepEqual(outcomes, ['rejected', 'delivered', 'rejected', 'rejected', 'rejected', 'rejected', 'delivered']);
    assert.equal(ctx.metrics.errorCount, 0);
  });

  it('a run-time error in the condition counts as false and is counted', () => {
    const ctx = transformContext('traces', 'reduce');
    const config = reduceSchema.parse({ ends_when: { type: 'vrl', source: 'ends_with(.message, ";")' } });
    const transform = createReduce(config, ctx, () => 1_000);
    const emitted: Fields[] = [];
    const emit = (_o: string | undefined, events: LogEvent[]) => emitted.push(...events.map((e) => e.fields));
    transform.process([new LogEvent({ message: 'a' }), new LogEvent({ message: 7 }), new LogEvent({ message: 'b;' })], emit);
    // `.message` is typed a string (every source sets one): 7 fails the read, the condition is false.
    assert.deepEqual(emitted, [{ message: 'a' }]); // no strategy: the first string stays
    assert.equal(ctx.metrics.errorCount, 1);
  });

  it('a condition that is not a boolean, or writes the event, fails validation under its key', () => {
    assert.throws(() => reduceSchema.parse({ starts_when: { type: 'vrl', source: '.message' } }), (e: Error) => /starts_when/.test(JSON.stringify((e as { issues?: unknown }).issues)) && /unexpected return value/.test(e.message));
    assert.throws(() => reduceSchema.parse({ ends_when: { type: 'vrl', source: '.done = true\ntrue' } }), /mutation of read-only value/);
  });
});

describe('reduce with a VRL condition in the sluice process', () => {
  const dir = tempDir('reduce-vrl-e2e-');
  after(() => dir.cleanup());

  it('http_server -> reduce (VRL starts_when) -> file: one event per trace, 200 only once every part is acknowledged', async () => {
    const out = join(dir.path, 'out.ndjson');
    const toml = `[transforms.join]\ntype = "reduce"\ninputs = ["in"]\ngroup_by = ["pod"]\nexpire_after_ms = 300\nflush_period_ms = 50\nmerge_strategies.message = "concat_newline"\n` +
      `starts_when = { type = "vrl", source = '''${STARTS_WHEN}''' }\n` +
      `[sinks.out]\ntype = "file"\ninputs = ["join"]\npath = "${out}"\nencoding.codec = "json"\n`;
    const agent = await startHttpFedAgent(dir.path, 'reduce-vrl', toml);
    try {
      const lines = [
        { pod: 'a', message: 'java.lang.NullPointerException: name' },
        { pod: 'a', message: '    at com.example.User.greet(User.java:12)' },
        { pod: 'b', message: 'ready' },
        { pod: 'a', message: '    at com.example.Main.main(Main.java:5)' },
        { pod: 'a', message: 'next request' },
      ];
      assert.equal(await agent.post(lines), 200, agent.stderr());
      assert.deepEqual(readNdjson(out).map((l) => `${l.pod}:${l.message}`).sort(), [
        'a:java.lang.NullPointerException: name\n    at com.example.User.greet(User.java:12)\n    at com.example.Main.main(Main.java:5)',
        'a:next request',
        'b:ready',
      ]);
      const metrics = await agent.metrics();
      assert.equal(metricValue(metrics, 'sluice_reduce_flushed_events_total', { component_id: 'join', reason: 'starts_when' }), 3);
    } finally {
      assert.equal(await agent.stop(), 0, agent.stderr());
    }
  });
});

describe('docs/migrating-from-vector.md', () => {
  it('its VRL reduce example parses, validates and joins a trace', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'docs', 'migrating-from-vector.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Conditions: VRL as a table'));
    const block = /```toml\n([\s\S]*?)```/.exec(section)![1]!;
    const { transforms } = parseToml(block) as { transforms: { traces: Record<string, unknown> } };
    const { type: _type, inputs: _inputs, ...options } = transforms.traces;
    const transform = createReduce(reduceSchema.parse(options), transformContext('traces', 'reduce'), () => 1);
    const out: Fields[] = [];
    const emit = (_o: string | undefined, events: LogEvent[]) => out.push(...events.map((e) => e.fields));
    const k = { pod_uid: 'u1', container_name: 'app' };
    transform.process(['java.lang.Error: x', '\tat A.b(A.java:1)', '\t... 2 more', 'done'].map((message) => new LogEvent({ message, kubernetes: k })), emit);
    transform.flush!(emit, true);
    assert.deepEqual(out.map((f) => f.message), ['java.lang.Error: x\n\tat A.b(A.java:1)\n\t... 2 more', 'done']);
  });
});
