/**
 * Per-key GCRA (the generic cell rate algorithm, as Vector's `governor` quota): each key may burst
 * `threshold` events, then gets one more every `windowMs / threshold`. A key's whole state is its
 * theoretical arrival time (TAT); once the TAT is in the past the bucket is full again and the key
 * is indistinguishable from an unseen one, so it is forgotten: memory follows the keys active in
 * the last window, capped at `maxKeys` (least recently used forgotten first).
 */
export class KeyedRateLimiter {
  private readonly interval: number;
  private readonly tolerance: number;
  /** key -> TAT in ms; Map order is least recently updated first. */
  private readonly tats = new Map<string | undefined, number>();
  private lastSweep = -Infinity;

  constructor(private readonly options: { threshold: number; windowMs: number; maxKeys: number }) {
    this.interval = options.windowMs / options.threshold;
    this.tolerance = options.windowMs - this.interval;
  }

  get size(): number {
    return this.tats.size;
  }

  allow(key: string | undefined, now: number): boolean {
    this.sweep(now);
    const tat = Math.max(this.tats.get(key) ?? now, now);
    if (tat - now > this.tolerance) return false;
    this.tats.delete(key); // re-insert: most recently used last
    this.tats.set(key, tat + this.interval);
    if (this.tats.size > this.options.maxKeys) this.tats.delete(this.tats.keys().next().value);
    return true;
  }

  /** At most once per window: forget the keys whose bucket has refilled. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.options.windowMs) return;
    this.lastSweep = now;
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
  }
}
