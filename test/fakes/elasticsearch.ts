import { Receiver, ReceiverFake, type ReceivedRequest, type ReceiverOptions } from './receiver.js';
import { checkSigV4, type SigV4Expectation } from './sigv4.js';

export interface StoredDoc {
  index: string;
  id: string;
  action: 'index' | 'create';
  source: Record<string, unknown>;
}

export interface FakeElasticsearchOptions {
  tls?: ReceiverOptions['tls'];
  /** Status for one bulk item (default 201); lets a test fail chosen documents. */
  itemStatus?: (doc: StoredDoc) => number;
  /** Expected Authorization header; requests without it get 401 like a secured cluster. */
  authorization?: string;
  /** Require AWS SigV4 (Amazon OpenSearch Service); bad signatures get 403 like the real one. */
  sigv4?: SigV4Expectation;
  /** Answer GET / as OpenSearch does. */
  flavour?: 'elasticsearch' | 'opensearch';
}

const DATA_STREAM_PATTERN = /^logs-[^-]+-[^-]+$/;

const ERROR_TYPES: Record<number, string> = {
  400: 'mapper_parsing_exception',
  409: 'version_conflict_engine_exception',
  429: 'es_rejected_execution_exception',
  500: 'internal_server_error',
  503: 'unavailable_shards_exception',
};

/**
 * A fake Elasticsearch/OpenSearch speaking `GET /` and `POST [/<index>]/_bulk` the way the real
 * ones do: the body must be NDJSON action/source line pairs ending with a newline, every action
 * names an index (or the URL does), data streams accept only `create` with an `@timestamp`.
 * A malformed body gets the 400 `illegal_argument_exception` a real cluster sends. Accepted
 * documents are stored per index; `itemStatus` injects per-item failures, and the Receiver's
 * `script` injects whole-request failures (429/500/slow/dropped).
 */
export class FakeElasticsearch extends ReceiverFake {
  readonly docs: StoredDoc[] = [];
  readonly dataStreams = new Set<string>();
  private nextId = 0;

  constructor(private readonly options: FakeElasticsearchOptions = {}) {
    super(options.tls);
  }

  /** Documents stored in one index, in arrival order. */
  index(name: string): StoredDoc[] {
    return this.docs.filter((d) => d.index === name);
  }

  protected handle(request: ReceivedRequest): { status: number; body: string } {
    if (this.options.authorization && request.headers.authorization !== this.options.authorization) {
      return { status: 401, body: JSON.stringify({ error: { type: 'security_exception', reason: 'missing authentication credentials' }, status: 401 }) };
    }
    if (this.options.sigv4) {
      const problem = checkSigV4(request, this.options.sigv4);
      if (problem) return { status: 403, body: JSON.stringify({ message: `The request signature we calculated does not match the signature you provided (${problem})` }) };
    }
    const path = request.url.split('?')[0]!;
    if (request.method === 'GET' && path === '/') {
      const version = this.options.flavour === 'opensearch' ? { distribution: 'opensearch', number: '2.17.0' } : { number: '8.15.0' };
      return { status: 200, body: JSON.stringify({ name: 'fake', cluster_name: 'fake', version, tagline: 'The OpenSearch Project / You Know, for Search' }) };
    }
    const bulk = /^(?:\/([^/]+))?\/_bulk$/.exec(path);
    if (request.method === 'POST' && bulk) return this.bulk(request, bulk[1]);
    return { status: 404, body: JSON.stringify({ error: 'no handler', status: 404 }) };
  }

  private bulk(request: ReceivedRequest, urlIndex: string | undefined): { status: number; body: string } {
    const contentType = String(request.headers['content-type'] ?? '');
    if (!contentType.startsWith('application/x-ndjson') && !contentType.startsWith('application/json')) return illegal(`Content-Type header [${contentType}] is not supported`);
    if (!request.body.endsWith('\n')) return illegal('The bulk request must be terminated by a newline [\\n]');
    const lines = request.body.slice(0, -1).split('\n');
    if (lines.length % 2 !== 0) return illegal('Malformed action/metadata line: action without a source line');
    const items: unknown[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i += 2) {
      let action: Record<string, { _index?: string; _id?: string }>;
      let source: Record<string, unknown>;
      try {
        action = JSON.parse(lines[i]!) as typeof action;
        source = JSON.parse(lines[i + 1]!) as typeof source;
      } catch (error) {
        return illegal(`Malformed line ${i + 1}: ${(error as Error).message}`);
      }
      const keys = Object.keys(action);
      if (keys.length !== 1 || (keys[0] !== 'index' && keys[0] !== 'create')) return illegal(`Malformed action/metadata line [${i + 1}], expected index or create`);
      if (typeof source !== 'object' || source === null || Array.isArray(source)) return illegal(`source line ${i + 2} is not an object`);
      const kind = keys[0] as 'index' | 'create';
      const meta = action[kind]!;
      const index = meta._index ?? urlIndex;
      if (!index) return illegal(`Validation Failed: 1: index is missing for request ${i / 2}`);
      const doc: StoredDoc = { index, id: meta._id ?? `auto-${this.nextId++}`, action: kind, source };
      let status = this.options.itemStatus?.(doc) ?? 201;
      let reason = `injected failure (${status})`;
      if (status < 300 && DATA_STREAM_PATTERN.test(index)) {
        // Like the built-in logs-*-* index template: a data stream takes only `create` with @timestamp.
        if (kind !== 'create') [status, reason] = [400, 'only write ops with an op_type of create are allowed in data streams'];
        else if (typeof source['@timestamp'] !== 'string') [status, reason] = [400, 'data stream timestamp field [@timestamp] is missing'];
        else this.dataStreams.add(index);
      }
      if (status < 300 && kind === 'create' && meta._id && this.docs.some((d) => d.index === index && d.id === meta._id)) {
        [status, reason] = [409, `[${meta._id}]: version conflict, document already exists`];
      }
      if (status < 300) this.docs.push(doc);
      else errors = true;
      const item: Record<string, unknown> = { _index: index, _id: doc.id, status };
      if (status >= 300) item.error = { type: ERROR_TYPES[status] ?? 'exception', reason };
      items.push({ [kind]: item });
    }
    return { status: 200, body: JSON.stringify({ took: 1, errors, items }) };
  }
}

function illegal(reason: string): { status: number; body: string } {
  return { status: 400, body: JSON.stringify({ error: { type: 'illegal_argument_exception', reason }, status: 400 }) };
}
