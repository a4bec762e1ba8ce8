import { Backoff } from '../kubernetes/metadata/backoff.js';

/**
 * Failed checkpoint writes (a read-only or full data directory): retried with exponential backoff
 * from the checkpoint interval, capped, instead of every interval; each error code is reported
 * once per outage, not on every attempt. The checkpoints stay in memory and are written on the
 * first attempt that succeeds.
 */
export class CheckpointWriteBackoff {
  private readonly backoff: Backoff;
  private failing = false;
  private nextAttemptAt = 0;
  private readonly reportedCodes = new Set<string>();

  constructor(
    intervalMs: number,
    maxMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.backoff = new Backoff({ initialMs: intervalMs, maxMs: Math.max(maxMs, intervalMs) });
  }

  /** Whether a write is due now (always while writes work). */
  due(): boolean {
    return !this.failing || this.now() >= this.nextAttemptAt;
  }

  /** Records a failure; `report` is true the first time this error code is seen in this outage. */
  failed(error: unknown): { code: string; report: boolean; retryInMs: number } {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    const retryInMs = Math.round(this.backoff.next());
    this.failing = true;
    this.nextAttemptAt = this.now() + retryInMs;
    const report = !this.reportedCodes.has(code);
    this.reportedCodes.add(code);
    return { code, report, retryInMs };
  }

  /** Records a success; true when it ends an outage. */
  succeeded(): boolean {
    if (!this.failing) return false;
    this.failing = false;
    this.reportedCodes.clear();
    this.backoff.reset();
    return true;
  }
}
