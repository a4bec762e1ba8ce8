import type { Fields, FieldPath } from '../../core/event.js';
import { getField, LogEvent } from '../../core/event.js';
import { Finalizer } from '../../core/finalizer.js';
import { defaultMerger, isPlainObject, strategyMerger, type Merger, type MergeStrategy } from './mergers.js';

export type FlushReason = 'starts_when' | 'ends_when' | 'max_events' | 'max_bytes' | 'expired' | 'end_every_period' | 'max_groups' | 'max_total_bytes' | 'final';

export interface ReducerOptions {
  groupBy: readonly FieldPath[];
  strategies: ReadonlyMap<string, { path: FieldPath; strategy: MergeStrategy }>;
  startsWhen?: (fields: Fields, metadata?: Fields) => boolean;
  endsWhen?: (fields: Fields, metadata?: Fields) => boolean;
  expireAfterMs: number;
  endEveryPeriodMs?: number;
  maxEvents?: number;
  maxBytes?: number;
  maxGroups: number;
  maxTotalBytes: number;
  /** A value that does not fit its strategy (left out of the merge). */
  mergeFailed(path: FieldPath, message: string): void;
  /** A group left the reducer (for metrics). */
  flushed(reason: FlushReason, events: number): void;
}

/** Key of a field path in maps (segments may hold dots). */
export const pathKey = (path: FieldPath): string => path.join('\u0000');

interface FieldState {
  readonly path: FieldPath;
  merger: Merger;
}

/** One group being reduced. The events' fields are merged as they come; only their acks are kept. */
class Group {
  readonly fields = new Map<string, FieldState>();
  events = 0;
  bytes = 0;
  staleSince = 0;
  readonly createdAt: number;
  /** The parts' finalizers, runs of one finalizer counted (a read batch shares one). */
  private readonly finalizers: Finalizer[] = [];
  private readonly counts: number[] = [];

  constructor(
    readonly key: string,
    now: number,
  ) {
    this.createdAt = now;
  }

  take(event: LogEvent): void {
    const finalizer = event.finalizer;
    event.finalizer = undefined; // the reduced event acknowledges it
    if (finalizer === undefined) return;
    const last = this.finalizers.length - 1;
    if (last >= 0 && this.finalizers[last] === finalizer) this.counts[last]!++;
    else {
      this.finalizers.push(finalizer);
      this.counts.push(1);
    }
  }

  /** The reduced event; acknowledging it acknowledges every part with the same outcome. */
  toEvent(): LogEvent {
    const fields: Fields = {};
    for (const state of this.fields.values()) {
      state.merger.result((suffix, value) => setPath(fields, state.path, suffix, value));
    }
    const finalizers = this.finalizers;
    const counts = this.counts;
    if (finalizers.length === 0) return new LogEvent(fields);
    return new LogEvent(
      fields,
      new Finalizer(1, ({ rejected }) => {
        for (let i = 0; i < finalizers.length; i++) finalizers[i]!.release(rejected > 0 ? 'rejected' : 'delivered', counts[i]);
      }),
    );
  }
}

function setPath(fields: Fields, path: FieldPath, suffix: string, value: unknown): void {
  let node = fields;
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i]!;
    let child = node[segment];
    if (!isPlainObject(child) || Object.isFrozen(child)) node[segment] = child = isPlainObject(child) ? { ...child } : {};
    node = child as Fields;
  }
  node[path[path.length - 1]! + suffix] = value;
}

/** A rough size of what a group keeps of a value (shared, frozen metadata objects count once per group, as 0). */
export function approximateBytes(value: unknown): number {
  if (typeof value === 'string') return value.length + 16;
  if (Array.isArray(value)) {
    let sum = 16;
    for (const item of value) sum += approximateBytes(item);
    return sum;
  }
  if (isPlainObject(value)) {
    if (Object.isFrozen(value)) return 8;
    let sum = 16;
    for (const key in value) sum += key.length + 8 + approximateBytes(value[key]);
    return sum;
  }
  return 8;
}

/**
 * Vector's reduce: events of one `group_by` value are merged into one, field by field, until a
 * condition, a limit or a quiet period ends the group. Groups are kept in the order they last
 * took an event (a Map re-inserted on each), so the stalest is always first.
 */
export class Reducer {
  private readonly groups = new Map<string, Group>();
  private totalBytes = 0;
  /** Keys of the objects that hold a strategy path: walked into even when frozen. */
  private readonly strategyParents = new Set<string>();

  constructor(private readonly options: ReducerOptions) {
    for (const { path } of options.strategies.values()) for (let i = 1; i < path.length; i++) this.strategyParents.add(pathKey(path.slice(0, i)));
  }

