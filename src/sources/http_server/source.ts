import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Intake } from '../shared/intake.js';
import { listenOn, readPem } from '../shared/listener.js';
import { gunzip, inflate } from 'node:zlib';
import { promisify } from 'node:util';
import type { ComponentContext, EventOutput, Source, SourceRunContext } from '../../core/component.js';
import { LogEvent } from '../../core/event.js';
import { Finalizer } from '../../core/finalizer.js';
import type { HttpServerConfig } from './config.js';
import { BodyError, decodeBody } from './decode.js';

const SOURCE_TYPE = 'http_server';
const DECOMPRESS = { gzip: promisify(gunzip), deflate: promisify(inflate) } as const;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compares digests so neither the content nor the length of the secret leaks through timing. */
function safeEqual(given: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(digest(given), expectedDigest);
}



/**
 * Receives events pushed over HTTP(S), e.g. kube-apiserver's audit webhook. A request is answered
 * 200 only once every sink has acknowledged its events; the sender retries otherwise, so nothing
 * is lost on the way (at least once: a retry after a lost 200 may repeat events).
 */
export class HttpServerSource implements Source {
  private readonly server: Server;
  private readonly expectedAuth: ((header: string | undefined) => boolean) | undefined;
  private out: EventOutput | undefined;
  private shuttingDown = false;
  private readonly intake = new Intake();
  /** Responses waiting for acknowledgements. */
  private readonly awaitingAck = new Set<ServerResponse>();

  constructor(
    private readonly config: HttpServerConfig,
    private readonly ctx: ComponentContext,
  ) {
    this.expectedAuth = this.authChecker();
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    const tls = config.tls;
    if (tls !== undefined && tls.enabled) {
      this.server = createHttpsServer(
        {
          cert: readPem(tls.crt_file!, 'crt_file'),
          key: readPem(tls.key_file!, 'key_file'),
          ...(tls.key_pass !== undefined ? { passphrase: tls.key_pass } : {}),
          ...(tls.ca_file !== undefined ? { ca: readPem(tls.ca_file, 'ca_file'), requestCert: true, rejectUnauthorized: true } : {}),
        },
        handler,
      );
    } else {
      this.server = createHttpServer(handler);
    }
    this.server.requestTimeout = 60_000;
  }

  private authChecker(): ((header: string | undefined) => boolean) | undefined {
    const auth = this.config.auth;
    if (auth === undefined) return undefined;
    const expected =
      auth.strategy === 'bearer'
        ? digest(`Bearer ${auth.token}`)
        : digest(`Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`);
    return (header) => header !== undefined && safeEqual(header.trim(), expected);
  }

  async run({ out, shutdown }: SourceRunContext): Promise<void> {
    this.out = out;
    const { shown } = await listenOn(this.server, this.config.address);
    this.ctx.logger.info({ address: shown, tls: this.config.tls?.enabled === true }, 'http_server listening');
    if (!shutdown.aborted) await new Promise<void>((resolve) => shutdown.addEventListener('abort', () => resolve(), { once: true }));
    // Stop accepting; requests already handed over keep waiting for their acks (answered in close()).
    this.shuttingDown = true;
    this.server.close();
    this.server.closeIdleConnections();
    await this.intake.settled();
  }

  async close(): Promise<void> {
    // Every ack that will come has come: whatever still waits was not delivered.
    for (const res of this.awaitingAck) this.reply(res, 503, 'shutting down before the events were acknowledged');
    this.awaitingAck.clear();
    this.server.closeAllConnections();
  }

