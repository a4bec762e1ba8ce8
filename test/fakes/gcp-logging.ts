import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { ReceiverFake, type ReceivedRequest, type ReceiverOptions } from './receiver.js';

export interface FakeGcpLoggingOptions {
  /** The service account whose JWT assertions the token endpoint (`POST /token`) accepts. */
  serviceAccount?: { clientEmail: string; publicKeyPem: string | Buffer };
  /** Serve the metadata server's token endpoint (GKE Workload Identity / GCE). */
  metadata?: boolean;
  /** An API key accepted as `x-goog-api-key` instead of a token. */
  apiKey?: string;
  /** Lifetime of the tokens issued (`expires_in`). */
  tokenLifetimeSecs?: number;
  /** Answer this many entries:write requests with 429 RESOURCE_EXHAUSTED first. */
  throttleWrites?: number;
  tls?: ReceiverOptions['tls'];
}

type Answer = { status: number; body: string; headers?: Record<string, string> };
export type Entry = Record<string, unknown>;

const LOG_NAME = /^(projects|organizations|billingAccounts|folders)\/[^/]+\/logs\/([^/]+)$/;
const LOG_ID = /^[A-Za-z0-9/_\-.]{1,512}$/;
const SEVERITIES = new Set(['DEFAULT', 'DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY']);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const METADATA_TOKEN_PATH = '/computeMetadata/v1/instance/service-account/default/token';
const WRITE_SCOPE = 'https://www.googleapis.com/auth/logging.write';

function googleError(code: number, status: string, message: string, details?: unknown[]): Answer {
  return { status: code, body: JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } }) };
}

const isStringMap = (value: unknown): value is Record<string, string> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');

/**
 * A fake Google Cloud Logging with its OAuth token endpoint and the metadata server, answering as
 * Google documents them:
 * - `POST /token` (a service account's token_uri): form `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`
 *   and `assertion`, a JWT whose RS256 signature is verified with the account's public key and
 *   whose claims must be right (iss, aud = this URL, scope logging.write, iat now, exp at most 1 h
 *   later); answers `{access_token, expires_in, token_type}` or 400 `invalid_grant`.
 * - `GET /computeMetadata/v1/instance/service-account/default/token` only with
 *   `Metadata-Flavor: Google` (403 otherwise), answered with that header too.
 * - `POST /v2/entries:write` with a Bearer token it issued and that has not expired (or the API
 *   key), 401 UNAUTHENTICATED otherwise; each entry checked (logName with a URL-encoded log id,
 *   resource type and string labels, exactly one payload, RFC 3339 timestamp, severity name,
 *   labels of at most 64 KiB per value, 256 KiB per entry); with `partialSuccess` the valid
 *   entries are written and the others named in a 400's `WriteLogEntriesPartialErrors`.
 */
export class FakeGcpLogging extends ReceiverFake {
  readonly entries: Entry[] = [];
  /** Tokens issued, by how they were obtained. */
  readonly issued: Array<{ token: string; via: 'jwt' | 'metadata' }> = [];
  /** JWT claims of every accepted assertion. */
  readonly assertions: Array<Record<string, unknown>> = [];
  readonly refusals: string[] = [];
  private readonly valid = new Map<string, number>();
  private readonly publicKey: KeyObject | undefined;
  private throttled = 0;

  constructor(private readonly options: FakeGcpLoggingOptions) {
    super(options.tls);
    this.publicKey = options.serviceAccount ? createPublicKey(options.serviceAccount.publicKeyPem) : undefined;
  }

  get tokenUri(): string {
    return `${this.url}/token`;
  }

  /** Make a token invalid before its time (revoked, or the server's clock disagrees). */
  revoke(token: string): void {
    this.valid.delete(token);
  }

  protected handle(request: ReceivedRequest): Answer {
    const path = request.url.split('?')[0];
    if (path === '/token' && request.method === 'POST') return this.token(request);
    if (path === METADATA_TOKEN_PATH && request.method === 'GET' && this.options.metadata) return this.metadataToken(request);
    if (path === '/v2/entries:write' && request.method === 'POST') return this.write(request);
    return googleError(404, 'NOT_FOUND', `no route ${request.method} ${path}`);
  }

  private issue(via: 'jwt' | 'metadata'): string {
    const token = `ya29.fake-${randomBytes(12).toString('hex')}`;
    const lifetime = this.options.tokenLifetimeSecs ?? 3600;
    this.valid.set(token, Date.now() + lifetime * 1000);
    this.issued.push({ token, via });
    return JSON.stringify({ access_token: token, expires_in: lifetime, token_type: 'Bearer' });
  }

  private refuse(reason: string, answer: Answer): Answer {
    this.refusals.push(reason);
    return answer;
  }

