// The fake Kafka broker (test/fakes/kafka/) in its own process for bench/kafka-clients/run.ts, so
// that its CPU is not the clients'. Driven over IPC: {create, partitions} / {delete}; it answers
// {ok} and, at start, {bootstrap}; {stored} answers the topic's record count and batch codecs.
import { FakeKafka } from '../../test/fakes/kafka/broker.js';

type Command = { id: number; create?: string; partitions?: number; delete?: string; stored?: string };

const kafka = await new FakeKafka({ initialRebalanceDelayMs: 50 }).start();
process.send!({ bootstrap: kafka.bootstrap });
process.on('message', (command: Command) => {
  if (command.create) kafka.createTopic(command.create, command.partitions ?? 1);
  // How many records a topic holds (a check that every event was stored once).
  const stored = command.stored ? [...(kafka.topics.get(command.stored) ?? []).keys()].reduce((sum, p) => sum + Number(kafka.highWatermark(command.stored!, p)), 0) : undefined;
  // The codecs of the stored record batches (the client compressed as asked).
  const codecs = command.stored ? [...new Set(kafka.codecs(command.stored))] : undefined;
  if (command.delete) {
    kafka.topics.delete(command.delete);
    for (const [id, group] of kafka.groups) if (id.startsWith(command.delete)) kafka.groups.delete(id);
  }
  process.send!({ id: command.id, ok: true, stored, codecs });
});
process.on('disconnect', () => void kafka.close().then(() => process.exit(0)));
