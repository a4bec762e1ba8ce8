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
  /** `now()` when `coalesceTimer` fires. */
  private coalesceDueAt = 0;
  /** `now()` from which a further `soon` call wakes the loop by itself (no timer wake-up of its own). */
  private coalesceReadyAt = Infinity;
  private immediate: NodeJS.Immediate | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Whether the loop is asleep (tests). */
  get sleeping(): boolean {
    return this.wakeUp !== undefined;
  }

  wake(): void {
    const resolve = this.wakeUp;
    if (resolve) {
      this.wakeUp = undefined;
      this.dropCoalescing(); // the pass it wakes serves every file marked so far
      resolve();
    } else {
      this.pending = true;
    }
  }

  /**
   * Wakes the loop `delayMs` after the first of a run of fs events, serving all of them in one
   * read round: at the first event at least `delayMs` after that first one (it wakes the process
   * anyway: no timer wake-up of its own), else by a timer at `latestMs` (>= `delayMs`). On a quiet
   * node the events of many pods then cost one round, and the rounds ride on event wake-ups.
   * A pending wake-up is only ever brought forward.
   */
  soon(delayMs: number, latestMs = delayMs): void {
    if (this.wakeUp === undefined) {
      this.pending = true; // the loop is busy: it goes round again anyway
      return;
    }
    const now = this.now();
    if (now >= this.coalesceReadyAt) {
      // After every fs event callback of this loop turn (one inotify read holds many): one round for all.
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.wake();
      });
      return;
    }
    this.coalesceReadyAt = Math.min(this.coalesceReadyAt, now + delayMs);
    const dueAt = now + latestMs;
    if (this.coalesceTimer !== undefined) {
      if (dueAt >= this.coalesceDueAt) return; // the pending one comes no later
      clearTimeout(this.coalesceTimer);
    }
    this.coalesceDueAt = dueAt;
    this.coalesceTimer = setTimeout(() => {
      this.coalesceTimer = undefined;
      this.wake();
    }, latestMs);
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
    this.dropCoalescing();
  }

  private dropCoalescing(): void {
    clearTimeout(this.coalesceTimer);
    this.coalesceTimer = undefined;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.coalesceReadyAt = Infinity;
  }
}
