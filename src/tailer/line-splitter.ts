import type { LogEvent } from '../core/event.js';
import type { DecodeStats, LineDecoder } from './line-decoder.js';

const NEWLINE = 0x0a;

/**
 * Cuts the byte stream of one file into lines and hands them to its decoder. Lines are passed
 * as ranges of the read buffer; only the incomplete last line of a read is copied (the "carry").
 *
 * Long lines, memory-bounded: a line longer than `maxLineBytes` is cut after `maxLineBytes`
 * bytes, that head is decoded as the line, and the rest up to the next `\n` is skipped without
 * being buffered (counted as a truncated line). A checkpoint never points inside a line, so a
 * restart in the middle of a skipped tail re-reads that line from its start.
 */
export class LineSplitter {
  /** File offset of the first byte of the line not yet complete (= end of the last complete line). */
  nextLineOffset: number;
  private carry: Buffer | undefined;
  /** Bytes of the incomplete line seen so far (kept in `carry`, or skipped when `skipping`). */
  private pendingBytes = 0;
  private skipping = false;

  constructor(
    startOffset: number,
    private readonly maxLineBytes: number,
    private readonly stats: DecodeStats,
  ) {
    this.nextLineOffset = startOffset;
  }

  /** File offset just past the last byte pushed. */
  get readOffset(): number {
    return this.nextLineOffset + this.pendingBytes;
  }

  get hasIncompleteLine(): boolean {
    return this.pendingBytes > 0;
  }

  /** `data` is the whole chunk (a view bounded to the bytes read). */
  push(data: Buffer, decoder: LineDecoder, out: LogEvent[]): void {
    let pos = 0;
    if (this.pendingBytes > 0) {
      const newline = data.indexOf(NEWLINE);
      if (newline < 0) {
        this.extendIncomplete(data, 0, data.length, decoder, out);
        return;
      }
      this.completeIncomplete(data, newline, decoder, out);
      pos = newline + 1;
    }
    const max = this.maxLineBytes;
    let offset = this.nextLineOffset;
    let newline = data.indexOf(NEWLINE, pos);
    while (newline >= 0) {
      if (newline - pos > max) {
        this.stats.truncatedLines++;
        decoder.decode(data, pos, pos + max, offset, out);
      } else {
        decoder.decode(data, pos, newline, offset, out);
      }
      offset += newline + 1 - pos;
      pos = newline + 1;
      newline = data.indexOf(NEWLINE, pos);
    }
    this.nextLineOffset = offset;
    if (pos < data.length) this.extendIncomplete(data, pos, data.length, decoder, out);
  }

  /** End of the file for good: an incomplete last line is still a line (as kubelet reads it). */
  flush(decoder: LineDecoder, out: LogEvent[]): void {
    if (this.pendingBytes === 0) return;
    if (!this.skipping) decoder.decode(this.carry!, 0, this.pendingBytes, this.nextLineOffset, out);
    this.nextLineOffset += this.pendingBytes;
    this.resetIncomplete();
  }

  private extendIncomplete(data: Buffer, from: number, to: number, decoder: LineDecoder, out: LogEvent[]): void {
    const length = to - from;
    if (!this.skipping) {
      const kept = this.pendingBytes;
      const wanted = kept + length;
      if (wanted > this.maxLineBytes) {
        // Too long: decode the head now, skip the rest of this line as it arrives.
        const head = this.ensureCarry(this.maxLineBytes);
        data.copy(head, kept, from, from + (this.maxLineBytes - kept));
        this.stats.truncatedLines++;
        decoder.decode(head, 0, this.maxLineBytes, this.nextLineOffset, out);
        this.skipping = true;
        this.carry = undefined;
      } else {
        data.copy(this.ensureCarry(wanted), kept, from, to);
      }
    }
    this.pendingBytes += length;
  }

  private completeIncomplete(data: Buffer, newline: number, decoder: LineDecoder, out: LogEvent[]): void {
    if (!this.skipping) {
      const kept = this.pendingBytes;
      const total = kept + newline;
      if (total > this.maxLineBytes) {
        const head = this.ensureCarry(this.maxLineBytes);
        data.copy(head, kept, 0, this.maxLineBytes - kept);
        this.stats.truncatedLines++;
        decoder.decode(head, 0, this.maxLineBytes, this.nextLineOffset, out);
      } else {
        const line = this.ensureCarry(total);
        data.copy(line, kept, 0, newline);
        decoder.decode(line, 0, total, this.nextLineOffset, out);
      }
    }
    this.nextLineOffset += this.pendingBytes + newline + 1;
    this.resetIncomplete();
  }

  /** The carry buffer with room for `size` bytes, keeping what it holds; grows geometrically. */
  private ensureCarry(size: number): Buffer {
    const current = this.carry;
    if (current !== undefined && current.length >= size) return current;
    const grown = Buffer.allocUnsafe(Math.min(Math.max(size, (current?.length ?? 0) * 2, 256), Math.max(size, this.maxLineBytes)));
    if (current !== undefined) current.copy(grown, 0, 0, this.pendingBytes);
    this.carry = grown;
    return grown;
  }

  private resetIncomplete(): void {
    this.pendingBytes = 0;
    this.skipping = false;
    // Keep a small carry for reuse; drop a big one (a long line should not pin memory).
    if (this.carry !== undefined && this.carry.length > 64 * 1024) this.carry = undefined;
  }
}
