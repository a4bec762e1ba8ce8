import { LogEvent } from '../../core/event.js';
import { ReadTimeClock, decodeUtf8, type DecodeStats, type LineDecoder, type TailedFileView } from '../../tailer/line-decoder.js';
import { ParsedLine, parseContainerLogLine, type LogStream } from './container-log-parser.js';

export interface PartialMergeOptions {
  autoPartialMerge: boolean;
  /** A merged message is emitted as soon as it reaches this size (counted), the rest starts a new one. */
  maxMergedLineBytes: number;
}

/**
 * The pod metadata of a file's events; replaced (never mutated) when metadata changes.
 * `kubernetes` goes into every event's literal; `otherFields` (top-level fields a user moved
 * elsewhere) is assigned on top when present.
 */
export interface KubernetesFieldsHolder {
  readonly kubernetes: unknown;
  readonly otherFields: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Shared by every file's decoder: a line is parsed and turned into its event within one `decode`
 * call, and the clock only caches the last millisecond's text, so neither needs to be per file
 * (5,000 files held 5,000 of each, with their last line's timestamp and message strings).
 */
const SCRATCH_LINE = new ParsedLine();
const READ_TIME = new ReadTimeClock();

/** Fragments of one stream waiting for their final line (CRI `F`, Docker `log` ending in `\n`). */
class PendingMerge {
  parts: Buffer[] = [];
  bytes = 0;
  startOffset = -1;
  timestamp = '';

  get active(): boolean {
    return this.startOffset >= 0;
  }

  add(part: Buffer, lineOffset: number, timestamp: string): void {
    if (this.startOffset < 0) {
      this.startOffset = lineOffset;
      this.timestamp = timestamp;
    }
    this.parts.push(part);
    this.bytes += part.length;
  }

  /** Continues `other`'s fragments (it stays empty) as if they started at `offset`; false when there is nothing to take. */
  adopt(other: PendingMerge, offset: number): boolean {
    if (!other.active || this.active) return false;
    this.parts = other.parts;
    this.bytes = other.bytes;
    this.timestamp = other.timestamp;
    this.startOffset = offset;
    other.parts = [];
    other.bytes = 0;
    other.startOffset = -1;
    return true;
  }

  take(): Buffer {
    const merged = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bytes);
    this.parts = [];
    this.bytes = 0;
    this.startOffset = -1;
    return merged;
  }
}

/**
 * CRI / Docker lines of one container log file -> events, merging partial lines per stream so
 * interleaved stdout/stderr merge independently. The merged timestamp is the first fragment's.
 * Fragments are kept as bytes and decoded once (runtimes split at 16 KiB, even inside a UTF-8
 * character). A line in neither format is shipped raw (message = the line, timestamp = read
 * time, no `stream`) and counted as malformed: nothing is lost.
 */
export class PartialMergeDecoder implements LineDecoder {
  private readonly stdout = new PendingMerge();
  private readonly stderr = new PendingMerge();

  constructor(
    private readonly file: TailedFileView,
    private readonly metadata: KubernetesFieldsHolder,
    private readonly options: PartialMergeOptions,
    private readonly stats: DecodeStats,
    private readonly onRelease?: () => void,
  ) {}

  release(): void {
    this.onRelease?.();
  }

  decode(buf: Buffer, start: number, end: number, lineOffset: number, out: LogEvent[]): void {
    const parsed = SCRATCH_LINE;
    if (!parseContainerLogLine(buf, start, end, parsed)) {
      this.stats.malformedLines++;
      out.push(this.event(decodeUtf8(buf, start, end, this.stats), READ_TIME.now(), undefined));
      return;
    }
    if (!this.options.autoPartialMerge) {
      out.push(this.event(this.messageOf(buf), parsed.timestamp, parsed.stream));
      return;
    }
    const pending = parsed.stream === 'stdout' ? this.stdout : this.stderr;
    if (!parsed.partial && !pending.active) {
      out.push(this.event(this.messageOf(buf), parsed.timestamp, parsed.stream));
      return;
    }
    pending.add(this.fragmentOf(buf), lineOffset, parsed.timestamp);
    if (!parsed.partial) this.emitMerged(pending, parsed.stream, out);
    else if (pending.bytes >= this.options.maxMergedLineBytes) {
      this.stats.mergeLimitHits++;
      this.emitMerged(pending, parsed.stream, out);
    }
  }

  pendingOffset(): number | undefined {
    const a = this.stdout.startOffset;
    const b = this.stderr.startOffset;
    if (a < 0) return b < 0 ? undefined : b;
    return b < 0 ? a : Math.min(a, b);
  }

  flush(out: LogEvent[]): void {
    const [first, second] =
      this.stderr.active && (!this.stdout.active || this.stderr.startOffset < this.stdout.startOffset)
        ? ([this.stderr, this.stdout] as const)
        : ([this.stdout, this.stderr] as const);
    if (first.active) this.emitMerged(first, first === this.stdout ? 'stdout' : 'stderr', out);
    if (second.active) this.emitMerged(second, second === this.stdout ? 'stdout' : 'stderr', out);
  }

  /**
   * A partial line at the end of a rotated file ends in the next file (kubelet reads the files of a
   * container as one stream): the fragments go on here and merge with the final part.
   */
  adoptPending(previous: LineDecoder, offset: number): boolean {
    if (!(previous instanceof PartialMergeDecoder) || !this.options.autoPartialMerge) return false;
    const stdout = this.stdout.adopt(previous.stdout, offset);
    const stderr = this.stderr.adopt(previous.stderr, offset);
    return stdout || stderr;
  }

  private emitMerged(pending: PendingMerge, stream: LogStream, out: LogEvent[]): void {
    const timestamp = pending.timestamp;
    const merged = pending.take();
    out.push(this.event(decodeUtf8(merged, 0, merged.length, this.stats), timestamp, stream));
  }

  private messageOf(buf: Buffer): string {
    const parsed = SCRATCH_LINE;
    return parsed.messageText ?? decodeUtf8(buf, parsed.messageStart, parsed.messageEnd, this.stats);
  }

  /** A copy of the message bytes: the read buffer is reused after this call. */
  private fragmentOf(buf: Buffer): Buffer {
    const parsed = SCRATCH_LINE;
    if (parsed.messageText !== undefined) return Buffer.from(parsed.messageText, 'utf8');
    return Buffer.from(buf.subarray(parsed.messageStart, parsed.messageEnd));
  }

  private event(message: string, timestamp: string, stream: LogStream | undefined): LogEvent {
    // One literal shape for every event keeps V8's hidden classes monomorphic.
    const fields = {
      message,
      timestamp,
      stream,
      file: this.file.path,
      source_type: 'kubernetes_logs',
      kubernetes: this.metadata.kubernetes,
    };
    const other = this.metadata.otherFields;
    return new LogEvent(other === undefined ? fields : Object.assign(fields, other));
  }
}
