import type { Batch } from '../shared/batcher.js';
import { subBatch } from '../shared/batcher.js';
import { retryAll, type AttemptOutcome, type Rejection } from '../shared/outcome.js';
import { isRetryableStatus } from '../shared/retry.js';

/** One bulk item as the response reports it (after filter_path). */
interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string };
}

interface BulkResponse {
  errors?: boolean;
  items?: Array<Record<string, BulkItemResult>>;
}

/**
 * Reads a 200 bulk response item by item: successes are delivered; 429/5xx items go back for
 * another try (only them); a 409 on `create` means the document is already there (a replay after
 * a crash), so it counts as delivered; any other failure is rejected for good with the cluster's
 * error type as detail.
 */
export function outcomeFromBulkResponse(batch: Batch<Buffer>, body: string, sentBytes: number, createMeansIdempotent: boolean): AttemptOutcome<Buffer> {
  let response: BulkResponse;
  try {
    response = JSON.parse(body) as BulkResponse;
  } catch {
    // A proxy's HTML page or a cut body: the cluster's verdict is unknown, so send again.
    return retryAll(batch, 'es_bad_response', `bulk answer is not JSON: ${body.slice(0, 200)}`);
  }
  if (!response.errors) return { delivered: batch.events, deliveredBytes: sentBytes, rejected: [] };
  const items = response.items ?? [];
  if (items.length !== batch.events.length) {
    return retryAll(batch, 'es_bad_response', `bulk answer has ${items.length} items for ${batch.events.length} documents`);
  }
  const delivered = [];
  const retry: number[] = [];
  const rejected = new Map<string, Rejection>();
  let firstRetryDetail = '';
  for (let i = 0; i < items.length; i++) {
    const result = Object.values(items[i]!)[0]!;
    const status = result.status;
    if ((status >= 200 && status < 300) || (status === 409 && createMeansIdempotent)) {
      delivered.push(batch.events[i]!);
    } else if (isRetryableStatus(status)) {
      retry.push(i);
      firstRetryDetail ||= describe(result);
    } else {
      const type = result.error?.type ?? `status_${status}`;
      let rejection = rejected.get(type);
      if (!rejection) {
        rejection = { events: [], reason: 'es_item_rejected', detail: describe(result) };
        rejected.set(type, rejection);
      }
      rejection.events.push(batch.events[i]!);
    }
  }
  // Wire bytes are known per request, not per document: count the accepted share.
  const deliveredBytes = Math.round((sentBytes * delivered.length) / items.length);
  const outcome: AttemptOutcome<Buffer> = { delivered, deliveredBytes, rejected: [...rejected.values()] };
  if (retry.length > 0) {
    outcome.retry = {
      batch: subBatch(batch, retry, (payload) => payload.length),
      reason: 'es_item_retry',
      detail: `${retry.length} of ${items.length} bulk items failed transiently, first: ${firstRetryDetail}`,
    };
  }
  return outcome;
}

function describe(result: BulkItemResult): string {
  return `${result.status} ${result.error?.type ?? ''}: ${result.error?.reason ?? ''}`.slice(0, 500);
}
