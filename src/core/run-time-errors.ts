import type { Logger } from 'pino';
import { LogBudget } from './log-budget.js';
import type { ComponentMetrics } from './metrics.js';

export interface ErrorReportOptions {
  /** Log lines that share a budget (default: the error type's own). */
  readonly group?: string;
  /** Only the first occurrence of the group is logged, ever (every one is still counted). */
  readonly once?: boolean;
  readonly level?: 'warn' | 'error';
}

/**
 * A component's errors at run time, as Vector's internal events pair them: every occurrence is
 * counted (`sluice_component_errors_total{reason}`) and logged, the log bounded per group (at
 * most `perWindow` lines per window; the next line logged carries how many were `suppressed`),
 * because how often many of them happen is the input's choice (a pod can make a million bad links).
 */
export class RunTimeErrors {
  private readonly budgets = new Map<string, LogBudget>();
  private readonly loggedOnce = new Set<string>();

  constructor(
    private readonly metrics: ComponentMetrics,
    private readonly logger: Logger,
    private readonly limits: { readonly perWindow?: number; readonly windowMs?: number } = {},
  ) {}

  /** One occurrence of `type` (a fixed reason string): counted, and logged within its group's budget. */
  report(type: string, fields: Record<string, unknown>, message: string, options: ErrorReportOptions = {}): void {
    this.metrics.error(type);
    const group = options.group ?? type;
    if (options.once) {
      if (this.loggedOnce.has(group)) return;
      this.loggedOnce.add(group);
      this.log(options.level, fields, message);
      return;
    }
    let budget = this.budgets.get(group);
    if (budget === undefined) this.budgets.set(group, (budget = new LogBudget(this.limits.perWindow, this.limits.windowMs)));
    const suppressed = budget.take();
    if (suppressed === undefined) return;
    this.log(options.level, suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }

  /**
   * Occurrences counted only: per-line problems summed over a read round (their lines are shipped
   * or cut per rule, each visible in the metric), or conditions whose log line is elsewhere.
   */
  count(type: string, occurrences = 1): void {
    if (occurrences > 0) this.metrics.error(type, occurrences);
  }

  private log(level: 'warn' | 'error' | undefined, fields: Record<string, unknown>, message: string): void {
    if (level === 'error') this.logger.error(fields, message);
    else this.logger.warn(fields, message);
  }
}
