import { AckPolicy, connect, DeliverPolicy, nanos, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import type { ComponentContext, Source, SourceRunContext } from '../../core/component.js';
import { LogEvent, type Fields } from '../../core/event.js';
import { Finalizer } from '../../core/finalizer.js';
import { describeServers, natsConnectOptions } from '../../sinks/nats/connection.js';
import type { NatsSourceConfig } from './config.js';

const SOURCE_TYPE = 'nats';
const RETRY_MS = 1000;

/**
 * Reads a stream through a durable pull consumer with explicit acks. A message is acked only
 * once every sink acknowledged its event (end to end); an event rejected for good is term'd (or
 * nak'd, `on_rejected`). Whatever is unacked when sluice dies is delivered again after
 * `ack_wait_secs`: at least once, duplicates possible, nothing lost.
 */
export class NatsSource implements Source {
  private nc: NatsConnection | undefined;
  private messages: ConsumerMessages | undefined;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    private readonly config: NatsSourceConfig,
    private readonly ctx: ComponentContext,
  ) {}

  async run({ out, shutdown }: SourceRunContext): Promise<void> {
    const stop = (): void => this.messages?.stop();
    shutdown.addEventListener('abort', stop, { once: true });
    try {
      while (!shutdown.aborted) {
        try {
          await this.consume(out, shutdown);
        } catch (error) {
          if (shutdown.aborted) break;
          this.ctx.metrics.error('consumer_failed');
          this.ctx.logger.warn({ err: (error as Error).message, stream: this.config.stream, server: describeServers(this.config.url) }, 'nats consumer failed: retrying');
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        }
      }
    } finally {
      shutdown.removeEventListener('abort', stop);
    }
  }

  async close(): Promise<void> {
    // Every ack that will come has come: drain sends the acks still buffered in the client.
    await this.nc?.drain().catch(() => undefined);
    this.nc = undefined;
  }

  private async connection(): Promise<NatsConnection> {
    this.nc ??= await connect({ ...(await natsConnectOptions(this.config, 10_000)), waitOnFirstConnect: true });
    return this.nc;
  }

  private async consume(out: SourceRunContext['out'], shutdown: AbortSignal): Promise<void> {
    const nc = await this.connection();
    const jsm = await nc.jetstreamManager();
    const { stream, durable_name } = this.config;
    try {
      await jsm.streams.info(stream);
    } catch (error) {
      throw new Error(`stream "${stream}" not found: ${(error as Error).message}`);
    }
    await jsm.consumers.add(stream, {
      durable_name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.config.ack_wait_secs * 1000),
      max_ack_pending: this.config.max_ack_pending,
      ...(this.config.subject !== undefined ? { filter_subject: this.config.subject } : {}),
    });
    const consumer = await nc.jetstream().consumers.get(stream, durable_name);
    const messages = await consumer.consume({ max_messages: this.config.batch_size });
    this.messages = messages;
    if (shutdown.aborted) messages.stop();
    this.ctx.logger.info({ stream, durable_name }, 'nats consumer reading');
    for await (const message of messages) {
      const event = this.toEvent(message);
      if (event === undefined) continue;
      this.ctx.metrics.receivedEvents.inc(1);
      const wait = out.send([event]);
      if (wait !== undefined) await wait;
    }
  }

  private toEvent(message: JsMsg): LogEvent | undefined {
    const text = this.decoder.decode(message.data);
    let fields: Fields;
    if (this.config.decoding.codec === 'json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        // Redelivering cannot make it valid; it stays in the stream for inspection.
        this.ctx.metrics.error('invalid_message');
        this.ctx.logger.warn({ subject: message.subject, stream_seq: message.seq }, 'nats message is not a JSON object: terminated (kept in the stream, not redelivered)');
        message.term();
        return undefined;
      }
      fields = parsed as Fields;
    } else fields = { message: text };
    if (!('timestamp' in fields)) fields.timestamp = new Date(Math.floor(message.info.timestampNanos / 1e6)).toISOString();
    if (!('source_type' in fields)) fields.source_type = SOURCE_TYPE;
    fields[this.config.subject_key_field] = message.subject;
    const finalizer = new Finalizer(1, ({ rejected }) => {
      if (rejected === 0) return message.ack();
      this.ctx.metrics.discarded('rejected', rejected);
      if (this.config.on_rejected === 'nak') message.nak(this.config.nak_delay_secs * 1000);
      // No reason text: nats-server 2.9 ignores a `+TERM <reason>` (it only knows the bare `+TERM`).
      else message.term();
    });
    return new LogEvent(fields, finalizer);
  }
}
