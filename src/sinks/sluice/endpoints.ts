import { lookup } from 'node:dns/promises';
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders, type SecureClientSessionOptions } from 'node:http2';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { ComponentMetrics } from '../../core/metrics.js';
import { RepeatReporter } from '../../core/repeat-reporter.js';
import type { ParsedAddress } from './protocol.js';

/** host -> its addresses. The default asks the system resolver (every A/AAAA record). */
export type Resolver = (host: string) => Promise<string[]>;
export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/** Stream and connection flow-control window: one 1-4 MB batch is not throttled to 64 KiB per round trip. */
export const WINDOW_BYTES = 4 * 1024 * 1024;
/** An endpoint that failed is retried after 0.5 s, doubling per failure, at most this long. */
const MAX_DOWN_MS = 30_000;
const FIRST_DOWN_MS = 500;
/** Answers longer than this are cut (they are small JSON or error text). */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One aggregator address (an IP and port): an HTTP/2 session, opened on demand and reopened after it ends. */
export class Endpoint {
  /** Not picked before this time (ms since epoch): it failed recently. */
  downUntil = 0;
  failures = 0;
  inFlight = 0;
  private session: ClientHttp2Session | undefined;
  private lastSessionError: Error | undefined;

  constructor(
    /** `ip:port` (`[v6]:port`), as logged. */
    readonly key: string,
    /** The name it was resolved from, as configured. */
    readonly address: string,
    private readonly authority: string,
    private readonly connectOptions: SecureClientSessionOptions,
  ) {}

