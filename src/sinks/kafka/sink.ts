import { Producer, UserError, type MessageToProduce } from '@platformatic/kafka';
import type { ComponentContext, EventStream, Sink } from '../../core/component.js';
import { getField, parsePath, type FieldPath, type LogEvent } from '../../core/event.js';
import type { Batch } from '../shared/batcher.js';
import { EventRejected, SinkDriver, type Prepared } from '../shared/driver.js';
import { EventEncoder, type EncodingOptions } from '../shared/encoding.js';
import type { AttemptOutcome } from '../shared/outcome.js';
import { SinkMetrics } from '../shared/sink-metrics.js';
import { EventTemplate } from '../shared/templating.js';
import { describeBrokers, kafkaClientOptions, kafkaErrorIds, kafkaErrorMessage } from './connection.js';
import type { KafkaSinkConfig } from './schema.js';

/** Kafka's own limit on a topic name. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Errors no retry can fix: the batch is rejected. */
const FATAL = new Map<string, string>([
  ['MESSAGE_TOO_LARGE', 'message_too_large'],
  ['RECORD_LIST_TOO_LARGE', 'message_too_large'],
  ['INVALID_RECORD', 'invalid_record'],
  ['TOPIC_AUTHORIZATION_FAILED', 'not_authorized'],
  ['INVALID_TOPIC_EXCEPTION', 'invalid_topic'],
]);

/**
 * Writes one Kafka record per event with an idempotent producer and acks=all: an event is
 * delivered once every in-sync replica of its partition has it. Batches are per topic (the
 * driver's partition key); a batch is one `send`, which the client splits into one Produce
 * request per leader broker and one record batch per partition.
 *
 * The client numbers an idempotent producer's batches when their Produce succeeds, not when it
 * is sent. Two batches in flight to one partition would carry the same sequence numbers, and so
 * would a batch sent after one that failed (timed out, its answer lost) but before that one's
 * resend: the broker takes the second for a duplicate of the first, answers success, and drops
 * it. The fake broker's sequence checks showed exactly that loss. So with the idempotent producer
 * (the default) one batch is in flight per sink, and a failed batch is resent before any other
 * is sent (request.concurrency is 1); the resend carries the same sequence and the broker stores
 * it once. Unkeyed events get their partition when prepared (sticky per run of events), so a
 * resend goes to the same partition (round-robin at send time would move it and defeat the
 * broker's de-duplication).
 */
export class KafkaSink implements Sink {
  private readonly topic: EventTemplate;
  private readonly encoder: EventEncoder;
  private readonly driver: SinkDriver<MessageToProduce>;
  private readonly keyPath: FieldPath | undefined;
  private readonly headersPath: FieldPath | undefined;
  private readonly idempotent: boolean;
  private producer: Producer | undefined;
  private stickyPartition = Math.floor(Math.random() * 1024);
  private preparedInBatch = 0;

  constructor(
    private readonly config: KafkaSinkConfig,
    private readonly ctx: ComponentContext,
  ) {
    this.topic = new EventTemplate(config.topic, 'topic');
    this.encoder = new EventEncoder(config.encoding as EncodingOptions);
    this.keyPath = config.key_field !== undefined ? parsePath(config.key_field) : undefined;
    this.headersPath = config.headers_key !== undefined ? parsePath(config.headers_key) : undefined;
    this.idempotent = config.librdkafka_options['enable.idempotence'] !== 'false';
    const request = { ...config.request };
    if (this.idempotent) request.concurrency = 1;
    if (config.message_timeout_ms !== undefined && request.retry_total_secs === undefined) request.retry_total_secs = config.message_timeout_ms / 1000;
    this.driver = new SinkDriver<MessageToProduce>(
      { prepare: (event) => this.prepare(event), send: (batch) => this.send(batch) },
      { batch: config.batch, request, logger: ctx.logger, metrics: new SinkMetrics(ctx.metrics) },
    );
  }

  /** The brokers answer (with the same TLS and SASL) and the topic exists. */
  async healthcheck(): Promise<void> {
    const where = describeBrokers(this.config.bootstrap_servers);
    const topic = this.config.healthcheck_topic ?? (this.topic.isDynamic ? undefined : this.config.topic);
    // Not idempotent: the client retries an idempotent producer's requests without limit when retries <= 1.
    const producer = this.newProducer(false);
    try {
      let metadata;
      try {
        metadata = await producer.metadata({ topics: topic ? [topic] : [] });
      } catch (error) {
        const message = kafkaErrorMessage(error);
        if (topic && /unknown topic/i.test(message)) throw new Error(`healthcheck: topic "${topic}" does not exist on Kafka at ${where}: create it or fix topic`);
        throw new Error(`healthcheck: cannot reach Kafka at ${where}: ${message}`);
      }
      if (metadata.brokers.size === 0) throw new Error(`healthcheck: Kafka at ${where} lists no brokers`);
    } finally {
      await producer.close().catch(() => undefined);
    }
  }

  async run(input: EventStream): Promise<void> {
    try {
      await this.driver.run(input);
    } finally {
      const producer = this.producer;
      this.producer = undefined;
      await producer?.close().catch(() => undefined);
    }
  }

