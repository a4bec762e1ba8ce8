const ROUND_TO = 64 * 1024;

/**
 * Large scratch buffers (request bodies) handed out and given back, so a busy sink does not
 * allocate and page-fault a fresh multi-MiB buffer per request. A buffer not given back is simply
 * left to the GC; only buffers this pool made are taken back.
 */
export class ReusableBuffers {
  private readonly idle: Buffer[] = [];
  private readonly owned = new WeakMap<ArrayBufferLike, Buffer>();

  constructor(private readonly maxIdle = 8) {}

  /** A buffer of at least `bytes` (its contents are garbage). */
  take(bytes: number): Buffer {
    const i = this.idle.findIndex((buffer) => buffer.length >= bytes);
    if (i >= 0) return this.idle.splice(i, 1)[0]!;
    // Headroom so the next, slightly larger batch fits the same buffer.
    const buffer = Buffer.allocUnsafeSlow(Math.ceil((bytes * 1.25) / ROUND_TO) * ROUND_TO);
    this.owned.set(buffer.buffer, buffer);
    return buffer;
  }

  /** Give back a buffer from `take` (or any view of it); nothing may read it afterwards. */
  give(view: Buffer): void {
    const buffer = this.owned.get(view.buffer);
    if (buffer === undefined || this.idle.includes(buffer)) return;
    if (this.idle.length >= this.maxIdle) {
      // Keep the larger ones: they fit every batch.
      const smallest = this.idle.reduce((min, b, i) => (b.length < this.idle[min]!.length ? i : min), 0);
      if (this.idle[smallest]!.length >= buffer.length) return;
      this.idle.splice(smallest, 1);
    }
    this.idle.push(buffer);
  }

  get idleCount(): number {
    return this.idle.length;
  }
}
