import type { RequestOptions } from './schemas.js';

/** Waits between attempts: exponential from retry_initial_backoff_secs, capped, with full jitter. */
export class Backoff {
  private next: number;

  constructor(
    private readonly options: Pick<RequestOptions, 'retry_initial_backoff_secs' | 'retry_max_duration_secs' | 'retry_jitter_mode'>,
    private readonly random: () => number = Math.random,
  ) {
    this.next = options.retry_initial_backoff_secs * 1000;
  }

  /** Milliseconds to wait before the next attempt; a server's Retry-After wins when given. */
  nextDelayMs(retryAfterMs?: number): number {
    const cap = this.options.retry_max_duration_secs * 1000;
    const base = Math.min(this.next, cap);
    this.next = Math.min(this.next * 2, cap);
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
    return this.options.retry_jitter_mode === 'full' ? Math.round(base * this.random()) : base;
  }
}

/** A Retry-After beyond this is treated as this: a confused server must not park a batch for a day. */
const MAX_RETRY_AFTER_MS = 5 * 60 * 1000;

/** `Retry-After` as seconds or an HTTP date, in milliseconds from now; undefined when absent or invalid. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Status codes worth another try: the server is busy or broken now, not the request wrong. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** A fixed metric label for an HTTP status. */
export function statusReason(status: number): string {
  if (status === 429) return 'http_429';
  if (status >= 500) return 'http_5xx';
  if (status >= 400) return 'http_4xx';
  return 'http_unexpected_status';
}

/** A fixed metric label for a thrown network/transport error. */
export function networkErrorReason(error: unknown): string {
  const err = error as { code?: unknown; name?: string; cause?: { code?: unknown } } | null;
  const code = typeof err?.code === 'string' ? err.code : typeof err?.cause?.code === 'string' ? err.cause.code : undefined;
  if (err?.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT')
    return 'timeout';
  if (typeof code === 'string' && (code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT'))
    return 'tls';
  return 'network';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
