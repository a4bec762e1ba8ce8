import type { ComponentContext } from '../../core/component.js';
import { LogEvent } from '../../core/event.js';
import { ParsedLine, parseContainerLogLine } from './container-log-parser.js';
import type { PodLogPath } from './pod-log-path.js';
import type { LineDecoder } from '../../tailer/line-decoder.js';
import { RunTimeErrors } from '../../core/run-time-errors.js';
import { MultilineJoiner, type MultilineCounts, type MultilineLimits } from './multiline/joiner.js';
import type { MultilineRules } from './multiline/rules.js';
import { MULTILINE_ANNOTATION, PARSER_ANNOTATION, PodShapingResolver, type PodParser } from './pod-parsers.js';

/** Where the source reads a pod's annotations (the metadata provider; undefined = none known). */
export interface AnnotationSource {
  annotations?(pod: PodLogPath): Readonly<Record<string, string>> | undefined;
}

export interface PodShapingOptions {
  default_parser: string;
  default_multiline: string;
  multiline: { max_lines: number; max_bytes: number; timeout_ms: number };
  parsers: Record<string, { source?: string; file?: string; files?: string[] }>;
}

/** A file's current parser and multiline rules; replaced in place when its pod's annotations change. */
class FileShaping {
  parser: PodParser | undefined;
  multiline: MultilineRules | undefined;
  /** The annotation values the settings were resolved from (a pod changes often, its choice seldom). */
  private chosen: string | undefined;

  constructor(
    readonly pod: PodLogPath,
    private readonly shaping: PodShaping,
  ) {
    this.update();
  }

  update(): void {
    const chosen = this.shaping.choiceOf(this.pod);
    if (chosen === this.chosen) return;
    this.chosen = chosen;
    const { parser, multiline } = this.shaping.settingsFor(this.pod);
    this.parser = parser;
    this.multiline = multiline;
  }
}

interface ShapingCounts extends MultilineCounts {
  parseFailures: number;
}

type StreamOffsets = Record<'stdout' | 'stderr', number>;

/** How many lines a busy file decodes between checks of the other stream's group timeout. */
const TIMEOUT_CHECK_LINES = 256;

/**
 * Wraps a file's container-log decoder: its events (complete lines, partials merged) are joined
 * by the pod's multiline rules, then parsed by the pod's parser. The file's checkpoint never
 * passes the first line of a group still open: `pendingOffset` is the earliest of the inner
 * decoder's merges and the open groups; a rotation hands the open groups to the next file
 * (`adoptPending`), as the inner decoder does with partial lines.
 */
export class ShapingDecoder implements LineDecoder {
  private readonly parsed = new ParsedLine();
  /** Offset of the first fragment of each stream's partial line in the inner decoder (-1: none). */
  private readonly fragmentStart: StreamOffsets = { stdout: -1, stderr: -1 };
  private readonly joiner: MultilineJoiner;
  private readonly scratch: LogEvent[] = [];
  private readonly completed: LogEvent[] = [];
  private linesSinceCheck = 0;

  constructor(
    private readonly inner: LineDecoder,
    private readonly settings: FileShaping,
    private readonly limits: MultilineLimits,
    private readonly counts: ShapingCounts,
    private readonly onRelease: () => void,
  ) {
    this.joiner = new MultilineJoiner(limits, counts);
  }

  decode(buf: Buffer, start: number, end: number, lineOffset: number, out: LogEvent[]): void {
    const settings = this.settings;
    if (settings.parser === undefined && settings.multiline === undefined && !this.joiner.pending) {
      const before = out.length;
      this.inner.decode(buf, start, end, lineOffset, out);
      if (out.length === before) this.noteFragment(buf, start, end, lineOffset);
      else if (this.fragmentStart.stdout >= 0 || this.fragmentStart.stderr >= 0) for (let i = before; i < out.length; i++) this.startOf(out[i]!, lineOffset);
      return;
    }
    const events = this.scratch;
    events.length = 0;
    this.inner.decode(buf, start, end, lineOffset, events);
    if (events.length === 0) this.noteFragment(buf, start, end, lineOffset);
    const now = Date.now();
    for (const event of events) this.shape(event, this.startOf(event, lineOffset), now, out);
    if (this.joiner.pending && ++this.linesSinceCheck >= TIMEOUT_CHECK_LINES) {
      this.linesSinceCheck = 0;
      this.finishJoined(now, out);
    }
  }

