/** Where an encoder writes bytes. */
export interface ByteSink {
  append(text: string): void;
  appendBytes(bytes: Buffer): void;
  appendByte(byte: number): void;
}

/**
 * `buf.utf8Write(text, offset)`: the binding behind `buf.write(text, offset, 'utf8')` without its
 * argument parsing, which cost as much as the encoding itself for ~200-byte log lines. Present on
 * Buffer.prototype in every Node release this project supports.
 */
export const utf8Write = (Buffer.prototype as unknown as { utf8Write: (this: Buffer, text: string, offset: number) => number }).utf8Write;

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
    this.used += utf8Write.call(this.buffer, text, this.used);
  }

  appendBytes(bytes: Buffer): void {
    if (this.used + bytes.length > this.buffer.length) this.grow(this.used + bytes.length);
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
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
