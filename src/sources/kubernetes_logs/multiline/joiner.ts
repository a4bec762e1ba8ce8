import type { LogEvent } from '../../../core/event.js';
import type { MultilineRules } from './rules.js';

export interface MultilineLimits {
  /** A group reaching this many lines is emitted (counted); the lines after it form the next one. */
  readonly maxLines: number;
  /** The same for the bytes of its message (UTF-16 length, a close bound). */
  readonly maxBytes: number;
  /** A group that took no line for this long is emitted. */
  readonly timeoutMs: number;
}

export interface MultilineCounts {
  /** Groups emitted because they reached max_lines or max_bytes. */
  limitHits: number;
  /** Groups emitted after timeout_ms of silence. */
  timeouts: number;
}

/** The lines of one stream being joined: the first line's event carries the joined message. */
class Group {
  first: LogEvent | undefined;
  lines: string[] = [];
  bytes = 0;
  /** File offset of the first line's first byte: the file's checkpoint stays at or before it. */
  startOffset = -1;
  lastAt = 0;
  state: string | undefined;

  get open(): boolean {
    return this.first !== undefined;
  }

  begin(event: LogEvent, message: string, offset: number, now: number): void {
    this.first = event;
    this.lines = [message];
    this.bytes = message.length;
    this.startOffset = offset;
    this.lastAt = now;
  }

  append(message: string, now: number): void {
    this.lines.push(message);
    this.bytes += message.length + 1;
    this.lastAt = now;
  }

  take(): LogEvent {
    const event = this.first!;
    if (this.lines.length > 1) event.fields.message = this.lines.join('\n');
    this.first = undefined;
    this.lines = [];
    this.bytes = 0;
    this.startOffset = -1;
    return event;
  }
}

/**
 * Joins the events of one file into multiline events, per stream (stdout and stderr interleave
 * on their own), by the rules of the pod. Bounded: a group never holds more than max_lines
 * lines or max_bytes bytes, and a quiet one is emitted after timeout_ms.
 */
export class MultilineJoiner {
  private readonly groups = new Map<string, Group>();
  /** Open groups (checked per line: no Map iteration on the hot path). */
  private openGroups = 0;

  constructor(
    private readonly limits: MultilineLimits,
    private readonly counts: MultilineCounts,
  ) {}

  /** One event (one complete line) starting at file offset `offset`; completed events go to `out`. */
  push(event: LogEvent, offset: number, rules: MultilineRules, now: number, out: LogEvent[]): void {
    const message = event.fields.message;
    const streamKey = typeof event.fields.stream === 'string' ? event.fields.stream : '';
    let group = this.groups.get(streamKey);
    if (typeof message !== 'string') {
      if (group?.open) out.push(this.take(group));
      out.push(event);
      return;
    }
    if (group === undefined) this.groups.set(streamKey, (group = new Group()));
    const { action, state } = rules.classify(message, group.state);
    group.state = state;
    if (action === 'append' || action === 'last') {
      if (!group.open) this.begin(group, event, message, offset, now); // the rest of a group cut by a limit
      else if (group.lines.length >= this.limits.maxLines || group.bytes + message.length + 1 > this.limits.maxBytes) {
        this.counts.limitHits++;
        out.push(this.take(group));
        this.begin(group, event, message, offset, now);
      } else group.append(message, now);
      if (action === 'last') out.push(this.take(group));
      return;
    }
    if (group.open) out.push(this.take(group));
    if (action === 'start') this.begin(group, event, message, offset, now);
    else out.push(event);
  }

  private begin(group: Group, event: LogEvent, message: string, offset: number, now: number): void {
    if (!group.open) this.openGroups++;
    group.begin(event, message, offset, now);
  }

  private take(group: Group): LogEvent {
    this.openGroups--;
    return group.take();
  }

  /** Offset of the earliest open group's first line, if any. */
  pendingOffset(): number | undefined {
    let min: number | undefined;
    for (const group of this.groups.values()) if (group.open && (min === undefined || group.startOffset < min)) min = group.startOffset;
    return min;
  }

  get pending(): boolean {
    return this.openGroups > 0;
  }

  /** Emits the groups quiet for timeout_ms (all of them when `now` is undefined), earliest first. */
  flush(out: LogEvent[], now?: number): void {
    const due = [...this.groups.values()].filter((g) => g.open && (now === undefined || now - g.lastAt >= this.limits.timeoutMs));
    due.sort((a, b) => a.startOffset - b.startOffset);
    for (const group of due) {
      if (now !== undefined) this.counts.timeouts++;
      group.state = undefined;
      out.push(this.take(group));
    }
  }

  /** Takes over `previous`'s open groups (the file before a rotation), as if they started at `offset`. */
  adopt(previous: MultilineJoiner, offset: number): boolean {
    let any = false;
    for (const [key, group] of previous.groups) {
      if (!group.open || this.groups.get(key)?.open) continue;
      previous.groups.delete(key);
      previous.openGroups--;
      group.startOffset = offset;
      this.groups.set(key, group);
      this.openGroups++;
      any = true;
    }
    return any;
  }
}
