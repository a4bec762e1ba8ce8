import zlib from 'node:zlib';
import { z } from 'zod';
import { encodingSchema } from '../shared/encoding.js';
import { batchSchema, requestSchema, templateString } from '../shared/schemas.js';
import { bootstrapServersSchema, kafkaTlsSchema, librdkafkaOptionsSchema, saslSchema } from './connection.js';

/** Node 20's zlib has no zstd (it came in Node 22.15): zstd is refused there, not failed per batch. */
export const ZSTD_AVAILABLE = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';

/** Option names follow Vector's `kafka` sink. */
export const kafkaSinkSchema = z.strictObject({
  bootstrap_servers: bootstrapServersSchema,
  topic: templateString(z.string().min(1), { strftime: true }).describe(
    'Topic each event is written to; may hold field templates (`logs-{{ kubernetes.pod_namespace }}`). An event missing a referenced field is rejected.',
  ),
  key_field: z.string().min(1).optional().describe('Field whose value becomes the message key (same key, same partition); unset or missing: no key (spread over partitions).'),
  headers_key: z.string().min(1).optional().describe('Field holding an object whose entries become message headers (string values as they are, others as JSON).'),
  compression: z
    .enum(['none', 'gzip', 'snappy', 'lz4', 'zstd'])
    .default('none')
    .refine((codec) => codec !== 'zstd' || ZSTD_AVAILABLE, 'zstd needs Node.js >= 22.15 (zlib zstd); this Node.js has none: use gzip, snappy or lz4')
    .describe('Compression of record batches: none, gzip, snappy, lz4, or zstd (on Node.js >= 22.15).'),
  message_timeout_ms: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Give up on an event (reject it) once it has been retried this long. Unset: retry without limit (backpressure, nothing lost).'),
  sasl: saslSchema,
  tls: kafkaTlsSchema,
  librdkafka_options: librdkafkaOptionsSchema,
  healthcheck_topic: z.string().min(1).optional().describe('Topic the healthcheck looks up (default: topic, when it holds no template).'),
  encoding: encodingSchema.prefault({}).describe('How each event becomes a message value (json: the event as JSON; text: the message).'),
  batch: batchSchema({ maxEvents: 500, maxBytes: 1_000_000, timeoutSecs: 0.1 }).describe('Events produced together (one Produce request per broker, one record batch per partition).'),
  request: requestSchema.describe('Timeout, retries and rate limit of produce requests; with the idempotent producer (the default) concurrency is 1: a failed batch is resent before the next one, so the broker de-duplicates it.'),
});
export type KafkaSinkConfig = z.infer<typeof kafkaSinkSchema>;
