import type { Sink, ComponentContext, EventStream } from '../../core/component.js';
import type { LogEvent } from '../../core/event.js';
import type { Batch } from '../shared/batcher.js';
import { SinkDriver, type Prepared } from '../shared/driver.js';
import { EventEncoder, type EncodingOptions } from '../shared/encoding.js';
import { httpHealthcheck } from '../shared/healthcheck.js';
import { HttpClient } from '../shared/http_client.js';
import { outcomeFromStatus } from '../shared/http_outcome.js';
import type { AttemptOutcome } from '../shared/outcome.js';
import { SinkMetrics } from '../shared/sink_metrics.js';
import { EventTemplate } from '../shared/templating.js';
import type { HttpSinkConfig } from './schema.js';

const CONTENT_TYPES = { json: 'application/json', ndjson: 'application/x-ndjson', text: 'text/plain; charset=utf-8' } as const;

/** Sends batches of encoded events to any HTTP endpoint; one request per batch. */
export class HttpSink implements Sink {
  private readonly client: HttpClient;
  private readonly encoder: EventEncoder;
  private readonly uri: EventTemplate;
  private readonly driver: SinkDriver<Buffer>;

  constructor(
    private readonly config: HttpSinkConfig,
    ctx: ComponentContext,
  ) {
    this.uri = new EventTemplate(config.uri, 'uri');
    this.encoder = new EventEncoder(config.encoding as EncodingOptions);
    this.client = new HttpClient({
      request: { ...config.request, headers: { ...config.request.headers, ...config.headers } },
      tls: config.tls,
      auth: config.auth,
      compression: config.compression,
    });
    this.driver = new SinkDriver<Buffer>(
      { prepare: (event) => this.prepare(event), send: (batch) => this.send(batch) },
      { batch: config.batch, request: config.request, logger: ctx.logger, metrics: new SinkMetrics(ctx.metrics) },
    );
  }

  async healthcheck(): Promise<void> {
    // A templated URI has no single target: nothing meaningful to probe.
    if (this.uri.isDynamic) return;
    // Endpoints made for POST often refuse HEAD (405): any answer but 5xx or an auth refusal
    // shows the endpoint is there and our credentials are accepted.
    await httpHealthcheck(this.client, this.config.uri, 'HEAD', (status) => status < 500 && status !== 401 && status !== 403);
  }

  async run(input: EventStream): Promise<void> {
    try {
      await this.driver.run(input);
    } finally {
      await this.client.close();
    }
  }

  private prepare(event: LogEvent): Prepared<Buffer> {
    const key = this.uri.isDynamic ? this.uri.render(event.fields) : this.config.uri;
    const payload = this.encoder.encodeToBuffer(event);
    return { key, payload, bytes: payload.length + 1 };
  }

  /** The body is assembled as bytes: no multi-MiB string per batch (those live until a full GC). */
  private async send(batch: Batch<Buffer>): Promise<AttemptOutcome<Buffer>> {
    const codec = this.config.encoding.codec;
    const { body, bytes, headers } = await this.client.encodeBody(joinPayloads(batch.payloads, codec === 'json'));
    const response = await this.client.send({
      method: this.config.method.toUpperCase(),
      url: batch.key,
      headers: { 'content-type': CONTENT_TYPES[codec], ...headers },
      body,
    });
    return outcomeFromStatus(batch, response, bytes);
  }
}

const COMMA = Buffer.from(',');
const NEWLINE = Buffer.from('\n');
const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');

/** A JSON array (`[a,b]`) or newline-terminated lines (`a\nb\n`). */
function joinPayloads(payloads: readonly Buffer[], asArray: boolean): Buffer {
  const parts: Buffer[] = asArray ? [OPEN] : [];
  payloads.forEach((payload, i) => {
    if (asArray && i > 0) parts.push(COMMA);
    parts.push(payload);
    if (!asArray) parts.push(NEWLINE);
  });
  if (asArray) parts.push(CLOSE);
  return Buffer.concat(parts);
}
