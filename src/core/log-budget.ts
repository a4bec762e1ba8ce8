/**
 * At most `perWindow` log lines per window, for warnings whose count the input decides (a pod
 * can make a million bad links): the lines over budget are counted, and the count goes with
 * the next line logged. Metrics still count every occurrence.
 */
export class LogBudget {
  private windowStart = -Infinity;
  private used = 0;
  private suppressed = 0;

  constructor(
    private readonly perWindow = 20,
    private readonly windowMs = 60_000,
  ) {}

  /** Undefined: do not log this one. Else: how many were not logged since the last one. */
  take(now = Date.now()): number | undefined {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used >= this.perWindow) {
      this.suppressed++;
      return undefined;
    }
    this.used++;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return suppressed;
  }
}