  private token(request: ReceivedRequest): Answer {
    const invalid = (description: string) => this.refuse(description, { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: description }) });
    if (!String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return invalid('Content-Type must be application/x-www-form-urlencoded');
    const form = new URLSearchParams(request.body);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return this.refuse('grant_type', { status: 400, body: JSON.stringify({ error: 'unsupported_grant_type', error_description: `Invalid grant_type: ${form.get('grant_type')}` }) });
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3 || !this.publicKey) return invalid('Invalid JWT: Token must be a short-lived token and in a reasonable timeframe');
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as Record<string, unknown>;
    } catch {
      return invalid('Invalid JWT: not base64url JSON');
    }
    if (header.alg !== 'RS256') return invalid(`Invalid JWT: alg ${String(header.alg)}`);
    if (!verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, Buffer.from(parts[2]!, 'base64url'))) return invalid('Invalid JWT Signature.');
    const now = Date.now() / 1000;
    if (claims.iss !== this.options.serviceAccount!.clientEmail) return invalid(`Invalid JWT: unknown issuer ${String(claims.iss)}`);
    if (claims.aud !== this.tokenUri) return invalid(`Invalid JWT: aud ${String(claims.aud)} is not ${this.tokenUri}`);
    if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(WRITE_SCOPE)) return invalid('Invalid JWT: the logging.write scope is missing');
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || Math.abs(claims.iat - now) > 300 || claims.exp <= now || claims.exp - claims.iat > 3600)
      return invalid('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values');
    this.assertions.push(claims);
    return { status: 200, body: this.issue('jwt') };
  }

  private metadataToken(request: ReceivedRequest): Answer {
    if (request.headers['metadata-flavor'] !== 'Google' || request.headers['x-forwarded-for'] !== undefined)
      return this.refuse('metadata-flavor', { status: 403, body: 'Missing required header "Metadata-Flavor": "Google"', headers: { 'content-type': 'text/html' } });
    return { status: 200, body: this.issue('metadata'), headers: { 'metadata-flavor': 'Google' } };
  }

  private authorized(request: ReceivedRequest): boolean {
    if (this.options.apiKey !== undefined && request.headers['x-goog-api-key'] === this.options.apiKey) return true;
    const match = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''));
    const expires = match ? this.valid.get(match[1]!) : undefined;
    return expires !== undefined && expires > Date.now();
  }

  private write(request: ReceivedRequest): Answer {
    if (!this.authorized(request))
      return this.refuse('unauthenticated', googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.'));
    if (this.throttled < (this.options.throttleWrites ?? 0)) {
      this.throttled++;
      return googleError(429, 'RESOURCE_EXHAUSTED', "Quota exceeded for quota metric 'Log ingestion requests' and limit 'Log ingestion requests per minute'");
    }
    if (!String(request.headers['content-type']).startsWith('application/json')) return googleError(400, 'INVALID_ARGUMENT', 'Content-Type must be application/json');
    if (request.raw.length > 10_000_000) return googleError(400, 'INVALID_ARGUMENT', 'Request payload size exceeds the limit: 10485760 bytes.');
    let body: { entries?: unknown; logName?: unknown; resource?: unknown; labels?: unknown; partialSuccess?: unknown };
    try {
      body = JSON.parse(request.body) as typeof body;
    } catch (error) {
      return googleError(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${(error as Error).message}`);
    }
    if (!Array.isArray(body.entries)) return googleError(400, 'INVALID_ARGUMENT', 'entries must be a list');
    const errors: Record<string, { code: number; message: string }> = {};
    const accepted: Entry[] = [];
    body.entries.forEach((raw, i) => {
      const problem = this.checkEntry(raw, body);
      if (problem === undefined) accepted.push(raw as Entry);
      else errors[String(i)] = { code: 3, message: problem };
    });
    const failed = Object.keys(errors).length;
    if (failed === 0 || body.partialSuccess === true) this.entries.push(...accepted);
    if (failed === 0) return { status: 200, body: '{}' };
    const first = Object.values(errors)[0]!.message;
    return googleError(400, 'INVALID_ARGUMENT', `${failed} log entries failed to be written: ${first}`, [{ '@type': 'type.googleapis.com/google.logging.v2.WriteLogEntriesPartialErrors', logEntryErrors: errors }]);
  }

  private checkEntry(raw: unknown, request: { logName?: unknown; resource?: unknown }): string | undefined {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return 'each entry must be an object';
    const entry = raw as Entry;
    const logName = entry.logName ?? request.logName;
    const name = typeof logName === 'string' ? LOG_NAME.exec(logName) : null;
    if (!name) return `invalid logName ${JSON.stringify(logName)}`;
    let logId: string;
    try {
      logId = decodeURIComponent(name[2]!);
    } catch {
      return `invalid log id in ${String(logName)}`;
    }
    if (!LOG_ID.test(logId)) return `log id ${JSON.stringify(logId)} holds characters other than letters, digits and /_-.`;
    const resource = (entry.resource ?? request.resource) as { type?: unknown; labels?: unknown } | undefined;
    if (!resource || typeof resource.type !== 'string' || resource.type === '') return 'resource.type is required';
    if (resource.labels !== undefined && !isStringMap(resource.labels)) return 'resource.labels values must be strings';
    const payloads = ['jsonPayload', 'textPayload', 'protoPayload'].filter((key) => entry[key] !== undefined);
    if (payloads.length !== 1) return `exactly one payload is required, got ${payloads.join(', ') || 'none'}`;
    if (entry.jsonPayload !== undefined && (entry.jsonPayload === null || typeof entry.jsonPayload !== 'object' || Array.isArray(entry.jsonPayload))) return 'jsonPayload must be an object';
    if (entry.textPayload !== undefined && typeof entry.textPayload !== 'string') return 'textPayload must be a string';
    if (entry.timestamp !== undefined && (typeof entry.timestamp !== 'string' || !RFC3339.test(entry.timestamp))) return `invalid timestamp ${JSON.stringify(entry.timestamp)}`;
    if (entry.severity !== undefined && !SEVERITIES.has(String(entry.severity)) && !(Number.isInteger(entry.severity) && (entry.severity as number) >= 0 && (entry.severity as number) <= 800))
      return `invalid severity ${JSON.stringify(entry.severity)}`;
    if (entry.labels !== undefined) {
      if (!isStringMap(entry.labels)) return 'labels values must be strings';
      for (const [key, value] of Object.entries(entry.labels)) if (Buffer.byteLength(key) > 512 || Buffer.byteLength(value) > 65_536) return `label ${key.slice(0, 40)} is too long`;
    }
    if (Buffer.byteLength(JSON.stringify(entry)) > 256 * 1024) return 'Log entry with size larger than 256.0K';
    return undefined;
  }
}
