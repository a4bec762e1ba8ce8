import type { Logger } from 'pino';
import { ackAll, type LogEvent } from '../../core/event.js';
import { RepeatReporter } from '../../core/repeat-reporter.js';
import type { EventStream } from '../../core/component.js';
import { Batcher, type Batch } from './batcher.js';
import { ConcurrencyLimit } from './concurrency.js';
import type { AttemptOutcome } from './outcome.js';
import { RequestRateLimit } from './rate-limit.js';
import { Backoff, networkErrorReason, sleep } from './retry.js';
import type { BatchOptions, RequestOptions } from './schemas.js';
import type { SinkMetrics } from './sink-metrics.js';

/** Thrown by `prepare` to refuse one event; `reason` is a fixed metric label. */
export class EventRejected extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** One event made ready for a destination: its partition key, payload and size in bytes. */
export interface Prepared<P> {
  key: string;
  payload: P;
  bytes: number;
}

/** What a sink supplies; the driver does batching, concurrency, retries, acks and metrics. */
export interface SinkService<P> {
  /** Throw `EventRejected` to refuse one event (e.g. a template field is missing). */
  prepare(event: LogEvent): Prepared<P>;
  /** One attempt. Throwing means a transport failure: the whole batch is retried. */
  send(batch: Batch<P>): Promise<AttemptOutcome<P>>;
  /** The batch is finished (every event acked): its payloads are not read again. */
  release?(batch: Batch<P>): void;
}

export interface SinkDriverOptions {
  batch: BatchOptions;
  request: Pick<
    RequestOptions,
    | 'concurrency'
    | 'adaptive_max_concurrency'
    | 'retry_attempts'
    | 'retry_total_secs'
    | 'retry_initial_backoff_secs'
    | 'retry_max_duration_secs'
    | 'retry_jitter_mode'
    | 'rate_limit_num'
    | 'rate_limit_duration_secs'
  >;
  logger: Logger;
  metrics: SinkMetrics;
}

/**
 * Runs a network sink: reads the input stream, batches per partition key, sends up to
 * `request.concurrency` batches at once, retries what the destination asks to retry (network
 * errors, 429, 5xx, per-item failures) with backoff, and acks every event exactly once:
 * 'delivered' once accepted, 'rejected' once refused for good or out of retries.
 *
 * Backpressure: when every request slot is busy and batches are waiting, reading the input stops
 * until a slot frees, so a slow destination slows the buffer in front of the sink.
 */
