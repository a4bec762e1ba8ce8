import type { ComponentContext, EventStream, Sink } from '../../core/component.js';
import { parsePath, type LogEvent } from '../../core/event.js';
import type { Batch } from '../shared/batcher.js';
import { SinkDriver, type Prepared } from '../shared/driver.js';
import { EventEncoder } from '../shared/encoding.js';
import { httpHealthcheck } from '../shared/healthcheck.js';
import { bodyExcerpt, HttpClient } from '../shared/http-client.js';
import { outcomeFromStatus } from '../shared/http-outcome.js';
import { omitPaths } from '../shared/omit.js';
import type { AttemptOutcome } from '../shared/outcome.js';
import { SinkMetrics } from '../shared/sink-metrics.js';
import { EventTemplate } from '../shared/templating.js';
import { StreamLabels } from './labels.js';
import { snappyPushBody, type PushStream, type PushValue } from './protobuf.js';
import type { LokiSinkConfig } from './schema.js';
import { compareNanos, nanosecondsOf } from './timestamp.js';

export interface LokiEntry {
  streamKey: string;
  labels: Record<string, string>;
  nanos: string;
  line: string;
  /** Structured metadata (Loki >= 3.0), when configured and not empty. */
  metadata: Record<string, string> | undefined;
}

const OUT_OF_ORDER = /entry out of order|too far behind|timestamp too old/i;

/**
 * Pushes to Loki's JSON push API. A batch holds one tenant's events; at send time they are
 * grouped into streams (one per label set) and each stream's entries are sorted by time, so a
 * batch never makes Loki see its own entries out of order.
 *
 * Out-of-order entries (older than what the stream already holds): Loki >= 2.4 accepts them
 * within its window (half of max_chunk_age, 1h by default); older ones, or any older entry on
 * Loki < 2.4, are refused with a 400 ("entry out of order" / "entry too far behind") while the
 * other entries of the same push are stored. Such a 400 is therefore not a failure of the batch:
 * its events are acked delivered, the refused count that Loki reports ("total ignored: N") is
 * counted as discarded (reason `loki_out_of_order`) and logged, and nothing is retried (a retry
 * would be refused again and duplicate the rest). `out_of_order_action` can instead drop or
 * re-time such entries before sending, per stream, from the newest timestamp this sink sent.
 */
export class LokiSink implements Sink {
  private readonly client: HttpClient;
  private readonly encoder: EventEncoder;
  private readonly labels: StreamLabels;
  private readonly structuredMetadata: StreamLabels | undefined;
  private readonly tenant: EventTemplate | undefined;
  private readonly removedPaths;
  private readonly driver: SinkDriver<LokiEntry>;
  private readonly metrics: SinkMetrics;
  private readonly newestSent = new Map<string, string>();

  constructor(
    private readonly config: LokiSinkConfig,
    private readonly ctx: ComponentContext,
  ) {
    this.labels = new StreamLabels(config.labels);
    this.structuredMetadata = Object.keys(config.structured_metadata).length > 0 ? new StreamLabels(config.structured_metadata, false) : undefined;
    this.tenant = config.tenant_id ? new EventTemplate(config.tenant_id, 'tenant_id') : undefined;
    this.encoder = new EventEncoder(config.encoding);
    this.removedPaths = [...(config.remove_label_fields ? this.labels.fieldPaths : []), ...(config.remove_timestamp ? [parsePath('timestamp')] : [])];
    this.client = new HttpClient({
      request: config.request,
      tls: config.tls,
      auth: config.auth,
      compression: config.compression === 'gzip' ? 'gzip' : 'none',
    });
    this.metrics = new SinkMetrics(ctx.metrics);
    this.driver = new SinkDriver<LokiEntry>(
      { prepare: (event) => this.prepare(event), send: (batch) => this.send(batch) },
      { batch: config.batch, request: config.request, logger: ctx.logger, metrics: this.metrics },
    );
  }

  async healthcheck(): Promise<void> {
    await httpHealthcheck(this.client, `${this.baseUrl()}/ready`);
  }

  async run(input: EventStream): Promise<void> {
    try {
      await this.driver.run(input);
    } finally {
      await this.client.close();
    }
  }

  private baseUrl(): string {
    return this.config.endpoint.replace(/\/+$/, '');
  }

  private prepare(event: LogEvent): Prepared<LokiEntry> {
    const { labels, key } = this.labels.render(event.fields);
    const nanos = nanosecondsOf(event.fields.timestamp);
    const line =
      this.config.encoding.codec === 'text'
        ? this.encoder.encode(event)
        : this.encoder.encodeFields(omitPaths(this.encoder.shippedFields(event), this.removedPaths));
    const tenant = this.tenant ? this.tenant.render(event.fields) : '';
    const rendered = this.structuredMetadata?.render(event.fields).labels;
    const metadata = rendered && Object.keys(rendered).length > 0 ? rendered : undefined;
    return { key: tenant, payload: { streamKey: key, labels, nanos, line, metadata }, bytes: line.length + nanos.length + 8 };
  }

