import type { Stats } from 'node:fs';
import type { AckTracker } from './ack-tracker.js';
import type { ChunkReader } from './chunk-reader.js';
import type { Fingerprint } from './fingerprint.js';
import type { DecodeStats, LineDecoder, TailedFileView } from './line-decoder.js';
import type { LineSplitter } from './line-splitter.js';

/** How a source wants a discovered file read; decided from the path, before the file is opened. */
export interface FileAdmission {
  /** The path events name (a legacy link resolves to its target, so a file has one name). */
  readonly canonicalPath?: string;
  /**
   * Files of one sequence (one container instance) are read strictly in rank order: a file is
   * opened only once every lower-ranked file of its sequence is finished.
   */
  readonly sequence?: { readonly key: string; readonly rank: string };
  /**
   * The writer moved away from this name (kubelet renamed it): at end of file it is finished
   * once a later file of its sequence exists (the runtime reopened), or after a quiet period.
   */
  readonly rotated: boolean;
  readonly compressed: boolean;
  /**
   * Settles when the source may decide (metadata of the pod arrived, or the wait bound passed):
   * true = read the file, false = skip it. The file is not opened before.
   */
  readonly ready?: Promise<boolean>;
  createDecoder(file: TailedFileView, stats: DecodeStats): LineDecoder;
}

export type TailedFileState = 'waiting' | 'open' | 'done';

/**
 * Merges the previous file of the sequence left unfinished at its end (a partial line cut by a
 * rotation), handed to the next file. The previous file's checkpoint stays at the merges' start
 * until the merged events are acknowledged (`settle`), so a restart reads the first fragments again.
 */
export interface InheritedMerges {
  /** The previous file's decoder: it holds the merges until they are adopted. */
  readonly decoder: LineDecoder;
  /** The merged events were acknowledged (or will never be emitted): the previous file's end is. */
  readonly settle: () => void;
  /** Offset of this file the merges were taken over at; undefined until its first read. */
  adoptedAt: number | undefined;
}

/** Everything the tailer knows about one file identity (device + inode). */
export class TailedFile implements TailedFileView {
  state: TailedFileState = 'waiting';
  fingerprint: Fingerprint | undefined;
  reader: ChunkReader | undefined;
  splitter: LineSplitter | undefined;
  decoder: LineDecoder | undefined;
  acks: AckTracker | undefined;
  /** Unfinished merges of the previous file of the sequence, until the merged events are emitted. */
  inherited: InheritedMerges | undefined;
  /** Identity and read position before the last truncation (a copytruncate copy found later resumes there). */
  beforeTruncation: { readonly fingerprint: Fingerprint; readonly offset: number } | undefined;
  /** The file this one is a copy of (copytruncate): it started at that file's offset. */
  copyOf: TailedFile | undefined;
  /** Some bytes were read (a file that has read cannot take over its predecessor's merges). */
  readAny = false;
  /** There may be bytes to read (set by fs events and the idle poll, cleared at end of file). */
  readable = true;
  /** Bumped by every fs event naming the file (or its directory): a read that raced one keeps the file readable. */
  eventSeq = 0;
  /** `eventSeq` at the last idle poll: a file with events since is served by them and skipped. */
  polledSeq = 0;
  /** Made readable only by the idle poll: one `fstat` tells whether there is anything to read. */
  pollOnly = false;
  /** Not found under any accepted path by the last full scan (renamed away or deleted). */
  orphaned = false;
  /** The source's admission has not settled yet (`FileAdmission.ready`). */
  admissionPending = false;
  /** Renamed away under a name not seen yet: its place in the sequence is being worked out. */
  rankPending = false;
  /** Finished because the source excluded it (it may be resumed, see `Tailer.resumeReading`). */
  excludedBySource = false;
  /** Resumed after an exclusion: the next open starts at the end of the file, past any checkpoint. */
  resumeAtEnd = false;
  lastDataAt = Date.now();
  /** Size and mtime when last seen by a scan (a finished file that changes is re-identified). */
  seenSize: number;
  seenMtimeMs: number;
  /** Registration order: breaks ties between files of equal rank (first found is read first). */
  readonly order: number;
  private static registered = 0;

  constructor(
    public path: string,
    readonly key: string,
    readonly dev: number,
    readonly ino: number,
    public admission: FileAdmission,
    /** Files found by the first scan start at their end when `read_from = "end"`. */
    readonly startAtEnd: boolean,
    stats: Stats,
  ) {
    this.seenSize = stats.size;
    this.seenMtimeMs = stats.mtimeMs;
    this.order = TailedFile.registered++;
  }

  get compressed(): boolean {
    return this.admission.compressed;
  }

  get rank(): string {
    return this.admission.sequence?.rank ?? '';
  }

  get sequenceKey(): string | undefined {
    return this.admission.sequence?.key;
  }
}

export function inodeKey(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}
