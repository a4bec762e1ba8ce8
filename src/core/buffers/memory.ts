import type { LogEvent } from '../event.js';
import type { EventBuffer } from './types.js';

export type WhenFull = 'block' | 'drop_newest';

export interface MemoryBufferOptions {
  maxEvents: number;
  whenFull: WhenFull;
  /** Called with events dropped because the buffer was full (drop_newest). */
  onDrop?: (events: LogEvent[]) => void;
}

/**
 * A bounded in-memory queue of batches. Capacity counts events, not batches. A batch larger than
 * the whole capacity is still accepted when the queue is empty, so an oversized batch can never
 * deadlock a pipeline.
 */
export class MemoryBuffer implements EventBuffer {
  private readonly batches: LogEvent[][] = [];
  private head = 0;
  private held = 0;
  private closed = false;
  private readonly waitingProducers: Array<() => void> = [];
  private wakeConsumer: (() => void) | undefined;

  constructor(private readonly options: MemoryBufferOptions) {}

  get size(): number {
    return this.held;
  }

  get maxEvents(): number {
    return this.options.maxEvents;
  }

  push(events: LogEvent[]): Promise<void> | undefined {
    if (this.closed) throw new Error('push to a closed buffer');
    if (events.length === 0) return undefined;
    if (this.held === 0 || this.held + events.length <= this.options.maxEvents) {
      this.enqueue(events);
      return undefined;
    }
    if (this.options.whenFull === 'drop_newest') {
      this.options.onDrop?.(events);
      return undefined;
    }
    return new Promise<void>((resolve) => {
      this.waitingProducers.push(() => {
        this.enqueue(events);
        resolve();
      });
    });
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LogEvent[]> {
    for (;;) {
      const batch = this.shift();
      if (batch) {
        yield batch;
        continue;
      }
      if (this.closed && this.waitingProducers.length === 0) return;
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }

  private enqueue(events: LogEvent[]): void {
    this.batches.push(events);
    this.held += events.length;
    this.wake();
  }

  private shift(): LogEvent[] | undefined {
    if (this.head >= this.batches.length) return undefined;
    const batch = this.batches[this.head]!;
    this.batches[this.head++] = undefined as unknown as LogEvent[];
    if (this.head > 1024 && this.head * 2 > this.batches.length) {
      this.batches.splice(0, this.head);
      this.head = 0;
    }
    this.held -= batch.length;
    this.admitWaitingProducers();
    return batch;
  }

  /** FIFO admission keeps producers fair and batches in order. */
  private admitWaitingProducers(): void {
    while (this.waitingProducers.length > 0) {
      const next = this.waitingProducers[0]!;
      // Peek size is unknown until admitted; admit one at a time while there is room.
      if (this.held >= this.options.maxEvents) return;
      this.waitingProducers.shift();
      next();
    }
  }

  private wake(): void {
    const wake = this.wakeConsumer;
    this.wakeConsumer = undefined;
    wake?.();
  }
}