  get size(): number {
    return this.groups.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  add(event: LogEvent, now: number, out: LogEvent[]): void {
    const o = this.options;
    const fields = event.fields;
    const startsHere = o.startsWhen?.(fields, event.metadata) === true;
    const endsWhenHere = o.endsWhen?.(fields, event.metadata) === true;
    const key = this.keyOf(fields);
    const size = approximateBytes(fields);
    const group = this.groups.get(key);
    let endsHere = endsWhenHere;
    let endReason: FlushReason = 'ends_when';
    if (o.maxEvents !== undefined && !endsHere && (o.maxEvents === 1 || (group !== undefined && group.events + 1 >= o.maxEvents))) {
      endsHere = true;
      endReason = 'max_events';
    }
    const bytesOverflow = o.maxBytes !== undefined && group !== undefined && group.bytes + size > o.maxBytes;
    if (startsHere || bytesOverflow) {
      if (group !== undefined) this.flushGroup(group, startsHere ? 'starts_when' : 'max_bytes', out);
      if (!startsHere && endsWhenHere) {
        out.push(this.single(key, event, size, now));
        o.flushed('ends_when', 1);
        return;
      }
      this.addTo(undefined, key, event, size, now, out);
    } else if (endsHere) {
      const target = group ?? new Group(key, now);
      this.merge(target, event, size, now);
      if (group !== undefined) this.forget(group);
      out.push(target.toEvent());
      o.flushed(endReason, target.events);
    } else {
      this.addTo(group, key, event, size, now, out);
    }
  }

  /** Groups quiet for `expire_after_ms` (or older than `end_every_period_ms`) leave. */
  flushDue(now: number, out: LogEvent[]): void {
    const o = this.options;
    for (const group of [...this.groups.values()]) {
      if (now - group.staleSince >= o.expireAfterMs) this.flushGroup(group, 'expired', out);
      else if (o.endEveryPeriodMs !== undefined && now - group.createdAt >= o.endEveryPeriodMs) this.flushGroup(group, 'end_every_period', out);
      else if (o.endEveryPeriodMs === undefined) break; // ordered by staleness: the rest are fresher
    }
  }

  flushAll(out: LogEvent[]): void {
    for (const group of [...this.groups.values()]) this.flushGroup(group, 'final', out);
  }

  private single(key: string, event: LogEvent, size: number, now: number): LogEvent {
    const group = new Group(key, now);
    this.merge(group, event, size, now);
    return group.toEvent();
  }

  private addTo(group: Group | undefined, key: string, event: LogEvent, size: number, now: number, out: LogEvent[]): void {
    const o = this.options;
    if (group === undefined) {
      while (this.groups.size >= o.maxGroups) this.flushGroup(this.groups.values().next().value!, 'max_groups', out);
      group = new Group(key, now);
    } else this.groups.delete(key); // re-inserted last: the freshest
    this.groups.set(key, group);
    this.merge(group, event, size, now);
    this.totalBytes += size;
    // A single event over max_bytes is a group of one (as Vector).
    if (o.maxBytes !== undefined && group.bytes > o.maxBytes) this.flushGroup(group, 'max_bytes', out);
    while (this.totalBytes > o.maxTotalBytes && this.groups.size > 0) this.flushGroup(this.groups.values().next().value!, 'max_total_bytes', out);
  }

  private merge(group: Group, event: LogEvent, size: number, now: number): void {
    const o = this.options;
    const fields = event.fields;
    for (const [key, { path, strategy }] of o.strategies) {
      const value = getField(fields, path);
      if (value === undefined) continue;
      const state = group.fields.get(key);
      if (state !== undefined) {
        const problem = state.merger.add(value);
        if (problem !== undefined) o.mergeFailed(path, problem);
        continue;
      }
      const merger = strategyMerger(value, strategy);
      if (typeof merger === 'string') o.mergeFailed(path, merger);
      else group.fields.set(key, { path, merger });
    }
    this.mergeLeaves(group, fields, [], '');
    group.take(event);
    group.events++;
    group.bytes += size;
    group.staleSince = now;
  }

  /**
   * Every field not under a strategy path, by leaf (objects are walked into, as Vector does);
   * a frozen object (metadata shared by many events) is one value: its first is kept.
   */
  private mergeLeaves(group: Group, node: Record<string, unknown>, prefix: string[], prefixKey: string): void {
    const strategies = this.options.strategies;
    for (const name in node) {
      const value = node[name];
      if (value === undefined) continue;
      const key = prefix.length === 0 ? name : `${prefixKey}\u0000${name}`;
      if (strategies.has(key)) continue;
      if (isPlainObject(value) && (!Object.isFrozen(value) || this.strategyParents.has(key)) && Object.keys(value).length > 0) {
        this.mergeLeaves(group, value, [...prefix, name], key);
        continue;
      }
      const state = group.fields.get(key);
      if (state === undefined) group.fields.set(key, { path: [...prefix, name], merger: defaultMerger(value, prefix.length === 0 && name === 'timestamp') });
      else {
        const problem = state.merger.add(value);
        if (problem !== undefined) this.options.mergeFailed([...prefix, name], problem);
      }
    }
  }

  private flushGroup(group: Group, reason: FlushReason, out: LogEvent[]): void {
    this.forget(group);
    out.push(group.toEvent());
    this.options.flushed(reason, group.events);
  }

  private forget(group: Group): void {
    if (this.groups.get(group.key) !== group) return;
    this.groups.delete(group.key);
    this.totalBytes -= group.bytes;
  }

  private keyOf(fields: Fields): string {
    const groupBy = this.options.groupBy;
    if (groupBy.length === 0) return '';
    let key = '';
    for (const path of groupBy) {
      const value = getField(fields, path);
      key += value === undefined ? '\u0001' : typeof value === 'string' ? `s${value}\u0002` : `j${JSON.stringify(value)}\u0002`;
    }
    return key;
  }
}
