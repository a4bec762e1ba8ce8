import type { Batch } from './batcher.js';
import { bodyExcerpt, type HttpResponse } from './http-client.js';
import { deliveredAll, rejectAll, retryAll, type AttemptOutcome } from './outcome.js';
import { isRetryableStatus, parseRetryAfter, statusReason } from './retry.js';

/**
 * The usual reading of an HTTP answer for a whole batch: 2xx delivered; 429, 408 and 5xx retried
 * (honouring Retry-After); any other status rejected for good (a 400 will not get better).
 */
export function outcomeFromStatus<P>(batch: Batch<P>, response: HttpResponse, sentBytes: number): AttemptOutcome<P> {
  return { ...readStatus(batch, response, sentBytes), status: response.status };
}

function readStatus<P>(batch: Batch<P>, response: HttpResponse, sentBytes: number): AttemptOutcome<P> {
  const { status } = response;
  if (status >= 200 && status < 300) return deliveredAll(batch, sentBytes);
  const detail = `HTTP ${status}: ${bodyExcerpt(response.body)}`;
  if (isRetryableStatus(status)) return retryAll(batch, statusReason(status), detail, parseRetryAfter(response.headers['retry-after']));
  return rejectAll(batch, statusReason(status), detail);
}
