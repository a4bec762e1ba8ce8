import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { collector, sourceOutcomes, startTopology, waitUntil } from './harness.js';
import '../src/sinks/kafka/index.js';
import '../src/sources/kafka/index.js';

/**
 * Against a real Kafka cluster, opt-in: `SLUICE_TEST_KAFKA_BROKERS=host:9092[,host2:9092]` (the
 * cluster must allow creating topics). Optional SASL: SLUICE_TEST_KAFKA_SASL_MECHANISM
 * (PLAIN/SCRAM-SHA-256/SCRAM-SHA-512), SLUICE_TEST_KAFKA_USER, SLUICE_TEST_KAFKA_PASSWORD.
 * Without SLUICE_TEST_KAFKA_BROKERS it is skipped: no broker can run on the CI machines, where
 * the fake broker (test/fakes/kafka/) stands in. This is the one skip the suite allows. Its code was
 * run against the fake served as a process: `node dist/test/fakes/kafka/serve.js 19092`, then
 * `SLUICE_TEST_KAFKA_BROKERS=127.0.0.1:19092 npm test -- kafka-real`.
 */
const brokers = process.env.SLUICE_TEST_KAFKA_BROKERS;
const sasl = process.env.SLUICE_TEST_KAFKA_USER
  ? { mechanism: process.env.SLUICE_TEST_KAFKA_SASL_MECHANISM ?? 'PLAIN', username: process.env.SLUICE_TEST_KAFKA_USER, password: process.env.SLUICE_TEST_KAFKA_PASSWORD ?? '' }
  : undefined;

describe('kafka sink and source against a real cluster (SLUICE_TEST_KAFKA_BROKERS)', { skip: brokers ? false : 'SLUICE_TEST_KAFKA_BROKERS is not set (opt-in test against a real Kafka cluster)' }, () => {
  it('the sink writes 1000 events (gzip, keyed), the source reads them all back', async () => {
    const topic = `sluice-test-${randomUUID().slice(0, 8)}`;
    const admin = new Admin({ clientId: 'sluice-test', bootstrapBrokers: brokers!.split(','), ...(sasl ? { sasl: sasl as never } : {}) });
    await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
    try {
      const auth = sasl ? { sasl } : {};
      const sink = await startTopology({
        sources: { real_gen: { type: 'test_counter', count: 1000, batch_size: 50 } },
        sinks: { out: { type: 'kafka', inputs: ['real_gen'], bootstrap_servers: brokers, topic, key_field: 'seq', compression: 'gzip', ...auth } },
      });
      try {
        await waitUntil(() => sourceOutcomes.get('real_gen')!.length === 20, 60_000, 'the 20 source batches acknowledged');
        assert.ok(sourceOutcomes.get('real_gen')!.every((o) => o.rejected === 0));
      } finally {
        await sink.stop();
      }
      const source = await startTopology({
        sources: { real_in: { type: 'kafka', bootstrap_servers: brokers, group_id: `${topic}-g`, topics: [topic], auto_offset_reset: 'earliest', commit_interval_ms: 200, ...auth } },
        sinks: { out: { type: 'test_collect', inputs: ['real_in'], name: 'real' } },
      });
      try {
        await collector('real').waitFor(1000, 60_000);
        const seqs = collector('real').events.map((e) => (JSON.parse(e.fields.message as string) as { seq: number }).seq);
        assert.deepEqual([...new Set(seqs)].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
        assert.ok(collector('real').events.every((e) => e.fields.topic === topic && e.fields.message_key === String((JSON.parse(e.fields.message as string) as { seq: number }).seq)));
      } finally {
        await source.stop();
      }
    } finally {
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.close();
    }
  });
});
