import type { ComponentContext, EventStream, Sink } from '../../core/component.js';
import { getField, parsePath, type FieldPath, type Fields, type LogEvent } from '../../core/event.js';
import { subBatch, type Batch } from '../shared/batcher.js';
import { EventRejected, SinkDriver, type Prepared } from '../shared/driver.js';
import { EventEncoder } from '../shared/encoding.js';
import { bodyExcerpt, HttpClient, type HttpResponse } from '../shared/http-client.js';
import { outcomeFromStatus } from '../shared/http-outcome.js';
import { rejectAll, retryAll, type AttemptOutcome } from '../shared/outcome.js';
import { SinkMetrics } from '../shared/sink-metrics.js';
import { EventTemplate } from '../shared/templating.js';
import { GoogleTokenSource, metadataHost, readServiceAccount, TokenError, type AccessToken } from './auth.js';
import { MAX_ENTRY_BYTES, parentOf, type GcpStackdriverLogsSinkConfig } from './schema.js';
import { severityName } from './severity.js';

/** For `k8s_container`, labels not configured come from the event's Kubernetes fields when it has them. */
const K8S_CONTAINER_DEFAULTS: Array<[string, FieldPath]> = [
  ['namespace_name', ['kubernetes', 'pod_namespace']],
  ['pod_name', ['kubernetes', 'pod_name']],
  ['container_name', ['kubernetes', 'container_name']],
];

/** google.rpc.Code values worth another try for one entry. */
const RETRYABLE_CODES = new Set([4, 8, 10, 13, 14]);

/** A copy of `fields` without `path` (objects on the way copied, nothing else). */
function without(fields: Fields, path: FieldPath): Fields {
  const [head, ...rest] = path;
  if (head === undefined || !(head in fields)) return fields;
  const copy = { ...fields };
  if (rest.length === 0) delete copy[head];
  else {
    const child = copy[head];
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) copy[head] = without(child as Fields, rest);
  }
  return copy;
}

/** The `WriteLogEntriesPartialErrors` of an error answer: failed entry index -> {code, message}. */
function partialErrors(body: string): Map<number, { code?: number; message?: string }> | undefined {
  try {
    const details = (JSON.parse(body) as { error?: { details?: Array<Record<string, unknown>> } }).error?.details ?? [];
    const partial = details.find((d) => typeof d['@type'] === 'string' && d['@type'].endsWith('google.logging.v2.WriteLogEntriesPartialErrors'));
    if (!partial || typeof partial.logEntryErrors !== 'object' || partial.logEntryErrors === null) return undefined;
    return new Map(Object.entries(partial.logEntryErrors as Record<string, { code?: number; message?: string }>).map(([index, status]) => [Number(index), status]));
  } catch {
    return undefined;
  }
}

/**
 * Google Cloud Logging `entries.write` (`POST /v2/entries:write`), one request per batch with
 * `partialSuccess: true`; each entry carries its `logName` (from the templated log_id), its
 * monitored `resource` (for `k8s_container`: labels from the Kubernetes fields), `jsonPayload` (or
 * `textPayload`), `timestamp`, `severity` (from severity_key) and `labels`. A 400 naming failed
 * entries (`WriteLogEntriesPartialErrors`) rejects those and delivers the rest, which Cloud
 * Logging wrote. Credentials: an OAuth token from a service-account key or the metadata server
 * (Workload Identity), renewed before expiry and after a 401; or an API key.
 */
export class GcpStackdriverLogsSink implements Sink {
  private readonly client: HttpClient;
  private readonly encoder: EventEncoder;
  private readonly driver: SinkDriver<Buffer>;
  private readonly parent: string;
  private readonly logId: EventTemplate;
  private readonly resourceLabels: Array<[string, EventTemplate]>;
  private readonly defaultLabels: Array<[string, FieldPath]> = [];
  private readonly staticResourceLabels: Record<string, string> = {};
  private readonly entryLabels: Array<[string, EventTemplate]>;
  private readonly severityPath: FieldPath | undefined;
  private readonly tokens: GoogleTokenSource | undefined;
  readonly writeUrl: string;

