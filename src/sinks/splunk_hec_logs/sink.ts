import { randomUUID } from 'node:crypto';
import type { ComponentContext, EventStream, Sink } from '../../core/component.js';
import { getField, parsePath, type FieldPath, type LogEvent } from '../../core/event.js';
import type { Batch } from '../shared/batcher.js';
import { SinkDriver, type Prepared } from '../shared/driver.js';
import { EventEncoder } from '../shared/encoding.js';
import { httpHealthcheck } from '../shared/healthcheck.js';
import { bodyExcerpt, HttpClient } from '../shared/http-client.js';
import { outcomeFromStatus } from '../shared/http-outcome.js';
import { deliveredAll, rejectAll, type AttemptOutcome } from '../shared/outcome.js';
import { SinkMetrics } from '../shared/sink-metrics.js';
import { EventTemplate } from '../shared/templating.js';
import { IndexerAcks } from './acks.js';
import type { SplunkHecLogsSinkConfig } from './schema.js';

/** Query parameters of a raw request (raw target: one batch per distinct set). */
type RawMetadata = Partial<Record<'host' | 'index' | 'source' | 'sourcetype', string>>;

/** A field path as Vector writes it (`.host`) or as sluice does (`host`). */
function fieldPath(path: string): FieldPath {
  return parsePath(path.startsWith('.') ? path.slice(1) : path);
}

/** Epoch seconds with a millisecond fraction, as HEC's `time` expects; undefined without a valid time. */
export function epochSeconds(value: unknown): number | undefined {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

/**
 * Splunk HTTP Event Collector. Event target: one JSON envelope per event (`time`, `host`,
 * `source`, `sourcetype`, `index`, `event`, `fields`), newline separated. Raw target: the encoded
 * events as lines, metadata as query parameters, so batches are split per metadata set.
 *
 * With indexer acknowledgements every request names this sink's channel
 * (`X-Splunk-Request-Channel`, a UUID); a 200 carrying an `ackId` only means "received": the
 * batch's events are acked upstream once the ack endpoint reports the id indexed, and acked
 * `rejected` when it is still unconfirmed after `retry_limit` queries. A 200 without an ackId
 * (acknowledgement off on the token) counts as delivered, as in Vector.
 */
export class SplunkHecLogsSink implements Sink {
  private readonly client: HttpClient;
  private readonly encoder: EventEncoder;
  private readonly driver: SinkDriver<Buffer>;
  private readonly templates: Array<[keyof RawMetadata, EventTemplate]> = [];
  private readonly hostPath: FieldPath;
  private readonly timestampPath: FieldPath;
  private readonly indexedPaths: Array<[string, FieldPath]>;
  private readonly channel = randomUUID();
  private readonly acks: IndexerAcks | undefined;

  constructor(
    private readonly config: SplunkHecLogsSinkConfig,
    private readonly ctx: ComponentContext,
  ) {
    for (const key of ['index', 'source', 'sourcetype'] as const) {
      const source = config[key];
      if (source !== undefined) this.templates.push([key, new EventTemplate(source, key)]);
    }
    this.hostPath = fieldPath(config.host_key);
    this.timestampPath = fieldPath(config.timestamp_key);
    this.indexedPaths = config.indexed_fields.map((name) => [name.replace(/^\./, ''), fieldPath(name)]);
    this.encoder = new EventEncoder(config.encoding);
    this.client = new HttpClient({
      request: { ...config.request, headers: { ...config.request.headers, authorization: `Splunk ${config.default_token}` } },
      tls: config.tls,
      compression: config.compression,
    });
    const ack = config.acknowledgements;
    if (ack.indexer_acknowledgements_enabled) {
      this.acks = new IndexerAcks(this.client, `${this.baseUrl()}/services/collector/ack`, this.channel, ack.query_interval * 1000, ack.retry_limit, ctx.logger);
    }
    this.driver = new SinkDriver<Buffer>(
      { prepare: (event) => this.prepare(event), send: (batch) => this.send(batch) },
      { batch: config.batch, request: config.request, logger: ctx.logger, metrics: new SinkMetrics(ctx.metrics) },
    );
  }

  async healthcheck(): Promise<void> {
    await httpHealthcheck(this.client, `${this.baseUrl()}/services/collector/health`);
  }

  async run(input: EventStream): Promise<void> {
    try {
      await this.driver.run(input);
    } finally {
      this.acks?.close();
      await this.client.close();
    }
  }

  private baseUrl(): string {
    return this.config.endpoint.replace(/\/+$/, '');
  }

  private metadata(event: LogEvent): RawMetadata {
    const out: RawMetadata = {};
    const host = getField(event.fields, this.hostPath);
    if (host !== undefined && host !== null) out.host = typeof host === 'string' ? host : JSON.stringify(host);
    for (const [key, template] of this.templates) out[key] = template.render(event.fields);
    return out;
  }

  private prepare(event: LogEvent): Prepared<Buffer> {
    const metadata = this.metadata(event);
    if (this.config.endpoint_target === 'raw') {
      const line = Buffer.from(this.encoder.encode(event) + '\n');
      return { key: JSON.stringify(metadata), payload: line, bytes: line.length };
    }
    const envelope: Record<string, unknown> = {};
    const time = epochSeconds(getField(event.fields, this.timestampPath));
    if (time !== undefined) envelope.time = time;
    Object.assign(envelope, metadata);
    envelope.event = this.config.encoding.codec === 'text' ? this.encoder.encode(event) : this.encoder.shippedFields(event);
    if (this.indexedPaths.length > 0) {
      const fields: Record<string, unknown> = {};
      for (const [name, path] of this.indexedPaths) {
        const value = getField(event.fields, path);
        if (value !== undefined) fields[name] = value;
      }
      if (Object.keys(fields).length > 0) envelope.fields = fields;
    }
    const payload = Buffer.from(JSON.stringify(envelope) + '\n');
    return { key: '', payload, bytes: payload.length };
  }

  private requestUrl(key: string): string {
    if (this.config.endpoint_target === 'event') return `${this.baseUrl()}/services/collector/event`;
    const params = new URLSearchParams({ channel: this.channel, ...(JSON.parse(key) as RawMetadata) });
    return `${this.baseUrl()}/services/collector/raw?${params.toString()}`;
  }

  private async send(batch: Batch<Buffer>): Promise<AttemptOutcome<Buffer>> {
    const { body, bytes, headers } = await this.client.encodeBody(Buffer.concat(batch.payloads));
    const response = await this.client.send({
      method: 'POST',
      url: this.requestUrl(batch.key),
      headers: {
        'content-type': this.config.endpoint_target === 'event' ? 'application/json' : 'text/plain; charset=utf-8',
        'x-splunk-request-channel': this.channel,
        ...headers,
      },
      body,
    });
    if (response.status !== 200) return outcomeFromStatus(batch, response, bytes);
    const ackId = this.acks ? parseAckId(response.body) : undefined;
    if (ackId === undefined || !this.acks) return deliveredAll(batch, bytes);
    if (await this.acks.wait(ackId)) return deliveredAll(batch, bytes);
    return rejectAll(
      batch,
      'indexer_ack_timeout',
      `ackId ${ackId} not confirmed indexed after ${this.config.acknowledgements.retry_limit} queries: ${bodyExcerpt(response.body)}`,
    );
  }
}

function parseAckId(body: string): number | undefined {
  try {
    const parsed = JSON.parse(body) as { ackId?: unknown };
    return typeof parsed.ackId === 'number' ? parsed.ackId : undefined;
  } catch {
    return undefined;
  }
}
