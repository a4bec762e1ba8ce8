// W2's receiver: an HTTP server taking NDJSON bodies of kubernetes_logs events whose message starts
// with `c<container> <seq> `. Counts each id in a per-container array to find duplicates and
// missing lines, and checks enrichment (`kubernetes.pod_labels` present on every event; every
// 500th event is fully parsed and its pod must be the container's pod). Answers 200 after counting.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceiverCounts {
  /** Distinct ids received. */
  unique: number;
  duplicates: number;
  /** Events without `kubernetes.pod_labels` (not enriched). */
  unenriched: number;
  /** Events whose message carries no valid id. */
  malformed: number;
  /** Fully parsed samples whose pod did not match the id's container. */
  wrongPod: number;
  sampled: number;
  requests: number;
  wireBytes: number;
}

const MESSAGE_KEY = '"message":"c';
const LABELS_KEY = '"pod_labels":{"';

export class CountingReceiver implements ReceiverCounts {
  unique = 0;
  duplicates = 0;
  unenriched = 0;
  malformed = 0;
  wrongPod = 0;
  sampled = 0;
  requests = 0;
  wireBytes = 0;
  /** Performance.now() when the last missing id arrived. */
  completedAt = 0;
  private readonly seen: Uint8Array[];
  private readonly server: Server;
  private readonly waiters: Array<() => void> = [];
  private eventIndex = 0;

  private constructor(
    readonly containers: number,
    readonly linesPerContainer: number,
    private readonly podNameOf: (container: number) => string,
  ) {
    this.seen = Array.from({ length: containers }, () => new Uint8Array(linesPerContainer));
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.wireBytes += body.length;
        this.requests++;
        this.count(body.toString('utf8'));
        res.writeHead(200).end();
      });
    });
    this.server.keepAliveTimeout = 60_000;
  }

  static async start(containers: number, linesPerContainer: number, podNameOf: (container: number) => string): Promise<CountingReceiver> {
    const receiver = new CountingReceiver(containers, linesPerContainer, podNameOf);
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/ingest`;
  }

  get expected(): number {
    return this.containers * this.linesPerContainer;
  }

  /** Resolves once every expected id arrived. */
  complete(): Promise<void> {
    if (this.unique >= this.expected) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Ids never received, per container (only containers with a gap), at most `limit` listed each. */
  missing(limit = 5): Array<{ container: number; count: number; first: number[] }> {
    const out: Array<{ container: number; count: number; first: number[] }> = [];
    this.seen.forEach((seen, container) => {
      const first: number[] = [];
      let count = 0;
      for (let seq = 0; seq < seen.length; seq++) {
        if (seen[seq] !== 0) continue;
        count++;
        if (first.length < limit) first.push(seq);
      }
      if (count > 0) out.push({ container, count, first });
    });
    return out;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private count(body: string): void {
    let start = 0;
    while (start < body.length) {
      let end = body.indexOf('\n', start);
      if (end === -1) end = body.length;
      if (end > start) this.countEvent(body, start, end);
      start = end + 1;
    }
    if (this.unique >= this.expected && this.completedAt === 0) {
      this.completedAt = performance.now();
      for (const resolve of this.waiters.splice(0)) resolve();
    }
  }

  private countEvent(body: string, start: number, end: number): void {
    const at = body.indexOf(MESSAGE_KEY, start);
    let container = -1;
    let seq = -1;
    if (at !== -1 && at < end) {
      let i = at + MESSAGE_KEY.length;
      let n = 0;
      let digits = 0;
      for (let ch = body.charCodeAt(i); ch >= 48 && ch <= 57; ch = body.charCodeAt(++i), digits++) n = n * 10 + ch - 48;
      if (digits > 0 && body.charCodeAt(i) === 32) {
        container = n;
        n = 0;
        digits = 0;
        for (let ch = body.charCodeAt(++i); ch >= 48 && ch <= 57; ch = body.charCodeAt(++i), digits++) n = n * 10 + ch - 48;
        if (digits > 0 && body.charCodeAt(i) === 32) seq = n;
      }
    }
    if (container < 0 || container >= this.containers || seq < 0 || seq >= this.linesPerContainer) {
      this.malformed++;
      return;
    }
    const labels = body.indexOf(LABELS_KEY, start);
    if (labels === -1 || labels > end) this.unenriched++;
    if (this.eventIndex++ % 500 === 0) {
      this.sampled++;
      const event = JSON.parse(body.slice(start, end)) as { kubernetes?: { pod_name?: string; pod_labels?: Record<string, string> } };
      if (event.kubernetes?.pod_name !== this.podNameOf(container) || event.kubernetes.pod_labels?.['app.kubernetes.io/instance'] !== this.podNameOf(container)) this.wrongPod++;
    }
    const seen = this.seen[container]!;
    if (seen[seq] === 0) this.unique++;
    else this.duplicates++;
    if (seen[seq]! < 255) seen[seq]!++;
  }
}
