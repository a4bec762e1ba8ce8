import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { Agent, request } from 'undici';
import type { AuthOptions, Compression, RequestOptions, TlsOptions } from './schemas.js';
import { tlsConnectOptions } from './tls.js';

const gzip = promisify(gzipCallback);

export interface HttpClientOptions {
  request: Pick<RequestOptions, 'timeout_secs' | 'headers'>;
  tls?: TlsOptions | undefined;
  auth?: AuthOptions | undefined;
  compression?: Compression;
  /** Sockets per origin; the sink's concurrency bounds requests anyway. */
  connections?: number;
  /** Per-request signing (AWS SigV4) instead of a static Authorization header. */
  signer?: { sign(req: { method: string; url: string; headers: Record<string, string>; body?: string | Buffer }): Promise<Record<string, string>> } | undefined;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The body bytes, when the request asked for them (`binaryResponse`): for protobuf answers. */
  bytes?: Buffer;
}

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** Several buffers are sent back to back, without being joined first. */
  body?: string | Buffer | readonly Buffer[];
  /** Keep the answer's bytes too (a protobuf answer is not text). */
  binaryResponse?: boolean;
}

/**
 * One undici Agent per sink (keep-alive pools per origin), with the sink's TLS, auth, extra
 * headers, compression and per-attempt timeout. The Authorization header is built here and never
 * leaves: errors thrown by undici carry no request headers, and nothing here logs.
 */
export class HttpClient {
  private readonly agent: Agent;
  private readonly baseHeaders: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpClientOptions) {
    this.timeoutMs = options.request.timeout_secs * 1000;
    this.agent = new Agent({
      connect: { ...tlsConnectOptions(options.tls), timeout: this.timeoutMs },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connections: options.connections ?? null,
    });
    this.baseHeaders = { ...options.request.headers };
    const authorization = authorizationHeader(options.auth);
    if (authorization) this.baseHeaders.authorization = authorization;
  }

  get compression(): Compression {
    return this.options.compression ?? 'none';
  }

  /**
   * Compress a body if configured; returns what to send, its size on the wire and the headers
   * that say so. An uncompressed string is handed to undici as is (no extra copy into a Buffer).
   */
  async encodeBody<B extends string | Buffer | readonly Buffer[]>(body: B): Promise<{ body: B | Buffer; bytes: number; headers: Record<string, string> }> {
    if (this.compression === 'gzip') {
      const compressed = await gzip(Array.isArray(body) ? Buffer.concat(body) : (body as string | Buffer));
      return { body: compressed, bytes: compressed.length, headers: { 'content-encoding': 'gzip' } };
    }
    return { body, bytes: byteLength(body), headers: {} };
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    let headers = { ...this.baseHeaders, ...req.headers };
    let payload = req.body;
    if (Array.isArray(payload)) {
      // undici writes an iterable chunk by chunk; a signer needs the whole body to hash it.
      if (payload.length <= 1 || this.options.signer) payload = payload.length === 1 ? payload[0]! : Buffer.concat(payload);
      else headers['content-length'] = String(byteLength(payload));
    }
    const single = payload as string | Buffer | undefined;
    if (this.options.signer) headers = await this.options.signer.sign({ method: req.method, url: req.url, headers, body: single });
    const response = await request(req.url, {
      dispatcher: this.agent,
      method: req.method as 'POST',
      headers,
      // Iterables are part of undici's documented body types, missing from its typings.
      body: (payload ?? null) as string | Buffer | null,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (req.binaryResponse) {
      const bytes = Buffer.from(await response.body.arrayBuffer());
      return { status: response.statusCode, headers: response.headers, body: bytes.toString(), bytes };
    }
    const body = await response.body.text();
    return { status: response.statusCode, headers: response.headers, body };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function byteLength(body: string | Buffer | readonly Buffer[]): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (Array.isArray(body)) return body.reduce((sum: number, part: Buffer) => sum + part.length, 0);
  return (body as Buffer).length;
}

function authorizationHeader(auth: AuthOptions | undefined): string | undefined {
  if (!auth) return undefined;
  if (auth.strategy === 'basic') return 'Basic ' + Buffer.from(`${auth.user}:${auth.password}`).toString('base64');
  return `Bearer ${auth.token}`;
}

/** A URL safe to log: user info (which may hold a password) and the query string are blanked. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = 'redacted';
      parsed.password = '';
    }
    if (parsed.search) parsed.search = '?redacted';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}

/** The start of a response body for a log line (bodies can be megabytes). */
export function bodyExcerpt(body: string, max = 500): string {
  return body.length > max ? body.slice(0, max) + '…' : body;
}
