// One phase of one client, in its own process (its CPU and peak RSS are this phase's alone):
//   node dist/bench/kafka-clients/client.js <platformatic|kafkajs> <produce|consume> <none|gzip> <bootstrap> <topic> <events>
// produce: the events in batches of 500 (the kafka sink's batch.max_events), one send in flight,
// acks=all, idempotent producer, each batch to one partition (the sink's sticky partitioning).
// consume: a consumer group reads the topic from the earliest offset until it has every event,
// decoding each value to a string and committing per partition every 5,000 records and at the end.
// Prints one JSON line: seconds, cpuSeconds, peakRssMiB, events.
import { Consumer, Producer, type Message } from '@platformatic/kafka';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { eventValues } from './events.js';

const [client, phase, compression, bootstrap, topic, countArg] = process.argv.slice(2);
const count = Number(countArg);
const BATCH = 500;
const PARTITIONS = 3;
const COMMIT_EVERY = 5000;
const brokers = bootstrap!.split(',');
const decoder = new TextDecoder();

function batches(): Buffer[][] {
  const values = eventValues(count);
  const out: Buffer[][] = [];
  for (let i = 0; i < values.length; i += BATCH) out.push(values.slice(i, i + BATCH));
  return out;
}

async function producePlatformatic(work: Buffer[][]): Promise<void> {
  const producer = new Producer({ clientId: 'bench', bootstrapBrokers: brokers, idempotent: true, acks: -1, compression: compression as 'none' | 'gzip', autocreateTopics: false, strict: true });
  for (let b = 0; b < work.length; b++) {
    const partition = b % PARTITIONS;
    await producer.send({ messages: work[b]!.map((value) => ({ topic: topic!, value, partition })) });
  }
  await producer.close();
}

async function produceKafkajs(work: Buffer[][]): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.ERROR });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const codec = compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  for (let b = 0; b < work.length; b++) {
    const partition = b % PARTITIONS;
    await producer.send({ topic: topic!, acks: -1, compression: codec, messages: work[b]!.map((value) => ({ value, partition })) });
  }
  await producer.disconnect();
}

async function consumePlatformatic(): Promise<number> {
  const consumer = new Consumer({ clientId: 'bench', groupId: `${topic}-group`, bootstrapBrokers: brokers, autocommit: false, maxWaitTime: 100 });
  const stream = await consumer.consume({ topics: [topic!], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
  let seen = 0;
  let bytes = 0;
  const sinceCommit = new Map<number, { n: number; last: Message<Buffer, Buffer, Buffer, Buffer> }>();
  for await (const message of stream as AsyncIterable<Message<Buffer, Buffer, Buffer, Buffer>>) {
    bytes += decoder.decode(message.value).length;
    const entry = sinceCommit.get(message.partition) ?? { n: 0, last: message };
    entry.n++;
    entry.last = message;
    sinceCommit.set(message.partition, entry);
    if (entry.n >= COMMIT_EVERY) {
      await message.commit();
      sinceCommit.delete(message.partition);
    }
    if (++seen === count) break;
  }
  for (const { last } of sinceCommit.values()) await last.commit();
  await stream.close();
  await consumer.close(true);
  return bytes;
}

async function consumeKafkajs(): Promise<number> {
  const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: `${topic}-group`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: topic!, fromBeginning: true });
  let seen = 0;
  let bytes = 0;
  const sinceCommit = new Map<number, { n: number; next: string }>();
  const commit = (partition: number, next: string) => consumer.commitOffsets([{ topic: topic!, partition, offset: next }]);
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          bytes += decoder.decode(message.value!).length;
          const next = (BigInt(message.offset) + 1n).toString();
          const entry = sinceCommit.get(partition) ?? { n: 0, next };
          entry.n++;
          entry.next = next;
          sinceCommit.set(partition, entry);
          if (entry.n >= COMMIT_EVERY) {
            await commit(partition, next);
            sinceCommit.delete(partition);
          }
          if (++seen === count) resolve();
        },
      })
      .catch(reject);
  });
  for (const [partition, { next }] of sinceCommit) await commit(partition, next);
  await consumer.disconnect();
  return bytes;
}

const work = phase === 'produce' ? batches() : [];
const cpuBefore = process.cpuUsage();
const started = performance.now();
let bytes = 0;
if (phase === 'produce') await (client === 'kafkajs' ? produceKafkajs(work) : producePlatformatic(work));
else bytes = await (client === 'kafkajs' ? consumeKafkajs() : consumePlatformatic());
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
console.log(JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMiB: process.resourceUsage().maxRSS / 1024, events: count, bytes }));
process.exit(0);
