import { Agent, request, type Dispatcher } from 'undici';
import type { ApiCredentials } from './credentials.js';
import type { MetadataMetrics } from './metrics.js';

/** An HTTP answer the client treats as a failure; `status` is the HTTP code (or the watch Status code). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiRequest {
  readonly verb: 'list' | 'watch' | 'get' | 'create' | 'update';
  /** Fixed label for metrics ("pods", "namespaces", "nodes", "kubelet_pods"). */
  readonly resource: string;
  readonly signal: AbortSignal;
  /** Longest silence allowed between body chunks (default: the request timeout; watches: see ListWatch). */
  readonly bodyTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * One keep-alive TLS connection pool to the API server (or kubelet) and the auth header, fresh per
 * request. On a 401 the token is re-read and the request retried once if the token changed: a
 * rotated token then costs no backoff.
 */
export class ApiClient {
  private readonly agent: Agent;

  constructor(
    readonly credentials: ApiCredentials,
    private readonly metrics: MetadataMetrics,
    private readonly baseUrl: string = credentials.server,
    /** Connect (TCP + TLS) and response-header timeout: a server that accepts and never answers fails the request. */
    private readonly timeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {
    this.agent = new Agent({ connect: { ...credentials.tls, timeout: timeoutMs }, keepAliveTimeout: 30_000 });
  }

  /** A client for another base URL (the kubelet) sharing these credentials, with TLS overrides. */
  withBaseUrl(url: string, tls: ApiCredentials['tls'] = {}): ApiClient {
    const credentials: ApiCredentials = { ...this.credentials, tls: { ...this.credentials.tls, ...tls } };
    return new ApiClient(credentials, this.metrics, url.replace(/\/+$/, ''), this.timeoutMs);
  }

  /** GET `path`; resolves with a 200 response whose body the caller must consume or dump. */
  async get(path: string, req: ApiRequest): Promise<Dispatcher.ResponseData> {
    let authorization = await this.credentials.authorization();
    for (let attempt = 0; ; attempt++) {
      const response = await this.send(path, req, authorization);
      if (response.statusCode === 200) return response;
      const body = await response.body.text().catch(() => '');
      if (response.statusCode === 401 && attempt === 0) {
        this.credentials.invalidate();
        const fresh = await this.credentials.authorization();
        if (fresh !== authorization) {
          authorization = fresh;
          continue;
        }
      }
      throw new ApiError(response.statusCode, `${req.verb} ${req.resource}: HTTP ${response.statusCode} ${statusMessage(body)}`);
    }
  }

  /**
   * POST (create) or PUT (update) a JSON object; resolves with the server's object on 200/201.
   * Any other status is an ApiError (409: AlreadyExists / Conflict, the caller's to handle).
   */
  async write<T>(method: 'POST' | 'PUT', path: string, object: unknown, req: ApiRequest): Promise<T> {
    const body = JSON.stringify(object);
    let authorization = await this.credentials.authorization();
    for (let attempt = 0; ; attempt++) {
      const response = await this.send(path, req, authorization, { method, body });
      if (response.statusCode === 200 || response.statusCode === 201) return (await response.body.json()) as T;
      const text = await response.body.text().catch(() => '');
      if (response.statusCode === 401 && attempt === 0) {
        this.credentials.invalidate();
        const fresh = await this.credentials.authorization();
        if (fresh !== authorization) {
          authorization = fresh;
          continue;
        }
      }
      throw new ApiError(response.statusCode, `${req.verb} ${req.resource}: HTTP ${response.statusCode} ${statusMessage(text)}`);
    }
  }

  private async send(
    path: string,
    req: ApiRequest,
    authorization: string | undefined,
    write?: { method: 'POST' | 'PUT'; body: string },
  ): Promise<Dispatcher.ResponseData> {
    try {
      const response = await request(`${this.baseUrl}${path}`, {
        dispatcher: this.agent,
        signal: req.signal,
        ...(write ? { method: write.method, body: write.body } : {}),
        headers: { accept: 'application/json', ...(write ? { 'content-type': 'application/json' } : {}), ...(authorization ? { authorization } : {}) },
        headersTimeout: this.timeoutMs,
        bodyTimeout: req.bodyTimeoutMs ?? this.timeoutMs,
      });
      this.metrics.request(req.verb, req.resource, String(response.statusCode));
      return response;
    } catch (error) {
      this.metrics.request(req.verb, req.resource, req.signal.aborted ? 'aborted' : 'error');
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

function statusMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: string };
    return parsed.message ?? '';
  } catch {
    return body.slice(0, 200);
  }
}