  private get timeoutMs(): number {
    return this.config.request.timeout_secs * 1000;
  }

  private newProducer(idempotent = this.idempotent): Producer {
    const { options } = kafkaClientOptions(this.config, 'sluice', this.timeoutMs);
    return new Producer({
      ...(options as { clientId: string; bootstrapBrokers: string[] }),
      idempotent,
      acks: -1,
      compression: this.config.compression,
      autocreateTopics: false,
      strict: true,
    });
  }

  private prepare(event: LogEvent): Prepared<MessageToProduce> {
    const topic = this.topic.render(event.fields);
    if (!TOPIC_NAME.test(topic)) throw new EventRejected('invalid_topic', `topic: rendered "${topic}" is not a Kafka topic name (1-249 of [a-zA-Z0-9._-])`);
    const value = Buffer.from(this.encoder.encode(event));
    const message: MessageToProduce = { topic, value };
    let bytes = value.length;
    const key = this.keyPath ? bytesOf(getField(event.fields, this.keyPath)) : undefined;
    if (key !== undefined) {
      message.key = key;
      bytes += key.length;
    } else {
      // Sticky: one partition for a run of events, chosen now so a resend goes to the same one.
      if (this.preparedInBatch++ >= this.config.batch.max_events) {
        this.preparedInBatch = 1;
        this.stickyPartition++;
      }
      message.partition = this.stickyPartition;
    }
    if (this.headersPath) {
      const headers = getField(event.fields, this.headersPath);
      if (headers !== null && typeof headers === 'object' && !Array.isArray(headers)) {
        const out = new Map<Buffer, Buffer>();
        for (const [name, headerValue] of Object.entries(headers)) {
          const encoded = bytesOf(headerValue);
          if (encoded === undefined) continue;
          const headerName = Buffer.from(name);
          out.set(headerName, encoded);
          bytes += headerName.length + encoded.length;
        }
        message.headers = out;
      }
    }
    const timestamp = typeof event.fields.timestamp === 'string' ? Date.parse(event.fields.timestamp) : NaN;
    if (Number.isFinite(timestamp)) message.timestamp = BigInt(timestamp);
    return { key: topic, payload: message, bytes };
  }

  private connected(): Producer {
    this.producer ??= this.newProducer();
    return this.producer;
  }

  private async send(batch: Batch<MessageToProduce>): Promise<AttemptOutcome<MessageToProduce>> {
    const producer = this.connected();
    try {
      await producer.send({ messages: batch.payloads });
      return { delivered: batch.events, deliveredBytes: batch.bytes, rejected: [] };
    } catch (error) {
      const ids = kafkaErrorIds(error);
      if (error instanceof UserError && !/unknown topic/i.test(error.message)) {
        // The client refused the batch itself (it could not serialise it): a resend would fail the same way.
        return { delivered: [], deliveredBytes: 0, rejected: [{ events: batch.events, reason: 'encoding_failed', detail: kafkaErrorMessage(error) }] };
      }
      const detail = `topic "${batch.key}" on ${describeBrokers(this.config.bootstrap_servers)}: ${kafkaErrorMessage(error)}`;
      for (const [id, reason] of FATAL) if (ids.has(id)) return { delivered: [], deliveredBytes: 0, rejected: [{ events: batch.events, reason, detail }] };
      if (ids.has('OUT_OF_ORDER_SEQUENCE_NUMBER') || ids.has('UNKNOWN_PRODUCER_ID') || ids.has('INVALID_PRODUCER_EPOCH')) {
        // The producer's sequence state no longer matches the broker's: a new producer id starts over.
        this.producer = undefined;
        await producer.close().catch(() => undefined);
      }
      return { delivered: [], deliveredBytes: 0, rejected: [], retry: { batch, reason: retryReason(ids, error), detail } };
    }
  }
}

/** A fixed metric label for a failed produce. */
function retryReason(ids: Set<string>, error: unknown): string {
  if (ids.has('NOT_LEADER_OR_FOLLOWER') || ids.has('LEADER_NOT_AVAILABLE')) return 'not_leader';
  if (ids.has('UNKNOWN_TOPIC_OR_PARTITION') || /unknown topic/i.test(kafkaErrorMessage(error))) return 'unknown_topic';
  if (ids.has('SASL_AUTHENTICATION_FAILED') || ids.has('ILLEGAL_SASL_STATE') || ids.has('UNSUPPORTED_SASL_MECHANISM')) return 'authentication';
  if (ids.has('OUT_OF_ORDER_SEQUENCE_NUMBER') || ids.has('UNKNOWN_PRODUCER_ID') || ids.has('INVALID_PRODUCER_EPOCH')) return 'producer_state';
  if (/timeout|timed out/i.test(kafkaErrorMessage(error)) || ids.has('REQUEST_TIMED_OUT')) return 'timeout';
  return 'network';
}

/** A key or header value as bytes: strings as UTF-8, other values as JSON; null/undefined: none. */
function bytesOf(value: unknown): Buffer | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return Buffer.from(value);
  return Buffer.from(JSON.stringify(value));
}
