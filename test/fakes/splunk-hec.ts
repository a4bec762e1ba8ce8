import { ReceiverFake, type ReceivedRequest } from './receiver.js';

export interface HecStoredEvent {
  target: 'event' | 'raw';
  channel: string | undefined;
  /** The envelope (event target) or the metadata from the query string plus `event` = the line (raw target). */
  envelope: Record<string, unknown>;
  ackId: number | undefined;
}

export interface FakeSplunkHecOptions {
  token: string;
  /** The token has indexer acknowledgement on: a channel is required and answers carry an ackId. */
  indexerAck?: boolean;
  /** Confirm each ackId on its first query (otherwise only `confirm()` does). */
  autoConfirm?: boolean;
  /** Answer this many data POSTs with 503 "Server is busy" (code 9) before accepting. */
  busyPosts?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A fake Splunk HEC answering as Splunk documents: `Authorization: Splunk <token>` (401 code 2
 * "Token is required" when absent, 403 code 4 "Invalid token" when wrong), event endpoint bodies
 * of concatenated JSON envelopes each needing `event` (400 code 12 "Event field is required",
 * code 6 "Invalid data format"), raw endpoint needing a channel (400 code 10 "Data channel is
 * missing"), `time` numeric epoch seconds, indexer acknowledgement (`ackId` in the answer, ack
 * status via POST /services/collector/ack `{"acks":[ids]}` → `{"acks":{"id":bool}}`), and
 * `/services/collector/health`.
 */
export class FakeSplunkHec extends ReceiverFake {
  readonly events: HecStoredEvent[] = [];
  readonly ackQueries: number[][] = [];
  private nextAckId = 0;
  private readonly confirmed = new Set<number>();
  private busy = 0;

  constructor(private readonly options: FakeSplunkHecOptions) {
    super();
  }

  /** Splunk has indexed the data of these ackIds. */
  confirm(...ackIds: number[]): void {
    for (const id of ackIds) this.confirmed.add(id);
  }

  protected handle(request: ReceivedRequest): { status: number; body: string } {
    const reply = (status: number, text: string, code: number, extra: Record<string, unknown> = {}) => ({ status, body: JSON.stringify({ text, code, ...extra }) });
    const url = new URL(request.url, 'http://fake');
    if (url.pathname === '/services/collector/health') return reply(200, 'HEC is healthy', 17);
    const auth = request.headers.authorization;
    if (!auth) return reply(401, 'Token is required', 2);
    if (auth !== `Splunk ${this.options.token}`) return reply(403, 'Invalid token', 4);
    const header = request.headers['x-splunk-request-channel'];
    const channel = (typeof header === 'string' ? header : undefined) ?? url.searchParams.get('channel') ?? undefined;
    if (channel !== undefined && !UUID.test(channel)) return reply(400, 'Invalid data channel', 11);
    if (request.method !== 'POST') return reply(404, 'The requested URL was not found on this server.', 404);
    if (url.pathname === '/services/collector/ack') {
      if (!this.options.indexerAck) return reply(400, 'ACK is disabled', 14);
      if (!channel) return reply(400, 'Data channel is missing', 10);
      const query = JSON.parse(request.body) as { acks?: unknown };
      if (!Array.isArray(query.acks) || query.acks.some((id) => typeof id !== 'number')) return reply(400, 'Invalid data format', 6);
      const ids = query.acks as number[];
      this.ackQueries.push(ids);
      if (this.options.autoConfirm) this.confirm(...ids);
      return { status: 200, body: JSON.stringify({ acks: Object.fromEntries(ids.map((id) => [String(id), this.confirmed.has(id)])) }) };
    }
    if (this.options.indexerAck && !channel) return reply(400, 'Data channel is missing', 10);
    if (this.busy < (this.options.busyPosts ?? 0)) {
      this.busy++;
      return reply(503, 'Server is busy', 9);
    }
    const ackId = this.options.indexerAck ? this.nextAckId : undefined;
    const stored: HecStoredEvent[] = [];
    if (url.pathname === '/services/collector/event' || url.pathname === '/services/collector') {
      for (const line of request.body.split('\n')) {
        if (line.trim() === '') continue;
        let envelope: Record<string, unknown>;
        try {
          envelope = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return reply(400, 'Invalid data format', 6, { 'invalid-event-number': stored.length });
        }
        if (envelope.event === undefined || envelope.event === '') return reply(400, 'Event field is required', 12, { 'invalid-event-number': stored.length });
        if (envelope.time !== undefined && typeof envelope.time !== 'number') return reply(400, 'Invalid data format', 6, { 'invalid-event-number': stored.length });
        if (envelope.fields !== undefined && (typeof envelope.fields !== 'object' || Array.isArray(envelope.fields))) return reply(400, 'Error in handling indexed fields', 15);
        stored.push({ target: 'event', channel, envelope, ackId });
      }
      if (stored.length === 0) return reply(400, 'No data', 5);
    } else if (url.pathname === '/services/collector/raw') {
      if (!channel) return reply(400, 'Data channel is missing', 10);
      const metadata = Object.fromEntries([...url.searchParams].filter(([key]) => key !== 'channel'));
      for (const line of request.body.split('\n')) if (line !== '') stored.push({ target: 'raw', channel, envelope: { ...metadata, event: line }, ackId });
      if (stored.length === 0) return reply(400, 'No data', 5);
    } else return reply(404, 'The requested URL was not found on this server.', 404);
    this.events.push(...stored);
    if (ackId === undefined) return reply(200, 'Success', 0);
    this.nextAckId++;
    return reply(200, 'Success', 0, { ackId });
  }
}