  constructor(
    private readonly config: GcpStackdriverLogsSinkConfig,
    private readonly ctx: ComponentContext,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.parent = parentOf(config);
    this.writeUrl = `${config.endpoint.replace(/\/+$/, '')}/v2/entries:write`;
    this.logId = new EventTemplate(config.log_id, 'log_id');
    const { type, ...labels } = config.resource;
    this.resourceLabels = Object.entries(labels).map(([name, source]) => [name, new EventTemplate(source as string, `resource.${name}`)]);
    if (type === 'k8s_container') {
      if (config.project_id !== undefined && labels.project_id === undefined) this.staticResourceLabels.project_id = config.project_id;
      for (const [name, path] of K8S_CONTAINER_DEFAULTS) if (labels[name] === undefined) this.defaultLabels.push([name, path]);
      const missing = ['location', 'cluster_name'].filter((name) => labels[name] === undefined);
      if (missing.length) ctx.logger.warn({ missing }, `resource.type k8s_container without ${missing.join(' and ')}: the Kubernetes views of Cloud Logging will not find these entries`);
    }
    this.entryLabels = Object.entries(config.labels).map(([name, source]) => [name, new EventTemplate(source, `labels.${name}`)]);
    this.severityPath = config.severity_key ? parsePath(config.severity_key.replace(/^\./, '')) : undefined;
    this.encoder = new EventEncoder(config.encoding);
    const credentials = config.credentials_path ?? env.GOOGLE_APPLICATION_CREDENTIALS;
    if (config.api_key === undefined) {
      this.tokens = new GoogleTokenSource(
        credentials ? { serviceAccount: readServiceAccount(credentials) } : { metadataHost: metadataHost(env) },
        config.request.timeout_secs * 1000,
      );
    }
    this.client = new HttpClient({
      request: { ...config.request, headers: { ...config.request.headers, ...(config.api_key ? { 'x-goog-api-key': config.api_key } : {}) } },
      tls: config.tls,
    });
    this.driver = new SinkDriver<Buffer>(
      { prepare: (event) => this.prepare(event), send: (batch) => this.send(batch) },
      { batch: config.batch, request: config.request, logger: ctx.logger, metrics: new SinkMetrics(ctx.metrics) },
    );
  }

  /** Gets a token (the credentials work) and writes an empty entries list (the API takes them), as Vector does. */
  async healthcheck(): Promise<void> {
    let token: AccessToken | undefined;
    try {
      token = await this.tokens?.get();
    } catch (error) {
      throw new Error(`healthcheck: ${(error as Error).message}`);
    }
    const response = await this.post(Buffer.from('{"entries":[]}'), token).catch((error: Error) => {
      throw new Error(`healthcheck POST ${this.writeUrl} failed: ${error.message}`);
    });
    if (response.status < 200 || response.status >= 300) throw new Error(`healthcheck POST ${this.writeUrl} answered HTTP ${response.status}: ${bodyExcerpt(response.body, 300)}`);
  }

  async run(input: EventStream): Promise<void> {
    try {
      await this.driver.run(input);
    } finally {
      await this.client.close();
    }
  }

