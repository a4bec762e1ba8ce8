import { sleep } from './retry.js';

/**
 * At most `num` requests started per `windowMs` (Vector's `request.rate_limit_*`), retries
 * included: a destination with a quota sees no more than that, whatever the backlog. Callers
 * wait their turn in order; while one waits it holds its concurrency slot, so a limited sink
 * backpressures its input instead of queueing without bound.
 */
export interface RateLimitClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: RateLimitClock = { now: () => Date.now(), sleep };

export class RequestRateLimit {
  private readonly starts: number[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly num: number | undefined,
    private readonly windowMs: number,
    private readonly clock: RateLimitClock = realClock,
  ) {}

  /** Resolves when one more request may start; undefined when there is no limit. */
  take(): Promise<void> | undefined {
    if (this.num === undefined) return undefined;
    const turn = this.queue.then(() => this.waitForSlot(this.num!));
    this.queue = turn;
    return turn;
  }

  private async waitForSlot(num: number): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      while (this.starts.length > 0 && this.starts[0]! <= now - this.windowMs) this.starts.shift();
      if (this.starts.length < num) {
        this.starts.push(now);
        return;
      }
      await this.clock.sleep(this.starts[0]! + this.windowMs - now);
    }
  }
}
