/**
 * How many requests a sink keeps in flight. Fixed, or adaptive: additive increase while requests
 * succeed with the limit fully used, multiplicative decrease (halve) when the destination pushes
 * back (429, 5xx, timeouts). Simpler than Vector's RTT-based controller, but it backs off from an
 * overloaded destination and climbs back when it recovers.
 */
export class ConcurrencyLimit {
  private limit: number;
  private active = 0;

  constructor(
    private readonly mode: number | 'adaptive',
    private readonly adaptiveMax: number,
  ) {
    this.limit = mode === 'adaptive' ? 1 : mode;
  }

  get current(): number {
    return this.limit;
  }

  get inFlight(): number {
    return this.active;
  }

  tryAcquire(): boolean {
    if (this.active >= this.limit) return false;
    this.active++;
    return true;
  }

  release(): void {
    this.active--;
  }

  /** Feedback from one request attempt; `pushedBack`: the destination answered 429/5xx or timed out. */
  observe(pushedBack: boolean): void {
    if (this.mode !== 'adaptive') return;
    if (pushedBack) this.limit = Math.max(1, Math.floor(this.limit / 2));
    else if (this.active >= this.limit) this.limit = Math.min(this.adaptiveMax, this.limit + 1);
  }
}
