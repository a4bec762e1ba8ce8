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

/**
 * Fragments of one stream waiting for their final line (CRI `F`, Docker `log` ending in `\n`).
 * Made when a partial line arrives and dropped when its merge is emitted: most files never hold
 * one, and two per file were ~220 bytes of heap each at 5,000 files (W5).
 */
class PendingMerge {
  readonly parts: Buffer[] = [];
  bytes = 0;

  constructor(
    /** File offset of the first fragment's line (the checkpoint stays there until the merge is emitted). */
    public startOffset: number,
    /** The merged event's timestamp: the first fragment's. */
    readonly timestamp: string,
  ) {}

  add(part: Buffer): void {
    this.parts.push(part);
    this.bytes += part.length;
  }

  take(): Buffer {
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bytes);
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
  private stdout: PendingMerge | undefined;
  private stderr: PendingMerge | undefined;

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
    const stream = parsed.stream;
    let pending = stream === 'stdout' ? this.stdout : this.stderr;
    if (!parsed.partial && pending === undefined) {
      out.push(this.event(this.messageOf(buf), parsed.timestamp, stream));
      return;
    }
    if (pending === undefined) {
      pending = new PendingMerge(lineOffset, parsed.timestamp);
      if (stream === 'stdout') this.stdout = pending;
      else this.stderr = pending;
    }
    pending.add(this.fragmentOf(buf));
    if (!parsed.partial) this.emitMerged(stream, out);
    else if (pending.bytes >= this.options.maxMergedLineBytes) {
      this.stats.mergeLimitHits++;
      this.emitMerged(stream, out);
    }
  }

  pendingOffset(): number | undefined {
    const a = this.stdout?.startOffset;
    const b = this.stderr?.startOffset;
    if (a === undefined) return b;
    return b === undefined ? a : Math.min(a, b);
  }

  flush(out: LogEvent[]): void {
    const stderrFirst = this.stderr !== undefined && (this.stdout === undefined || this.stderr.startOffset < this.stdout.startOffset);
    const [first, second]: LogStream[] = stderrFirst ? ['stderr', 'stdout'] : ['stdout', 'stderr'];
    this.emitMerged(first!, out);
    this.emitMerged(second!, out);
  }

  /**
   * A partial line at the end of a rotated file ends in the next file (kubelet reads the files of a
   * container as one stream): the fragments go on here and merge with the final part.
   */
  adoptPending(previous: LineDecoder, offset: number): boolean {
    if (!(previous instanceof PartialMergeDecoder) || !this.options.autoPartialMerge) return false;
    let adopted = false;
    if (previous.stdout !== undefined && this.stdout === undefined) {
      this.stdout = previous.stdout;
      previous.stdout = undefined;
      this.stdout.startOffset = offset;
      adopted = true;
    }
    if (previous.stderr !== undefined && this.stderr === undefined) {
      this.stderr = previous.stderr;
      previous.stderr = undefined;
      this.stderr.startOffset = offset;
      adopted = true;
    }
    return adopted;
  }

  /** Emits the stream's pending merge, if any, and drops it. */
  private emitMerged(stream: LogStream, out: LogEvent[]): void {
    const pending = stream === 'stdout' ? this.stdout : this.stderr;
    if (pending === undefined) return;
    if (stream === 'stdout') this.stdout = undefined;
    else this.stderr = undefined;
    const merged = pending.take();
    out.push(this.event(decodeUtf8(merged, 0, merged.length, this.stats), pending.timestamp, stream));
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