  pendingOffset(): number | undefined {
    const inner = this.inner.pendingOffset();
    const joined = this.joiner.pendingOffset();
    if (inner === undefined) return joined;
    return joined === undefined ? inner : Math.min(inner, joined);
  }

  flush(out: LogEvent[]): void {
    const events: LogEvent[] = [];
    this.inner.flush(events);
    const now = Date.now();
    for (const event of events) this.shape(event, this.startOf(event, 0), now, out);
    this.finishJoined(undefined, out);
  }

  /** Emits the groups quiet for timeout_ms; true when there were any. */
  flushExpired(out: LogEvent[]): boolean {
    if (!this.joiner.pending) return false;
    const before = out.length;
    this.finishJoined(Date.now(), out);
    return out.length > before;
  }

  adoptPending(previous: LineDecoder, offset: number): boolean {
    if (!(previous instanceof ShapingDecoder)) return false;
    const merges = this.inner.adoptPending?.(previous.inner, offset) === true;
    for (const stream of ['stdout', 'stderr'] as const) {
      if (previous.fragmentStart[stream] < 0 || this.fragmentStart[stream] >= 0) continue;
      this.fragmentStart[stream] = offset;
      previous.fragmentStart[stream] = -1;
    }
    const groups = this.joiner.adopt(previous.joiner, offset);
    return merges || groups;
  }

  release(): void {
    this.inner.release?.();
    this.onRelease();
  }

  /** The inner decoder kept a fragment of a partial line: remember where its line started. */
  private noteFragment(buf: Buffer, start: number, end: number, lineOffset: number): void {
    if (!parseContainerLogLine(buf, start, end, this.parsed)) return;
    const stream = this.parsed.stream;
    if (this.fragmentStart[stream] < 0) this.fragmentStart[stream] = lineOffset;
  }

  /** The file offset an event of the inner decoder starts at (its first fragment's line, or this line). */
  private startOf(event: LogEvent, lineOffset: number): number {
    const stream = event.fields.stream;
    if (stream !== 'stdout' && stream !== 'stderr') return lineOffset;
    const first = this.fragmentStart[stream];
    this.fragmentStart[stream] = -1;
    return first >= 0 ? first : lineOffset;
  }

  private shape(event: LogEvent, offset: number, now: number, out: LogEvent[]): void {
    const rules = this.settings.multiline;
    if (rules === undefined) {
      if (this.joiner.pending) this.finishJoined(undefined, out); // multiline was turned off meanwhile
      this.parse(event, out);
      return;
    }
    const completed = this.completed;
    completed.length = 0;
    this.joiner.push(event, offset, rules, now, completed);
    for (const done of completed) this.parse(done, out);
  }

  private finishJoined(now: number | undefined, out: LogEvent[]): void {
    const completed: LogEvent[] = [];
    this.joiner.flush(completed, now);
    for (const done of completed) this.parse(done, out);
  }

  private parse(event: LogEvent, out: LogEvent[]): void {
    const parser = this.settings.parser;
    if (parser === undefined) {
      out.push(event);
      return;
    }
    const results = parser.apply(event.fields);
    if (results === false || results.length === 0) {
      if (results === false) this.counts.parseFailures++;
      out.push(event); // not in the parser's format: shipped as it is
      return;
    }
    event.fields = results[0]!;
    out.push(event);
    for (let i = 1; i < results.length; i++) out.push(new LogEvent(results[i]!));
  }
}

