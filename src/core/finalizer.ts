/**
 * End-to-end acknowledgement. A source creates one Finalizer for a group of events (typically
 * one read of a file) with `pending` = number of event deliveries it waits for. Every sink that
 * finishes with an event (durably accepted, or rejected for good) releases it once; fan-out to
 * N consumers retains N-1 extra references. When the count reaches zero the source is told, once.
 *
 * A permanent rejection still completes the finalizer: a 400 from a sink must never hold a
 * checkpoint back forever. The outcome reports how many deliveries were rejected so the source
 * can count them.
 */
export type DeliveryStatus = 'delivered' | 'rejected';

export interface FinalizerOutcome {
  rejected: number;
}

export class Finalizer {
  private pending: number;
  private rejected = 0;
  private readonly onDone: (outcome: FinalizerOutcome) => void;

  constructor(pending: number, onDone: (outcome: FinalizerOutcome) => void) {
    this.pending = pending;
    this.onDone = onDone;
    if (pending === 0) queueMicrotask(() => onDone({ rejected: 0 }));
  }

  get outstanding(): number {
    return this.pending;
  }

  retain(count = 1): void {
    if (this.pending <= 0) throw new Error('Finalizer retained after completion');
    this.pending += count;
  }

  release(status: DeliveryStatus, count = 1): void {
    if (this.pending <= 0) return;
    if (status === 'rejected') this.rejected += count;
    this.pending -= count;
    if (this.pending <= 0) this.onDone({ rejected: this.rejected });
  }
}
