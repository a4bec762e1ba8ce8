import type { ComponentContext, EventStream, Sink } from '../../core/component.js';
import type { LogEvent } from '../../core/event.js';
import type { Batch } from '../shared/batcher.js';
import { EventRejected, SinkDriver, type Prepared } from '../shared/driver.js';
import { EventEncoder } from '../shared/encoding.js';
import { httpHealthcheck } from '../shared/healthcheck.js';
import { HttpClient } from '../shared/http-client.js';
import { outcomeFromStatus } from '../shared/http-outcome.js';
import type { AttemptOutcome } from '../shared/outcome.js';
import { SinkMetrics } from '../shared/sink-metrics.js';
import { epochMillis, reservedAttributes } from './attributes.js';
import { MAX_ENTRY_BYTES, MAX_PAYLOAD_BYTES, type DatadogLogsSinkConfig } from './schema.js';

/** Event fields replaced by (or folded into) Datadog's reserved attributes. */
const REPLACED = new Set(['ddsource', 'ddtags', 'service', 'hostname', 'status', 'timestamp', 'message']);
const TRUNCATED = '...TRUNCATED...';

/** The first `bytes` bytes of `text` as a string, never ending inside a character. */
function truncateUtf8(text: string, bytes: number): string {
  return Buffer.from(text).subarray(0, Math.max(0, bytes)).toString().replace(/\uFFFD+$/, '');
}

/**
 * Datadog Logs intake API v2: each request is a JSON array of at most 1000 entries and 5 MB
 * uncompressed (batch limits are capped there). Each entry carries the reserved attributes
 * (`ddsource`, `ddtags`, `service`, `hostname`, `status`, `message`, `timestamp` in ms) mapped from
 * Kubernetes metadata, and the other fields as attributes. An entry above 1 MB would be truncated
 * by Datadog anyway (it answers 2xx): its message is truncated here, so it cannot inflate a
 * request past 5 MB. A 413 splits the batch in halves, sent again at once.
 */
export class DatadogLogsSink implements Sink {
  private readonly client: HttpClient;
  private readonly encoder: EventEncoder;
  private readonly driver: SinkDriver<Buffer>;
  readonly logsUrl: string;
  readonly validateUrl: string;

  constructor(
    private readonly config: DatadogLogsSinkConfig,
    private readonly ctx: ComponentContext,
  ) {
    const intake = config.endpoint?.replace(/\/+$/, '') ?? `https://http-intake.logs.${config.site}`;
    const api = config.endpoint?.replace(/\/+$/, '') ?? `https://api.${config.site}`;
    this.logsUrl = `${intake}/api/v2/logs`;
    this.validateUrl = `${api}/api/v1/validate`;
    this.encoder = new EventEncoder(config.encoding);
    this.client = new HttpClient({
      request: { ...config.request, headers: { ...config.request.headers, 'dd-api-key': config.default_api_key } },
      tls: config.tls,
      compression: config.compression,
    });
    this.driver = new SinkDriver<Buffer>(
      { prepare: (event) => this.prepare(event), send: (batch) => this.send(batch) },
      { batch: config.batch, request: config.request, logger: ctx.logger, metrics: new SinkMetrics(ctx.metrics) },
    );
  }

  /** `GET /api/v1/validate` with the key: 200 `{"valid":true}`, 403 for a bad key. */
  async healthcheck(): Promise<void> {
    await httpHealthcheck(this.client, this.validateUrl);
  }

  async run(input: EventStream): Promise<void> {
    try {
      await this.driver.run(input);
    } finally {
      await this.client.close();
    }
  }

  /** One entry: reserved attributes first, then the event's other fields as attributes. */
  entry(event: LogEvent): Record<string, unknown> {
    const fields = this.encoder.shippedFields(event);
    const entry: Record<string, unknown> = reservedAttributes(event.fields);
    const message = fields.message;
    entry.message = typeof message === 'string' ? message : message === undefined ? '' : JSON.stringify(message);
    for (const key in fields) if (!REPLACED.has(key) && fields[key] !== undefined) entry[key] = fields[key];
    const timestamp = epochMillis(event.fields.timestamp);
    if (timestamp !== undefined) entry.timestamp = timestamp;
    return entry;
  }

