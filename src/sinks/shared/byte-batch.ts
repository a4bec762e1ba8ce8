/** Where an encoder writes bytes. */
export interface ByteSink {
  append(text: string): void;
  /** `JSON.stringify(text)`'s bytes, without making that string (see `writeJsonString`). */
  appendJsonString(text: string): void;
  appendBytes(bytes: Buffer): void;
  appendByte(byte: number): void;
}

/**
 * `buf.utf8Write(text, offset)`: the binding behind `buf.write(text, offset, 'utf8')` without its
 * argument parsing, which cost as much as the encoding itself for ~200-byte log lines. Present on
 * Buffer.prototype in every Node release this project supports.
 */
export const utf8Write = (Buffer.prototype as unknown as { utf8Write: (this: Buffer, text: string, offset: number) => number }).utf8Write;

const latin1Write = (Buffer.prototype as unknown as { latin1Write: (this: Buffer, text: string, offset: number, length: number) => number }).latin1Write;

/** From this many units, `writeJsonString` finds the clean prefix by one regex search and copies it natively. */
const NATIVE_PREFIX = 32;
/** The first unit JSON escapes, or a non-ASCII one (linear: a single character class). */
const FIRST_TO_ESCAPE = /["\\\u0000-\u001f\u0080-\uffff]/;

/** Up to this many units, `writeText` copies ASCII by a loop instead of a utf8Write call (numbers, short values). */
const SHORT_TEXT = 64;

/** `text` as UTF-8 at `buf[at]` (room for 3 bytes per unit); returns the bytes written. */
export function writeText(buf: Buffer, at: number, text: string): number {
  const length = text.length;
  if (length <= SHORT_TEXT) {
    let i = 0;
    for (; i < length; i++) {
      const unit = text.charCodeAt(i);
      if (unit > 0x7f) break;
      buf[at + i] = unit;
    }
    if (i === length) return length;
  }
  return utf8Write.call(buf, text, at);
}

/** Strings longer than this go through JSON.stringify: the in-place path reserves 6 bytes per unit. */
const MAX_IN_PLACE_UNITS = 16 * 1024;
const QUOTE = 0x22;
/** Up to this many bytes, appendBytes copies by a loop. */
const SMALL_COPY = 24;
const BACKSLASH = 0x5c;
const SHORT_ESCAPES: Record<number, number> = { 0x08: 0x62, 0x09: 0x74, 0x0a: 0x6e, 0x0c: 0x66, 0x0d: 0x72 };
const HEX = '0123456789abcdef';
/** Per byte: the bytes its escape adds (0: none), or MAYBE_REPLACEMENT for 0xEF. One load per byte in the scans. */
const MAYBE_REPLACEMENT = 0xff;
const ESCAPE_EXTRA = new Uint8Array(256);
for (let byte = 0; byte < 0x20; byte++) ESCAPE_EXTRA[byte] = SHORT_ESCAPES[byte] !== undefined ? 1 : 5;
ESCAPE_EXTRA[QUOTE] = 1;
ESCAPE_EXTRA[BACKSLASH] = 1;
ESCAPE_EXTRA[0xef] = MAYBE_REPLACEMENT;

/** Room `writeJsonString` may need for `text` (its worst case), or -1 when it is to be stringified instead. */
export function jsonStringRoom(text: string): number {
  return text.length > MAX_IN_PLACE_UNITS ? -1 : text.length * 6 + 2;
}

/**
 * Writes `JSON.stringify(text)` at `buf[at]` and returns the bytes written. Half of W2's messages
 * hold quotes (logfmt `msg="..."`, JSON lines): JSON.stringify made a ~0.5 KB string for each.
 * ASCII text is escaped as it is copied; other text is written as UTF-8 in place and escaped by
 * moving bytes right, from the end. A U+FFFD in the bytes may be a lone surrogate that utf8Write
 * replaced, which JSON.stringify escapes as `\udXXX` instead: then (and only then) the string is
 * stringified after all. `buf` has `jsonStringRoom(text)` bytes free at `at`.
 */
export function writeJsonString(buf: Buffer, at: number, text: string): number {
  let from = 0;
  if (text.length >= NATIVE_PREFIX) {
    // A regex scan and a native copy cost a third of the loop per unit: most of a long line
    // (free text, a logfmt line up to its first quote) is copied that way.
    const first = text.search(FIRST_TO_ESCAPE);
    from = first < 0 ? text.length : first;
    latin1Write.call(buf, text, at + 1, from);
  }
  const ascii = writeAsciiJsonString(buf, at, text, from);
  return ascii >= 0 ? ascii : writeUtf8JsonString(buf, at, text);
}

/**
 * ASCII text escaped while it is copied, by a loop over its UTF-16 units from `from` (the units
 * before it are already at `buf[at + 1]`, clean). For fields of a few dozen characters, the
 * utf8Write call's fixed cost and the separate escape scan were most of the encoder's time.
 * Returns -1 (having written garbage) at the first unit above 0x7f: then the UTF-8 way runs from
 * the start.
 */
function writeAsciiJsonString(buf: Buffer, at: number, text: string, from: number): number {
  buf[at] = QUOTE;
  let to = at + 1 + from;
  for (let i = from; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit > 0x7f) return -1;
    if (ESCAPE_EXTRA[unit] === 0) {
      buf[to++] = unit;
      continue;
    }
    buf[to++] = BACKSLASH;
    if (unit === QUOTE || unit === BACKSLASH) buf[to++] = unit;
    else {
      const short = SHORT_ESCAPES[unit];
      if (short !== undefined) buf[to++] = short;
      else {
        buf[to++] = 0x75;
        buf[to++] = 0x30;
        buf[to++] = 0x30;
        buf[to++] = HEX.charCodeAt(unit >> 4);
        buf[to++] = HEX.charCodeAt(unit & 15);
      }
    }
  }
  buf[to++] = QUOTE;
  return to - at;
}

