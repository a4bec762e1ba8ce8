import type { LogEvent } from '../event.js';

/**
 * The queue in front of a component's input. Producers `push` batches; the consumer iterates.
 * `push` returns a promise only when the buffer is full and `when_full = "block"`: awaiting it is
 * how a slow sink slows its sources. With `drop_newest` a full buffer drops the batch (acking its
 * events as rejected, so checkpoints still move) and returns undefined.
 *
 * A buffer is closed once every producer has finished; the consumer then drains what is left and
 * its iteration ends.
 */
export interface EventBuffer extends AsyncIterable<LogEvent[]> {
  push(events: LogEvent[]): Promise<void> | undefined;
  /** Number of events currently held (for the queue-depth gauge). */
  readonly size: number;
  /** Capacity in events, when the buffer counts events (memory buffers); for `sluice top`. */
  readonly maxEvents?: number;
  /** No more pushes will come. */
  close(): void;
}