  private prepare(event: LogEvent): Prepared<Buffer> {
    const entry = this.entry(event);
    let payload = Buffer.from(JSON.stringify(entry));
    if (payload.length > MAX_ENTRY_BYTES && typeof entry.message === 'string') {
      const excess = payload.length - MAX_ENTRY_BYTES;
      const messageBytes = Buffer.byteLength(JSON.stringify(entry.message));
      entry.message = truncateUtf8(entry.message as string, messageBytes - excess - TRUNCATED.length - 64) + TRUNCATED;
      payload = Buffer.from(JSON.stringify(entry));
      this.ctx.logger.debug({ bytes: payload.length }, 'datadog entry above 1 MB: message truncated');
    }
    if (payload.length > MAX_PAYLOAD_BYTES) {
      throw new EventRejected('entry_too_large', `entry of ${payload.length} bytes without its message is above Datadog's 5 MB request limit`);
    }
    return { key: '', payload, bytes: payload.length + 1 };
  }

  private async send(batch: Batch<Buffer>): Promise<AttemptOutcome<Buffer>> {
    const parts: Buffer[] = [Buffer.from('[')];
    batch.payloads.forEach((payload, i) => parts.push(i === 0 ? payload : Buffer.concat([COMMA, payload])));
    parts.push(Buffer.from(']'));
    const { body, bytes, headers } = await this.client.encodeBody(Buffer.concat(parts));
    const response = await this.client.send({ method: 'POST', url: this.logsUrl, headers: { 'content-type': 'application/json', ...headers }, body });
    if (response.status === 413 && batch.events.length > 1) {
      this.ctx.logger.info({ events: batch.events.length }, 'datadog answered 413 (payload too large): splitting the batch');
      const middle = Math.ceil(batch.events.length / 2);
      return merge(await this.send(slice(batch, 0, middle)), await this.send(slice(batch, middle, batch.events.length)));
    }
    return outcomeFromStatus(batch, response, bytes);
  }
}

const COMMA = Buffer.from(',');

function slice(batch: Batch<Buffer>, start: number, end: number): Batch<Buffer> {
  const payloads = batch.payloads.slice(start, end);
  return { key: batch.key, events: batch.events.slice(start, end), payloads, bytes: payloads.reduce((sum, p) => sum + p.length + 1, 0) };
}

/** The outcomes of the two halves of a split batch as one. */
function merge(a: AttemptOutcome<Buffer>, b: AttemptOutcome<Buffer>): AttemptOutcome<Buffer> {
  const out: AttemptOutcome<Buffer> = {
    delivered: [...a.delivered, ...b.delivered],
    deliveredBytes: a.deliveredBytes + b.deliveredBytes,
    rejected: [...a.rejected, ...b.rejected],
  };
  const retries = [a.retry, b.retry].filter((r) => r !== undefined);
  if (retries.length === 1) out.retry = retries[0];
  else if (retries.length === 2) {
    const [x, y] = retries as [NonNullable<AttemptOutcome<Buffer>['retry']>, NonNullable<AttemptOutcome<Buffer>['retry']>];
    const afters = [x.retryAfterMs, y.retryAfterMs].filter((ms) => ms !== undefined);
    out.retry = {
      batch: { key: x.batch.key, events: [...x.batch.events, ...y.batch.events], payloads: [...x.batch.payloads, ...y.batch.payloads], bytes: x.batch.bytes + y.batch.bytes },
      reason: x.reason,
      detail: x.detail,
      retryAfterMs: afters.length > 0 ? Math.max(...afters) : undefined,
    };
  }
  return out;
}