  /** One LogEntry, as entries.write takes it. */
  entry(event: LogEvent): Record<string, unknown> {
    const fields = event.fields;
    const entry: Record<string, unknown> = { logName: `${this.parent}/logs/${encodeURIComponent(this.logId.render(fields))}` };
    const labels: Record<string, string> = { ...this.staticResourceLabels };
    for (const [name, path] of this.defaultLabels) {
      const value = getField(fields, path);
      if (typeof value === 'string' && value !== '') labels[name] = value;
    }
    for (const [name, template] of this.resourceLabels) labels[name] = template.render(fields);
    entry.resource = { type: this.config.resource.type, labels };
    let shipped = this.encoder.shippedFields(event);
    if (this.severityPath) {
      const severity = severityName(getField(fields, this.severityPath));
      if (severity !== undefined) entry.severity = severity;
      shipped = without(shipped, this.severityPath);
    }
    if (this.config.encoding.codec === 'text') {
      const message = shipped.message;
      entry.textPayload = typeof message === 'string' ? message : message === undefined ? '' : JSON.stringify(message);
    } else entry.jsonPayload = shipped;
    const timestamp = fields.timestamp;
    if (timestamp instanceof Date) entry.timestamp = timestamp.toISOString();
    else if (typeof timestamp === 'string' && !Number.isNaN(Date.parse(timestamp))) entry.timestamp = timestamp;
    if (this.entryLabels.length) entry.labels = Object.fromEntries(this.entryLabels.map(([name, template]) => [name, template.render(fields)]));
    return entry;
  }

  private prepare(event: LogEvent): Prepared<Buffer> {
    const payload = Buffer.from(JSON.stringify(this.entry(event)));
    if (payload.length > MAX_ENTRY_BYTES) throw new EventRejected('entry_too_large', `log entry of ${payload.length} bytes is above Cloud Logging's 256 KiB limit`);
    return { key: '', payload, bytes: payload.length + 1 };
  }

  private post(body: Buffer, token: AccessToken | undefined): Promise<HttpResponse> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token.token}`;
    return this.client.send({ method: 'POST', url: this.writeUrl, headers, body });
  }

  private async send(batch: Batch<Buffer>): Promise<AttemptOutcome<Buffer>> {
    let token: AccessToken | undefined;
    try {
      token = await this.tokens?.get();
    } catch (error) {
      const permanent = error instanceof TokenError && error.permanent;
      return permanent ? rejectAll(batch, 'auth_failed', (error as Error).message) : retryAll(batch, 'auth_unavailable', (error as Error).message);
    }
    const parts: Buffer[] = [OPEN];
    batch.payloads.forEach((payload, i) => parts.push(...(i === 0 ? [payload] : [COMMA, payload])));
    parts.push(CLOSE);
    const body = Buffer.concat(parts);
    const response = await this.post(body, token);
    if (response.status === 401 && token) {
      this.tokens!.invalidate(token.token);
      // A cached token may have been revoked or expired early: one more try with a new one.
      if (!token.fresh) return { ...retryAll(batch, 'http_401', `HTTP 401: ${bodyExcerpt(response.body)}`), status: 401 };
    }
    if (response.status === 400) {
      const failed = partialErrors(response.body);
      if (failed) return this.partial(batch, failed, body.length);
    }
    return outcomeFromStatus(batch, response, body.length);
  }

  /** Cloud Logging wrote every entry but the failed ones: those are rejected (or retried when their code says so). */
  private partial(batch: Batch<Buffer>, failed: Map<number, { code?: number; message?: string }>, sentBytes: number): AttemptOutcome<Buffer> {
    const outcome: AttemptOutcome<Buffer> = { delivered: [], deliveredBytes: 0, rejected: [], status: 400 };
    const rejected: LogEvent[] = [];
    const retry: number[] = [];
    let detail = '';
    batch.events.forEach((event, i) => {
      const status = failed.get(i);
      if (status === undefined) return void outcome.delivered.push(event);
      detail ||= `entry ${i}: code ${status.code ?? '?'}: ${status.message ?? ''}`;
      if (status.code !== undefined && RETRYABLE_CODES.has(status.code)) retry.push(i);
      else rejected.push(event);
    });
    outcome.deliveredBytes = Math.round((sentBytes * outcome.delivered.length) / batch.events.length);
    if (rejected.length) outcome.rejected.push({ events: rejected, reason: 'invalid_entry', detail: `Cloud Logging refused ${rejected.length} of ${batch.events.length} entries (${detail})` });
    if (retry.length) outcome.retry = { batch: subBatch(batch, retry, (p) => p.length + 1), reason: 'partial_retry', detail };
    return outcome;
  }
}

const OPEN = Buffer.from('{"partialSuccess":true,"entries":[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');