  private reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    if (this.shuttingDown) headers.connection = 'close';
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
    res.end(status === 200 ? '' : `${message}\n`);
  }

  private acceptsPath(pathname: string): boolean {
    const path = this.config.path;
    if (this.config.strict_path) return pathname === path;
    return pathname.startsWith(path);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathname = (req.url ?? '/').split('?', 1)[0]!;
    if (!this.acceptsPath(pathname)) return this.refuse(req, res, 404, `no such path: ${pathname}`);
    if (req.method !== this.config.method) return this.refuse(req, res, 405, `method ${req.method} not allowed`, { allow: this.config.method });
    if (this.expectedAuth !== undefined && !this.expectedAuth(req.headers.authorization)) {
      const challenge = this.config.auth!.strategy === 'basic' ? 'Basic realm="sluice"' : 'Bearer';
      return this.refuse(req, res, 401, 'missing or invalid credentials', { 'www-authenticate': challenge });
    }
    if (this.shuttingDown) return this.refuse(req, res, 503, 'shutting down', { 'retry-after': '1' });
    if (this.intake.blocked !== undefined) return this.refuse(req, res, 503, 'buffer full, retry later', { 'retry-after': '1' });
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'deflate') return this.refuse(req, res, 415, `unsupported content-encoding "${encoding}"`);
    const limit = this.config.max_body_bytes;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return this.refuse(req, res, 413, `body larger than max_body_bytes (${limit})`);

    this.intake.begin();
    try {
      const raw = await readBody(req, limit);
      if (raw === 'too_large') return this.refuse(req, res, 413, `body larger than max_body_bytes (${limit})`);
      if (raw === 'aborted') return;
      let body = raw;
      if (encoding !== 'identity') {
        try {
          // The limit holds for the decompressed body too: a small bomb is refused, not inflated.
          body = await DECOMPRESS[encoding](raw, { maxOutputLength: limit });
        } catch (error) {
          const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
          if (!tooLarge) this.ctx.metrics.error('invalid_body');
          return this.reply(res, tooLarge ? 413 : 400, tooLarge ? `decompressed body larger than max_body_bytes (${limit})` : `invalid ${encoding} body`);
        }
      }
      let trees;
      try {
        trees = decodeBody(body, this.config.decoding.codec);
      } catch (error) {
        if (!(error instanceof BodyError)) throw error;
        this.ctx.metrics.error('invalid_body');
        return this.reply(res, 400, error.message);
      }
      if (trees.length === 0) return this.reply(res, 200, '');
      this.send(trees, res);
    } catch (error) {
      this.ctx.logger.error({ err: (error as Error).message }, 'http_server request failed');
      this.reply(res, 500, 'internal error');
    } finally {
      this.intake.end();
    }
  }

  private send(trees: Record<string, unknown>[], res: ServerResponse): void {
    const now = new Date().toISOString();
    this.awaitingAck.add(res);
    const finalizer = new Finalizer(trees.length, ({ rejected }) => {
      if (!this.awaitingAck.delete(res)) return;
      if (rejected > 0) {
        this.ctx.metrics.discarded('rejected', rejected);
        this.reply(res, 500, `${rejected} of ${trees.length} events rejected by a sink`);
      } else this.reply(res, 200, '');
    });
    const events = trees.map((fields) => {
      if (!('timestamp' in fields)) fields.timestamp = now;
      if (!('source_type' in fields)) fields.source_type = SOURCE_TYPE;
      return new LogEvent(fields, finalizer);
    });
    this.ctx.metrics.receivedEvents.inc(events.length);
    this.intake.blockUntil(this.out!.send(events));
  }

  /** Answers without reading the body; the connection is closed so the unread body cannot be taken for the next request. */
  private refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    if (status >= 500 || !hasBody || req.complete) return this.reply(res, status, message, headers);
    this.reply(res, status, message, { ...headers, connection: 'close' });
    req.pause();
    res.once('finish', () => req.socket.destroySoon());
  }
}

/** The body, or 'too_large' as soon as it passes `limit` bytes (the rest is not kept). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        chunks.length = 0;
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(size > limit ? 'too_large' : Buffer.concat(chunks, size)));
    req.once('error', () => resolve('aborted'));
    req.once('close', () => {
      if (!req.complete) resolve('aborted');
    });
  });
}