  private async send(batch: Batch<LokiEntry>): Promise<AttemptOutcome<LokiEntry>> {
    const { streams, dropped, newest } = this.buildStreams(batch);
    const outcome: AttemptOutcome<LokiEntry> = { delivered: [], deliveredBytes: 0, rejected: [] };
    if (dropped.length > 0) outcome.rejected.push({ events: dropped, reason: 'out_of_order', detail: `${dropped.length} entries older than their stream's newest sent entry` });
    const droppedSet = new Set(dropped);
    const sendable = dropped.length === 0 ? batch.events : batch.events.filter((event) => !droppedSet.has(event));
    if (streams.length === 0) return outcome;
    const { body, bytes, headers } = await this.encodePush(streams);
    const response = await this.client.send({
      method: 'POST',
      url: this.baseUrl() + this.config.path,
      headers: { 'content-type': 'application/json', ...(batch.key ? { 'x-scope-orgid': batch.key } : {}), ...headers },
      body,
    });
    if (response.status === 400 && OUT_OF_ORDER.test(response.body)) {
      const ignored = Number(/total ignored: (\d+)/.exec(response.body)?.[1] ?? 0);
      if (ignored > 0) {
        this.ctx.metrics.discarded('loki_out_of_order', ignored);
        this.ctx.metrics.error('loki_out_of_order');
      }
      this.ctx.logger.warn({ ignored, detail: bodyExcerpt(response.body) }, 'loki refused out-of-order entries; the rest of the push was stored');
      outcome.delivered = sendable;
      outcome.deliveredBytes = bytes;
      outcome.status = response.status;
      this.remember(newest);
      return outcome;
    }
    const status = outcomeFromStatus({ ...batch, events: sendable }, response, bytes);
    if (status.delivered.length > 0) this.remember(newest);
    return { ...status, rejected: [...outcome.rejected, ...status.rejected] };
  }

  /** JSON (optionally gzip) or snappy-compressed protobuf, with the headers that say which. */
  private async encodePush(streams: PushStream[]) {
    if (this.config.compression === 'snappy') {
      const body = snappyPushBody(streams);
      return { body, bytes: body.length, headers: { 'content-type': 'application/x-protobuf' } };
    }
    return this.client.encodeBody(JSON.stringify({ streams }));
  }

  /** Once Loki has the entries, later ones are judged against them (only when out_of_order_action needs it). */
  private remember(newest: Map<string, string>): void {
    if (this.config.out_of_order_action === 'accept') return;
    for (const [stream, nanos] of newest) {
      const known = this.newestSent.get(stream);
      if (known === undefined || compareNanos(nanos, known) > 0) this.newestSent.set(stream, nanos);
    }
  }

  /** Streams with entries sorted by time; applies out_of_order_action against what was sent before. */
  private buildStreams(batch: Batch<LokiEntry>) {
    const byStream = new Map<string, { labels: Record<string, string>; items: Array<{ entry: LokiEntry; event: LogEvent }> }>();
    batch.payloads.forEach((entry, i) => {
      let stream = byStream.get(entry.streamKey);
      if (!stream) byStream.set(entry.streamKey, (stream = { labels: entry.labels, items: [] }));
      stream.items.push({ entry, event: batch.events[i]! });
    });
    const dropped: LogEvent[] = [];
    const streams: PushStream[] = [];
    const newestInBatch = new Map<string, string>();
    for (const [streamKey, stream] of byStream) {
      stream.items.sort((a, b) => compareNanos(a.entry.nanos, b.entry.nanos));
      const values: PushValue[] = [];
      const newest = this.newestSent.get(streamKey);
      for (const { entry, event } of stream.items) {
        let nanos = entry.nanos;
        if (newest !== undefined && this.config.out_of_order_action !== 'accept' && compareNanos(nanos, newest) < 0) {
          if (this.config.out_of_order_action === 'drop') {
            dropped.push(event);
            continue;
          }
          nanos = newest;
        }
        values.push(entry.metadata ? [nanos, entry.line, entry.metadata] : [nanos, entry.line]);
      }
      if (values.length === 0) continue;
      newestInBatch.set(streamKey, values[values.length - 1]![0]);
      streams.push({ stream: stream.labels, values });
    }
    return { streams, dropped, newest: newestInBatch };
  }
}
