import { decodeSnappyPush } from './loki-protobuf.js';
import { ReceiverFake, type ReceivedRequest, type ReceiverOptions } from './receiver.js';

export interface LokiStoredEntry {
  tenant: string;
  labels: Record<string, string>;
  nanos: string;
  line: string;
  /** Structured metadata (the optional third element of a value). */
  metadata?: Record<string, string>;
}

export interface FakeLokiOptions {
  tls?: ReceiverOptions['tls'];
  /** Behave like Loki < 2.4 (or an entry beyond the window): refuse entries older than their stream's newest. */
  rejectOutOfOrder?: boolean;
  /** Multi-tenant mode: pushes without X-Scope-OrgID get 401 "no org id". */
  requireTenant?: boolean;
  authorization?: string;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A fake Loki that validates pushes as Loki's push handler does: JSON (Content-Type
 * application/json) or snappy protobuf (application/x-protobuf, decoded to the same shape),
 * `{"streams":[{"stream":{labels},"values":[["<ns digits>","<line>"],...]}]}`,
 * valid non-empty label names, string nanosecond timestamps. Like Loki, a push with refused
 * entries stores the others and answers 400 listing them with "total ignored: N out of M".
 */
export class FakeLoki extends ReceiverFake {
  readonly entries: LokiStoredEntry[] = [];
  /** Push format of every accepted-for-parsing request. */
  readonly formats: Array<'json' | 'protobuf'> = [];
  private readonly newest = new Map<string, bigint>();

  constructor(private readonly options: FakeLokiOptions = {}) {
    super(options.tls);
  }

  /** Entries of the stream whose labels include all of `match`. */
  stream(match: Record<string, string>): LokiStoredEntry[] {
    return this.entries.filter((e) => Object.entries(match).every(([k, v]) => e.labels[k] === v));
  }

  protected handle(request: ReceivedRequest): { status: number; body: string; headers?: Record<string, string> } {
    const text = (status: number, body: string) => ({ status, body, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    if (this.options.authorization && request.headers.authorization !== this.options.authorization) return text(401, 'Unauthorized');
    if (request.method === 'GET' && request.url === '/ready') return text(200, 'ready\n');
    if (request.method !== 'POST' || request.url !== '/loki/api/v1/push') return text(404, '404 page not found\n');
    const tenant = String(request.headers['x-scope-orgid'] ?? '');
    if (this.options.requireTenant && !tenant) return text(401, 'no org id\n');
    const contentType = String(request.headers['content-type'] ?? '');
    let push: { streams?: unknown };
    try {
      if (contentType.startsWith('application/json')) push = JSON.parse(request.body) as typeof push;
      else if (contentType === 'application/x-protobuf') push = decodeSnappyPush(request.raw);
      else return text(415, `unsupported content type ${contentType}\n`);
    } catch (error) {
      return text(400, `loghttp: ${(error as Error).message}\n`);
    }
    this.formats.push(contentType.startsWith('application/json') ? 'json' : 'protobuf');
    if (!Array.isArray(push.streams)) return text(400, 'loghttp: streams must be an array\n');
    const accepted: LokiStoredEntry[] = [];
    const refusals: string[] = [];
    let total = 0;
    for (const stream of push.streams as Array<{ stream?: Record<string, unknown>; values?: unknown }>) {
      const labels = stream.stream;
      if (!labels || typeof labels !== 'object' || Object.keys(labels).length === 0) return text(400, 'error parsing labels: at least one label pair is required per stream\n');
      for (const [name, value] of Object.entries(labels)) {
        if (!LABEL_NAME.test(name)) return text(400, `error parsing labels: invalid label name "${name}"\n`);
        if (typeof value !== 'string' || value === '') return text(400, `error parsing labels: label "${name}" must be a non-empty string\n`);
      }
      if (!Array.isArray(stream.values)) return text(400, 'loghttp: values must be an array\n');
      const key = JSON.stringify(Object.entries(labels).sort());
      for (const value of stream.values as unknown[]) {
        total++;
        if (!Array.isArray(value) || value.length < 2 || typeof value[0] !== 'string' || !/^\d+$/.test(value[0]) || typeof value[1] !== 'string') {
          return text(400, `loghttp: each value must be ["<unix epoch in nanoseconds as a string>", "<log line>"], got ${JSON.stringify(value)}\n`);
        }
        const metadata = value[2] as unknown;
        if (metadata !== undefined && (metadata === null || typeof metadata !== 'object' || Object.values(metadata).some((v) => typeof v !== 'string'))) {
          return text(400, `loghttp: structured metadata must be an object of strings, got ${JSON.stringify(metadata)}\n`);
        }
        const nanos = BigInt(value[0]);
        const newest = this.newest.get(tenant + key);
        if (this.options.rejectOutOfOrder && newest !== undefined && nanos < newest) {
          refusals.push(`entry with timestamp ${value[0]} ignored, reason: 'entry out of order' for stream: ${key},`);
          continue;
        }
        this.newest.set(tenant + key, newest === undefined || nanos > newest ? nanos : newest);
        accepted.push({ tenant, labels: labels as Record<string, string>, nanos: value[0], line: value[1], ...(metadata ? { metadata: metadata as Record<string, string> } : {}) });
      }
    }
    this.entries.push(...accepted);
    if (refusals.length > 0) return text(400, `${refusals.join('\n')}\ntotal ignored: ${refusals.length} out of ${total}\n`);
    return { status: 204, body: '' };
  }
}
