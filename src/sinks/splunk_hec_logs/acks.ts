import type { Logger } from 'pino';
import { bodyExcerpt, type HttpClient } from '../shared/http-client.js';

interface Pending {
  queriesLeft: number;
  settle: (indexed: boolean) => void;
}

/**
 * Indexer acknowledgements of one HEC channel. Every ackId Splunk returned waits here; all
 * pending ids are queried together (`POST /services/collector/ack {"acks":[...]}`) every
 * `query_interval`. An id answered `true` settles as indexed; one still unconfirmed after
 * `retry_limit` queries settles as not indexed. A failed query (network, 5xx) uses up one query
 * of every pending id, as an unconfirmed answer would.
 */
export class IndexerAcks {
  private readonly pending = new Map<number, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private querying = false;

  constructor(
    private readonly client: HttpClient,
    private readonly url: string,
    private readonly channel: string,
    private readonly intervalMs: number,
    private readonly retryLimit: number,
    private readonly logger: Logger,
  ) {}

  /** Resolves true once Splunk confirms `ackId` indexed, false when retry_limit runs out. */
  wait(ackId: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.pending.set(ackId, { queriesLeft: this.retryLimit, settle: resolve });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.querying || this.pending.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.query();
    }, this.intervalMs);
  }

  private async query(): Promise<void> {
    this.querying = true;
    const ids = [...this.pending.keys()];
    let confirmed: Record<string, unknown> = {};
    try {
      const response = await this.client.send({
        method: 'POST',
        url: this.url,
        headers: { 'content-type': 'application/json', 'x-splunk-request-channel': this.channel },
        body: JSON.stringify({ acks: ids }),
      });
      if (response.status === 200) confirmed = ((JSON.parse(response.body) as { acks?: Record<string, unknown> }).acks ?? {});
      else this.logger.warn({ status: response.status, detail: bodyExcerpt(response.body) }, 'splunk indexer acknowledgement query failed');
    } catch (error) {
      this.logger.warn({ detail: (error as Error).message }, 'splunk indexer acknowledgement query failed');
    }
    for (const id of ids) {
      const entry = this.pending.get(id);
      if (!entry) continue;
      if (confirmed[String(id)] === true) {
        this.pending.delete(id);
        entry.settle(true);
      } else if (--entry.queriesLeft <= 0) {
        this.pending.delete(id);
        entry.settle(false);
      }
    }
    this.querying = false;
    this.schedule();
  }

  /** Gives up every pending id (shutdown). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const [id, entry] of this.pending) {
      this.pending.delete(id);
      entry.settle(false);
    }
  }
}
