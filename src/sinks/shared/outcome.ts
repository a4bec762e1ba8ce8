import type { LogEvent } from '../../core/event.js';
import type { Batch } from './batcher.js';

/** Events rejected for good, with a fixed reason (metric label) and a human detail (log only). */
export interface Rejection {
  readonly events: LogEvent[];
  readonly reason: string;
  readonly detail: string;
}

/**
 * What one attempt at sending a batch achieved. A bulk API can accept some events, reject some
 * and ask for others to be sent again, so an attempt reports all three.
 */
export interface AttemptOutcome<P> {
  delivered: LogEvent[];
  /** Bytes the destination accepted (for the sent-bytes metric). */
  deliveredBytes: number;
  rejected: Rejection[];
  /** The destination's HTTP status, when it answered (the request-duration `status` label). */
  status?: number;
  /** What is left to send again, and why. */
  retry?: { batch: Batch<P>; reason: string; detail: string; retryAfterMs?: number | undefined };
}

export function deliveredAll<P>(batch: Batch<P>, bytes: number): AttemptOutcome<P> {
  return { delivered: batch.events, deliveredBytes: bytes, rejected: [] };
}

export function retryAll<P>(batch: Batch<P>, reason: string, detail: string, retryAfterMs?: number): AttemptOutcome<P> {
  return { delivered: [], deliveredBytes: 0, rejected: [], retry: { batch, reason, detail, retryAfterMs } };
}

export function rejectAll<P>(batch: Batch<P>, reason: string, detail: string): AttemptOutcome<P> {
  return { delivered: [], deliveredBytes: 0, rejected: [{ events: batch.events, reason, detail }] };
}
