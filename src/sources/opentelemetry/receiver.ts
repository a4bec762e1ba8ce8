import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import type { ComponentContext, Source, SourceRunContext } from '../../core/component.js';
import { LogEvent } from '../../core/event.js';
import { Finalizer } from '../../core/finalizer.js';
import { ExportLogsServiceResponse } from '../../sinks/opentelemetry/otlp.js';
import { BadRequest, decodeRequest, eventsOf } from './decode.js';
import type { OpentelemetrySourceConfig } from './schema.js';

const gunzip = promisify(gunzipCallback);

class TooLarge extends Error {}

/**
 * OTLP/HTTP logs receiver with end-to-end acknowledgements: a request is answered 200 (an empty
 * ExportLogsServiceResponse, in the request's encoding) only once every sink has finished with
 * its events; if some were rejected for good the answer is a partial success counting them.
 * 503 (+ Retry-After) while shutting down or while the downstream buffer is full, so the sender
 * retries instead of losing data; 400 for a body that does not decode, 413 beyond max_body_bytes,
 * 415 for another content type.
 */
export class OtlpHttpReceiver implements Source {
  private server: Server | undefined;
  private out: SourceRunContext['out'] | undefined;
  private shuttingDown = false;
  /** Downstream asked us to wait: refuse new requests until it drains. */
  private backpressured = false;
  /** The port bound (useful with `:0`). */
  port = 0;

  constructor(
    private readonly config: OpentelemetrySourceConfig,
    private readonly ctx: ComponentContext,
  ) {}

  async run({ out, shutdown }: SourceRunContext): Promise<void> {
    this.out = out;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.ctx.metrics.error('internal_error');
        this.ctx.logger.error({ err: (error as Error).message }, 'OTLP request failed');
        if (!res.headersSent) this.answer(res, 500, 'internal error');
      });
    });
    this.server = server;
    const colon = this.config.address.lastIndexOf(':');
    const host = this.config.address.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(this.config.address.slice(colon + 1));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.ctx.logger.info({ address: `${host}:${this.port}` }, 'OTLP/HTTP receiver listening');
    if (!shutdown.aborted) await new Promise<void>((resolve) => shutdown.addEventListener('abort', () => resolve(), { once: true }));
    // New requests get 503 from now on; those waiting for acks are answered as sinks drain.
    this.shuttingDown = true;
  }

  /** Every sink has drained: the requests still open have their answers; stop listening. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/v1/logs') return this.answer(res, 404, 'only /v1/logs (OTLP logs) is served here');
    if (req.method !== 'POST') return this.answer(res, 405, 'POST only', { allow: 'POST' });
    if (this.shuttingDown) return this.answer(res, 503, 'shutting down', { 'retry-after': '1' });
    if (this.backpressured) {
      this.ctx.metrics.error('buffer_full');
      return this.answer(res, 503, 'downstream buffer full, retry later', { 'retry-after': '1' });
    }
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const json = type === 'application/json';
    if (!json && type !== 'application/x-protobuf') return this.answer(res, 415, 'content-type must be application/x-protobuf or application/json');
    let fields;
    try {
      const raw = await this.readBody(req);
      this.ctx.metrics.receivedBytes.inc(raw.length);
      const body = await this.decompress(raw, req.headers['content-encoding']);
      fields = eventsOf(decodeRequest(body, json));
    } catch (error) {
      if (error instanceof TooLarge) return this.answer(res, 413, error.message);
      this.ctx.metrics.error('invalid_request');
      this.ctx.logger.warn({ err: (error as Error).message }, 'OTLP request refused');
      return this.answer(res, 400, error instanceof BadRequest ? error.message : `unreadable body: ${(error as Error).message}`);
    }
    if (fields.length === 0) return this.respond(res, json, 0);
    this.ctx.metrics.receivedEvents.inc(fields.length);
    const finalizer = new Finalizer(fields.length, ({ rejected }) => this.respond(res, json, rejected));
    const wait = this.out!.send(fields.map((f) => new LogEvent(f, finalizer)));
    if (wait) {
      this.backpressured = true;
      await wait;
      this.backpressured = false;
    }
  }

  private respond(res: ServerResponse, json: boolean, rejected: number): void {
    if (res.destroyed) return;
    const message = rejected > 0 ? { partialSuccess: { rejectedLogRecords: rejected, errorMessage: `${rejected} log records rejected downstream` } } : {};
    if (json) {
      const body = rejected > 0 ? { partialSuccess: { rejectedLogRecords: String(rejected), errorMessage: message.partialSuccess!.errorMessage } } : {};
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } else {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(ExportLogsServiceResponse.encode(message).finish());
    }
  }

  private answer(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
    if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
    res.end(message + '\n');
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const max = this.config.max_body_bytes;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      req.resume();
      throw new TooLarge(`body of ${declared} bytes exceeds max_body_bytes (${max})`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > max) {
        req.resume();
        throw new TooLarge(`body exceeds max_body_bytes (${max})`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  private async decompress(raw: Buffer, encoding: string | string[] | undefined): Promise<Buffer> {
    const name = String(encoding ?? 'identity').toLowerCase();
    if (name === 'identity' || name === '') return raw;
    if (name !== 'gzip') throw new BadRequest(`content-encoding ${name} not supported (gzip only)`);
    try {
      return await gunzip(raw, { maxOutputLength: this.config.max_body_bytes });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new TooLarge(`decompressed body exceeds max_body_bytes (${this.config.max_body_bytes})`);
      throw new BadRequest(`invalid gzip body: ${(error as Error).message}`);
    }
  }
}