  /** One request; rejects on a transport failure or when no complete answer came within `timeoutMs`. */
  request(headers: OutgoingHttpHeaders, body: readonly Buffer[] | undefined, timeoutMs: number): Promise<Answer> {
    return new Promise((resolve, reject) => {
      let session: ClientHttp2Session;
      try {
        session = this.connection();
      } catch (error) {
        reject(error as Error);
        return;
      }
      const stream = session.request(headers, { endStream: body === undefined });
      let settled = false;
      let status = 0;
      let answerHeaders: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      let size = 0;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
        reject(error);
      };
      const timer = setTimeout(() => {
        const error = new Error(`no answer from ${this.key} within ${timeoutMs} ms`);
        error.name = 'TimeoutError';
        fail(error);
      }, timeoutMs);
      stream.on('response', (received) => {
        status = Number(received[':status']);
        answerHeaders = received;
      });
      stream.on('data', (chunk: Buffer) => {
        if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      stream.on('end', () => {
        if (settled) return;
        // The connection died under the stream: an end without a response is no answer.
        if (status === 0) return fail(this.withCause(new Error(`stream to ${this.key} ended without an answer`)));
        settled = true;
        clearTimeout(timer);
        resolve({ status, headers: answerHeaders, body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8') });
      });
      stream.on('error', (error) => fail(this.withCause(error)));
      stream.on('close', () => fail(this.withCause(new Error(`stream to ${this.key} closed before an answer (HTTP/2 code ${stream.rstCode})`))));
      if (body !== undefined) {
        for (const part of body) stream.write(part);
        stream.end();
      }
    });
  }

  /** Ends the session; requests still in flight finish first (GOAWAY). */
  close(): void {
    const session = this.session;
    this.session = undefined;
    if (session && !session.destroyed) session.close();
  }

  /** The session's own error (ECONNREFUSED, a TLS failure) says more than the stream's. */
  private withCause(error: Error): Error {
    const cause = this.lastSessionError;
    if (cause === undefined || cause === error) return error;
    const wrapped = new Error(`${error.message}: ${cause.message}`) as Error & { code?: unknown };
    wrapped.code = (cause as Error & { code?: unknown }).code ?? (error as Error & { code?: unknown }).code;
    return wrapped;
  }

  private connection(): ClientHttp2Session {
    const current = this.session;
    if (current !== undefined && !current.closed && !current.destroyed) return current;
    this.lastSessionError = undefined;
    const session = connect(this.authority, { ...this.connectOptions, settings: { initialWindowSize: WINDOW_BYTES } });
    const forget = (): void => {
      if (this.session === session) this.session = undefined;
    };
    session.on('error', (error) => {
      this.lastSessionError = error;
      forget();
    });
    // GOAWAY (the receiver's max connection age, or its shutdown): new requests open a new session.
    session.on('goaway', forget);
    session.on('close', forget);
    session.once('connect', () => session.setLocalWindowSize(WINDOW_BYTES));
    this.session = session;
    return session;
  }
}

export interface PoolOptions {
  addresses: Array<{ address: string; parsed: ParsedAddress; tls: boolean }>;
  /** TLS options for `https` endpoints (ca, cert, key, verification). */
  tlsOptions: SecureClientSessionOptions;
  refreshMs: number;
  resolver?: Resolver;
  logger: Logger;
  metrics: ComponentMetrics;
  random?: () => number;
}

interface Target {
  address: string;
  parsed: ParsedAddress;
  tls: boolean;
  endpoints: Map<string, Endpoint>;
}

/**
 * The aggregator endpoints: every configured address, host names resolved to all their addresses
 * (re-resolved on a timer, and soon after no endpoint is healthy). `pick` balances over the
 * healthy ones (fewest requests in flight, round robin among equals); `markDown` takes a failing
 * one out for a backoff that doubles per consecutive failure (0.5 s .. 30 s, jittered), after which
 * the next batch sent to it is the probe; `markUp` puts it back. A failed resolution keeps the
 * endpoints known before (a DNS outage must not stop delivery to running aggregators).
 */
export class EndpointPool {
  private readonly targets: Target[];
  private readonly resolver: Resolver;
  private readonly random: () => number;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private lastRefresh = 0;
  private turn = 0;
  private readonly downReporter: RepeatReporter;
  private readonly dnsReporter: RepeatReporter;
  private readonly endpointGauge;

  constructor(private readonly options: PoolOptions) {
    this.targets = options.addresses.map(({ address, parsed, tls }) => ({ address, parsed, tls, endpoints: new Map() }));
    this.resolver = options.resolver ?? systemResolver;
    this.random = options.random ?? Math.random;
    this.downReporter = new RepeatReporter(options.logger, { recoveredMessage: 'aggregator endpoint healthy again' });
    this.dnsReporter = new RepeatReporter(options.logger, { recoveredMessage: 'aggregator address resolves again' });
    this.endpointGauge = options.metrics.gauge('sluice_sink_endpoints', 'Aggregator endpoints known to the sink, by state (healthy, down).', ['state']);
  }

  /** Resolves every address once, then keeps re-resolving every `refreshMs`. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  all(): Endpoint[] {
    const out: Endpoint[] = [];
    for (const target of this.targets) for (const endpoint of target.endpoints.values()) out.push(endpoint);
    return out;
  }

  /** A healthy endpoint not in `exclude`, or undefined (then a re-resolution is started). */
  pick(exclude: ReadonlySet<Endpoint> = new Set()): Endpoint | undefined {
    const now = Date.now();
    const candidates = this.all().filter((endpoint) => endpoint.downUntil <= now && !exclude.has(endpoint));
    if (candidates.length === 0) {
      if (exclude.size === 0) this.refreshSoon();
      return undefined;
    }
    const start = this.turn++ % candidates.length;
    let best = candidates[start]!;
    for (let i = 1; i < candidates.length; i++) {
      const candidate = candidates[(start + i) % candidates.length]!;
      if (candidate.inFlight < best.inFlight) best = candidate;
    }
    return best;
  }

  /** `endpoint` failed: out for a backoff (or the server's Retry-After). */
  markDown(endpoint: Endpoint, reason: string, detail: string, retryAfterMs?: number): void {
    endpoint.failures++;
    const backoff = retryAfterMs ?? Math.min(MAX_DOWN_MS, FIRST_DOWN_MS * 2 ** Math.min(endpoint.failures - 1, 16));
    const delay = retryAfterMs !== undefined ? backoff : Math.round(backoff * (0.5 + this.random() / 2));
    endpoint.downUntil = Date.now() + delay;
    this.options.metrics.error(`endpoint_${reason}`);
    this.downReporter.report({ endpoint: endpoint.key, address: endpoint.address, reason, detail, retry_in_ms: delay }, 'aggregator endpoint failed: taken out of the balance');
    this.reportGauge();
  }

  markUp(endpoint: Endpoint): void {
    if (endpoint.failures === 0 && endpoint.downUntil === 0) return;
    endpoint.failures = 0;
    endpoint.downUntil = 0;
    if (this.all().every((e) => e.failures === 0)) this.downReporter.recovered({ endpoint: endpoint.key });
    this.reportGauge();
  }

  close(): void {
    clearInterval(this.timer);
    for (const endpoint of this.all()) endpoint.close();
  }

  /** Re-resolves now unless one ran in the last second. */
  refreshSoon(): void {
    if (Date.now() - this.lastRefresh < 1000) return;
    void this.refresh();
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.resolveAll().finally(() => {
      this.refreshing = undefined;
      this.lastRefresh = Date.now();
    });
    return this.refreshing;
  }

  private async resolveAll(): Promise<void> {
    await Promise.all(this.targets.map((target) => this.resolve(target)));
    this.reportGauge();
  }

  private async resolve(target: Target): Promise<void> {
    const { host, port } = target.parsed;
    let ips: string[];
    if (isIP(host) !== 0) ips = [host];
    else {
      try {
        ips = [...new Set(await this.resolver(host))];
        if (ips.length === 0) throw new Error('no addresses');
        this.dnsReporter.recovered({ address: target.address });
      } catch (error) {
        this.options.metrics.error('dns_failed');
        this.dnsReporter.report(
          { address: target.address, err: (error as Error).message, keeping: target.endpoints.size },
          'cannot resolve aggregator address: keeping the endpoints known before',
        );
        return;
      }
    }
    const seen = new Set<string>();
    for (const ip of ips) {
      const key = isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
      seen.add(key);
      if (target.endpoints.has(key)) continue;
      target.endpoints.set(key, this.endpointFor(target, key));
      if (target.endpoints.size > 1 || ips.length > 1) this.options.logger.info({ address: target.address, endpoint: key }, 'aggregator endpoint added');
    }
    for (const [key, endpoint] of target.endpoints) {
      if (seen.has(key)) continue;
      target.endpoints.delete(key);
      endpoint.close();
      this.options.logger.info({ address: target.address, endpoint: key }, 'aggregator endpoint removed (no longer resolved)');
    }
  }

  private endpointFor(target: Target, key: string): Endpoint {
    const authority = `${target.tls ? 'https' : 'http'}://${key}`;
    const options: SecureClientSessionOptions = target.tls ? { ...this.options.tlsOptions } : {};
    // Verify the certificate against the configured name, not the resolved IP (a Service's DNS name).
    if (target.tls && options.servername === undefined && isIP(target.parsed.host) === 0) options.servername = target.parsed.host;
    return new Endpoint(key, target.address, authority, options);
  }

  private reportGauge(): void {
    const now = Date.now();
    let healthy = 0;
    let down = 0;
    for (const endpoint of this.all()) {
      if (endpoint.downUntil > now) down++;
      else healthy++;
    }
    this.endpointGauge.set({ ...this.options.metrics.labels, state: 'healthy' }, healthy);
    this.endpointGauge.set({ ...this.options.metrics.labels, state: 'down' }, down);
  }
}
