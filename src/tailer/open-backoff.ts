/**
 * Opening paused after the process ran out of descriptors (EMFILE, ENFILE): the files are
 * retried once the pause ends, with a pause doubling up to `maxMs` while it goes on. Out of
 * descriptors is a moment, not a verdict on the file (sinks and the API hold descriptors too).
 */
export class OpenBackoff {
  private delayMs = 0;
  /** Pending while paused: the pause ends when it fires (not by clock: a timer may fire a hair early). */
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Called when a pause ends (the opener has files to retry). */
    private readonly retry: () => void,
    private readonly minMs = 100,
    private readonly maxMs = 10_000,
  ) {}

  get paused(): boolean {
    return this.timer !== undefined;
  }

  /** The pause before the next try, in ms. */
  get retryInMs(): number {
    return this.delayMs;
  }

  /** An open failed for lack of descriptors; true for the first failure of a run of them (log it once). */
  failed(): boolean {
    const first = this.delayMs === 0;
    this.delayMs = first ? this.minMs : Math.min(this.maxMs, this.delayMs * 2);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.retry();
    }, this.delayMs);
    this.timer.unref();
    return first;
  }

  /** An open succeeded: the next failure starts a new run at `minMs`. */
  succeeded(): void {
    this.delayMs = 0;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
