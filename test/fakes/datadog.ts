import { ReceiverFake, type ReceivedRequest } from './receiver.js';

export interface FakeDatadogOptions {
  apiKey: string;
  /** Uncompressed request limit (Datadog: 5 MB); lower it to provoke 413s with small batches. */
  maxPayloadBytes?: number;
  /** Answer this many log POSTs with 429 and `Retry-After: 0` before accepting (throttling). */
  throttlePosts?: number;
}

const MAX_ENTRIES = 1000;
const MAX_ENTRY_BYTES = 1_000_000;

/**
 * A fake Datadog answering as its logs intake API v2 and key validation are documented:
 * `POST /api/v2/logs` with `DD-API-KEY` (403 otherwise), a JSON array (or one object) of entries,
 * at most 1000 entries and 5 MB uncompressed (413 beyond), entries above 1 MB truncated and
 * accepted, `202 {}` on success; `GET /api/v1/validate` answers `{"valid":true}` or 403.
 */
export class FakeDatadog extends ReceiverFake {
  readonly entries: Array<Record<string, unknown>> = [];
  private throttled = 0;

  constructor(private readonly options: FakeDatadogOptions) {
    super();
  }

  protected handle(request: ReceivedRequest): { status: number; body: string; headers?: Record<string, string> } {
    const forbidden = { status: 403, body: JSON.stringify({ errors: ['Forbidden'] }) };
    const bad = (detail: string) => ({ status: 400, body: JSON.stringify({ errors: [{ status: '400', title: 'Bad Request', detail }] }) });
    const key = request.headers['dd-api-key'];
    if (request.method === 'GET' && request.url === '/api/v1/validate') return key === this.options.apiKey ? { status: 200, body: '{"valid":true}' } : forbidden;
    if (request.method !== 'POST' || request.url.split('?')[0] !== '/api/v2/logs') return { status: 404, body: '{"errors":["Not Found"]}' };
    if (key !== this.options.apiKey) return forbidden;
    if (this.throttled < (this.options.throttlePosts ?? 0)) {
      this.throttled++;
      return { status: 429, body: '{"errors":["Too Many Requests"]}', headers: { 'retry-after': '0' } };
    }
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) return bad('Content-Type must be application/json');
    if (Buffer.byteLength(request.body) > (this.options.maxPayloadBytes ?? 5_000_000)) return { status: 413, body: JSON.stringify({ errors: [{ status: '413', title: 'Request Entity Too Large' }] }) };
    let parsed: unknown;
    try {
      parsed = JSON.parse(request.body);
    } catch (error) {
      return bad(`invalid JSON: ${(error as Error).message}`);
    }
    const list = Array.isArray(parsed) ? parsed : [parsed];
    if (list.length > MAX_ENTRIES) return bad(`too many entries: ${list.length} > ${MAX_ENTRIES}`);
    const accepted: Array<Record<string, unknown>> = [];
    for (const entry of list) {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return bad('each log must be a JSON object');
      const log = entry as Record<string, unknown>;
      for (const name of ['ddsource', 'ddtags', 'hostname', 'service', 'status', 'message'])
        if (log[name] !== undefined && typeof log[name] !== 'string') return bad(`${name} must be a string`);
      if (log.timestamp !== undefined && typeof log.timestamp !== 'number' && typeof log.timestamp !== 'string') return bad('invalid timestamp');
      if (Buffer.byteLength(JSON.stringify(log)) > MAX_ENTRY_BYTES && typeof log.message === 'string') log.message = log.message.slice(0, MAX_ENTRY_BYTES / 2);
      accepted.push(log);
    }
    this.entries.push(...accepted);
    return { status: 202, body: '{}' };
  }
}
