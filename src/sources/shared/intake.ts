/**
 * What a push source (a server that answers a request only once its events are acknowledged)
 * tracks between taking a request and handing its events on: the requests in hand, so shutdown
 * waits for them, and whether the buffer downstream is full, so new requests are refused (503)
 * instead of piling up in memory.
 */
export class Intake {
  /** Pending while a downstream buffer is full; undefined once it has room. */
  blocked: Promise<void> | undefined;
  private inHand = 0;
  private drained: (() => void) | undefined;

  begin(): void {
    this.inHand++;
  }

  end(): void {
    if (--this.inHand === 0) this.drained?.();
  }

  /** Resolves once every request begun has ended (been handed on or refused). */
  async settled(): Promise<void> {
    if (this.inHand > 0) await new Promise<void>((resolve) => (this.drained = resolve));
  }

  /** `send`'s answer: a promise means the buffer is full until it resolves. */
  blockUntil(wait: Promise<void> | void | undefined): void {
    if (wait === undefined || this.blocked !== undefined) return;
    const blocked = wait.then(() => {
      if (this.blocked === blocked) this.blocked = undefined;
    });
    this.blocked = blocked;
  }
}
