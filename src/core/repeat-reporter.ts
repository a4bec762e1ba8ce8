import type { Logger } from 'pino';

/**
 * Logs a condition that repeats (a destination that keeps failing) without flooding the log:
 * the first occurrence is logged at once, then at most one line per `intervalMs` carrying the
 * number of repeats suppressed since the last line; `recovered()` logs one line when the
 * condition ends. One instance per component and condition owns that state.
 */
export class RepeatReporter {
  private failing = false;
  private lastLineAt = -Infinity;
  private since = 0;
  /** Occurrences (and their `events`) not logged since the last line. */
  private suppressed = 0;
  private suppressedEvents = 0;
  /** Occurrences since the condition began. */
  private total = 0;

  constructor(
    private readonly logger: Logger,
    private readonly options: { intervalMs?: number; recoveredMessage?: string; now?: () => number } = {},
  ) {}

  /** One occurrence; `fields.events` (when a number) is summed over the suppressed ones. */
  report(fields: Record<string, unknown>, message: string): void {
    const now = (this.options.now ?? Date.now)();
    if (!this.failing) {
      this.failing = true;
      this.since = now;
      this.total = 0;
    }
    this.total++;
    if (now - this.lastLineAt < (this.options.intervalMs ?? 5000)) {
      this.suppressed++;
      if (typeof fields.events === 'number') this.suppressedEvents += fields.events;
      return;
    }
    const repeats = this.suppressed > 0 ? { suppressed: this.suppressed, suppressed_events: this.suppressedEvents } : {};
    this.logger.warn({ ...fields, ...repeats }, this.suppressed > 0 ? `${message} (${this.suppressed} similar suppressed)` : message);
    this.lastLineAt = now;
    this.suppressed = 0;
    this.suppressedEvents = 0;
  }

  /** The condition is over: one info line, only when something was reported since the last one. */
  recovered(fields: Record<string, unknown> = {}): void {
    if (!this.failing) return;
    const now = (this.options.now ?? Date.now)();
    this.logger.info(
      { ...fields, failures: this.total, suppressed: this.suppressed, failing_for_ms: now - this.since },
      this.options.recoveredMessage ?? 'recovered',
    );
    this.failing = false;
    this.lastLineAt = now;
    this.suppressed = 0;
    this.suppressedEvents = 0;
  }
}
