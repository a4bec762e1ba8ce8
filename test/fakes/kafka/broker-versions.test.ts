import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Consumer, Producer, stringDeserializers } from '@platformatic/kafka';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { FakeKafka } from './broker.js';

/**
 * The fake broker serves a range of versions per API: the non-flexible ones kafkajs 2.x asks for
 * and the flexible ones @platformatic/kafka asks for. Both clients produce (idempotent, acks=all,
 * gzip) and consume back through a consumer group with committed offsets, against the same broker.
 */
describe('fake Kafka broker: API version ranges', () => {
  const brokers: FakeKafka[] = [];
  after(async () => {
    for (const b of brokers) await b.close();
  });
  const start = async (topics: Record<string, number>) => {
    const kafka = await new FakeKafka({ topics, brokers: 2, initialRebalanceDelayMs: 20 }).start();
    brokers.push(kafka);
    return kafka;
  };
  const values = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

  it('kafkajs: idempotent gzip produce, group consume with commits, at the non-flexible versions', async () => {
    const kafka = await start({ kjs: 3 });
    const client = new Kafka({ clientId: 'kjs', brokers: kafka.bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = values(300, 'kjs');
    for (let i = 0; i < sent.length; i += 100) {
      await producer.send({ topic: 'kjs', acks: -1, compression: CompressionTypes.GZIP, messages: sent.slice(i, i + 100).map((value) => ({ key: value, value })) });
    }
    await producer.disconnect();
    assert.deepEqual(kafka.records('kjs').map((r) => r.value!.toString()).sort(), [...sent].sort(), 'every record stored once');
    assert.ok(kafka.produceLog.every((p) => p.acks === -1 && p.producerId >= 0n && p.compression === 'gzip'), 'acks=all, idempotent, gzip');

    const consumer = client.consumer({ groupId: 'kjs-group', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kjs', fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            got.push(message.value!.toString());
            if (got.length === sent.length) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect(); // commits what was consumed
    assert.deepEqual([...got].sort(), [...sent].sort());
    const committed = [0, 1, 2].map((p) => kafka.committed('kjs-group', 'kjs', p));
    assert.deepEqual(committed, [0, 1, 2].map((p) => kafka.highWatermark('kjs', p)), 'offsets committed to the end');
    for (const used of ['ApiVersions v2', 'Metadata v6', 'Produce v7', 'InitProducerId v1', 'FindCoordinator v2', 'JoinGroup v5', 'SyncGroup v3', 'OffsetFetch v4', 'Fetch v11', 'OffsetCommit v5', 'LeaveGroup v3']) {
      assert.ok((kafka.requestVersions.get(used) ?? 0) > 0, `kafkajs asked for ${used}; asked: ${[...kafka.requestVersions.keys()].join(', ')}`);
    }
  });

  it('@platformatic/kafka: the same round trip at the flexible versions', async () => {
    const kafka = await start({ pk: 3 });
    const producer = new Producer({ clientId: 'pk', bootstrapBrokers: kafka.bootstrap.split(','), idempotent: true, acks: -1, compression: 'gzip', strict: true });
    const sent = values(300, 'pk');
    for (let i = 0; i < sent.length; i += 100) await producer.send({ messages: sent.slice(i, i + 100).map((value) => ({ topic: 'pk', key: Buffer.from(value), value: Buffer.from(value) })) });
    await producer.close();
    assert.deepEqual(kafka.records('pk').map((r) => r.value!.toString()).sort(), [...sent].sort());

    const consumer = new Consumer({ clientId: 'pk', groupId: 'pk-group', bootstrapBrokers: kafka.bootstrap.split(','), deserializers: stringDeserializers, autocommit: false, maxWaitTime: 100 });
    const stream = await consumer.consume({ topics: ['pk'], mode: 'earliest' });
    const got: string[] = [];
    for await (const message of stream) {
      got.push(message.value);
      await message.commit();
      if (got.length === sent.length) break;
    }
    await stream.close();
    await consumer.close();
    assert.deepEqual([...got].sort(), [...sent].sort());
    assert.deepEqual([0, 1, 2].map((p) => kafka.committed('pk-group', 'pk', p)), [0, 1, 2].map((p) => kafka.highWatermark('pk', p)));
    for (const used of ['ApiVersions v3', 'Metadata v9', 'Produce v7', 'InitProducerId v3', 'FindCoordinator v4', 'JoinGroup v6', 'SyncGroup v4', 'ListOffsets v5', 'Fetch v12', 'OffsetCommit v8']) {
      assert.ok((kafka.requestVersions.get(used) ?? 0) > 0, `@platformatic/kafka asked for ${used}; asked: ${[...kafka.requestVersions.keys()].join(', ')}`);
    }
  });

  it('kafkajs: SASL PLAIN and SCRAM-SHA-512 at SaslAuthenticate v1; a wrong password is refused', async () => {
    const kafka = await new FakeKafka({ topics: { auth: 1 }, sasl: { user: 'sluice', password: 'right' } }).start();
    brokers.push(kafka);
    const credentials = { username: 'sluice', password: 'right' };
    for (const sasl of [{ mechanism: 'plain' as const, ...credentials }, { mechanism: 'scram-sha-512' as const, ...credentials }]) {
      const producer = new Kafka({ clientId: 'kjs', brokers: kafka.bootstrap.split(','), logLevel: logLevel.NOTHING, sasl }).producer();
      await producer.connect();
      await producer.send({ topic: 'auth', acks: -1, messages: [{ value: sasl.mechanism }] });
      await producer.disconnect();
    }
    assert.deepEqual(kafka.records('auth').map((r) => r.value!.toString()), ['plain', 'scram-sha-512']);
    assert.ok((kafka.requestVersions.get('SaslAuthenticate v1') ?? 0) > 0, `asked: ${[...kafka.requestVersions.keys()].join(', ')}`);
    const wrong = new Kafka({ clientId: 'kjs', brokers: kafka.bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 0 }, sasl: { mechanism: 'scram-sha-512', username: 'sluice', password: 'wrong' } }).producer();
    await assert.rejects(wrong.connect(), /SASL|authentication/i);
    assert.ok((kafka.errorsAnswered.get('SASL_AUTHENTICATION_FAILED') ?? 0) > 0);
  });

  it('a version outside the served range: ApiVersions answers UNSUPPORTED_VERSION in v0, other APIs close the connection', async () => {
    const kafka = await start({ t: 1 });
    const { connect } = await import('node:net');
    const socket = connect(kafka.nodes[0]!.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const frame = (apiKey: number, version: number, correlationId: number) => {
      const body = Buffer.alloc(10);
      body.writeInt16BE(apiKey, 0);
      body.writeInt16BE(version, 2);
      body.writeInt32BE(correlationId, 4);
      body.writeInt16BE(-1, 8); // null client id
      const size = Buffer.alloc(4);
      size.writeInt32BE(body.length);
      return Buffer.concat([size, body]);
    };
    const answer = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write(frame(18, 9, 7)); // ApiVersions v9
    const reply = await answer;
    assert.equal(reply.readInt32BE(4), 7, 'correlation id');
    assert.equal(reply.readInt16BE(8), 35, 'UNSUPPORTED_VERSION');
    const count = reply.readInt32BE(10);
    const ranges = new Map<number, [number, number]>();
    for (let i = 0; i < count; i++) ranges.set(reply.readInt16BE(14 + i * 6), [reply.readInt16BE(16 + i * 6), reply.readInt16BE(18 + i * 6)]);
    assert.equal(reply.length, 14 + count * 6, 'a v0 body: no throttle_time_ms');
    assert.deepEqual(ranges.get(3), [6, 9], 'Metadata v6-v9 advertised');
    assert.deepEqual(ranges.get(1), [11, 12], 'Fetch v11-v12 advertised');
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(frame(3, 5, 8)); // Metadata v5: below the range
    await closed;
  });
});
