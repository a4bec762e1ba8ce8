import { isRfc3339 } from './rfc3339.js';

/**
 * Parses one container log line (without its trailing `\n`) in either format kubelet reads,
 * detected per line like kubelet's `getParseFunc` (CRI first, then Docker json-file):
 *
 *   CRI:    `<RFC3339Nano> <stdout|stderr> <P|F>[:tag...] <message>`
 *   Docker: `{"log":"<message>\n","stream":"stdout","time":"<RFC3339Nano>"}`
 *
 * Hot path: works on the bytes of the read buffer, no regex, no string made before the line is
 * known to parse; the message is left as a byte range (decoded once, later, by the caller)
 * except for Docker messages with JSON escapes, which JSON.parse decodes.
 *
 * Where kubelet (pkg/kubelet/kuberuntime/logs) decides, we follow it:
 * - CRI partial = first tag is exactly `P`; any other tag (`F`, future tags) is a full line.
 *   Extra tags after `:` are ignored (forward compatible).
 * - CRI stream must be `stdout` or `stderr`; CRI and Docker timestamps must be RFC 3339 as Go
 *   parses it (kubelet uses time.RFC3339Nano); anything else (`qwerty`, `+0100`) is malformed.
 * - Docker partial = `log` not ending in `\n` (the runtime split a long line or the process wrote
 *   no newline); the trailing `\n` of a full line is not part of the message.
 * Deliberate difference: a CRI line that ends right after its tag (`<ts> stdout F`, no space)
 * is an empty message; kubelet rejects it, but dropping it helps nobody.
 */
export type LogStream = 'stdout' | 'stderr';

export class ParsedLine {
  stream: LogStream = 'stdout';
  partial = false;
  timestamp = '';
  /** When `messageText` is undefined, the message is `buffer[messageStart, messageEnd)`. */
  messageStart = 0;
  messageEnd = 0;
  messageText: string | undefined = undefined;
}

const SPACE = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;

/** Fills `out` and returns true when `buf[start, end)` is a CRI or Docker line. */
export function parseContainerLogLine(buf: Buffer, start: number, end: number, out: ParsedLine): boolean {
  if (end > start && buf[start] === OPEN_BRACE) return parseDockerLine(buf, start, end, out);
  return parseCriLine(buf, start, end, out);
}

/** Matches `stdout` or `stderr` at `pos`; returns the stream or undefined. */
function streamAt(buf: Buffer, pos: number): LogStream | undefined {
  if (buf[pos] !== 0x73 || buf[pos + 1] !== 0x74 || buf[pos + 2] !== 0x64) return undefined; // "std"
  const a = buf[pos + 3];
  const b = buf[pos + 4];
  const c = buf[pos + 5];
  if (a === 0x6f && b === 0x75 && c === 0x74) return 'stdout';
  if (a === 0x65 && b === 0x72 && c === 0x72) return 'stderr';
  return undefined;
}

function parseCriLine(buf: Buffer, start: number, end: number, out: ParsedLine): boolean {
  const timestampEnd = buf.indexOf(SPACE, start);
  if (timestampEnd < 0 || timestampEnd >= end || !isRfc3339(buf, start, timestampEnd)) return false;
  const streamStart = timestampEnd + 1;
  if (streamStart + 7 > end) return false;
  const stream = streamAt(buf, streamStart);
  if (stream === undefined || buf[streamStart + 6] !== SPACE) return false;
  const tagStart = streamStart + 7;
  let tagEnd = tagStart;
  while (tagEnd < end && buf[tagEnd] !== SPACE) tagEnd++;
  if (tagEnd === tagStart) return false;
  const firstTagLength = firstTagLengthOf(buf, tagStart, tagEnd);
  out.stream = stream;
  out.partial = firstTagLength === 1 && buf[tagStart] === 0x50; // "P"
  out.timestamp = buf.toString('latin1', start, timestampEnd);
  out.messageText = undefined;
  out.messageStart = tagEnd < end ? tagEnd + 1 : end;
  out.messageEnd = end;
  return true;
}

function firstTagLengthOf(buf: Buffer, tagStart: number, tagEnd: number): number {
  for (let i = tagStart; i < tagEnd; i++) if (buf[i] === COLON) return i - tagStart;
  return tagEnd - tagStart;
}

