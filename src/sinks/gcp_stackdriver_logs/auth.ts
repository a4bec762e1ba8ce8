import { createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { bodyExcerpt } from '../shared/http-client.js';

export const LOGGING_WRITE_SCOPE = 'https://www.googleapis.com/auth/logging.write';
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
/** A token is renewed this long before it expires (and a request never starts with one about to). */
const REFRESH_MARGIN_MS = 5 * 60_000;

/** Getting a token failed; `permanent` when asking again will not help (a refused key). */
export class TokenError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

interface ServiceAccountKey {
  type: 'service_account';
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

export interface AccessToken {
  token: string;
  /** The token was obtained for this call (a 401 with it is not a stale cache). */
  fresh: boolean;
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** Reads a service-account key file; a clear error naming the file for anything else. */
export function readServiceAccount(path: string): ServiceAccountKey {
  let parsed: Partial<ServiceAccountKey> & { type?: string };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as typeof parsed;
  } catch (error) {
    throw new Error(`credentials file "${path}": ${(error as Error).message}`);
  }
  if (parsed.type !== 'service_account') throw new Error(`credentials file "${path}": type "${String(parsed.type)}" is not supported (a service-account key is: "service_account")`);
  if (typeof parsed.client_email !== 'string' || typeof parsed.private_key !== 'string') throw new Error(`credentials file "${path}": client_email and private_key are required`);
  return parsed as ServiceAccountKey;
}

/** The RS256-signed JWT a service account exchanges for an access token (Google's OAuth 2.0 server-to-server flow). */
export function signedAssertion(key: ServiceAccountKey, nowSecs: number): string {
  const header = { alg: 'RS256', typ: 'JWT', ...(key.private_key_id ? { kid: key.private_key_id } : {}) };
  const claims = { iss: key.client_email, scope: LOGGING_WRITE_SCOPE, aud: key.token_uri ?? DEFAULT_TOKEN_URI, iat: nowSecs, exp: nowSecs + 3600 };
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(key.private_key);
  return `${unsigned}.${base64url(signature)}`;
}

/** `GCE_METADATA_HOST` (or `GCE_METADATA_IP`) as Google's client libraries read it; else metadata.google.internal. */
export function metadataHost(env: NodeJS.ProcessEnv = process.env): string {
  return env.GCE_METADATA_HOST || env.GCE_METADATA_IP || 'metadata.google.internal';
}

/**
 * OAuth access tokens for Cloud Logging: from a service-account key (JWT bearer grant at the key's
 * token_uri) or from the metadata server (GKE Workload Identity, GCE), cached and renewed before
 * they expire; concurrent callers share one fetch. The token and the key never reach a log line.
 */
export class GoogleTokenSource {
  private cached: { token: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly source: { serviceAccount: ServiceAccountKey } | { metadataHost: string },
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  describe(): string {
    return 'serviceAccount' in this.source ? `service account ${this.source.serviceAccount.client_email}` : `metadata server ${this.source.metadataHost}`;
  }

  async get(): Promise<AccessToken> {
    if (this.cached && this.cached.expiresAt - REFRESH_MARGIN_MS > this.now()) return { token: this.cached.token, fresh: false };
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    return { token: await this.pending, fresh: true };
  }

  /** The API refused the token (401): the next call fetches a new one. */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async fetch(): Promise<string> {
    const { url, init } = this.tokenRequest();
    let status: number;
    let text: string;
    try {
      const response = await request(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      throw new TokenError(`token request to ${this.describe()} failed: ${(error as Error).message}`, false);
    }
    if (status !== 200) {
      // 5xx and 429: the server's trouble, ask again later; any other answer refuses these credentials.
      throw new TokenError(`token request to ${this.describe()} answered HTTP ${status}: ${bodyExcerpt(text, 300)}`, !(status >= 500 || status === 429));
    }
    let answer: { access_token?: unknown; expires_in?: unknown };
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      throw new TokenError(`token answer of ${this.describe()} is not JSON`, false);
    }
    if (typeof answer.access_token !== 'string' || answer.access_token === '') throw new TokenError(`token answer of ${this.describe()} has no access_token`, false);
    const lifetime = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : 3600;
    this.cached = { token: answer.access_token, expiresAt: this.now() + lifetime * 1000 };
    return answer.access_token;
  }

  private tokenRequest(): { url: string; init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string } } {
    if ('metadataHost' in this.source) {
      return {
        url: `http://${this.source.metadataHost}/computeMetadata/v1/instance/service-account/default/token`,
        init: { method: 'GET', headers: { 'metadata-flavor': 'Google' } },
      };
    }
    const key = this.source.serviceAccount;
    const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: signedAssertion(key, Math.floor(this.now() / 1000)) }).toString();
    return { url: key.token_uri ?? DEFAULT_TOKEN_URI, init: { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body } };
  }
}
