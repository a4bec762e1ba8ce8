import { ownField } from './no-proto-accessor.js'; // also makes `__proto__` a field name like any other (see there)
import type { DeliveryStatus, Finalizer } from './finalizer.js';

/**
 * A log event: a tree of fields (what is shipped) plus the acknowledgement handle (never shipped).
 *
 * Conventions every component follows:
 * - `message` holds the log line, `timestamp` an RFC 3339 string kept exactly as the source read
 *   it (nanosecond precision survives: it is never converted to a JS Date on the hot path).
 * - Sub-objects shared by many events (pod metadata, one object per file) are frozen. Writers go
 *   through `setField`, which copies a frozen object before changing it (copy-on-write), so a
 *   transform never edits another event's metadata and encoders may cache the JSON of frozen
 *   objects.
 */
export type Fields = Record<string, unknown>;

const DROPPED_FIELDS: Fields = Object.freeze({});

export class LogEvent {
  fields: Fields;
  finalizer: Finalizer | undefined;
  /** Per-event metadata, never shipped: VRL's `%` (set by a remap, read by later remaps). */
  metadata: Fields | undefined = undefined;

  constructor(fields: Fields, finalizer?: Finalizer) {
    this.fields = fields;
    this.finalizer = finalizer;
  }

  get(path: FieldPath): unknown {
    return getField(this.fields, path);
  }

  set(path: FieldPath, value: unknown): void {
    setField(this.fields, path, value);
  }

  /** Tell the source this delivery is finished. Idempotent per event copy. */
  ack(status: DeliveryStatus = 'delivered'): void {
    const finalizer = this.finalizer;
    if (finalizer === undefined) return;
    this.finalizer = undefined;
    finalizer.release(status);
  }

  /**
   * The holder has encoded the fields and only waits to acknowledge: let the fields be collected
   * now. A network sink keeps events for a round trip or longer, long enough for V8 to promote
   * them; without this a ~1 KB field tree per event went to the old generation (W2: old space
   * swinging 50 -> 200 MiB between full GCs). Each sink owns its LogEvent (fan-out wraps per
   * target), so no other reader is affected.
   */
  dropFields(): void {
    this.fields = DROPPED_FIELDS;
  }

  /** A copy whose fields can be changed without touching this one; it shares the finalizer. */
  cloneForFanout(): LogEvent {
    const copy = new LogEvent(deepCopyUnfrozen(this.fields) as Fields, this.finalizer);
    copy.metadata = this.metadata; // frozen once a remap set it: shared, copied on write
    return copy;
  }
}

export function ackAll(events: readonly LogEvent[], status: DeliveryStatus = 'delivered'): void {
  for (const event of events) event.ack(status);
}

/** A dotted path (`kubernetes.pod_name`) compiled once into its segments. */
export type FieldPath = readonly string[];

const pathCache = new Map<string, FieldPath>();

/** Split `a.b."c.d"` into segments; quoted segments may contain dots. Cached. */
export function parsePath(path: string): FieldPath {
  const cached = pathCache.get(path);
  if (cached) return cached;
  const segments: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of path) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '.' && !quoted) {
      segments.push(current);
      current = '';
    } else current += ch;
  }
  segments.push(current);
  if (quoted || segments.some((s) => s === '')) throw new Error(`invalid field path "${path}"`);
  const frozen = Object.freeze(segments);
  pathCache.set(path, frozen);
  return frozen;
}

export function getField(fields: Fields, path: FieldPath): unknown {
  let node: unknown = fields;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = ownField(node as Record<string, unknown>, segment);
  }
  return node;
}

export function setField(fields: Fields, path: FieldPath, value: unknown): void {
  let node: Record<string, unknown> = fields;
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i]!;
    let child = ownField(node, segment);
    if (child === null || typeof child !== 'object' || Array.isArray(child)) {
      child = {};
      node[segment] = child;
    } else if (Object.isFrozen(child)) {
      child = { ...(child as object) };
      node[segment] = child;
    }
    node = child as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

export function deleteField(fields: Fields, path: FieldPath): void {
  let node: Record<string, unknown> = fields;
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i]!;
    let child = ownField(node, segment);
    if (child === null || typeof child !== 'object') return;
    if (Object.isFrozen(child)) {
      child = { ...(child as object) };
      node[segment] = child;
    }
    node = child as Record<string, unknown>;
  }
  delete node[path[path.length - 1]!];
}

/** Frozen sub-trees are immutable by convention, so they can be shared instead of copied. */
function deepCopyUnfrozen(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) return value.map(deepCopyUnfrozen);
  if (Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key in value as Record<string, unknown>) out[key] = deepCopyUnfrozen((value as Record<string, unknown>)[key]);
  return out;
}
