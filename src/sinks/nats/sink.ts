import { randomBytes } from 'node:crypto';
import { connect, ErrorCode, NatsError, type JetStreamClient, type NatsConnection } from 'nats';
import type { ComponentContext, EventStream, Sink } from '../../core/component.js';
import type { LogEvent } from '../../core/event.js';
import type { Batch } from '../shared/batcher.js';
import { EventRejected, SinkDriver, type Prepared } from '../shared/driver.js';
import { EventEncoder, type EncodingOptions } from '../shared/encoding.js';
import type { AttemptOutcome, Rejection } from '../shared/outcome.js';
import { SinkMetrics } from '../shared/sink-metrics.js';
import { EventTemplate } from '../shared/templating.js';
import { describeServers, natsConnectOptions } from './connection.js';
import type { NatsSinkConfig } from './schema.js';

/** One event ready to publish. `msgId` stays the same across retries: JetStream drops the repeat. */
export interface NatsMessage {
  subject: string;
  data: Uint8Array;
  msgId: string;
}

/**
 * Publishes one NATS message per event. With JetStream each publish waits for the stream's
 * PubAck, and carries a `Nats-Msg-Id` that is kept across retries, so a publish whose PubAck
 * was lost (server restarting) and is sent again is stored once (within the stream's duplicate
 * window, 2 min by default).
 */
export class NatsSink implements Sink {
  private readonly subject: EventTemplate;
  private readonly encoder: EventEncoder;
  private readonly driver: SinkDriver<NatsMessage>;
  /** Message ids: unique per process run (random prefix) and per event (counter). */
  private readonly idPrefix = randomBytes(8).toString('hex');
  private nextId = 0;
  private connection: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;

  constructor(
    private readonly config: NatsSinkConfig,
    private readonly ctx: ComponentContext,
  ) {
    this.subject = new EventTemplate(config.subject, 'subject');
    this.encoder = new EventEncoder(config.encoding as EncodingOptions);
    this.driver = new SinkDriver<NatsMessage>(
      { prepare: (event) => this.prepare(event), send: (batch) => this.send(batch) },
      { batch: config.batch, request: config.request, logger: ctx.logger, metrics: new SinkMetrics(ctx.metrics) },
    );
  }

  /** The server answers, and (JetStream) a stream captures the subject. */
  async healthcheck(): Promise<void> {
    const where = describeServers(this.config.url);
    let nc: NatsConnection;
    try {
      nc = await connect({ ...(await natsConnectOptions(this.config, this.timeoutMs)), maxReconnectAttempts: 0 });
    } catch (error) {
      throw new Error(`healthcheck: cannot connect to NATS at ${where}: ${(error as Error).message}`);
    }
    try {
      if (!this.config.jetstream) return;
      let jsm;
      try {
        jsm = await nc.jetstreamManager({ timeout: this.timeoutMs });
      } catch (error) {
        throw new Error(`healthcheck: JetStream is not available on ${where} (${(error as Error).message}); enable it on the server or set jetstream = false`);
      }
      // A templated subject has no single value to look up: JetStream being there is what can be checked.
      if (this.subject.isDynamic) return;
      try {
        await jsm.streams.find(this.config.subject);
      } catch {
        throw new Error(
          `healthcheck: no JetStream stream on ${where} captures subject "${this.config.subject}": create one (e.g. \`nats stream add --subjects '${this.config.subject}'\`) or fix subject`,
        );
      }
    } finally {
      await nc.close();
    }
  }

  async run(input: EventStream): Promise<void> {
    try {
      await this.driver.run(input);
    } finally {
      const connection = this.connection;
      this.connection = undefined;
      if (connection) await connection.then(({ nc }) => nc.drain()).catch(() => undefined);
    }
  }

  private get timeoutMs(): number {
    return this.config.request.timeout_secs * 1000;
  }

  private prepare(event: LogEvent): Prepared<NatsMessage> {
    const subject = this.subject.render(event.fields);
    if (subject === '' || /[\s]/.test(subject)) throw new EventRejected('invalid_subject', `subject: rendered "${subject}" is empty or holds whitespace`);
    const data = Buffer.from(this.encoder.encode(event));
    return { key: '', payload: { subject, data, msgId: `${this.idPrefix}-${this.nextId++}` }, bytes: data.length };
  }

  /** Connects on first use; reconnection after that is the client's (forever). */
  private connected(): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
    this.connection ??= (async () => {
      const nc = await connect({ ...(await natsConnectOptions(this.config, this.timeoutMs)), waitOnFirstConnect: true });
      void this.watch(nc);
      return { nc, js: nc.jetstream({ timeout: this.timeoutMs }) };
    })().catch((error: unknown) => {
      this.connection = undefined; // the next attempt connects again
      throw error;
    });
    return this.connection;
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnect') this.ctx.logger.warn({ status: status.type, server: String(status.data) }, `nats ${status.type}`);
    }
  }

  private async send(batch: Batch<NatsMessage>): Promise<AttemptOutcome<NatsMessage>> {
    const { nc, js } = await this.connected();
    if (!this.config.jetstream) {
      for (const message of batch.payloads) nc.publish(message.subject, message.data);
      // The server has read everything published before the PONG.
      await nc.flush();
      return { delivered: batch.events, deliveredBytes: batch.bytes, rejected: [] };
    }
    const results = await Promise.allSettled(batch.payloads.map((m) => js.publish(m.subject, m.data, { msgID: m.msgId, timeout: this.timeoutMs })));
    const delivered: LogEvent[] = [];
    let deliveredBytes = 0;
    const tooLarge: LogEvent[] = [];
    const retry: Batch<NatsMessage> = { key: batch.key, events: [], payloads: [], bytes: 0 };
    let retryReason = '';
    let retryDetail = '';
    results.forEach((result, i) => {
      const event = batch.events[i]!;
      const payload = batch.payloads[i]!;
      if (result.status === 'fulfilled') {
        delivered.push(event);
        deliveredBytes += payload.data.length;
        return;
      }
      const error = result.reason as Error;
      if (error instanceof NatsError && error.code === ErrorCode.MaxPayloadExceeded) {
        tooLarge.push(event);
        return;
      }
      retry.events.push(event);
      retry.payloads.push(payload);
      retry.bytes += payload.data.length;
      retryReason ||= publishErrorReason(error);
      retryDetail ||= publishErrorDetail(error, payload.subject);
    });
    const rejected: Rejection[] =
      tooLarge.length > 0 ? [{ events: tooLarge, reason: 'message_too_large', detail: `larger than the server's max_payload (${nc.info?.max_payload ?? '?'} bytes)` }] : [];
    const outcome: AttemptOutcome<NatsMessage> = { delivered, deliveredBytes, rejected };
    if (retry.events.length > 0) outcome.retry = { batch: retry, reason: retryReason, detail: retryDetail };
    return outcome;
  }
}

/** A fixed metric label. */
function publishErrorReason(error: Error): string {
  const code = error instanceof NatsError ? error.code : undefined;
  if (code === ErrorCode.NoResponders) return 'no_stream';
  if (code === ErrorCode.Timeout) return 'timeout';
  return 'network';
}

function publishErrorDetail(error: Error, subject: string): string {
  if (error instanceof NatsError && error.code === ErrorCode.NoResponders) return `no JetStream stream captures subject "${subject}" (or the server is restarting)`;
  return error.message;
}