/**
 * Per-pod parsing and multiline of a kubernetes_logs source: resolves each file's settings from
 * its pod's annotations (or the source's defaults), re-resolves them when the pod changes (the
 * provider's change events, as for exclusion), and counts what happened.
 */
export class PodShaping {
  private readonly resolver: PodShapingResolver;
  private readonly limits: MultilineLimits;
  private readonly files = new Map<string, Set<FileShaping>>();
  private readonly counts: ShapingCounts = { limitHits: 0, timeouts: 0, parseFailures: 0 };
  private readonly errors: RunTimeErrors;
  private readonly timer: NodeJS.Timeout;

  constructor(
    options: PodShapingOptions,
    private readonly annotations: AnnotationSource,
    private readonly ctx: ComponentContext,
  ) {
    this.resolver = new PodShapingResolver(options);
    this.errors = new RunTimeErrors(ctx.metrics, ctx.logger);
    this.mayShape = annotations.annotations !== undefined || options.default_parser !== 'none' || options.default_multiline !== 'none';
    this.limits = { maxLines: options.multiline.max_lines, maxBytes: options.multiline.max_bytes, timeoutMs: options.multiline.timeout_ms };
    const timeouts = ctx.metrics.counter('sluice_kubernetes_multiline_timeouts_total', 'Multiline events emitted after timeout_ms without a further line.');
    // Counted per line on the hot path as plain numbers; turned into metrics once a second.
    this.flushCounts = () => {
      const c = this.counts;
      if (c.parseFailures > 0) ctx.metrics.error('pod_parser_failed', c.parseFailures);
      if (c.limitHits > 0) ctx.metrics.error('multiline_limit', c.limitHits);
      if (c.timeouts > 0) timeouts.inc(ctx.metrics.labels, c.timeouts);
      c.parseFailures = c.limitHits = c.timeouts = 0;
    };
    this.timer = setInterval(this.flushCounts, 1000);
    this.timer.unref();
  }

  private readonly flushCounts: () => void;
  private readonly mayShape: boolean;

  /** The values of the annotations that choose a file's settings, as one string. */
  choiceOf(pod: PodLogPath): string {
    const a = this.annotations.annotations?.(pod);
    if (a === undefined) return '';
    const c = pod.containerName;
    return `${a[PARSER_ANNOTATION]}\u0000${a[`${PARSER_ANNOTATION}-${c}`]}\u0000${a[MULTILINE_ANNOTATION]}\u0000${a[`${MULTILINE_ANNOTATION}-${c}`]}`;
  }

  settingsFor(pod: PodLogPath): { parser: PodParser | undefined; multiline: MultilineRules | undefined } {
    return this.resolver.resolve(this.annotations.annotations?.(pod), pod.containerName, (key, value, reason) => {
      this.errors.report('invalid_pod_annotation', { pod: `${pod.podNamespace}/${pod.podName}`, container: pod.containerName, key, value, reason }, 'ignoring a parser or multiline setting');
    });
  }

  /**
   * The decoder of one file of `pod`, shaping what `inner` decodes. Without annotations (no API)
   * and without defaults nothing can ever be shaped: `inner` itself, at no cost per line.
   */
  wrap(pod: PodLogPath, inner: LineDecoder): LineDecoder {
    if (!this.mayShape) return inner;
    const settings = new FileShaping(pod, this);
    let set = this.files.get(pod.podUid);
    if (set === undefined) this.files.set(pod.podUid, (set = new Set()));
    set.add(settings);
    return new ShapingDecoder(inner, settings, this.limits, this.counts, () => {
      set.delete(settings);
      if (set.size === 0 && this.files.get(pod.podUid) === set) this.files.delete(pod.podUid);
    });
  }

  /** The pod's metadata changed: its files' next lines use the settings its annotations say now. */
  refresh(podUid: string): void {
    for (const settings of this.files.get(podUid) ?? []) settings.update();
  }

  close(): void {
    clearInterval(this.timer);
    this.flushCounts();
  }
}