// `{"log":"` and `","stream":"` and `","time":"` as bytes, compared in place.
const LOG_PREFIX = Buffer.from('{"log":"');
const STREAM_KEY = Buffer.from('","stream":"');
const TIME_KEY = Buffer.from('","time":"');

function bytesAt(buf: Buffer, pos: number, expected: Buffer): boolean {
  if (pos + expected.length > buf.length) return false;
  for (let i = 0; i < expected.length; i++) if (buf[pos + i] !== expected[i]) return false;
  return true;
}

function parseDockerLine(buf: Buffer, start: number, end: number, out: ParsedLine): boolean {
  return parseDockerFastPath(buf, start, end, out) || parseDockerGeneric(buf, start, end, out);
}

/** The exact layout the json-file driver writes: `{"log":"…","stream":"…","time":"…"}`. */
function parseDockerFastPath(buf: Buffer, start: number, end: number, out: ParsedLine): boolean {
  if (!bytesAt(buf, start, LOG_PREFIX)) return false;
  const logStart = start + LOG_PREFIX.length;
  const logEnd = closingQuote(buf, logStart, end);
  if (logEnd < 0) return false;
  const streamStart = logEnd + STREAM_KEY.length;
  if (!bytesAt(buf, logEnd, STREAM_KEY) || streamStart + 6 > end) return false;
  const stream = streamAt(buf, streamStart);
  if (stream === undefined || !bytesAt(buf, streamStart + 6, TIME_KEY)) return false;
  const timeStart = streamStart + 6 + TIME_KEY.length;
  const timeEnd = end - 2;
  if (timeEnd <= timeStart || buf[timeEnd] !== QUOTE || buf[timeEnd + 1] !== 0x7d) return false;
  if (!isRfc3339(buf, timeStart, timeEnd)) return false;

  out.stream = stream;
  out.timestamp = buf.toString('latin1', timeStart, timeEnd);
  const firstEscape = buf.indexOf(BACKSLASH, logStart);
  if (firstEscape < 0 || firstEscape >= logEnd) {
    // No escape at all: raw UTF-8 bytes, and no trailing "\n": a partial line.
    out.partial = true;
    out.messageText = undefined;
    out.messageStart = logStart;
    out.messageEnd = logEnd;
  } else if (firstEscape === logEnd - 2 && buf[logEnd - 1] === 0x6e) {
    // The only escape is the final `\n`: a full line whose bytes need no unescaping.
    out.partial = false;
    out.messageText = undefined;
    out.messageStart = logStart;
    out.messageEnd = logEnd - 2;
  } else {
    const text = JSON.parse(buf.toString('utf8', logStart - 1, logEnd + 1)) as string;
    setDockerText(out, text);
  }
  return true;
}

/** Index of the quote closing a JSON string whose contents start at `from`, or -1. */
function closingQuote(buf: Buffer, from: number, end: number): number {
  let pos = from;
  for (;;) {
    const quote = buf.indexOf(QUOTE, pos);
    if (quote < 0 || quote >= end) return -1;
    let backslashes = 0;
    while (quote - 1 - backslashes >= from && buf[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if ((backslashes & 1) === 0) return quote;
    pos = quote + 1;
  }
}

function setDockerText(out: ParsedLine, text: string): void {
  const full = text.endsWith('\n');
  out.partial = !full;
  out.messageText = full ? text.slice(0, -1) : text;
  out.messageStart = 0;
  out.messageEnd = 0;
}

/** Any other key order or extra keys (`attrs`): a real JSON parse, as kubelet does. */
function parseDockerGeneric(buf: Buffer, start: number, end: number, out: ParsedLine): boolean {
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8', start, end));
  } catch {
    return false;
  }
  if (value === null || typeof value !== 'object') return false;
  const { log, stream, time } = value as Record<string, unknown>;
  if (typeof log !== 'string' || (stream !== 'stdout' && stream !== 'stderr') || typeof time !== 'string') return false;
  const timeBytes = Buffer.from(time, 'utf8'); // utf8, not latin1: no other character maps onto a digit
  if (!isRfc3339(timeBytes, 0, timeBytes.length)) return false;
  out.stream = stream;
  out.timestamp = time;
  setDockerText(out, log);
  return true;
}
