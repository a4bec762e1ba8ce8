import type { Fields } from '../../core/event.js';

/**
 * The sluice-to-sluice wire protocol, version 1 (shared by the `sluice` sink and source).
 *
 * Transport: HTTP/2 (h2 over TLS, or h2c with prior knowledge), one POST per batch.
 * - `POST /sluice/v1/events`, `content-type: application/vnd.sluice.events.v1`, optionally
 *   `content-encoding: gzip`. Body: frames back to back, each a 4-byte big-endian length
 *   followed by that many bytes of one event's fields as a UTF-8 JSON object.
 * - `GET /sluice/v1/health`: 200 while the receiver takes events, 503 while it shuts down.
 *
 * Answers to a POST (the source answers only once every sink downstream has finished with every
 * event of the batch: that is the acknowledgement across the hop):
 * - 200 `{"accepted":n,"rejected":m}`: all finished; m of them were rejected for good downstream.
 * - 503 + Retry-After: shutting down or its downstream buffer is full: send again (here or elsewhere).
 * - 400 (frames or gzip unreadable), 413 (body too large), 415 (content type / encoding): for good.
 */
export const EVENTS_PATH = '/sluice/v1/events';
export const HEALTH_PATH = '/sluice/v1/health';
export const CONTENT_TYPE = 'application/vnd.sluice.events.v1';
export const FRAME_HEADER_BYTES = 4;

export interface BatchAnswer {
  accepted: number;
  rejected: number;
}

/** A body that does not decode: the whole request is refused (400). */
export class BadFrames extends Error {}

type Utf8Slice = (this: Buffer, start: number, end: number) => string;
/** `buf.toString('utf8', s, e)` without its argument checks (one call per event). */
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: Utf8Slice }).utf8Slice;

/** The events of a request body. Every frame must be a JSON object and lie wholly inside the body. */
export function decodeFrames(body: Buffer): Fields[] {
  const events: Fields[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < FRAME_HEADER_BYTES) throw new BadFrames(`truncated frame header at byte ${at}`);
    const length = body.readUInt32BE(at);
    at += FRAME_HEADER_BYTES;
    if (length > body.length - at) throw new BadFrames(`frame ${events.length} at byte ${at - FRAME_HEADER_BYTES} declares ${length} bytes, ${body.length - at} left`);
    let value: unknown;
    try {
      value = JSON.parse(utf8Slice.call(body, at, at + length));
    } catch (error) {
      throw new BadFrames(`frame ${events.length}: invalid JSON: ${(error as Error).message}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BadFrames(`frame ${events.length}: not a JSON object`);
    events.push(value as Fields);
    at += length;
  }
  return events;
}

/** The 200 body's counts; undefined when it is not one (an old or foreign receiver). */
export function parseAnswer(text: string): BatchAnswer | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<BatchAnswer>;
    if (typeof parsed.accepted === 'number' && typeof parsed.rejected === 'number' && parsed.rejected >= 0) return { accepted: parsed.accepted, rejected: parsed.rejected };
  } catch {
    // fall through
  }
  return undefined;
}

export interface ParsedAddress {
  host: string;
  port: number;
  /** true for https://, false for http://, undefined when the scheme is left to `tls`. */
  tls: boolean | undefined;
}

/**
 * `host:port`, `[v6]:port`, `http://host:port` or `https://host:port` (no path). The host may be
 * a DNS name resolving to several addresses (a headless Service): each is an endpoint.
 */
export function parseAddress(address: string): ParsedAddress | string {
  let rest = address.trim();
  let tls: boolean | undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (scheme) {
    const name = scheme[1]!.toLowerCase();
    if (name !== 'http' && name !== 'https') return `unsupported scheme "${name}://" (http:// or https://, or none)`;
    tls = name === 'https';
    rest = rest.slice(scheme[0].length).replace(/\/$/, '');
  }
  if (rest.includes('/')) return 'no path allowed: the address is host:port';
  if (rest.includes('@')) return 'no credentials allowed in the address';
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(rest);
  if (!match) return 'expected host:port (the port is required), e.g. "sluice-aggregator:6000"';
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return `port ${port} out of range`;
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port, tls };
}
