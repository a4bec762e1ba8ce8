/**
 * The resourceVersion up to which every change has been handled: emitted changes once every sink
 * acknowledged them, skipped changes at once. Acks arrive out of order; the progress only moves
 * over the acknowledged prefix, in watch order.
 */
export class AckedProgress {
  private readonly inFlight: { rv: string; done: boolean }[] = [];
  private ackedRv: string | undefined;

  constructor(initial?: string) {
    this.ackedRv = initial;
  }

  get resourceVersion(): string | undefined {
    return this.ackedRv;
  }

  /** A change at `rv`; returns the function to call when it is finished (idempotent). */
  track(rv: string): () => void {
    const entry = { rv, done: false };
    this.inFlight.push(entry);
    return () => {
      entry.done = true;
      this.advance();
    };
  }

  /** A change that needs no acknowledgement (skipped). */
  skip(rv: string): void {
    this.track(rv)();
  }

  get pending(): number {
    return this.inFlight.length;
  }

  private advance(): void {
    while (this.inFlight.length > 0 && this.inFlight[0]!.done) this.ackedRv = this.inFlight.shift()!.rv;
  }
}

/** resourceVersions compared as etcd revisions (integers); undefined when either is not one. */
export function compareResourceVersions(a: string, b: string): number | undefined {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
