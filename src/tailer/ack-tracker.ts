/** One read batch of a file, waiting for its events to be acknowledged. */
export interface InFlightBatch {
  /** The file's checkpoint may move to this offset once this batch and all earlier ones are done. */
  readonly checkpointOffset: number;
  /** `Date.now()` when read: the age of the oldest unacknowledged event (one clock read per batch). */
  readonly readAt: number;
  done: boolean;
}

/**
 * Acknowledgements arrive out of order (several sinks, retries); a checkpoint only moves over the
 * longest contiguous prefix of finished batches. Batches are pushed in file order.
 */
export class AckTracker {
  private readonly inFlight: InFlightBatch[] = [];
  acknowledgedOffset: number;

  constructor(startOffset: number) {
    this.acknowledgedOffset = startOffset;
  }

  get pendingBatches(): number {
    return this.inFlight.length;
  }

  /** When the oldest batch still waiting was read (finished prefixes are removed: it is the first). */
  get oldestPendingAt(): number | undefined {
    return this.inFlight[0]?.readAt;
  }

  push(checkpointOffset: number): InFlightBatch {
    const batch: InFlightBatch = { checkpointOffset, readAt: Date.now(), done: false };
    this.inFlight.push(batch);
    return batch;
  }

  complete(batch: InFlightBatch): void {
    batch.done = true;
    let finished = 0;
    while (finished < this.inFlight.length && this.inFlight[finished]!.done) finished++;
    if (finished === 0) return;
    // Offsets are non-decreasing in file order, but never let a checkpoint move backwards.
    const offset = this.inFlight[finished - 1]!.checkpointOffset;
    if (offset > this.acknowledgedOffset) this.acknowledgedOffset = offset;
    this.inFlight.splice(0, finished);
  }
}
