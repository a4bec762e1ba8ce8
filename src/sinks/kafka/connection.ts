import { z } from 'zod';
import { secretString, tlsSchema, type TlsOptions } from '../shared/schemas.js';
import { tlsConnectOptions } from '../shared/tls.js';

/** Options shared by the kafka sink and source (Vector's names): brokers, SASL, TLS, client tuning. */

export const bootstrapServersSchema = z
  .string()
  .min(1)
  .refine(
    (value) => value.split(',').every((one) => /^[^\s:/@]+:\d{1,5}$/.test(one.trim()) || /^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(one.trim())),
    'expected "host:port" (comma-separated for several brokers), without a scheme or credentials',
  )
  .describe('Kafka brokers to bootstrap from, `host:port` comma-separated (`kafka-0:9092,kafka-1:9092`); the rest of the cluster is discovered from them.');

export const saslSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Authenticate with SASL (true when the block is present, as a shorthand).'),
    mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']).default('PLAIN').describe('SASL mechanism: PLAIN (over TLS!), SCRAM-SHA-256 or SCRAM-SHA-512.'),
    username: z.string().min(1).describe('SASL user name.'),
    password: secretString('SASL password.'),
  })
  .optional()
  .describe('SASL authentication to the brokers; unset: none.');
export type SaslOptions = z.infer<typeof saslSchema>;

/** The shared tls block plus Vector's `enabled` (true when the block is present). */
export const kafkaTlsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Connect with TLS (true when the block is present; false turns it off).'),
    ...tlsSchema.shape,
  })
  .refine((tls) => (tls.crt_file === undefined) === (tls.key_file === undefined), {
    message: 'crt_file and key_file go together (a client certificate needs its key)',
    path: ['key_file'],
  })
  .optional()
  .describe('TLS to the brokers (`ca_file`, `crt_file`, `key_file`, `key_pass`, `verify_certificate`, `verify_hostname`, `server_name`); unset: plain TCP.');
export type KafkaTlsOptions = z.infer<typeof kafkaTlsSchema>;

/**
 * librdkafka property names (what Vector's `librdkafka_options` passes through) that sluice can
 * honour with its pure-JavaScript client, and the client option each becomes. Any other key is a
 * config error naming it: silently ignoring a tuning knob would be worse than refusing it.
 */
const LIBRDKAFKA_KEYS = {
  'client.id': 'clientId',
  'socket.timeout.ms': 'requestTimeout',
  'request.timeout.ms': 'requestTimeout',
  'socket.connection.setup.timeout.ms': 'connectTimeout',
  'metadata.max.age.ms': 'metadataMaxAge',
  'topic.metadata.refresh.interval.ms': 'metadataMaxAge',
  'retries': 'retries',
  'message.send.max.retries': 'retries',
  'retry.backoff.ms': 'retryDelay',
  'max.in.flight.requests.per.connection': 'maxInflights',
  'enable.idempotence': 'idempotent',
  'acks': 'acks',
  'request.required.acks': 'acks',
  'session.timeout.ms': 'sessionTimeout',
  'heartbeat.interval.ms': 'heartbeatInterval',
  'max.poll.interval.ms': 'rebalanceTimeout',
  'fetch.wait.max.ms': 'maxWaitTime',
  'fetch.min.bytes': 'minBytes',
  'fetch.max.bytes': 'maxBytes',
  'max.partition.fetch.bytes': 'maxBytesPerPartition',
} as const;
export type ClientTuningKey = (typeof LIBRDKAFKA_KEYS)[keyof typeof LIBRDKAFKA_KEYS];

export const librdkafkaOptionsSchema = z
  .record(z.string(), z.string())
  .default({})
  .superRefine((options, ctx) => {
    for (const [key, value] of Object.entries(options)) {
      const target = (LIBRDKAFKA_KEYS as Record<string, string>)[key];
      if (target === undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: `librdkafka option "${key}" has no equivalent in sluice's Kafka client; supported: ${Object.keys(LIBRDKAFKA_KEYS).join(', ')}` });
      } else if (target === 'idempotent') {
        if (value !== 'true' && value !== 'false') ctx.addIssue({ code: 'custom', path: [key], message: `expected "true" or "false", got "${value}"` });
      } else if (target === 'acks') {
        if (!['all', '-1'].includes(value)) ctx.addIssue({ code: 'custom', path: [key], message: `sluice acknowledges an event once every in-sync replica has it: only "all" (or "-1") is accepted, got "${value}"` });
      } else if (target !== 'clientId' && !/^\d+$/.test(value)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `expected a whole number, got "${value}"` });
      }
    }
  })
  .describe(
    'librdkafka properties, as Vector passes them through. sluice\'s client is not librdkafka: the keys it can honour are accepted (client.id, socket.timeout.ms, request.timeout.ms, socket.connection.setup.timeout.ms, metadata.max.age.ms, retries, retry.backoff.ms, max.in.flight.requests.per.connection, enable.idempotence, acks=all, session.timeout.ms, heartbeat.interval.ms, max.poll.interval.ms, fetch.wait.max.ms, fetch.min.bytes, fetch.max.bytes, max.partition.fetch.bytes); any other key is an error.',
  );

