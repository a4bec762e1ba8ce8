import type { LogEvent } from '../../core/event.js';

/** Events ready to send together, with what the sink prepared for each (same order). */
export interface Batch<P> {
  /** Partition key (rendered URI, index, label set...): one batch never mixes keys. */
  readonly key: string;
  readonly events: LogEvent[];
  readonly payloads: P[];
  /** Sum of the prepared sizes, before compression. */
  bytes: number;
}

export interface BatchLimits {
  maxEvents: number;
  maxBytes: number;
  timeoutMs: number;
}

/**
 * Groups prepared events into batches per partition key. A batch is emitted when it reaches
 * max_events, when the next event would push it past max_bytes (an event larger than max_bytes
 * travels alone), or timeout_ms after its first event. Single-threaded: `add` and the timers run
 * on the event loop, so no locking.
 */
export class Batcher<P> {
  private readonly open = new Map<string, { batch: Batch<P>; timer: NodeJS.Timeout }>();

  constructor(
    private readonly limits: BatchLimits,
    private readonly emit: (batch: Batch<P>) => void,
  ) {}

  get openBatches(): number {
    return this.open.size;
  }

  add(key: string, event: LogEvent, payload: P, bytes: number): void {
    let entry = this.open.get(key);
    if (entry && entry.batch.bytes + bytes > this.limits.maxBytes) {
      this.flush(key);
      entry = undefined;
    }
    if (!entry) {
      const batch: Batch<P> = { key, events: [], payloads: [], bytes: 0 };
      const timer = setTimeout(() => this.flush(key), this.limits.timeoutMs);
      entry = { batch, timer };
      this.open.set(key, entry);
    }
    entry.batch.events.push(event);
    entry.batch.payloads.push(payload);
    entry.batch.bytes += bytes;
    if (entry.batch.events.length >= this.limits.maxEvents || entry.batch.bytes >= this.limits.maxBytes) this.flush(key);
  }

  flush(key: string): void {
    const entry = this.open.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.open.delete(key);
    this.emit(entry.batch);
  }

  flushAll(): void {
    for (const key of [...this.open.keys()]) this.flush(key);
  }
}

/** A batch holding the chosen subset of another batch's entries (for partial retries). */
export function subBatch<P>(batch: Batch<P>, indices: readonly number[], sizeOf: (payload: P) => number): Batch<P> {
  const sub: Batch<P> = { key: batch.key, events: [], payloads: [], bytes: 0 };
  for (const i of indices) {
    sub.events.push(batch.events[i]!);
    sub.payloads.push(batch.payloads[i]!);
    sub.bytes += sizeOf(batch.payloads[i]!);
  }
  return sub;
}