function writeUtf8JsonString(buf: Buffer, at: number, text: string): number {
  const start = at + 1;
  const length = utf8Write.call(buf, text, start);
  let extra = 0;
  const end = start + length;
  for (let i = start; i < end; i++) {
    const add = ESCAPE_EXTRA[buf[i]!]!;
    if (add === 0) continue;
    if (add !== MAYBE_REPLACEMENT) extra += add;
    else if (buf[i + 1] === 0xbf && buf[i + 2] === 0xbd) return utf8Write.call(buf, JSON.stringify(text), at);
  }
  buf[at] = QUOTE;
  const escaped = length + extra;
  let to = start + escaped;
  buf[to] = QUOTE;
  for (let i = end - 1; extra > 0; i--) {
    const byte = buf[i]!;
    const add = ESCAPE_EXTRA[byte]!;
    if (add === 0 || add === MAYBE_REPLACEMENT) buf[--to] = byte;
    else if (byte === QUOTE || byte === BACKSLASH) {
      buf[--to] = byte;
      buf[--to] = BACKSLASH;
      extra--;
    } else if (byte < 0x20) {
      const short = SHORT_ESCAPES[byte];
      if (short !== undefined) {
        buf[--to] = short;
        extra--;
      } else {
        buf[--to] = HEX.charCodeAt(byte & 15);
        buf[--to] = HEX.charCodeAt(byte >> 4);
        buf[--to] = 0x30;
        buf[--to] = 0x30;
        buf[--to] = 0x75;
        extra -= 5;
      }
      buf[--to] = BACKSLASH;
    }
  }
  return escaped + 2;
}

/**
 * Encoded events accumulated straight into one reusable Buffer. Building a batch as one big JS
 * string makes a "large object" (>128 KiB) per batch that only a full GC frees: measured on the
 * W1 benchmark, that alone kept 20-50 MiB of dead strings alive. Writing each event's text into a
 * buffer that lives as long as the sink keeps the heap flat.
 */
export class ByteBatch implements ByteSink {
  private buffer: Buffer;
  private used = 0;

  constructor(initialBytes = 256 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.used;
  }

  append(text: string): void {
    const worst = text.length * 3;
    if (this.used + worst > this.buffer.length) this.grow(this.used + worst);
    this.used += writeText(this.buffer, this.used, text);
  }

  appendJsonString(text: string): void {
    const room = jsonStringRoom(text);
    if (room < 0) return this.append(JSON.stringify(text));
    if (this.used + room > this.buffer.length) this.grow(this.used + room);
    this.used += writeJsonString(this.buffer, this.used, text);
  }

  appendBytes(bytes: Buffer): void {
    const length = bytes.length;
    if (this.used + length > this.buffer.length) this.grow(this.used + length);
    if (length > SMALL_COPY) this.buffer.set(bytes, this.used);
    else {
      // Key prefixes and cached fields are a few bytes: a loop beats set()'s fixed cost.
      const buffer = this.buffer;
      const at = this.used;
      for (let i = 0; i < length; i++) buffer[at + i] = bytes[i]!;
    }
    this.used += length;
  }

  appendByte(byte: number): void {
    if (this.used + 1 > this.buffer.length) this.grow(this.used + 1);
    this.buffer[this.used++] = byte;
  }

  /** A view of the bytes so far; valid until the next append() or reset(). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.used);
  }

  reset(): void {
    this.used = 0;
  }

  private grow(needed: number): void {
    const next = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(next, 0, 0, this.used);
    this.buffer = next;
  }
}
