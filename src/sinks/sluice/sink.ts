import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { ComponentContext, EventStream, Sink } from '../../core/component.js';
import type { LogEvent } from '../../core/event.js';
import type { Batch } from '../shared/batcher.js';
import { SinkDriver, type Prepared } from '../shared/driver.js';
import { EventEncoder } from '../shared/encoding.js';
import { rejectAll, retryAll, type AttemptOutcome } from '../shared/outcome.js';
import { contiguousRuns, PayloadSlabs } from '../shared/payload-slabs.js';
import { networkErrorReason, parseRetryAfter, statusReason } from '../shared/retry.js';
import { SinkMetrics } from '../shared/sink-metrics.js';
import { tlsConnectOptions } from '../shared/tls.js';
import { EndpointPool, type Endpoint, type Resolver } from './endpoints.js';
import { CONTENT_TYPE, EVENTS_PATH, FRAME_HEADER_BYTES, HEALTH_PATH, parseAddress, parseAnswer, type ParsedAddress } from './protocol.js';
import { addressList, usesGzip, type SluiceSinkConfig } from './schema.js';

const gzip = promisify(gzipCallback);
const ENCODER = new EventEncoder({ codec: 'json' });

/**
 * Sends events to sluice aggregators (the `sluice` source) over HTTP/2, one POST per batch of
 * length-prefixed JSON frames (see protocol.ts). An event is acknowledged `delivered` only when
 * the aggregator answers 200, which it does once its own sinks have finished with the batch
 * (written to a disk buffer, or delivered): the agent's checkpoints follow the far side.
 *
 * Each attempt goes to a healthy endpoint (balanced); a transport failure, 5xx or 503 there marks
 * it down and the same attempt moves on to the next healthy endpoint, so a dead aggregator costs
 * one failed request, not a retry backoff. Only when every endpoint failed does the driver retry.
 */
export class SluiceSink implements Sink {
  private readonly driver: SinkDriver<Buffer>;
  private readonly pool: EndpointPool;
  private readonly payloads = new PayloadSlabs(4 * 1024 * 1024, 4);
  private readonly gzip: boolean;
  private readonly timeoutMs: number;
  private started: Promise<void> | undefined;

  constructor(
    private readonly config: SluiceSinkConfig,
    private readonly ctx: ComponentContext,
    resolver?: Resolver,
  ) {
    this.gzip = usesGzip(config);
    this.timeoutMs = config.request.timeout_secs * 1000;
    const tlsDefault = config.tls !== undefined && config.tls.enabled;
    const addresses = addressList(config).map((address) => {
      const parsed = parseAddress(address) as ParsedAddress; // validated by the schema
      return { address, parsed, tls: parsed.tls ?? tlsDefault };
    });
    this.pool = new EndpointPool({
      addresses,
      tlsOptions: { ...tlsConnectOptions(config.tls), ALPNProtocols: ['h2'] },
      refreshMs: config.dns_refresh_secs * 1000,
      logger: ctx.logger,
      metrics: ctx.metrics,
      ...(resolver ? { resolver } : {}),
    });
    this.driver = new SinkDriver<Buffer>(
      { prepare: (event) => this.prepare(event), send: (batch) => this.send(batch), release: (batch) => this.payloads.release(batch.payloads) },
      { batch: config.batch, request: config.request, logger: ctx.logger, metrics: new SinkMetrics(ctx.metrics) },
    );
  }

  /** The endpoints (for tests and the healthcheck). */
  get endpoints(): EndpointPool {
    return this.pool;
  }

  /** Passes when at least one aggregator endpoint answers its health path with 200. */
  async healthcheck(): Promise<void> {
    await this.start();
    const endpoints = this.pool.all();
    if (endpoints.length === 0) throw new Error(`no aggregator endpoint: ${addressList(this.config).join(', ')} resolved to nothing`);
    const problems: string[] = [];
    for (const endpoint of endpoints) {
      try {
        const answer = await endpoint.request({ ':method': 'GET', ':path': HEALTH_PATH }, undefined, Math.min(this.timeoutMs, 10_000));
        if (answer.status === 200) return;
        problems.push(`${endpoint.key}: HTTP ${answer.status}`);
      } catch (error) {
        problems.push(`${endpoint.key}: ${(error as Error).message}`);
      }
    }
    throw new Error(`no aggregator endpoint is healthy: ${problems.join('; ')}`);
  }

