import { createHash, createHmac } from 'node:crypto';
import type { ReceivedRequest } from './receiver.js';

export interface SigV4Expectation {
  region: string;
  service: string;
  accessKeyId: string;
  secretAccessKey: string;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/;

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function uriEscape(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Checks a request's AWS Signature V4 the way AWS does, written from the spec (not with the
 * signing library the sink uses): canonical request from what arrived on the wire (method, path,
 * sorted query, signed headers, SHA-256 of the raw body), string to sign, derived key. Returns
 * why it fails, or undefined when the signature matches.
 */
export function checkSigV4(request: ReceivedRequest, expected: SigV4Expectation): string | undefined {
  const match = AUTHORIZATION.exec(String(request.headers.authorization ?? ''));
  if (!match) return 'missing or malformed AWS4-HMAC-SHA256 Authorization header';
  const [, keyId, day, region, service, signedHeaders, signature] = match;
  if (keyId !== expected.accessKeyId) return `unknown access key ${keyId}`;
  if (region !== expected.region || service !== expected.service) return `wrong scope ${region}/${service}`;
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(day!)) return 'x-amz-date does not match the credential scope';
  const payloadHash = sha256Hex(request.raw);
  const declared = request.headers['x-amz-content-sha256'];
  if (declared !== undefined && declared !== payloadHash) return 'x-amz-content-sha256 does not match the body';
  const [path, queryString = ''] = request.url.split('?') as [string, string?];
  const query = [...new URLSearchParams(queryString)]
    .map(([k, v]) => [uriEscape(k), uriEscape(v)])
    .sort(([a, x], [b, y]) => (a! < b! ? -1 : a! > b! ? 1 : x! < y! ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signedHeaders!.split(';');
  const canonicalHeaders = names.map((name) => `${name}:${String(request.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalPath = path.split('/').map((segment) => uriEscape(decodeURIComponent(segment))).join('/');
  const canonicalRequest = [request.method, canonicalPath, query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${expected.secretAccessKey}`, day!), region!), service!), 'aws4_request');
  const computed = createHmac('sha256', key).update(stringToSign).digest('hex');
  return computed === signature ? undefined : 'signature mismatch';
}
