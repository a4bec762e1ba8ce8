import type { Sink, ComponentContext, EventStream } from '../../core/component.js';
import type { LogEvent } from '../../core/event.js';
import type { Batch } from '../shared/batcher.js';
import { SinkDriver, type Prepared } from '../shared/driver.js';
import { EventEncoder, type EncodingOptions } from '../shared/encoding.js';
import { httpHealthcheck } from '../shared/healthcheck.js';
import { HttpClient } from '../shared/http-client.js';
import { outcomeFromStatus } from '../shared/http-outcome.js';
import { PayloadSlabs, type PayloadRef } from '../shared/payload-slabs.js';
import { ReusableBuffers } from '../shared/reusable-buffers.js';
import type { AttemptOutcome } from '../shared/outcome.js';
import { SinkMetrics } from '../shared/sink-metrics.js';
import { EventTemplate } from '../shared/templating.js';
import type { HttpSinkConfig } from './schema.js';

const CONTENT_TYPES = { json: 'application/json', ndjson: 'application/x-ndjson', text: 'text/plain; charset=utf-8' } as const;

/** Sends batches of encoded events to any HTTP endpoint; one request per batch. */
export class HttpSink implements Sink {
  private readonly client: HttpClient;
  private readonly encoder: EventEncoder;
  private readonly uri: EventTemplate;
  private readonly driver: SinkDriver<PayloadRef>;
  /** 4 MiB slabs: a typical batch (1-2 MiB) lies in one slab, so its body is one buffer. */
  private readonly payloads = new PayloadSlabs(4 * 1024 * 1024, 4);
  /** Only for JSON arrays, whose separators are known once the batch is closed. */
  private readonly bodies = new ReusableBuffers();
  private readonly lineDelimited: boolean;

  constructor(
    private readonly config: HttpSinkConfig,
    ctx: ComponentContext,
  ) {
    this.uri = new EventTemplate(config.uri, 'uri');
    this.encoder = new EventEncoder(config.encoding as EncodingOptions);
    this.lineDelimited = config.encoding.codec !== 'json';
    this.client = new HttpClient({
      request: { ...config.request, headers: { ...config.request.headers, ...config.headers } },
      tls: config.tls,
      auth: config.auth,
      compression: config.compression,
    });
    this.driver = new SinkDriver<PayloadRef>(
      { prepare: (event) => this.prepare(event), send: (batch) => this.send(batch), release: (batch) => this.payloads.releaseRefs(batch.payloads) },
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

  private prepare(event: LogEvent): Prepared<PayloadRef> {
    const key = this.uri.isDynamic ? this.uri.render(event.fields) : this.config.uri;
    this.payloads.begin();
    this.encoder.encodeInto(event, this.payloads);
    if (this.lineDelimited) this.payloads.appendByte(NEWLINE);
    const length = this.payloads.pendingLength;
    const payload = this.payloads.endRef();
    return { key, payload, bytes: this.lineDelimited ? length : length + 1 };
  }

  /**
   * Line-delimited bodies are the payloads themselves, sent in place: a batch's lines were
   * encoded one after another into the same slabs (each with its newline), so they form one or
   * two contiguous runs, and no byte is copied (joining them was ~9 % of the W2 profile). A JSON
   * array is joined into a reused buffer, taken back only after a 2xx: then the server has read
   * the whole body, so no socket write can still be reading it.
   */
  private async send(batch: Batch<PayloadRef>): Promise<AttemptOutcome<PayloadRef>> {
    const codec = this.config.encoding.codec;
    const joined = this.lineDelimited ? this.payloads.runsOf(batch.payloads) : joinJsonArray(batch.payloads.map((ref) => this.payloads.viewOf(ref)), this.bodies);
    const { body, bytes, headers } = await this.client.encodeBody(joined);
    const pooled = !this.lineDelimited && body === joined;
    if (!this.lineDelimited && !pooled) this.bodies.give(joined as Buffer);
    const response = await this.client.send({
      method: this.config.method.toUpperCase(),
      url: batch.key,
      headers: { 'content-type': CONTENT_TYPES[codec], ...headers },
      body,
    });
    if (pooled && response.status >= 200 && response.status < 300) this.bodies.give(joined as Buffer);
    return outcomeFromStatus(batch, response, bytes);
  }
}

const NEWLINE = 0x0a;
const COMMA = 0x2c;
const OPEN = 0x5b;
const CLOSE = 0x5d;

/** `[a,b]`, in a buffer from `pool`. */
function joinJsonArray(payloads: readonly Buffer[], pool: ReusableBuffers): Buffer {
  let size = 2 + Math.max(0, payloads.length - 1);
  for (const payload of payloads) size += payload.length;
  const out = pool.take(size);
  let at = 0;
  out[at++] = OPEN;
  for (let i = 0; i < payloads.length; i++) {
    if (i > 0) out[at++] = COMMA;
    at += payloads[i]!.copy(out, at);
  }
  out[at++] = CLOSE;
  return out.subarray(0, at);
}