export class SinkDriver<P> {
  private readonly limit: ConcurrencyLimit;
  private readonly rateLimit: RequestRateLimit;
  private readonly ready: Batch<P>[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private wakeReader: (() => void) | undefined;
  /** A dead destination fails every attempt: one warning, then a line per 5 s, then "recovered". */
  private readonly failures: RepeatReporter;
  private readonly rejections: RepeatReporter;

  constructor(
    private readonly service: SinkService<P>,
    private readonly options: SinkDriverOptions,
  ) {
    this.limit = new ConcurrencyLimit(options.request.concurrency, options.request.adaptive_max_concurrency);
    this.rateLimit = new RequestRateLimit(options.request.rate_limit_num, options.request.rate_limit_duration_secs * 1000);
    this.failures = new RepeatReporter(options.logger, { recoveredMessage: 'requests succeed again: delivery recovered' });
    this.rejections = new RepeatReporter(options.logger);
  }

  async run(input: EventStream): Promise<void> {
    const batcher = new Batcher<P>(
      {
        maxEvents: this.options.batch.max_events,
        maxBytes: this.options.batch.max_bytes,
        timeoutMs: this.options.batch.timeout_secs * 1000,
      },
      (batch) => this.enqueue(batch),
    );
    try {
      for await (const events of input) {
        for (const event of events) {
          let prepared: Prepared<P>;
          try {
            prepared = this.service.prepare(event);
          } catch (error) {
            const reason = error instanceof EventRejected ? error.reason : 'encoding_failed';
            this.reject([event], reason, (error as Error).message);
            continue;
          }
          // Retries resend the payload: only the acknowledgement handle is needed from here on.
          event.dropFields();
          batcher.add(prepared.key, event, prepared.payload, prepared.bytes);
        }
        while (this.ready.length > 0) await new Promise<void>((resolve) => (this.wakeReader = resolve));
      }
    } finally {
      batcher.flushAll();
    }
    while (this.ready.length > 0 || this.inFlight.size > 0) {
      await Promise.race([...this.inFlight, new Promise<void>((resolve) => (this.wakeReader = resolve))]);
    }
  }

  /** Count, log and ack events refused for good. */
  reject(events: LogEvent[], reason: string, detail: string): void {
    if (events.length === 0) return;
    this.options.metrics.rejected(reason, events.length);
    this.rejections.report({ reason, events: events.length, detail }, 'events dropped: rejected for good');
    ackAll(events, 'rejected');
  }

  private enqueue(batch: Batch<P>): void {
    this.ready.push(batch);
    this.pump();
  }

  private pump(): void {
    while (this.ready.length > 0 && this.limit.tryAcquire()) {
      const batch = this.ready.shift()!;
      const delivery: Promise<void> = this.deliver(batch).finally(() => {
        this.service.release?.(batch);
        this.inFlight.delete(delivery);
        this.limit.release();
        this.reportInFlight();
        this.pump();
      });
      this.inFlight.add(delivery);
    }
    this.reportInFlight();
    if (this.ready.length === 0) {
      const wake = this.wakeReader;
      this.wakeReader = undefined;
      wake?.();
    }
  }

  private reportInFlight(): void {
    this.options.metrics.setInFlight(this.limit.inFlight, this.limit.current);
  }

  /** Attempts a batch until nothing is left to retry or the retry budget is spent. */
  private async deliver(first: Batch<P>): Promise<void> {
    const { request, metrics } = this.options;
    const backoff = new Backoff(request);
    const started = Date.now();
    let batch = first;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(batch);
      if (outcome.delivered.length > 0) {
        metrics.delivered(outcome.delivered.length, outcome.deliveredBytes);
        ackAll(outcome.delivered, 'delivered');
        this.failures.recovered();
      }
      for (const rejection of outcome.rejected) this.reject(rejection.events, rejection.reason, rejection.detail);
      const retry = outcome.retry;
      if (!retry || retry.batch.events.length === 0) return;
      const outOfAttempts = request.retry_attempts !== undefined && attempt >= request.retry_attempts;
      const delay = backoff.nextDelayMs(retry.retryAfterMs);
      const outOfTime = request.retry_total_secs !== undefined && Date.now() + delay - started > request.retry_total_secs * 1000;
      if (outOfAttempts || outOfTime) {
        this.reject(retry.batch.events, 'retries_exhausted', `${retry.reason}: ${retry.detail}`);
        return;
      }
      metrics.retried(retry.reason);
      this.failures.report(
        { reason: retry.reason, detail: retry.detail, events: retry.batch.events.length, attempt: attempt + 1, retry_in_ms: delay },
        'request failed: retrying',
      );
      await sleep(delay);
      batch = retry.batch;
    }
  }

  private async attempt(batch: Batch<P>): Promise<AttemptOutcome<P>> {
    await this.rateLimit.take();
    const start = process.hrtime.bigint();
    let outcome: AttemptOutcome<P>;
    try {
      outcome = await this.service.send(batch);
    } catch (error) {
      const reason = networkErrorReason(error);
      outcome = { delivered: [], deliveredBytes: 0, rejected: [], retry: { batch, reason, detail: transportMessage(error) } };
    }
    const retryReason = outcome.retry?.reason;
    // No HTTP answer: the transport's reason (network, timeout, tls) stands in for the status.
    this.options.metrics.observeLatency(Number(process.hrtime.bigint() - start) / 1e9, outcome.status !== undefined ? String(outcome.status) : (retryReason ?? 'none'));
    this.limit.observe(retryReason !== undefined && retryReason !== 'http_4xx');
    if (retryReason) this.options.metrics.component.error(retryReason);
    return outcome;
  }
}

/** A transport error's message with its cause (undici wraps the socket error). */
function transportMessage(error: unknown): string {
  const err = error as Error & { cause?: Error; code?: string };
  const cause = err.cause?.message ? ` (${err.cause.message})` : '';
  return `${typeof err.code === 'string' ? err.code : err.name}: ${err.message}${cause}`;
}
