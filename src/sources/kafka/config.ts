import { z } from 'zod';
import { bootstrapServersSchema, kafkaTlsSchema, librdkafkaOptionsSchema, saslSchema } from '../../sinks/kafka/connection.js';

/** Option names follow Vector's `kafka` source. */
export const kafkaSourceSchema = z.strictObject({
  bootstrap_servers: bootstrapServersSchema,
  group_id: z.string().min(1).describe('Consumer group: replicas with the same group_id share the partitions of the topics.'),
  topics: z.array(z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'a Kafka topic name: 1-249 of [a-zA-Z0-9._-]')).min(1).describe('Topics to read (names; no regex subscriptions).'),
  auto_offset_reset: z
    .enum(['largest', 'latest', 'smallest', 'earliest', 'error'])
    .default('largest')
    .describe('Where a partition without a committed offset starts: largest/latest (new records only, Vector\'s default), smallest/earliest (everything kept), error (fail).'),
  key_field: z.string().min(1).default('message_key').describe('Field receiving the record key (string; absent when the record has none).'),
  topic_key: z.string().min(1).default('topic').describe('Field receiving the topic.'),
  partition_key: z.string().min(1).default('partition').describe('Field receiving the partition.'),
  offset_key: z.string().min(1).default('offset').describe('Field receiving the offset.'),
  headers_key: z.string().min(1).default('headers').describe('Field receiving the record headers (an object of strings).'),
  decoding: z
    .strictObject({
      codec: z.enum(['bytes', 'json']).default('bytes').describe('bytes: the value is the `message`; json: a JSON object whose keys become fields (anything else: the raw value as `message`, counted invalid_message).'),
    })
    .prefault({})
    .describe('How a record value becomes an event.'),
  session_timeout_ms: z.number().int().positive().default(10_000).describe('The group drops a member not heard from for this long (its partitions go to the others).'),
  socket_timeout_ms: z.number().int().positive().default(60_000).describe('Time limit of one request to a broker.'),
  fetch_wait_max_ms: z.number().int().nonnegative().default(100).describe('How long a broker may hold a fetch waiting for records.'),
  commit_interval_ms: z.number().int().positive().default(5000).describe('How often the offsets of acknowledged records are committed (and once more at shutdown).'),
  sasl: saslSchema,
  tls: kafkaTlsSchema,
  librdkafka_options: librdkafkaOptionsSchema,
});
export type KafkaSourceConfig = z.infer<typeof kafkaSourceSchema>;
