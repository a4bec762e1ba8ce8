import { fstatSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { LogEvent } from '../core/event.js';
import type { RunTimeErrors } from '../core/run-time-errors.js';
import type { AckTracker } from './ack-tracker.js';
import type { CheckpointRecord } from './checkpoint-store.js';
import { PlainChunkReader, type ChunkReader } from './chunk-reader.js';
import type { FileCheckpoints } from './file-checkpoints.js';
import type { FileOpener } from './file-opener.js';
import type { FileRegistry } from './file-registry.js';
import { fingerprintFromHead, type Fingerprint } from './fingerprint.js';
import type { DecodeStats, LineDecoder, TailedFileView } from './line-decoder.js';
import type { LineSplitter } from './line-splitter.js';
import type { MergeHandoff } from './merge-handoff.js';

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

/**
 * Where a file is in its life:
 * - `waiting`: found, never opened (or resumed after an exclusion: opened afresh);
 * - `open`: its reader is open and it is read in turn;
 * - `parked`: closed to respect `max_open_files`; keeps its splitter, decoder and acks and
 *   reopens at its read offset when it may have data;
 * - `excluded`: finished because the source excluded it; `resume` makes it `waiting` again;
 * - `done`: finished for good (read to its end, gone, or not to be read).
 */
export type TailedFileState = 'waiting' | 'open' | 'parked' | 'excluded' | 'done';

/** What reading a file needs of the tailer (one per tailer, built once). */
export interface FileReadContext {
  readonly checkpoints: FileCheckpoints;
  readonly handoff: MergeHandoff;
  readonly files: FileRegistry;
  readonly opener: FileOpener;
  readonly errors: RunTimeErrors;
  readonly logger: Logger;
  /** A rotated or renamed-away file with no successor is finished after this long without data. */
  readonly rotatedQuietMs: number;
  readonly sharedReadBuffer: Buffer;
  /** Hands the events of one read on (into the round's outgoing batch). */
  send(events: LogEvent[]): Promise<void> | void;
  /** Bytes read (counted once per round). */
  bytesRead(bytes: number): void;
  /** The file is finished (`done`): its merges and its sequence's next file are seen to. */
  done(file: TailedFile, reason: string): void;
}

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

/**
 * One file identity (device + inode) and its state machine (`state`): it owns its reader, line
 * splitter, decoder and acks, and reads itself (`readOnce`, `finish`, `park`). The tailer's loop
 * decides when; the file decides what a read means.
 */
export class TailedFile implements TailedFileView {
  state: TailedFileState = 'waiting';
  fingerprint: Fingerprint | undefined;
  reader: ChunkReader | undefined;
  splitter: LineSplitter | undefined;
  decoder: LineDecoder | undefined;
  acks: AckTracker | undefined;
  /** The record last put in the checkpoint store for this file (`FileCheckpoints` compares against it). */
  checkpointRecord: CheckpointRecord | undefined;
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
  /** `eventSeq` at the last safety poll (see `Tailer.pollIdleFiles`). */
  safetySeq = 0;
  /** Made readable only by the idle poll: one `fstat` tells whether there is anything to read. */
  pollOnly = false;
  /**
   * A poll found data no fs event announced (inotify lost it, or the filesystem sends none):
   * checked at every idle poll from then on, not only by the slow safety poll.
   */
  eventsMissed = false;
  /** Not found under any accepted path by the last full scan (renamed away or deleted). */
  orphaned = false;
  /** The source's admission has not settled yet (`FileAdmission.ready`). */
  admissionPending = false;
  /** Renamed away under a name not seen yet: its place in the sequence is being worked out. */
  rankPending = false;
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

  /** `dirname(path)`, kept until the path changes (the idle poll asks for it every second). */
  get dir(): string {
    if (this.dirOfPath !== this.path) {
      this.dirOfPath = this.path;
      this.dirName = dirname(this.path);
    }
    return this.dirName;
  }
  private dirOfPath: string | undefined;
  private dirName = '';

  /** Finished, for good or until the source lifts its exclusion. */
  get finished(): boolean {
    return this.state === 'done' || this.state === 'excluded';
  }

  /** Found and not open: opened when it may have data (never opened, or parked). */
  get closed(): boolean {
    return this.state === 'waiting' || this.state === 'parked';
  }

  /** Where a copy of this file would go on: its last complete line, or its earliest unfinished merge. */
  get resumeOffset(): number {
    return Math.min(this.splitter!.nextLineOffset, this.decoder?.pendingOffset() ?? Infinity);
  }

  /**
   * One read of at most `max_read_bytes`: its lines go on as events; at the end of the file it is
   * checked for what ends it (a successor, a quiet period, deletion) or restarts it (truncation).
   * Runs only while `open`; the caller closes nothing under it.
   */
  async readOnce(ctx: FileReadContext): Promise<void> {
    if (this.inherited !== undefined) ctx.handoff.adoptIfInherited(this);
    const successorKnown = this.admission.rotated && ctx.files.hasSuccessor(this);
    const plain = this.reader instanceof PlainChunkReader ? this.reader : undefined;
    const eventSeq = this.eventSeq;
    let stats: Stats | undefined;
    if (this.pollOnly && plain !== undefined) {
      // Idle poll without an fs event: one fstat instead of a read that most likely returns nothing.
      this.pollOnly = false;
      stats = await this.statOpen(ctx, plain);
      if (stats === undefined) return this.finish(ctx, 'stat failed');
      if (stats.size > plain.offset) {
        this.missedEvents(ctx); // no event since the poll (it clears pollOnly), none in the second before it
        stats = undefined;
      }
    }
    if (stats === undefined) {
      let chunk: Buffer;
      try {
        chunk = await this.reader!.read();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.finish(ctx, 'vanished'); // deleted before opened
        if (this.compressed) ctx.errors.report('gzip_corrupt', { path: this.path, err: error }, 'corrupt or truncated gzip file; lines before the damage were read');
        else ctx.errors.report('read_failed', { path: this.path, err: error }, 'read failed');
        await this.finish(ctx, 'read error');
        return;
      }
      if (chunk.length > 0) {
        this.readAny = true;
        const splitter = this.splitter!;
        if (this.fingerprint === undefined && splitter.readOffset === 0) {
          this.fingerprint = fingerprintFromHead(this.dev, this.ino, chunk);
          ctx.checkpoints.remember(this);
        }
        // A short read of a live file reached its end: skip the read that would return nothing
        // (and its fstat) unless an fs event came meanwhile. Deletion, truncation and quiet
        // periods are still checked on the next event or idle poll.
        const atEnd = plain !== undefined && chunk.length < plain.chunkBytes && !this.admission.rotated && !this.orphaned;
        const events: LogEvent[] = [];
        splitter.push(chunk, this.decoder!, events);
        this.lastDataAt = Date.now();
        ctx.bytesRead(chunk.length);
        if (atEnd && this.eventSeq === eventSeq) this.readable = false;
        await this.emit(ctx, events);
        return;
      }
    }
    this.readable = false;
    if (this.compressed || successorKnown) return this.finish(ctx, successorKnown ? 'successor' : 'gzip end', true);
    const quiet = Date.now() - this.lastDataAt >= ctx.rotatedQuietMs;
    if ((this.admission.rotated || this.orphaned) && quiet) return this.finish(ctx, 'quiet');
    if (quiet && this.decoder!.pendingOffset() !== undefined) await this.flushStalledMerge(ctx);
    else if (this.decoder!.flushExpired !== undefined) {
      // A decoder holding groups (multiline) ships the ones whose timeout passed while the file was idle.
      const expired: LogEvent[] = [];
      if (this.decoder!.flushExpired(expired)) await this.emit(ctx, expired);
    }
    stats ??= await this.statOpen(ctx, plain!);
    if (stats === undefined) return this.finish(ctx, 'stat failed');
    if (stats.nlink === 0) return this.finish(ctx, 'deleted'); // deleted: release its disk space now
    if (stats.size < this.splitter!.readOffset) this.restartTruncated(ctx, plain!);
  }

  /**
   * The file ends for good: emit what is pending, close it, let its successor start. `continued`:
   * the next file of its sequence carries on the same stream (rotation), so a partial line left at
   * the end merges with its final part there, as kubelet reads it.
   */
  async finish(ctx: FileReadContext, reason: string, continued = false): Promise<void> {
    const events: LogEvent[] = [];
    this.splitter!.flush(this.decoder!, events);
    const heir = continued ? ctx.handoff.heirOf(this) : undefined;
    if (heir === undefined) this.decoder!.flush(events);
    await ctx.opener.closeReader(this);
    ctx.done(this, reason);
    await this.emit(ctx, events); // acknowledges up to the start of the unfinished merges
    if (continued && this.copyOf !== undefined) await ctx.opener.skipCopiedBytes(this.copyOf, this.splitter!.readOffset);
    if (heir !== undefined) ctx.handoff.passOn(this, heir);
  }

  /**
   * Closed to respect `max_open_files` (the caller closed its reader): it keeps where it stands
   * and reopens there. `blocked`: not next in its sequence, so it still has everything to read.
   */
  park(blocked: boolean): void {
    this.state = 'parked';
    this.readable = blocked;
  }

  /** Finished because the source excluded it (the caller closed its reader). */
  exclude(): void {
    this.state = 'excluded';
  }

  /**
   * The source lifted its exclusion: opened afresh (new splitter, acks and decoder) at the end of
   * the file as it is then. False when it was not excluded.
   */
  resume(): boolean {
    if (this.state !== 'excluded') return false;
    this.resumeAtEnd = true;
    this.decoder?.release?.();
    this.splitter = undefined;
    this.state = 'waiting';
    this.readable = true;
    return true;
  }

  /** The lines read up to here go on: their acknowledgement moves the checkpoint (not past an unfinished merge). */
  private async emit(ctx: FileReadContext, events: LogEvent[]): Promise<void> {
    const pending = this.decoder!.pendingOffset();
    const lineEnd = this.splitter!.nextLineOffset;
    // The merges taken over from the previous file are among these events: its end goes with them.
    const settles = this.inherited === undefined ? undefined : ctx.handoff.settledBy(this, pending);
    ctx.checkpoints.handOn(this, events, pending === undefined ? lineEnd : Math.min(lineEnd, pending), settles?.settle);
    if (events.length > 0) await ctx.send(events);
  }

  /** A poll found bytes no fs event announced: poll this file each second from now on. */
  missedEvents(ctx: Pick<FileReadContext, 'logger'>): void {
    if (this.eventsMissed) return;
    this.eventsMissed = true;
    ctx.logger.debug({ path: this.path }, 'data found by the safety poll without an fs event: the file is polled each second from now on');
  }

  /**
   * A synchronous fstat, like the reads (`PlainChunkReader.read`): an inode already in memory,
   * microseconds, where a threadpool round trip costs more than the call.
   */
  private async statOpen(ctx: FileReadContext, reader: PlainChunkReader): Promise<Stats | undefined> {
    try {
      return fstatSync(reader.fd);
    } catch (error) {
      ctx.errors.report('read_failed', { path: this.path, err: error }, 'stat of an open file failed');
      return undefined;
    }
  }

  /**
   * A partial line whose end never came (a process that exited after writing without a newline,
   * Docker then logs it without `\n`): ship what there is rather than hold it, and the file's
   * checkpoint, until the pod is deleted.
   */
  private async flushStalledMerge(ctx: FileReadContext): Promise<void> {
    const events: LogEvent[] = [];
    this.decoder!.flush(events);
    ctx.logger.debug({ path: this.path, events: events.length }, 'flushed a partial line after a quiet period');
    await this.emit(ctx, events);
  }

  /** Copy-truncate rotation (generic files): the file shrank, so read it again from the start. */
  private restartTruncated(ctx: FileReadContext, reader: PlainChunkReader): void {
    ctx.errors.count('file_truncated');
    // Its copy may not be found yet (copytruncate): it must still know where this file stood.
    if (this.fingerprint !== undefined) this.beforeTruncation = { fingerprint: this.fingerprint, offset: this.resumeOffset };
    this.reader = new PlainChunkReader(reader.fd, 0, ctx.sharedReadBuffer);
    this.fingerprint = undefined;
    ctx.opener.startReading(this, 0);
    this.readable = true;
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
