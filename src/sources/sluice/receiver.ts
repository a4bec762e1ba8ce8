import {
  constants,
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { Intake } from '../shared/intake.js';
import { listenOn, readPem } from '../shared/listener.js';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import type { ComponentContext, EventOutput, Source, SourceRunContext } from '../../core/component.js';
import { LogEvent, type Fields } from '../../core/event.js';
import { Finalizer } from '../../core/finalizer.js';
import { WINDOW_BYTES } from '../../sinks/sluice/endpoints.js';
import { BadFrames, CONTENT_TYPE, decodeFrames, EVENTS_PATH, HEALTH_PATH, type BatchAnswer } from '../../sinks/sluice/protocol.js';
import type { SluiceSourceConfig } from './schema.js';

const gunzip = promisify(gunzipCallback);
/** Batches read at once per agent connection; a full downstream answers 503 instead of queueing more. */
const MAX_STREAMS_PER_CONNECTION = 16;
/** Batches waiting for room downstream at once (bodies unread), and for how long at most. */
const MAX_WAITING_BATCHES = 8;
const WAIT_FOR_ROOM_MS = 5000;



/**
 * Receives batches from `sluice` sinks over HTTP/2 (protocol.ts). A batch is answered 200 only
 * once every sink downstream has finished with each of its events (with the count rejected for
 * good), so the sending agent acknowledges, and moves its checkpoints, only for events that are
 * in this aggregator's disk buffer or delivered. Until then the agent keeps them: an aggregator
 * killed mid-batch loses nothing, the agent sends again (at least once).
 *
 * 503 + Retry-After when a downstream buffer stays full (a few batches wait for room first) or
 * the process shuts down (the agent tries another aggregator); 400 for frames or gzip that do not decode, 413 beyond max_body_bytes
 * (compressed or not), 415 for another content type or encoding, 408 (stream reset) for a body not
 * complete within body_timeout_secs. A stream the agent resets mid-body hands nothing downstream. Events keep the fields the
 * agent shipped (`source_type` stays the agent's source, e.g. `kubernetes_logs`).
 */
export class SluiceSource implements Source {
  private readonly server: Http2Server | Http2SecureServer;
  private readonly sessions = new Set<ServerHttp2Session>();
  private out: EventOutput | undefined;
  private shuttingDown = false;
  private readonly intake = new Intake();
  private readonly awaitingAck = new Set<ServerHttp2Stream>();
  private waitingForRoom = 0;
  /** The port bound (useful with `:0`). */
  port = 0;

  constructor(
    private readonly config: SluiceSourceConfig,
    private readonly ctx: ComponentContext,
  ) {
    const settings = { initialWindowSize: WINDOW_BYTES, maxConcurrentStreams: MAX_STREAMS_PER_CONNECTION };
    const tls = config.tls;
    if (tls !== undefined && tls.enabled) {
      const mutual = tls.ca_file !== undefined;
      this.server = createSecureServer({
        cert: readPem(tls.crt_file!, 'crt_file'),
        key: readPem(tls.key_file!, 'key_file'),
        ...(tls.key_pass !== undefined ? { passphrase: tls.key_pass } : {}),
        ...(mutual ? { ca: readPem(tls.ca_file!, 'ca_file'), requestCert: true, rejectUnauthorized: tls.verify_certificate } : {}),
        settings,
        maxSessionMemory: 64,
      });
      this.server.on('tlsClientError', (error: Error) => {
        ctx.metrics.error('tls_handshake_failed');
        ctx.logger.warn({ err: error.message }, 'sluice source: TLS handshake with an agent failed');
      });
    } else {
      this.server = createServer({ settings, maxSessionMemory: 64 });
    }
    this.server.on('session', (session: ServerHttp2Session) => this.track(session));
    this.server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      this.handle(stream, headers).catch((error: unknown) => {
        ctx.metrics.error('internal_error');
        ctx.logger.error({ err: (error as Error).message }, 'sluice source: request failed');
        this.reply(stream, 500, 'internal error');
      });
    });
  }

  async run({ out, shutdown }: SourceRunContext): Promise<void> {
    this.out = out;
    const { shown, port } = await listenOn(this.server, this.config.address);
    this.port = port;
    this.ctx.logger.info({ address: shown, tls: this.config.tls?.enabled === true }, 'sluice source listening');
    if (!shutdown.aborted) await new Promise<void>((resolve) => shutdown.addEventListener('abort', () => resolve(), { once: true }));
    // New batches get 503 (or GOAWAY) from now on; those handed over are answered as the sinks drain.
    this.shuttingDown = true;
    this.server.close();
    for (const session of this.sessions) if (!session.closed) session.close();
    await this.intake.settled();
  }

  async close(): Promise<void> {
    // Every acknowledgement that will come has come: what still waits was not finished downstream.
    for (const stream of this.awaitingAck) this.reply(stream, 503, 'shutting down before the events were acknowledged', { 'retry-after': '1' });
    this.awaitingAck.clear();
    for (const session of this.sessions) session.destroy();
  }

  /** Connection age limit: GOAWAY once reached, so agents re-balance over the aggregators. */
  private track(session: ServerHttp2Session): void {
    this.sessions.add(session);
    const { max_connection_age_secs: age, max_connection_age_jitter_factor: jitter } = this.config.keepalive;
    const timer = setTimeout(() => {
      if (!session.closed) session.close();
    }, age * 1000 * (1 + jitter * (2 * Math.random() - 1)));
    timer.unref();
    session.on('error', (error) => this.ctx.logger.debug({ err: error.message }, 'sluice source: agent connection error'));
    session.on('close', () => {
      clearTimeout(timer);
      this.sessions.delete(session);
    });
    session.once('connect', () => session.setLocalWindowSize(WINDOW_BYTES));
    if (!session.connecting) session.setLocalWindowSize(WINDOW_BYTES);
  }

  private async handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    stream.on('error', () => undefined); // a reset stream: its answer has nowhere to go
    const path = String(headers[':path'] ?? '').split('?', 1)[0];
    const method = headers[':method'];
    if (path === HEALTH_PATH) return this.reply(stream, this.shuttingDown ? 503 : 200, this.shuttingDown ? 'shutting down' : 'ok');
    if (path !== EVENTS_PATH) return this.refuse(stream, 404, `no such path: ${path} (events go to ${EVENTS_PATH})`);
    if (method !== 'POST') return this.refuse(stream, 405, 'POST only', { allow: 'POST' });
    if (this.shuttingDown) return this.refuse(stream, 503, 'shutting down', { 'retry-after': '1' });
    if (this.intake.blocked !== undefined && !(await this.roomDownstream())) {
      if (this.shuttingDown) return this.refuse(stream, 503, 'shutting down', { 'retry-after': '1' });
      this.ctx.metrics.error('buffer_full');
      return this.refuse(stream, 503, 'downstream buffer full, retry later', { 'retry-after': '1' });
    }
    const type = String(headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
    if (type !== CONTENT_TYPE) return this.refuse(stream, 415, `content-type must be ${CONTENT_TYPE}`);
    const encoding = String(headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip') return this.refuse(stream, 415, `unsupported content-encoding "${encoding}" (gzip or none)`);
    const limit = this.config.max_body_bytes;
    const declared = Number(headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return this.refuse(stream, 413, `body of ${declared} bytes exceeds max_body_bytes (${limit})`);

    this.intake.begin();
    try {
      const raw = await readBody(stream, limit, this.config.body_timeout_secs * 1000);
      if (raw === 'aborted') return; // reset by the agent: nothing was handed downstream, nothing to answer
      if (raw === 'timeout') {
        this.ctx.metrics.error('body_timeout');
        this.ctx.logger.warn({ timeout_secs: this.config.body_timeout_secs }, 'sluice source: an agent stalled mid-body; stream reset (408)');
        return this.refuse(stream, 408, `body not received within body_timeout_secs (${this.config.body_timeout_secs})`);
      }
      if (raw === 'too_large') return this.refuse(stream, 413, `body exceeds max_body_bytes (${limit})`);
      this.ctx.metrics.receivedBytes.inc(raw.length);
      let body = raw;
      if (encoding === 'gzip') {
        try {
          // The limit holds for the decompressed body too: a small bomb is refused, not inflated.
          body = await gunzip(raw, { maxOutputLength: limit });
        } catch (error) {
          const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
          this.ctx.metrics.error(tooLarge ? 'body_too_large' : 'invalid_body');
          return this.reply(stream, tooLarge ? 413 : 400, tooLarge ? `decompressed body exceeds max_body_bytes (${limit})` : `invalid gzip body: ${(error as Error).message}`);
        }
      }
      let fields: Fields[];
      try {
        fields = decodeFrames(body);
      } catch (error) {
        if (!(error instanceof BadFrames)) throw error;
        this.ctx.metrics.error('invalid_body');
        this.ctx.logger.warn({ err: error.message }, 'sluice source: batch refused');
        return this.reply(stream, 400, error.message);
      }
      if (fields.length === 0) return this.answer(stream, { accepted: 0, rejected: 0 });
      this.send(fields, stream);
    } finally {
      this.intake.end();
    }
  }

  /**
   * The downstream buffer is full: wait (body unread, held back by HTTP/2 flow control) until it
   * has room, for at most WAIT_FOR_ROOM_MS and for at most MAX_WAITING_BATCHES batches at once;
   * false means answer 503. Refusing at once made every agent back off a second whenever one
   * batch filled the buffer for a moment (measured: a 1,000-event batch into the 500-event
   * default buffer throttled the hop to a fraction of its CPU bound).
   */
  private async roomDownstream(): Promise<boolean> {
    if (this.waitingForRoom >= MAX_WAITING_BATCHES) return false;
    this.waitingForRoom++;
    const deadline = Date.now() + WAIT_FOR_ROOM_MS;
    try {
      while (this.intake.blocked !== undefined && !this.shuttingDown) {
        const left = deadline - Date.now();
        if (left <= 0) return false;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.intake.blocked, new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
        clearTimeout(timer);
      }
      return !this.shuttingDown;
    } finally {
      this.waitingForRoom--;
    }
  }

  private send(fields: Fields[], stream: ServerHttp2Stream): void {
    this.awaitingAck.add(stream);
    const total = fields.length;
    const finalizer = new Finalizer(total, ({ rejected }) => {
      if (!this.awaitingAck.delete(stream)) return;
      this.answer(stream, { accepted: total - rejected, rejected });
    });
    const events = new Array<LogEvent>(total);
    for (let i = 0; i < total; i++) events[i] = new LogEvent(fields[i]!, finalizer);
    this.ctx.metrics.receivedEvents.inc(total);
    this.intake.blockUntil(this.out!.send(events));
  }

  private answer(stream: ServerHttp2Stream, answer: BatchAnswer): void {
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify(answer));
  }

  private reply(stream: ServerHttp2Stream, status: number, message: string, headers: Record<string, string> = {}): void {
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    stream.respond({ ':status': status, 'content-type': 'text/plain; charset=utf-8', ...headers });
    stream.end(`${message}\n`);
  }

  /** Answers before the body is read; the rest of the body is not wanted (RST after the answer). */
  private refuse(stream: ServerHttp2Stream, status: number, message: string, headers: Record<string, string> = {}): void {
    this.reply(stream, status, message, headers);
    if (!stream.readableEnded) stream.once('finish', () => stream.close(constants.NGHTTP2_NO_ERROR));
  }
}

/**
 * The body; 'too_large' as soon as it passes `limit` bytes, 'timeout' when it is not complete
 * within `timeoutMs` (nothing more is kept either way); 'aborted' when the agent reset the stream.
 */
function readBody(stream: ServerHttp2Stream, limit: number, timeoutMs: number): Promise<Buffer | 'too_large' | 'aborted' | 'timeout'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: Buffer | 'too_large' | 'aborted' | 'timeout'): void => {
      clearTimeout(timer);
      stream.off('data', onData);
      chunks.length = 0;
      resolve(result);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish('too_large');
      else chunks.push(chunk);
    };
    stream.on('data', onData);
    stream.once('end', () => finish(size > limit ? 'too_large' : Buffer.concat(chunks, size)));
    stream.once('aborted', () => finish('aborted'));
    stream.once('close', () => finish('aborted'));
  });
}