/** The client tuning from librdkafka_options, by client option name. */
export function clientTuning(options: Record<string, string>): Partial<Record<ClientTuningKey, string>> {
  const out: Partial<Record<ClientTuningKey, string>> = {};
  for (const [key, value] of Object.entries(options)) {
    const target = (LIBRDKAFKA_KEYS as Record<string, ClientTuningKey>)[key];
    if (target) out[target] = value;
  }
  return out;
}

export interface KafkaConnectionConfig {
  bootstrap_servers: string;
  sasl?: SaslOptions | undefined;
  tls?: KafkaTlsOptions;
  librdkafka_options: Record<string, string>;
}

/** Connection options of the client (brokers, timeouts, TLS, SASL) from a component's config. */
export function kafkaClientOptions(config: KafkaConnectionConfig, clientId: string, timeoutMs: number) {
  const tuning = clientTuning(config.librdkafka_options);
  const number = (key: ClientTuningKey, fallback: number) => (tuning[key] !== undefined ? Number(tuning[key]) : fallback);
  const options: Record<string, unknown> = {
    clientId: tuning.clientId ?? clientId,
    bootstrapBrokers: config.bootstrap_servers.split(',').map((s) => s.trim()),
    connectTimeout: number('connectTimeout', Math.min(timeoutMs, 10_000)),
    requestTimeout: number('requestTimeout', timeoutMs),
    timeout: number('requestTimeout', timeoutMs),
    retries: number('retries', 3),
    retryDelay: number('retryDelay', 250),
    metadataMaxAge: number('metadataMaxAge', 300_000),
  };
  if (tuning.maxInflights !== undefined) options.maxInflights = Number(tuning.maxInflights);
  if (config.tls && config.tls.enabled !== false) {
    const { enabled: _enabled, ...tls } = config.tls;
    options.tls = tlsConnectOptions(tls as TlsOptions);
  }
  if (config.sasl && config.sasl.enabled) {
    options.sasl = { mechanism: config.sasl.mechanism, username: config.sasl.username, password: config.sasl.password };
  }
  return { options, tuning };
}

/** The brokers, for messages (credentials are never part of bootstrap_servers). */
export function describeBrokers(servers: string): string {
  return servers.split(',').map((s) => s.trim()).join(', ');
}

/** A client error as one line: the library nests causes (MultipleErrors of ProtocolErrors). */
export function kafkaErrorMessage(error: unknown): string {
  const parts: string[] = [];
  const walk = (e: unknown, depth: number) => {
    if (depth > 4 || !(e instanceof Error)) return;
    const nested = (e as AggregateError).errors;
    if (Array.isArray(nested) && nested.length > 0) {
      for (const inner of nested.slice(0, 3)) walk(inner, depth + 1);
      return;
    }
    if ((e as { cause?: unknown }).cause instanceof Error) {
      parts.push(e.message);
      walk((e as { cause?: unknown }).cause, depth + 1);
      return;
    }
    parts.push(e.message);
  };
  walk(error, 0);
  const unique = [...new Set(parts)];
  return unique.length > 0 ? unique.join(': ') : String(error);
}

/** Kafka error ids found anywhere in a client error (e.g. NOT_LEADER_OR_FOLLOWER, MESSAGE_TOO_LARGE). */
export function kafkaErrorIds(error: unknown): Set<string> {
  const ids = new Set<string>();
  const walk = (e: unknown, depth: number) => {
    if (depth > 5 || e === null || typeof e !== 'object') return;
    const id = (e as { apiId?: unknown }).apiId;
    if (typeof id === 'string') ids.add(id);
    for (const inner of (e as AggregateError).errors ?? []) walk(inner, depth + 1);
    walk((e as { cause?: unknown }).cause, depth + 1);
  };
  walk(error, 0);
  return ids;
}
