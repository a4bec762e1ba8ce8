import { jsonStringRoom, writeJsonString, writeText, type ByteSink } from './byte-batch.js';

class Slab {
  /** Payloads handed out and not yet released. */
  refs = 0;
  used = 0;
  /** Position in `PayloadSlabs.numbered` (what a numeric PayloadRef names); -1 until a ref needs it. */
  index = -1;
  constructor(readonly buffer: Buffer) {}
}

/**
 * A payload as `endRef()` hands it out: a number packing (slab index, start, length) when they
 * fit, else a view. A view per event (a JS typed array, ~0.1 KB) was allocated by every event and
 * kept by the batch for the whole round trip, so it was copied by scavenges and promoted; a
 * number in the batch's array costs nothing to keep (a double array holds it unboxed).
 */
export type PayloadRef = number | Buffer;

const FIELD = 2 ** 22;
const INDEX_UNIT = FIELD * FIELD;
/** Slab indices a number can carry: 2 ** (53 - 44). Slabs past it hand out views. */
const MAX_NUMBERED_SLABS = 512;

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
  /** Slabs by index, while they exist (numeric refs name them); freed indices are reused. */
  private readonly numbered: Array<Slab | undefined> = [];
  private readonly freeIndices: number[] = [];

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
    slab.used += writeText(slab.buffer, slab.used, text);
  }

  appendJsonString(text: string): void {
    const room = jsonStringRoom(text);
    if (room < 0) return this.append(JSON.stringify(text));
    const slab = this.ensureRoom(room);
    slab.used += writeJsonString(slab.buffer, slab.used, text);
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

  /** Bytes appended since `begin()`. */
  get pendingLength(): number {
    return this.current.used - this.start;
  }

  end(): Buffer {
    const slab = this.current;
    slab.refs++;
    return slab.buffer.subarray(this.start, slab.used);
  }

  /** Like `end()`, as a PayloadRef: release it with `releaseRefs`. */
  endRef(): PayloadRef {
    const slab = this.current;
    const length = slab.used - this.start;
    if (slab.index < 0) this.number(slab);
    if (slab.index >= MAX_NUMBERED_SLABS || this.start >= FIELD || length >= FIELD) return this.end();
    slab.refs++;
    return slab.index * INDEX_UNIT + this.start * FIELD + length;
  }

  /** The bytes of a ref (a view; valid until the ref is released). */
  viewOf(ref: PayloadRef): Buffer {
    if (typeof ref !== 'number') return ref;
    const length = ref % FIELD;
    const start = Math.floor(ref / FIELD) % FIELD;
    return this.numbered[Math.floor(ref / INDEX_UNIT)]!.buffer.subarray(start, start + length);
  }

  /**
   * Adjacent refs merged into one view each: payloads encoded one after another into the slabs
   * come back as one or two runs, sendable in place without a copy.
   */
  runsOf(refs: readonly PayloadRef[]): Buffer[] {
    const runs: Buffer[] = [];
    let slab: Slab | undefined;
    let start = 0;
    let end = 0;
    for (const ref of refs) {
      if (typeof ref !== 'number') {
        if (slab !== undefined) runs.push(slab.buffer.subarray(start, end));
        slab = undefined;
        runs.push(ref);
        continue;
      }
      const length = ref % FIELD;
      const at = Math.floor(ref / FIELD) % FIELD;
      const owner = this.numbered[Math.floor(ref / INDEX_UNIT)]!;
      if (owner === slab && at === end) {
        end += length;
        continue;
      }
      if (slab !== undefined) runs.push(slab.buffer.subarray(start, end));
      slab = owner;
      start = at;
      end = at + length;
    }
    if (slab !== undefined) runs.push(slab.buffer.subarray(start, end));
    return runs;
  }

  /** Each ref exactly once, when nothing reads it anymore. */
  releaseRefs(refs: readonly PayloadRef[]): void {
    const views: Buffer[] = [];
    for (const ref of refs) {
      if (typeof ref !== 'number') {
        views.push(ref);
        continue;
      }
      const slab = this.numbered[Math.floor(ref / INDEX_UNIT)];
      if (slab !== undefined && --slab.refs === 0 && slab !== this.current) this.recycle(slab);
    }
    if (views.length > 0) this.release(views);
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

  /**
   * A slab gets an index when its first numeric ref is made: the table holds it until it is
   * dropped, so a ref never released keeps its slab (views alone leave it to the GC).
   */
  private number(slab: Slab): void {
    slab.index = this.freeIndices.pop() ?? this.numbered.length;
    this.numbered[slab.index] = slab;
  }

  /**
   * Oversized slabs (a multi-MiB event) go back to the GC, as do slabs beyond the idle cap; their
   * index is then free. (A slab still read through a view it handed out is kept alive by it.)
   */
  private recycle(slab: Slab): void {
    if (slab.buffer.length !== this.slabBytes || this.idle.length >= this.maxIdleSlabs) {
      if (slab.index >= 0 && this.numbered[slab.index] === slab) {
        this.numbered[slab.index] = undefined;
        this.freeIndices.push(slab.index);
      }
      return;
    }
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
