import { eventCount, type KubeEvent } from './event-mapping.js';

interface Seen {
  count: number;
  note: string | undefined;
  /** Local clock, last change seen: entries idle past the TTL are forgotten. */
  seenAt: number;
}

/** Kube-apiserver's default `--event-ttl`: an Event not updated for this long is gone anyway. */
export const DEFAULT_CHANGE_MEMORY_TTL_MS = 60 * 60_000;

/**
 * Which Event changes become sluice events: one per change of (uid, count, note). ADDED of an
 * unknown uid, and MODIFIED when count or note changed (or the uid is unknown: the change came
 * after what this replica saw). A MODIFIED changing neither, a DELETED, and a relist's items that
 * are already known emit nothing. The memory is bounded: a DELETED or a relist without the uid
 * forgets it, and entries idle past the TTL expire (the API server has deleted those Events).
 */
export class ChangeFilter {
  private readonly seen = new Map<string, Seen>();
  private lastSweep = 0;

  constructor(
    private readonly ttlMs = DEFAULT_CHANGE_MEMORY_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /** Records the change; true when it is one to emit. */
  admit(type: 'ADDED' | 'MODIFIED' | 'DELETED', event: KubeEvent): boolean {
    const uid = event.metadata.uid;
    this.sweep();
    if (type === 'DELETED') {
      this.seen.delete(uid);
      return false;
    }
    return this.remember(event);
  }

  /** A relist: the items are the whole current set. Returns the items that changed since last seen. */
  replace(items: readonly KubeEvent[]): KubeEvent[] {
    const present = new Set(items.map((item) => item.metadata.uid));
    for (const uid of this.seen.keys()) if (!present.has(uid)) this.seen.delete(uid);
    this.sweep();
    return items.filter((item) => this.remember(item));
  }

  private remember(event: KubeEvent): boolean {
    const uid = event.metadata.uid;
    const count = eventCount(event);
    const note = event.note;
    const previous = this.seen.get(uid);
    const now = this.now();
    if (previous && previous.count === count && previous.note === note) return false;
    this.seen.delete(uid); // re-inserted last: the map stays in last-change order for the sweep
    this.seen.set(uid, { count, note, seenAt: now });
    return true;
  }

  /** Drop entries idle past the TTL; at most once per tenth of the TTL, oldest first. */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < this.ttlMs / 10) return;
    this.lastSweep = now;
    for (const [uid, entry] of this.seen) {
      if (now - entry.seenAt < this.ttlMs) break;
      this.seen.delete(uid);
    }
  }
}
