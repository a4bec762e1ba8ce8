export interface BackoffOptions {
  /** First delay (default 800 ms, like client-go's reflector). */
  initialMs?: number;
  /** Cap (default 30 s). */
  maxMs?: number;
}

/**
 * Exponential backoff with "equal jitter": each delay is drawn from [d/2, d] where d doubles per
 * failure up to the cap. The floor of d/2 bounds the request rate against an API server in trouble
 * (full jitter can draw ~0 several times in a row); the random half spreads the reconnects of
 * thousands of nodes that lost the same server at the same moment.
 */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private failures = 0;

  constructor(options: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.initialMs = options.initialMs ?? 800;
    this.maxMs = options.maxMs ?? 30_000;
  }

  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return ceiling / 2 + this.random() * (ceiling / 2);
  }

  reset(): void {
    this.failures = 0;
  }

  /** No failure since the start or the last reset. */
  get pristine(): boolean {
    return this.failures === 0;
  }
}

/** Sleep that an abort ends early (resolves, never rejects); leaves no timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
