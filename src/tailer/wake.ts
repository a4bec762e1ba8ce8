/**
 * How the tailer's loop waits: it sleeps once it has nothing to do, and anything that may give it
 * work (an fs event, a timer, an admission, an exclusion) wakes it. A wake-up while the loop is
 * busy is remembered, so its next sleep returns at once (no event is lost between a round and the
 * sleep after it).
 */
export class Wake {
  private pending = false;
  private wakeUp: (() => void) | undefined;
  private coalesceTimer: NodeJS.Timeout | undefined;
  /** `now()` when `coalesceTimer` fires, and the delay it was set with. */
  private coalesceDueAt = 0;
  private coalesceDelayMs = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Whether the loop is asleep (tests). */
  get sleeping(): boolean {
    return this.wakeUp !== undefined;
  }

  wake(): void {
    const resolve = this.wakeUp;
    if (resolve) {
      this.wakeUp = undefined;
      resolve();
    } else {
      this.pending = true;
    }
  }

  /**
   * Wakes the loop at most `delayMs` later (fs events): writes to many files in the same moment
   * are then served by one read round instead of one wake-up each. A pending wake-up is only ever
   * brought forward.
   */
  soon(delayMs: number): void {
    if (this.wakeUp === undefined) {
      this.pending = true; // the loop is busy: it goes round again anyway
      return;
    }
    if (this.coalesceTimer !== undefined) {
      if (delayMs >= this.coalesceDelayMs) return; // the pending one comes no later
      if (this.now() + delayMs >= this.coalesceDueAt) return;
      clearTimeout(this.coalesceTimer);
    }
    this.coalesceDelayMs = delayMs;
    this.coalesceDueAt = this.now() + delayMs;
    this.coalesceTimer = setTimeout(() => {
      this.coalesceTimer = undefined;
      this.wake();
    }, delayMs);
  }

  /** Resolves at the next wake-up, or at once if one came since the last sleep. */
  sleep(): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.wakeUp = resolve;
    });
  }

  /** Drops a coalescing timer still pending (the loop ended). */
  close(): void {
    clearTimeout(this.coalesceTimer);
    this.coalesceTimer = undefined;
  }
}