  async run(input: EventStream): Promise<void> {
    await this.start();
    try {
      await this.driver.run(input);
    } finally {
      this.pool.close();
    }
  }

  private start(): Promise<void> {
    return (this.started ??= this.pool.start());
  }

  /** One frame: a 4-byte length, then the event's JSON, into the shared slabs. */
  private prepare(event: LogEvent): Prepared<Buffer> {
    const slabs = this.payloads;
    slabs.begin();
    for (let i = 0; i < FRAME_HEADER_BYTES; i++) slabs.appendByte(0);
    ENCODER.encodeFieldsInto(event.fields, slabs);
    const frame = slabs.end();
    frame.writeUInt32BE(frame.length - FRAME_HEADER_BYTES, 0);
    return { key: '', payload: frame, bytes: frame.length };
  }

  private async send(batch: Batch<Buffer>): Promise<AttemptOutcome<Buffer>> {
    let body = contiguousRuns(batch.payloads);
    const headers: Record<string, string | number> = {
      ...this.config.request.headers,
      ':method': 'POST',
      ':path': EVENTS_PATH,
      'content-type': CONTENT_TYPE,
    };
    if (this.gzip) {
      body = [await gzip(body.length === 1 ? body[0]! : Buffer.concat(body))];
      headers['content-encoding'] = 'gzip';
    }
    let bytes = 0;
    for (const part of body) bytes += part.length;
    headers['content-length'] = bytes;

    const tried = new Set<Endpoint>();
    let last: { reason: string; detail: string; retryAfterMs?: number | undefined } = { reason: 'no_healthy_endpoint', detail: 'every aggregator endpoint is down or unresolved' };
    for (let endpoint = this.pool.pick(); endpoint !== undefined; endpoint = this.pool.pick(tried)) {
      tried.add(endpoint);
      endpoint.inFlight++;
      let answer;
      try {
        answer = await endpoint.request(headers, body, this.timeoutMs);
      } catch (error) {
        const reason = networkErrorReason(error);
        last = { reason, detail: `${endpoint.key}: ${(error as Error).message}` };
        this.pool.markDown(endpoint, reason, last.detail);
        continue;
      } finally {
        endpoint.inFlight--;
      }
      const { status } = answer;
      if (status === 200) {
        this.pool.markUp(endpoint);
        return this.accepted(batch, answer.body, bytes, endpoint);
      }
      const detail = `${endpoint.key}: HTTP ${status}: ${answer.body.trim().slice(0, 300)}`;
      if (status < 400 || status >= 500 || status === 429 || status === 408) {
        // 503 is the receiver's backpressure or shutdown: try another one now, this one after
        // Retry-After. Anything but 200 or a 4xx is not an answer of the protocol: the same.
        const retryAfterMs = parseRetryAfter(answer.headers['retry-after']);
        last = { reason: statusReason(status), detail, retryAfterMs };
        this.pool.markDown(endpoint, statusReason(status), detail, retryAfterMs);
        continue;
      }
      // 400/413/415: this batch can never be taken; another aggregator runs the same code.
      return { ...rejectAll(batch, statusReason(status), detail), status };
    }
    return retryAll(batch, last.reason, last.detail, last.retryAfterMs);
  }

  /** 200: delivered, but for the events the aggregator's sinks rejected for good (counted, the last n). */
  private accepted(batch: Batch<Buffer>, text: string, bytes: number, endpoint: Endpoint): AttemptOutcome<Buffer> {
    const answer = parseAnswer(text);
    if (answer === undefined) this.ctx.logger.warn({ endpoint: endpoint.key, body: text.slice(0, 200) }, 'aggregator answered 200 without counts: taken as all delivered');
    const rejected = Math.min(answer?.rejected ?? 0, batch.events.length);
    if (rejected === 0) return { delivered: batch.events, deliveredBytes: bytes, rejected: [], status: 200 };
    const split = batch.events.length - rejected;
    return {
      delivered: batch.events.slice(0, split),
      deliveredBytes: bytes,
      rejected: [{ events: batch.events.slice(split), reason: 'rejected_downstream', detail: `${endpoint.key}: ${rejected} of ${batch.events.length} events rejected for good by the aggregator's sinks` }],
      status: 200,
    };
  }
}
