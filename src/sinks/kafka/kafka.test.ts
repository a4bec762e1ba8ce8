import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Consumer } from '@platformatic/kafka';
import { MetricsRegistry } from '../../core/metrics.js';
import { silentLogger, sourceOutcomes, startTopology, waitUntil } from '../../../test/harness.js';
import { FakeKafka } from '../../../test/fakes/kafka/broker.js';
import { createTestPki } from '../../../test/fakes/tls.js';
import { kafkaSinkSchema, ZSTD_AVAILABLE } from './schema.js';
import { KafkaSink } from './sink.js';
import './index.js';

const fast = { retry_initial_backoff_secs: 0.05, retry_max_duration_secs: 0.3, timeout_secs: 2 };
const seqsOf = (kafka: FakeKafka, topic: string) => kafka.records(topic).map((r) => (JSON.parse(r.value!.toString()) as { seq: number }).seq);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe('kafka sink against the fake broker', () => {
  const brokers: FakeKafka[] = [];
  const cluster = async (options: ConstructorParameters<typeof FakeKafka>[0]) => {
    const kafka = await new FakeKafka(options).start();
    brokers.push(kafka);
    return kafka;
  };
  after(async () => {
    for (const kafka of brokers) await kafka.close();
  });

  it('writes every event once to its rendered topic, key and headers from fields, acks=all, idempotent; acks the source after', async () => {
    const kafka = await cluster({ topics: { 'logs-app': 3 } });
    const running = await startTopology({
      sources: { gen: { type: 'test_counter', count: 300, batch_size: 30, extra: { kind: 'app', user: 'u1', hdrs: { team: 'core', n: 7 } } } },
      sinks: {
        out: { type: 'kafka', inputs: ['gen'], bootstrap_servers: kafka.bootstrap, topic: 'logs-{{ kind }}', key_field: 'user', headers_key: 'hdrs', batch: { max_events: 50, timeout_secs: 0.05 }, request: fast },
      },
    });
    try {
      await waitUntil(() => sourceOutcomes.get('gen')!.length === 10, 15_000, 'acks of the 10 source batches');
      assert.deepEqual(sourceOutcomes.get('gen'), Array.from({ length: 10 }, () => ({ rejected: 0 })));
      assert.deepEqual(sorted(seqsOf(kafka, 'logs-app')), range(300), 'each event once');
      const records = kafka.records('logs-app');
      assert.ok(records.every((r) => r.key?.toString() === 'u1'), 'key from key_field');
      assert.equal(new Set(records.map((r) => r.partition)).size, 1, 'one key, one partition');
      assert.deepEqual(records[0]!.headers.map((h) => [h.key, h.value!.toString()]), [['team', 'core'], ['n', '7']]);
      assert.ok(kafka.produceLog.length > 0 && kafka.produceLog.every((p) => p.acks === -1), 'acks=all on every produce');
      assert.ok(kafka.produceLog.every((p) => p.producerId >= 0n), 'idempotent producer id on every batch');
      assert.equal(kafka.requests.get('InitProducerId'), 1);
    } finally {
      await running.stop();
    }
  });

  it('gzip, snappy and lz4 batches are marked with their codec; gzip ones decode to the events', async () => {
    const kafka = await cluster({ topics: { gz: 1, sn: 1, lz: 1 } });
    for (const [codec, topic] of [['gzip', 'gz'], ['snappy', 'sn'], ['lz4', 'lz']] as const) {
      const id = `gen_${topic}`;
      const running = await startTopology({
        sources: { [id]: { type: 'test_counter', count: 40, batch_size: 20 } },
        sinks: { out: { type: 'kafka', inputs: [id], bootstrap_servers: kafka.bootstrap, topic, compression: codec, request: fast } },
      });
      try {
        await waitUntil(() => sourceOutcomes.get(id)!.length === 2, 10_000, `${codec} acks`);
      } finally {
        await running.stop();
      }
      assert.ok(kafka.codecs(topic).length > 0 && kafka.codecs(topic).every((c) => c === codec), `${topic}: ${kafka.codecs(topic).join()}`);
    }
    assert.deepEqual(sorted(seqsOf(kafka, 'gz')), range(40));
    // snappy and lz4 are read back by a consumer (the client decodes them).
    const consumer = new Consumer({ clientId: 'check', groupId: 'check', bootstrapBrokers: [kafka.bootstrap] });
    const stream = await consumer.consume({ topics: ['sn', 'lz'], mode: 'earliest', autocommit: false });
    const got: string[] = [];
    for await (const message of stream) {
      got.push(`${message.topic}:${(JSON.parse(message.value.toString()) as { seq: number }).seq}`);
      if (got.length === 80) break;
    }
    await stream.close();
    await consumer.close();
    assert.equal(new Set(got).size, 80);
  });

  it('a leader change mid-stream (NOT_LEADER_OR_FOLLOWER from the old leader) loses and repeats nothing', async () => {
    const kafka = await cluster({ brokers: 2, topics: { moving: 1 } });
    const running = await startTopology({
      sources: { gen_move: { type: 'test_counter', count: 2000, batch_size: 20 } },
      sinks: { out: { type: 'kafka', inputs: ['gen_move'], bootstrap_servers: kafka.bootstrap, topic: 'moving', batch: { max_events: 20, timeout_secs: 0.01 }, request: fast } },
    });
    try {
      await waitUntil(() => kafka.records('moving').length >= 200, 15_000, 'first records');
      const before = kafka.produceLog.at(-1)!.node;
      kafka.moveLeader('moving', 0, before === 1 ? 2 : 1);
      await waitUntil(() => sourceOutcomes.get('gen_move')!.length === 100, 30_000, 'all 100 source batches acknowledged');
      assert.ok(sourceOutcomes.get('gen_move')!.every((o) => o.rejected === 0));
      assert.ok((kafka.errorsAnswered.get('NOT_LEADER_OR_FOLLOWER') ?? 0) > 0 || kafka.produceLog.some((p) => p.node !== before), 'the move was seen');
      assert.ok(kafka.produceLog.some((p) => p.node !== before), 'produced to the new leader');
      assert.deepEqual(sorted(seqsOf(kafka, 'moving')), range(2000), 'each event exactly once');
    } finally {
      await running.stop();
    }
  });

  it('a lost Produce answer (request applied, no response): the resend is stored once (idempotence)', async () => {
    const kafka = await cluster({ topics: { lost: 1 } });
    // The answers of the 3rd and 4th Produce requests are lost (armed before any is sent).
    kafka.loseResponses('Produce', 2, 3);
    const running = await startTopology({
      sources: { gen_lost: { type: 'test_counter', count: 200, batch_size: 20 } },
      sinks: { out: { type: 'kafka', inputs: ['gen_lost'], bootstrap_servers: kafka.bootstrap, topic: 'lost', batch: { max_events: 20, timeout_secs: 0.01 }, request: { ...fast, timeout_secs: 1 } } },
    });
    try {
      await waitUntil(() => sourceOutcomes.get('gen_lost')!.length === 10, 30_000, 'all source batches acknowledged');
      assert.ok(sourceOutcomes.get('gen_lost')!.every((o) => o.rejected === 0));
      const layout = kafka.topics.get('lost')![0]!.batches.map((b) => `${b.header.producerId}/${b.header.baseSequence}+${b.header.lastOffsetDelta}`).join(' ');
      assert.deepEqual(sorted(seqsOf(kafka, 'lost')), range(200), `each event exactly once despite the resends; batches ${layout}; seqs ${sorted(seqsOf(kafka, "lost")).join(",")}`);
      assert.equal(kafka.topics.get('lost')![0]!.batches.length + 2, kafka.produceLog.length, 'two batches were sent twice, stored once');
    } finally {
      await running.stop();
    }
  });

  it('answers held past the request time-out: the client times out, resends, and each event is stored once', async () => {
    const kafka = await cluster({ topics: { slow: 1 } });
    // From the 3rd Produce request on, every answer is held 1.5 s (3x the request time-out).
    kafka.holdResponses(1500, { api: 'Produce', nth: 3 });
    const running = await startTopology({
      sources: { gen_slow: { type: 'test_counter', count: 200, batch_size: 20 } },
      sinks: { out: { type: 'kafka', inputs: ['gen_slow'], bootstrap_servers: kafka.bootstrap, topic: 'slow', batch: { max_events: 20, timeout_secs: 0.01 }, request: { ...fast, timeout_secs: 0.5 } } },
    });
    try {
      await waitUntil(() => sourceOutcomes.get('gen_slow')!.length === 10, 30_000, 'all source batches acknowledged');
      assert.ok(sourceOutcomes.get('gen_slow')!.every((o) => o.rejected === 0));
      assert.deepEqual(sorted(seqsOf(kafka, 'slow')), range(200), 'each event exactly once');
      const stored = kafka.topics.get('slow')![0]!.batches.length;
      assert.ok(kafka.produceLog.length > stored, `resends happened (${kafka.produceLog.length} batches sent, ${stored} stored)`);
    } finally {
      await running.stop();
    }
  });

  it('a broker restart mid-stream: nothing acked while it is down, nothing lost after', async () => {
    const kafka = await cluster({ topics: { restart: 2 } });
    const running = await startTopology({
      sources: { gen_rs: { type: 'test_counter', count: 3000, batch_size: 20 } },
      sinks: { out: { type: 'kafka', inputs: ['gen_rs'], bootstrap_servers: kafka.bootstrap, topic: 'restart', batch: { max_events: 20, timeout_secs: 0.01 }, request: fast } },
    });
    try {
      await waitUntil(() => kafka.records('restart').length >= 300, 15_000, 'first records');
      await kafka.stop();
      const ackedAtStop = sourceOutcomes.get('gen_rs')!.length;
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(sourceOutcomes.get('gen_rs')!.length <= ackedAtStop + 1, 'nothing acknowledged while the broker is down');
      await kafka.start();
      await waitUntil(() => sourceOutcomes.get('gen_rs')!.length === 150, 40_000, 'all 150 source batches acknowledged');
      assert.ok(sourceOutcomes.get('gen_rs')!.every((o) => o.rejected === 0));
      const seqs = seqsOf(kafka, 'restart');
      assert.deepEqual([...new Set(seqs)].sort((a, b) => a - b), range(3000), 'nothing lost');
    } finally {
      await running.stop();
    }
  });

  it('SASL PLAIN and SCRAM-SHA-256 over TLS; a wrong password or an untrusted CA fails the healthcheck', async () => {
    const pki = createTestPki();
    try {
      const kafka = await cluster({ topics: { secure: 1 }, sasl: { user: 'sluice', password: 's3cret' }, tls: { cert: pki.serverCert, key: pki.serverKey } });
      const sink = (extra: Record<string, unknown>) =>
        new KafkaSink(kafkaSinkSchema.parse({ bootstrap_servers: kafka.bootstrap, topic: 'secure', request: { timeout_secs: 2 }, ...extra }), {
          id: 'sec',
          logger: silentLogger,
          metrics: new MetricsRegistry().forComponent('sink', 'sec', 'kafka'),
          dataDir: '',
        });
      for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
        await sink({ tls: { ca_file: pki.caFile }, sasl: { mechanism, username: 'sluice', password: 's3cret' } }).healthcheck();
      }
      await assert.rejects(sink({ tls: { ca_file: pki.caFile }, sasl: { mechanism: 'SCRAM-SHA-256', username: 'sluice', password: 'wrong' } }).healthcheck(), /cannot reach Kafka at 127\.0\.0\.1:\d+/);
      await assert.rejects(sink({ tls: { ca_file: pki.otherCaFile }, sasl: { username: 'sluice', password: 's3cret' } }).healthcheck(), /cannot reach Kafka/);
      const running = await startTopology({
        sources: { gen_sec: { type: 'test_counter', count: 30, batch_size: 10 } },
        sinks: { out: { type: 'kafka', inputs: ['gen_sec'], bootstrap_servers: kafka.bootstrap, topic: 'secure', request: fast, tls: { ca_file: pki.caFile }, sasl: { mechanism: 'SCRAM-SHA-512', username: 'sluice', password: 's3cret' } } },
      });
      try {
        await waitUntil(() => sourceOutcomes.get('gen_sec')!.length === 3, 10_000, 'acks');
        assert.deepEqual(sorted(seqsOf(kafka, 'secure')), range(30));
      } finally {
        await running.stop();
      }
    } finally {
      pki.cleanup();
    }
  });

  it('healthcheck names a missing topic and an unreachable broker', async () => {
    const kafka = await cluster({ topics: { here: 1 } });
    const make = (bootstrap: string, topic: string) =>
      new KafkaSink(kafkaSinkSchema.parse({ bootstrap_servers: bootstrap, topic, request: { timeout_secs: 1 }, librdkafka_options: { retries: '0' } }), {
        id: 'hc',
        logger: silentLogger,
        metrics: new MetricsRegistry().forComponent('sink', 'hc', 'kafka'),
        dataDir: '',
      });
    await make(kafka.bootstrap, 'here').healthcheck();
    await assert.rejects(make(kafka.bootstrap, 'nowhere').healthcheck(), /topic "nowhere" does not exist on Kafka at 127\.0\.0\.1:\d+/);
    await assert.rejects(make('127.0.0.1:1', 'here').healthcheck(), /cannot reach Kafka at 127\.0\.0\.1:1/);
  });

  it('config: bad servers, an unknown librdkafka option, acks other than all, zstd without zlib zstd', () => {
    assert.throws(() => kafkaSinkSchema.parse({ bootstrap_servers: 'kafka://h:9092', topic: 't' }), /host:port/);
    assert.throws(() => kafkaSinkSchema.parse({ bootstrap_servers: 'h:9092', topic: 't', librdkafka_options: { 'linger.ms': '5' } }), /linger\.ms\\?" has no equivalent/);
    assert.throws(() => kafkaSinkSchema.parse({ bootstrap_servers: 'h:9092', topic: 't', librdkafka_options: { acks: '1' } }), /only \\?"all/);
    if (!ZSTD_AVAILABLE) assert.throws(() => kafkaSinkSchema.parse({ bootstrap_servers: 'h:9092', topic: 't', compression: 'zstd' }), /zstd needs Node\.js >= 22\.15/);
    assert.equal(kafkaSinkSchema.parse({ bootstrap_servers: 'a:1, b:2', topic: 't' }).compression, 'none');
  });
});
