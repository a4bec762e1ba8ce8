import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../core/config/load.js';
import { tempDir } from '../../../test/harness.js';
import { collector, startTopology, waitUntil } from '../../../test/harness.js';
import { FakeKafka } from '../../../test/fakes/kafka/broker.js';
import { encodeBatch } from '../../../test/fakes/kafka/codec.js';
import { kafkaSourceSchema } from './config.js';
import './index.js';

const put = (kafka: FakeKafka, topic: string, partition: number, values: string[], extra: { key?: string; headers?: Array<{ key: string; value: Buffer }> } = {}) =>
  kafka.appendBatch(topic, partition, encodeBatch(values.map((v) => ({ value: Buffer.from(v), key: extra.key ? Buffer.from(extra.key) : null, headers: extra.headers ?? [] }))));

describe('kafka source against the fake broker', () => {
  const brokers: FakeKafka[] = [];
  const cluster = async (topics: Record<string, number>, brokerCount = 1) => {
    const kafka = await new FakeKafka({ topics, brokers: brokerCount }).start();
    brokers.push(kafka);
    return kafka;
  };
  after(async () => {
    for (const kafka of brokers) await kafka.close();
  });
  const topology = (kafka: FakeKafka, id: string, extra: Record<string, unknown>) =>
    startTopology({
      sources: { [id]: { type: 'kafka', bootstrap_servers: kafka.bootstrap, group_id: `g-${id}`, auto_offset_reset: 'earliest', commit_interval_ms: 100, session_timeout_ms: 3000, ...extra } },
      sinks: { out: { type: 'test_collect', inputs: [id], name: id } },
    });

  it('fields from the record; offsets are committed only once the sink acknowledged the events', async () => {
    const kafka = await cluster({ in1: 2 });
    put(kafka, 'in1', 0, ['a0', 'a1', 'a2'], { key: 'k', headers: [{ key: 'h', value: Buffer.from('v') }] });
    put(kafka, 'in1', 1, ['b0', 'b1']);
    const c = collector('held');
    c.mode = 'hold';
    const running = await topology(kafka, 'held', { topics: ['in1'] });
    try {
      await c.waitFor(5, 15_000);
      const a0 = c.events.find((e) => e.fields.message === 'a0')!;
      assert.equal(a0.fields.topic, 'in1');
      assert.equal(a0.fields.partition, 0);
      assert.equal(a0.fields.offset, 0);
      assert.equal(a0.fields.message_key, 'k');
      assert.deepEqual(a0.fields.headers, { h: 'v' });
      assert.equal(a0.fields.source_type, 'kafka');
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(kafka.committed('g-held', 'in1', 0), undefined, 'nothing committed before the acks');
      // Acknowledge a1 and a2 but not a0: still nothing can be committed on partition 0.
      for (const e of c.events) if (e.fields.message === 'a1' || e.fields.message === 'a2' || e.fields.partition === 1) e.ack('delivered');
      await waitUntil(() => kafka.committed('g-held', 'in1', 1) === 2n, 10_000, 'partition 1 committed');
      assert.equal(kafka.committed('g-held', 'in1', 0), undefined, 'an unacknowledged record holds its partition back');
      a0.ack('delivered');
      await waitUntil(() => kafka.committed('g-held', 'in1', 0) === 3n, 10_000, 'partition 0 committed past a2');
    } finally {
      c.mode = 'ack';
      c.releaseAll();
      await running.stop();
    }
  });

  it('shutdown commits the acknowledged offsets (with no periodic commit due)', async () => {
    const kafka = await cluster({ bye: 1 });
    put(kafka, 'bye', 0, ['x0', 'x1', 'x2']);
    const running = await topology(kafka, 'bye', { topics: ['bye'], commit_interval_ms: 600_000 });
    await collector('bye').waitFor(3, 15_000);
    assert.equal(kafka.committed('g-bye', 'bye', 0), undefined);
    await running.stop();
    assert.equal(kafka.committed('g-bye', 'bye', 0), 3n, 'committed at shutdown');
    assert.equal(kafka.groups.get('g-bye')!.members.size, 0, 'the member left the group');
  });

  it('a restarted consumer group resumes from the committed offsets: records after them only', async () => {
    const kafka = await cluster({ resume: 1 });
    put(kafka, 'resume', 0, ['r0', 'r1', 'r2']);
    const first = await topology(kafka, 'resume1', { topics: ['resume'], group_id: 'g-resume' });
    try {
      await collector('resume1').waitFor(3, 15_000);
      await waitUntil(() => kafka.committed('g-resume', 'resume', 0) === 3n, 10_000, 'committed');
    } finally {
      await first.stop();
    }
    put(kafka, 'resume', 0, ['r3', 'r4']);
    const second = await topology(kafka, 'resume2', { topics: ['resume'], group_id: 'g-resume' });
    try {
      await collector('resume2').waitFor(2, 15_000);
      await waitUntil(() => kafka.committed('g-resume', 'resume', 0) === 5n, 10_000, 'committed');
      assert.deepEqual(collector('resume2').messages, ['r3', 'r4']);
    } finally {
      await second.stop();
    }
  });

  it('auto_offset_reset = largest (the default) skips what was there; json codec makes fields, keeps a non-object as the message', async () => {
    const kafka = await cluster({ late: 1 });
    put(kafka, 'late', 0, ['old']);
    const running = await topology(kafka, 'late', { topics: ['late'], auto_offset_reset: 'largest', decoding: { codec: 'json' } });
    try {
      await waitUntil(() => (kafka.groups.get('g-late')?.generation ?? 0) > 0, 15_000, 'joined');
      await new Promise((resolve) => setTimeout(resolve, 500));
      put(kafka, 'late', 0, ['{"message":"new","level":"info"}', '[1]']);
      await collector('late').waitFor(2, 15_000);
      const [first, second] = collector('late').events;
      assert.equal(first!.fields.message, 'new');
      assert.equal(first!.fields.level, 'info');
      assert.equal(second!.fields.message, '[1]');
      assert.ok(!collector('late').messages.includes('old'));
    } finally {
      await running.stop();
    }
  });

  it('a broker restart mid-stream: every record arrives (at least once), the offsets catch up', async () => {
    const kafka = await cluster({ rs: 1 });
    for (let i = 0; i < 10; i++) put(kafka, 'rs', 0, Array.from({ length: 20 }, (_, j) => `m${i * 20 + j}`));
    const c = collector('rs');
    const running = await topology(kafka, 'rs', { topics: ['rs'] });
    try {
      await c.waitFor(200, 15_000);
      await kafka.restart(300);
      for (let i = 10; i < 20; i++) put(kafka, 'rs', 0, Array.from({ length: 20 }, (_, j) => `m${i * 20 + j}`));
      await waitUntil(() => new Set(c.messages).size === 400, 40_000, 'all 400 records');
      await waitUntil(() => kafka.committed('g-rs', 'rs', 0) === 400n, 20_000, 'offsets committed to the end');
      // A commit held up by the restart must not land after a later one and move the offset back.
      const commits = kafka.commitLog.get('g-rs rs:0') ?? [];
      assert.deepEqual(commits, [...commits].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), `commits in order: ${commits.join(' ')}`);
      assert.deepEqual([...new Set(c.messages as string[])].sort(), Array.from({ length: 400 }, (_, i) => `m${i}`).sort());
    } finally {
      await running.stop();
    }
  });

  it('a partition leader moving to another broker mid-stream: fetching follows it, every record arrives', async () => {
    const kafka = await cluster({ mv: 1 }, 2);
    put(kafka, 'mv', 0, Array.from({ length: 50 }, (_, i) => `v${i}`));
    const c = collector('mv');
    const running = await topology(kafka, 'mv', { topics: ['mv'] });
    try {
      await c.waitFor(50, 15_000);
      kafka.moveLeader('mv', 0, 2);
      put(kafka, 'mv', 0, Array.from({ length: 50 }, (_, i) => `v${50 + i}`));
      await waitUntil(() => new Set(c.messages).size === 100, 30_000, 'all 100 records');
      await waitUntil(() => kafka.committed('g-mv', 'mv', 0) === 100n, 20_000, 'committed to the end');
      assert.ok((kafka.errorsAnswered.get('NOT_LEADER_OR_FOLLOWER') ?? 0) + (kafka.errorsAnswered.get('FENCED_LEADER_EPOCH') ?? 0) > 0, 'the old leader refused');
    } finally {
      await running.stop();
    }
  });

  it('the Kubernetes examples of both READMEs are valid configs', () => {
    const readme = (component: string) => readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'src', component, 'kafka', 'README.md'), 'utf8');
    const aggregator = readme('sources').split('sluice.yaml: |\n')[1]!.split('---')[0]!.split('\n').map((l) => l.slice(4)).join('\n');
    const agent = 'sources: {kubernetes_logs: {type: kubernetes_logs}}\n' + readme('sinks').split('# sluice-custom / sluice.yaml\n')[1]!.split('```')[0]!;
    const dir = tempDir();
    try {
      for (const [name, text] of [['aggregator', aggregator], ['agent', agent]] as const) {
        const file = join(dir.path, `${name}.yaml`);
        writeFileSync(file, text);
        const config = loadConfig({ files: [file] }, { KAFKA_PASSWORD: 'x' }, { environment: false });
        assert.ok(config.components.some((c) => c.type === 'kafka'), name);
      }
    } finally {
      dir.cleanup();
    }
  });

  it('config: topics are required and must be Kafka names', () => {
    assert.throws(() => kafkaSourceSchema.parse({ bootstrap_servers: 'h:9092', group_id: 'g', topics: [] }));
    assert.throws(() => kafkaSourceSchema.parse({ bootstrap_servers: 'h:9092', group_id: 'g', topics: ['a b'] }), /Kafka topic name/);
    assert.equal(kafkaSourceSchema.parse({ bootstrap_servers: 'h:9092', group_id: 'g', topics: ['a'] }).auto_offset_reset, 'largest');
  });
});
