import { utf8Write, type ByteSink } from './byte-batch.js';

class Slab {
  /** Payloads handed out and not yet released. */
  refs = 0;
  used = 0;
  constructor(readonly buffer: Buffer) {}
}

/**
 * Per-event encoded payloads carved out of large slabs that are recycled once every payload in
 * them is released. A Buffer per event (even pooled 8 KiB chunks) and a fresh multi-MiB body per
 * request were a quarter of the http sink's profile with full pod metadata (~1.7 KB an event):
 * ArrayBuffer allocations, the external-memory pressure that forces extra full GCs, and page
 * faults on never-touched memory. Here memory is allocated once and reused.
 *
 * Protocol: `begin()`, any `append*`, `end()` returns a view; `release()` each view exactly once
 * when nothing reads it anymore (the driver does this when a batch is finished). A view that is
 * never released only keeps its slab out of the pool (the GC frees it): safe, just slower.
 */
export class PayloadSlabs implements ByteSink {
  private current: Slab;
  private start = 0;
  private readonly idle: Slab[] = [];
  private readonly slabOf = new WeakMap<ArrayBuffer, Slab>();

  constructor(
    private readonly slabBytes = 1024 * 1024,
    private readonly maxIdleSlabs = 16,
  ) {
    this.current = this.newSlab(slabBytes);
  }

  begin(): void {
    // Nothing in the current slab is referenced: start over at its (cache-warm) beginning.
    if (this.current.refs === 0) this.current.used = 0;
    this.start = this.current.used;
  }

  append(text: string): void {
    let slab = this.current;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; count exactly only near the end of a slab.
    if (slab.used + text.length * 3 > slab.buffer.length) slab = this.ensureRoom(Buffer.byteLength(text));
    slab.used += utf8Write.call(slab.buffer, text, slab.used);
  }

  appendBytes(bytes: Buffer): void {
    const slab = this.ensureRoom(bytes.length);
    // TypedArray#set: Buffer#copy's argument checks cost more than the copy of a short piece.
    slab.buffer.set(bytes, slab.used);
    slab.used += bytes.length;
  }

  appendByte(byte: number): void {
    const slab = this.ensureRoom(1);
    slab.buffer[slab.used++] = byte;
  }

  end(): Buffer {
    const slab = this.current;
    slab.refs++;
    return slab.buffer.subarray(this.start, slab.used);
  }

  release(payloads: readonly Buffer[]): void {
    let lastArrayBuffer: ArrayBufferLike | undefined;
    let slab: Slab | undefined;
    for (const payload of payloads) {
      if (payload.buffer !== lastArrayBuffer) {
        lastArrayBuffer = payload.buffer;
        slab = this.slabOf.get(payload.buffer as ArrayBuffer);
      }
      if (slab === undefined) continue;
      if (--slab.refs === 0 && slab !== this.current) this.recycle(slab);
    }
  }

  /** The current slab, or a fresh one holding the payload begun so far, with `extra` bytes free. */
  private ensureRoom(extra: number): Slab {
    const slab = this.current;
    if (slab.used + extra <= slab.buffer.length) return slab;
    const partial = slab.used - this.start;
    const next = this.takeSlab(partial + extra);
    slab.buffer.copy(next.buffer, 0, this.start, slab.used);
    next.used = partial;
    slab.used = this.start;
    this.current = next;
    this.start = 0;
    if (slab.refs === 0) this.recycle(slab);
    return next;
  }

  private takeSlab(atLeast: number): Slab {
    if (atLeast <= this.slabBytes) {
      const reused = this.idle.pop();
      if (reused) return reused;
    }
    return this.newSlab(Math.max(atLeast, this.slabBytes));
  }

  private newSlab(bytes: number): Slab {
    const slab = new Slab(Buffer.allocUnsafeSlow(bytes));
    this.slabOf.set(slab.buffer.buffer as ArrayBuffer, slab);
    return slab;
  }

  /** Oversized slabs (a multi-MiB event) go back to the GC, as do slabs beyond the idle cap. */
  private recycle(slab: Slab): void {
    if (slab.buffer.length !== this.slabBytes || this.idle.length >= this.maxIdleSlabs) return;
    slab.used = 0;
    this.idle.push(slab);
  }
}

/**
 * Adjacent views of the same memory merged into one view each: payloads encoded one after another
 * into the slabs come back as one or two runs, sendable in place without a copy.
 */
export function contiguousRuns(payloads: readonly Buffer[]): Buffer[] {
  const runs: Buffer[] = [];
  let memory: ArrayBufferLike | undefined;
  let start = 0;
  let end = 0;
  for (const payload of payloads) {
    if (payload.buffer === memory && payload.byteOffset === end) {
      end += payload.length;
      continue;
    }
    if (memory !== undefined) runs.push(Buffer.from(memory, start, end - start));
    memory = payload.buffer;
    start = payload.byteOffset;
    end = start + payload.length;
  }
  if (memory !== undefined) runs.push(Buffer.from(memory, start, end - start));
  return runs;
}
