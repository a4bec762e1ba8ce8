import { isUtf8 } from 'node:buffer';
import type { LogEvent } from '../core/event.js';

/** What a decoder sees of the file it decodes. `path` follows renames (rotation). */
export interface TailedFileView {
  readonly path: string;
}

/**
 * Turns the complete lines of one file into events. One decoder per file, called in file order.
 * Lines are byte ranges of a read buffer that is reused after the call: a decoder that keeps
 * bytes (a partial line waiting for its end) copies them.
 */
export interface LineDecoder {
  /** `buf[start, end)` is one line without its `\n`; it starts at file offset `lineOffset`. */
  decode(buf: Buffer, start: number, end: number, lineOffset: number, out: LogEvent[]): void;
  /** File offset of the first byte of the earliest unfinished merge, if any (checkpoints stop there). */
  pendingOffset(): number | undefined;
  /** The file ends here for good: emit whatever is still pending. */
  flush(out: LogEvent[]): void;
  /**
   * Takes over the unfinished merges of `previous`, the decoder of the file this one continues
   * (the same container's next file after a rotation), as if they had started at `offset` of this
   * file. False when there was nothing this decoder could take.
   */
  adoptPending?(previous: LineDecoder, offset: number): boolean;
  /**
   * Emits what has waited too long (multiline groups past their timeout) into `out`; true when it
   * did. Called when a read finds no more data for now (and on the idle poll).
   */
  flushExpired?(out: LogEvent[]): boolean;
  /** The tailer forgot the file (it is gone): drop any subscription the decoder holds. */
  release?(): void;
}

/** Problems counted while decoding; the tailer turns them into metrics after each read. */
export class DecodeStats {
  malformedLines = 0;
  invalidUtf8 = 0;
  truncatedLines = 0;
  mergeLimitHits = 0;
}

const REPLACEMENT = '\uFFFD';

/** Decodes UTF-8 once; invalid sequences become U+FFFD and are counted. */
export function decodeUtf8(buf: Buffer, start: number, end: number, stats: DecodeStats): string {
  const text = buf.toString('utf8', start, end);
  // A literal U+FFFD in valid input is rare; only then pay for a validation pass.
  if (text.indexOf(REPLACEMENT) >= 0 && !isUtf8(buf.subarray(start, end))) stats.invalidUtf8++;
  return text;
}

/** `new Date().toISOString()` at most once per millisecond: read time for lines that carry none. */
export class ReadTimeClock {
  private lastMs = -1;
  private lastText = '';

  now(): string {
    const ms = Date.now();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastText = new Date(ms).toISOString();
    }
    return this.lastText;
  }
}
