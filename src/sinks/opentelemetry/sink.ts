import protobuf from 'protobufjs';
import type { ComponentContext, EventStream, Sink } from '../../core/component.js';
import type { LogEvent } from '../../core/event.js';
import type { Batch } from '../shared/batcher.js';
import { SinkDriver, type Prepared } from '../shared/driver.js';
import { bodyExcerpt, HttpClient, type HttpResponse } from '../shared/http-client.js';
import { outcomeFromStatus } from '../shared/http-outcome.js';
import { rejectAll, retryAll, type AttemptOutcome } from '../shared/outcome.js';
import { parseRetryAfter, statusReason } from '../shared/retry.js';
import { SinkMetrics } from '../shared/sink-metrics.js';
import { logRecordOf, ResourceMapper, type ResourceOf } from './mapping.js';
import { ExportLogsServiceResponse, LogRecord, Resource, toOtlpJson } from './otlp.js';
import { logsUrl, type OpentelemetrySinkConfig } from './schema.js';

/** One event, encoded once at prepare time (retries resend the same bytes). */
export interface OtlpEntry {
  resourceKey: string;
  /** The encoded Resource (protobuf bytes or OTLP/JSON text), shared by every event of the resource. */
  resource: Uint8Array | string;
  /** The encoded LogRecord. */
  record: Uint8Array | string;
}

/** OTLP says which statuses may be retried: 429, 502, 503, 504 (with Retry-After). */
const RETRYABLE = new Set([429, 502, 503, 504]);
const SCOPE = { name: 'sluice' };

/**
 * OTLP/HTTP logs exporter. Each event becomes a LogRecord encoded in `prepare` (protobufjs, from
 * the vendored opentelemetry-proto descriptor); a batch becomes one ExportLogsServiceRequest with
 * one ResourceLogs per distinct resource (pod + container), framed around the pre-encoded records
 * so nothing is encoded twice.
 *
 * A 2xx answer may carry `partial_success.rejected_log_records = n`: OTLP does not say which
 * records, so n events of the batch (the last n) are acked rejected (reason `partial_success`,
 * counted in the discarded-events metric) and the rest delivered; the counts stay exact.
 */
export class OpentelemetrySink implements Sink {
  private readonly client: HttpClient;
  private readonly driver: SinkDriver<OtlpEntry>;
  private readonly resources = new ResourceMapper();
  private readonly encodedResources = new WeakMap<ResourceOf, Uint8Array | string>();
  private readonly json: boolean;
  private readonly url: string;

  constructor(
    private readonly config: OpentelemetrySinkConfig,
    private readonly ctx: ComponentContext,
  ) {
    this.json = config.encoding.codec === 'json';
    this.url = logsUrl(config);
    this.client = new HttpClient({ request: config.request, tls: config.tls, auth: config.auth, compression: config.compression });
    this.driver = new SinkDriver<OtlpEntry>(
      { prepare: (event) => this.prepare(event), send: (batch) => this.send(batch) },
      { batch: config.batch, request: config.request, logger: ctx.logger, metrics: new SinkMetrics(ctx.metrics) },
    );
  }

  async run(input: EventStream): Promise<void> {
    try {
      await this.driver.run(input);
    } finally {
      await this.client.close();
    }
  }

  private prepare(event: LogEvent): Prepared<OtlpEntry> {
    const resource = this.resources.resourceOf(event.fields);
    let encodedResource = this.encodedResources.get(resource);
    if (encodedResource === undefined) {
      const message = { attributes: resource.attributes };
      encodedResource = this.json ? JSON.stringify(toOtlpJson(message)) : Resource.encode(message).finish();
      this.encodedResources.set(resource, encodedResource);
    }
    const record = logRecordOf(event.fields, BigInt(Date.now()) * 1_000_000n);
    const encoded = this.json ? JSON.stringify(toOtlpJson(record)) : LogRecord.encode(record).finish();
    return { key: '', payload: { resourceKey: resource.key, resource: encodedResource, record: encoded }, bytes: encoded.length + 8 };
  }

