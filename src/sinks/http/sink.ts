import type { Sink, ComponentContext, EventStream } from '../../core/component.js';
import type { LogEvent } from '../../core/event.js';
import type { Batch } from '../shared/batcher.js';
import { SinkDriver, type Prepared } from '../shared/driver.js';
import { EventEncoder, type EncodingOptions } from '../shared/encoding.js';
import { httpHealthcheck } from '../shared/healthcheck.js';
import { HttpClient } from '../shared/http_client.js';
import { outcomeFromStatus } from '../shared/http_outcome.js';
import { PayloadSlabs } from '../shared/payload-slabs.js';
import { ReusableBuffers } from '../shared/reusable-buffers.js';
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
  private readonly payloads = new PayloadSlabs();
  private readonly bodies = new ReusableBuffers();

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
      { prepare: (event) => this.prepare(event), send: (batch) => this.send(batch), release: (batch) => this.payloads.release(batch.payloads) },
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
    this.payloads.begin();
    this.encoder.encodeInto(event, this.payloads);
    const payload = this.payloads.end();
    return { key, payload, bytes: payload.length + 1 };
  }

  /**
   * The body is assembled as bytes in a reused buffer: no multi-MiB string or fresh Buffer per
   * batch. The buffer is reused only after a 2xx: then the server has read the whole body, so no
   * socket write can still be reading it.
   */
  private async send(batch: Batch<Buffer>): Promise<AttemptOutcome<Buffer>> {
    const codec = this.config.encoding.codec;
    const joined = joinPayloads(batch.payloads, codec === 'json', this.bodies);
    const { body, bytes, headers } = await this.client.encodeBody(joined);
    if (body !== joined) this.bodies.give(joined);
    const response = await this.client.send({
      method: this.config.method.toUpperCase(),
      url: batch.key,
      headers: { 'content-type': CONTENT_TYPES[codec], ...headers },
      body,
    });
    if (body === joined && response.status >= 200 && response.status < 300) this.bodies.give(joined);
    return outcomeFromStatus(batch, response, bytes);
  }
}

const COMMA = 0x2c;
const NEWLINE = 0x0a;
const OPEN = 0x5b;
const CLOSE = 0x5d;

/** A JSON array (`[a,b]`) or newline-terminated lines (`a\nb\n`), in a buffer from `pool`. */
function joinPayloads(payloads: readonly Buffer[], asArray: boolean, pool: ReusableBuffers): Buffer {
  let size = asArray ? 2 + Math.max(0, payloads.length - 1) : payloads.length;
  for (const payload of payloads) size += payload.length;
  const out = pool.take(size);
  let at = 0;
  if (asArray) out[at++] = OPEN;
  for (let i = 0; i < payloads.length; i++) {
    if (asArray && i > 0) out[at++] = COMMA;
    at += payloads[i]!.copy(out, at);
    if (!asArray) out[at++] = NEWLINE;
  }
  if (asArray) out[at++] = CLOSE;
  return out.subarray(0, at);
}