  private async send(batch: Batch<OtlpEntry>): Promise<AttemptOutcome<OtlpEntry>> {
    const { body, bytes, headers } = await this.client.encodeBody(requestBody(batch.payloads, this.json));
    const contentType = this.json ? 'application/json' : 'application/x-protobuf';
    const response = await this.client.send({
      method: 'POST',
      url: this.url,
      headers: { 'content-type': contentType, ...headers },
      body,
      binaryResponse: true,
    });
    const { status } = response;
    if (status >= 200 && status < 300) return this.accepted(batch, response, bytes);
    const detail = `HTTP ${status}: ${bodyExcerpt(response.body)}`;
    if (RETRYABLE.has(status)) return retryAll(batch, statusReason(status), detail, parseRetryAfter(response.headers['retry-after']));
    if (status >= 500) return rejectAll(batch, statusReason(status), detail);
    return outcomeFromStatus(batch, response, bytes);
  }

  /** A 2xx: everything delivered unless the answer reports a partial success. */
  private accepted(batch: Batch<OtlpEntry>, response: HttpResponse, bytes: number): AttemptOutcome<OtlpEntry> {
    const { rejected, message } = partialSuccessOf(response);
    const count = Math.min(rejected, batch.events.length);
    if (count === 0) {
      if (message) this.ctx.logger.warn({ detail: message }, 'OTLP receiver accepted the logs with a warning');
      return { delivered: batch.events, deliveredBytes: bytes, rejected: [] };
    }
    const split = batch.events.length - count;
    return {
      delivered: batch.events.slice(0, split),
      deliveredBytes: bytes,
      rejected: [{ events: batch.events.slice(split), reason: 'partial_success', detail: `receiver rejected ${rejected} of ${batch.events.length} log records: ${message}` }],
    };
  }
}

/** The ExportLogsServiceRequest for a batch: one ResourceLogs per resource, records in batch order. */
export function requestBody(entries: readonly OtlpEntry[], json: boolean): Buffer | string {
  const groups = new Map<string, { resource: Uint8Array | string; records: Array<Uint8Array | string> }>();
  for (const entry of entries) {
    let group = groups.get(entry.resourceKey);
    if (!group) groups.set(entry.resourceKey, (group = { resource: entry.resource, records: [] }));
    group.records.push(entry.record);
  }
  if (json) {
    const parts: string[] = [];
    for (const { resource, records } of groups.values()) {
      parts.push(`{"resource":${resource as string},"scopeLogs":[{"scope":${JSON.stringify(SCOPE)},"logRecords":[${records.join(',')}]}]}`);
    }
    return `{"resourceLogs":[${parts.join(',')}]}`;
  }
  // Field numbers from logs_service.proto / logs.proto; (n << 3) | 2 = length-delimited.
  const writer = protobuf.Writer.create();
  for (const { resource, records } of groups.values()) {
    writer.uint32((1 << 3) | 2).fork(); // ExportLogsServiceRequest.resource_logs
    writer.uint32((1 << 3) | 2).bytes(resource as Uint8Array); // ResourceLogs.resource
    writer.uint32((2 << 3) | 2).fork(); // ResourceLogs.scope_logs
    writer.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string(SCOPE.name).ldelim(); // ScopeLogs.scope
    for (const record of records) writer.uint32((2 << 3) | 2).bytes(record as Uint8Array); // ScopeLogs.log_records
    writer.ldelim();
    writer.ldelim();
  }
  const bytes = writer.finish(); // a Buffer under Node: no copy
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** `partial_success` of an ExportLogsServiceResponse, protobuf or JSON as the content type says. */
export function partialSuccessOf(response: Pick<HttpResponse, 'headers' | 'body' | 'bytes'>): { rejected: number; message: string } {
  const type = String(response.headers['content-type'] ?? '');
  try {
    if (type.includes('protobuf') && response.bytes) {
      if (response.bytes.length === 0) return { rejected: 0, message: '' };
      const decoded = ExportLogsServiceResponse.toObject(ExportLogsServiceResponse.decode(response.bytes), { longs: String }) as {
        partialSuccess?: { rejectedLogRecords?: string; errorMessage?: string };
      };
      return { rejected: Number(decoded.partialSuccess?.rejectedLogRecords ?? 0), message: decoded.partialSuccess?.errorMessage ?? '' };
    }
    if (response.body.trim() === '') return { rejected: 0, message: '' };
    const parsed = JSON.parse(response.body) as { partialSuccess?: { rejectedLogRecords?: string | number; errorMessage?: string } };
    return { rejected: Number(parsed.partialSuccess?.rejectedLogRecords ?? 0) || 0, message: parsed.partialSuccess?.errorMessage ?? '' };
  } catch {
    return { rejected: 0, message: '' }; // a 2xx with an unreadable body: the receiver took the data
  }
}
