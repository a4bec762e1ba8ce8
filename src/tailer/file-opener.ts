import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileCheckpoints } from './file-checkpoints.js';
import { GzipChunkReader, PlainChunkReader, closeQuietly, openVerified, statOf } from './chunk-reader.js';
import type { RunTimeErrors } from '../core/run-time-errors.js';
import type { Discovery } from './discovery.js';
import type { FileRegistry } from './file-registry.js';
import type { FileTracker } from './file-tracker.js';
import { FINGERPRINT_HEAD_BYTES, fingerprintFromHead, headMatches, pathStillHolds, readGzipHead, readPlainHead, type Fingerprint } from './fingerprint.js';
import type { DecodeStats } from './line-decoder.js';
import { LineSplitter } from './line-splitter.js';
import { OpenBackoff } from './open-backoff.js';
import { ParkingOrder } from './parking-order.js';
import { UnsafePathError } from './path-policy.js';
import { startPosition } from './start-position.js';
import { inodeKey, type TailedFile } from './tailed-file.js';
import type { TailerOptions } from './tailer.js';

/** Log group of the refused paths (discovery's and the opener's share one budget). */
export const REFUSED_PATHS = 'refused_path';

/** What the opener asks of the tailer. */
export interface FileOpenerHooks {
  wake(): void;
  /** The file is finished (not to be read, or not readable). */
  done(file: TailedFile, reason: string): void;
}

/**
 * Opening files: where each starts reading (`startPosition`, and copytruncate copies resumed where
 * their original stood), gzip files whose plain file is read already, and `max_open_files`:
 * parking (closing) idle or blocked files and reopening them when they may have data.
 */
export class FileOpener {
  /** Open files that may be parked (closed under `max_open_files`), least recently active first. */
  readonly parking = new ParkingOrder<TailedFile>();
  private openCount = 0;
  /** Opening paused while the process is out of descriptors. */
  private readonly openBackoff: OpenBackoff;

  constructor(
    private readonly options: Pick<TailerOptions, 'maxOpenFiles' | 'maxReadBytes' | 'maxLineBytes' | 'logger'>,
    private readonly files: FileRegistry,
    private readonly discovery: Discovery,
    private readonly tracker: FileTracker,
    private readonly checkpoints: FileCheckpoints,
    private readonly stats: DecodeStats,
    private readonly sharedReadBuffer: Buffer,
    private readonly errors: RunTimeErrors,
    private readonly hooks: FileOpenerHooks,
  ) {
    this.openBackoff = new OpenBackoff(() => hooks.wake());
  }

  /** Files currently open. */
  get openFiles(): number {
    return this.openCount;
  }

  /** The loop ended: no backoff timer left behind. */
  close(): void {
    this.openBackoff.close();
  }

  /**
   * Files are opened as soon as they are found (an open descriptor keeps a deleted file's bytes
   * readable), but read only in sequence order. Under `max_open_files`, files next in their
   * sequence go first and may push out an idle or blocked one; the others wait for a free slot.
   */
  async openWaitingFiles(): Promise<void> {
    if (!this.anyOpenableFile()) return; // the usual case: one cheap pass instead of two
    for (const file of this.files.all()) {
      // A parked file (closed to respect max_open_files) reopens only when it may have data.
      if (!file.closed || !file.readable || file.admissionPending || !this.files.isNextInSequence(file)) continue;
      if (file.pollOnly && (await this.unchangedWhileParked(file))) continue;
      if (this.openCount >= this.options.maxOpenFiles && !(await this.parkOneFile())) break;
      await this.openAndEnlist(file);
    }
    for (const file of this.files.all()) {
      if (this.openCount >= this.options.maxOpenFiles) return;
      if (file.state === 'waiting' && file.readable && !file.admissionPending) await this.openAndEnlist(file);
    }
  }

  /** A file just opened may be parked again (once idle, or while it waits for its turn). */
  private async openAndEnlist(file: TailedFile): Promise<void> {
    await this.open(file);
    if (file.state === 'open' && !file.compressed) this.parking.touch(file);
  }

  /**
   * A parked file made readable by the idle poll alone: a stat of its path tells whether it grew.
   * Unchanged, it stays parked: reopening it would only park another quiet file, and past
   * `max_open_files` every poll would cycle every parked file through open, head hash and close.
   * Rotated or orphaned files, and files holding a partial line, are reopened: their end of file
   * is what finishes them or flushes the partial.
   */
  private async unchangedWhileParked(file: TailedFile): Promise<boolean> {
    if (!file.pollOnly || file.splitter === undefined || file.admission.rotated || file.orphaned) return false;
    if (file.decoder?.pendingOffset() !== undefined) return false;
    file.pollOnly = false;
    const eventSeq = file.eventSeq;
    let stats: Stats;
    try {
      stats = await lstat(file.path);
    } catch {
      return false; // gone: the reopen sees why
    }
    if (file.eventSeq !== eventSeq || inodeKey(stats) !== file.key) return false;
    if (stats.size !== file.splitter.readOffset) {
      if (stats.size > file.splitter.readOffset) file.missedEvents(this.options);
      return false;
    }
    file.readable = false;
    return true;
  }

  anyOpenableFile(): boolean {
    if (this.openBackoff.paused) return false; // the backoff wakes the loop when it ends
    const files = this.files.all();
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      if (file.closed && file.readable && !file.admissionPending) return true;
    }
    return false;
  }

  /** Closes an open file that is idle at its end or cannot be read yet; false if there is none. */
  private async parkOneFile(): Promise<boolean> {
    const candidate = this.parking.choose((file) => {
      if (file.state !== 'open' || file.compressed || file.orphaned) return false;
      return !file.readable || !this.files.isNextInSequence(file);
    });
    if (candidate === undefined) return false;
    const blocked = !this.files.isNextInSequence(candidate);
    await this.closeReader(candidate);
    candidate.park(blocked);
    return true;
  }

  private async open(file: TailedFile): Promise<void> {
    if (this.openBackoff.paused) return; // out of descriptors a moment ago: the file waits, readable
    try {
      if (file.compressed) await this.openCompressed(file);
      else await this.openPlain(file);
      this.openBackoff.succeeded();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EMFILE' || code === 'ENFILE') {
        if (this.openBackoff.failed()) {
          this.errors.report('too_many_open_files', { path: file.path, code, retry_ms: this.openBackoff.retryInMs }, 'out of file descriptors: files are opened again after a backoff (raise RLIMIT_NOFILE or lower max_open_files)');
        } else {
          this.errors.count('too_many_open_files'); // logged when the backoff began
        }
        return;
      }
      if (error instanceof UnsafePathError) {
        // Swapped for a link, a FIFO or a device since it was found: refused, never read.
        this.errors.report(error.reason, { path: file.path, reason: error.reason }, 'not reading a file that is no longer a regular file under the root', { group: REFUSED_PATHS });
      } else if (code !== 'ENOENT') {
        this.errors.report('open_failed', { path: file.path, err: error }, 'cannot open file');
      }
      this.hooks.done(file, `open failed: ${code}`);
    }
  }

  /** Opens the file at `path` as validated now: its real path, no link followed, a regular file. */
  private async openChecked(path: string): ReturnType<typeof openVerified> {
    return openVerified(this.discovery.openablePath(path));
  }

  private async openPlain(file: TailedFile): Promise<void> {
    const { fd, stats } = await this.openChecked(file.path);
    let started = false;
    try {
      if (inodeKey(stats) !== file.key) return this.tracker.movedBeforeOpen(file);
      const head = await readPlainHead(fd);
      const parked = file.splitter;
      const record = parked === undefined ? this.checkpoints.matchByInode(file.dev, file.ino, head) : undefined;
      const position = startPosition({
        checkpoint: record?.offset,
        size: stats.size,
        compressed: false,
        readFromEnd: file.startAtEnd,
        resumeAtEnd: file.resumeAtEnd,
        // Reopening a parked file: same bytes as before?
        parked: parked && { offset: parked.readOffset, headMatches: file.fingerprint === undefined || headMatches(file.fingerprint, head) },
      });
      if (position.skip !== undefined) return this.hooks.done(file, position.skip);
      let start = position.offset;
      if (position.from === 'resume-at-end') file.fingerprint ??= head.length > 0 ? this.fingerprintOf(file, head) : undefined;
      else if (position.from === 'checkpoint') file.fingerprint = record!.fingerprint;
      else if (position.from === 'fresh') {
        start = (await this.resumeCopy(file, head)) ?? start;
        file.fingerprint = head.length > 0 ? this.fingerprintOf(file, head) : undefined;
      }
      if (position.from !== 'parked') this.startReading(file, start);
      file.reader = new PlainChunkReader(fd, start, this.sharedReadBuffer);
      file.state = 'open';
      file.readable = true;
      this.openCount++;
      started = true;
    } finally {
      if (!started) await closeQuietly(fd);
    }
  }

  /**
   * A new file named like a rotated one but with its own inode holds the bytes of the current
   * file of its sequence: a copy (logrotate's copytruncate copies `0.log` to `0.log.<stamp>`,
   * then truncates `0.log`; kubelet rotates by rename, which keeps the inode). The bytes the
   * current file already read were shipped from it: the copy starts where it stands, at its last
   * complete line (or unfinished merge, whose fragments the truncation drops from the original).
   */
  private async resumeCopy(file: TailedFile, head: Buffer): Promise<number | undefined> {
    if (!file.admission.rotated || file.compressed || file.sequenceKey === undefined) return undefined;
    for (const original of this.files.inDirectory(dirname(file.path))) {
      if (original === file || original.admission.rotated || original.compressed || original.sequenceKey !== file.sequenceKey) continue;
      if (original.splitter === undefined) continue;
      const truncated = original.beforeTruncation;
      let offset: number;
      if (truncated !== undefined && headMatches(truncated.fingerprint, head)) offset = truncated.offset; // truncated before its copy was found
      else if (await this.holdsStartOf(original, head)) offset = original.resumeOffset;
      else continue;
      file.copyOf = original;
      this.options.logger.debug({ path: file.path, original: original.path, offset }, 'a copy of a file being read: resumed at its offset');
      return offset;
    }
    return undefined;
  }

  /**
   * Whether `head` is how `original` starts: by its fingerprint, or, for a copy still being
   * written (shorter than the fingerprint), by the bytes the original holds now.
   */
  private async holdsStartOf(original: TailedFile, head: Buffer): Promise<boolean> {
    if (original.fingerprint !== undefined && headMatches(original.fingerprint, head)) return true;
    if (head.length >= FINGERPRINT_HEAD_BYTES || !(original.reader instanceof PlainChunkReader)) return false;
    const now = await readPlainHead(original.reader.fd);
    return now.length >= head.length && now.subarray(0, head.length).equals(head);
  }

  /**
   * A copy was read to its end: the original, if it still holds the same bytes (not truncated
   * yet), goes on after what the copy shipped rather than shipping it again. Its checkpoint
   * moves there once its own earlier reads are acknowledged (the copy's checkpoint covers the rest).
   */
  async skipCopiedBytes(original: TailedFile, end: number): Promise<void> {
    const splitter = original.splitter;
    const fingerprint = original.fingerprint;
    if (original.finished || splitter === undefined || splitter.readOffset >= end || fingerprint === undefined) return;
    if (!(await this.stillHolds(original, fingerprint, end))) return;
    this.options.logger.debug({ path: original.path, from: splitter.readOffset, to: end }, 'skipped the bytes its copy shipped');
    original.decoder?.release?.();
    original.decoder = original.admission.createDecoder(original, this.stats); // its unfinished merges were the copy's
    original.splitter = new LineSplitter(end, this.options.maxLineBytes, this.stats); // a parked file reopens there
    if (original.reader instanceof PlainChunkReader) original.reader = new PlainChunkReader(original.reader.fd, end, this.sharedReadBuffer);
    this.checkpoints.inFlight(original, end)(); // nothing of it in flight: acknowledged at once
  }

  /** Whether `file` (open, or parked: by its path) still starts as `fingerprint` says and has `size` bytes or more. */
  private async stillHolds(file: TailedFile, fingerprint: Fingerprint, size: number): Promise<boolean> {
    const reader = file.reader;
    try {
      if (reader instanceof PlainChunkReader) {
        return (await statOf(reader.fd)).size >= size && headMatches(fingerprint, await readPlainHead(reader.fd));
      }
      const stats = await lstat(file.path);
      return inodeKey(stats) === file.key && stats.size >= size && (await pathStillHolds(fingerprint, false, file.path));
    } catch {
      return false;
    }
  }

  private async openCompressed(file: TailedFile): Promise<void> {
    const { fd, stats } = await this.openChecked(file.path);
    let started = false;
    try {
      if (inodeKey(stats) === file.key) started = await this.startCompressed(file, fd);
      else this.tracker.movedBeforeOpen(file);
    } finally {
      if (!started) await closeQuietly(fd);
    }
  }

  /** Starts reading an open gzip file; false when it is not to be read (the descriptor is the caller's then). */
  private async startCompressed(file: TailedFile, fd: number): Promise<boolean> {
    const head = await readGzipHead(fd);
    const dir = dirname(file.path);
    // The same bytes under their uncompressed name, still tracked?
    for (const other of this.files.all()) {
      if (other === file || other.compressed) continue;
      if (other.fingerprint === undefined) await this.tracker.fingerprintOpenFile(other);
      if (other.fingerprint === undefined) continue;
      if (dirname(other.path) !== dir || !headMatches(other.fingerprint, head)) continue;
      if (other.state === 'waiting') {
        this.hooks.done(other, 'read from its gzip copy'); // never opened: the gzip copy is read instead
        continue;
      }
      this.hooks.done(file, 'gzip of a file already read'); // the plain file is (being) read to its end: the gzip is a duplicate
      return false;
    }
    const record = file.resumeAtEnd ? undefined : this.checkpoints.matchInDirectory(dir, head);
    if (record !== undefined) file.fingerprint = record.fingerprint;
    else if (!file.resumeAtEnd) file.fingerprint = head.length > 0 ? this.fingerprintOf(file, head) : undefined;
    const position = startPosition({ checkpoint: record?.offset, size: 0, compressed: true, readFromEnd: file.startAtEnd, resumeAtEnd: file.resumeAtEnd, parked: undefined });
    if (position.skip !== undefined) {
      this.hooks.done(file, position.skip);
      return false;
    }
    const start = position.offset;
    this.startReading(file, start);
    file.reader = new GzipChunkReader(fd, start, this.options.maxReadBytes);
    file.state = 'open';
    file.readable = true;
    this.openCount++;
    return true;
  }

  startReading(file: TailedFile, start: number): void {
    this.options.logger.debug({ path: file.path, start, key: file.key }, 'file opened');
    file.splitter = new LineSplitter(start, this.options.maxLineBytes, this.stats);
    file.decoder = file.admission.createDecoder(file, this.stats);
    this.checkpoints.startAt(file, start);
  }

  private fingerprintOf(file: TailedFile, head: Buffer): Fingerprint {
    return fingerprintFromHead(file.dev, file.ino, head);
  }

  async closeReader(file: TailedFile): Promise<void> {
    const reader = file.reader;
    if (reader === undefined) return;
    file.reader = undefined;
    this.parking.remove(file);
    this.openCount--;
    try {
      await reader.close();
    } catch {
      // already closed
    }
  }
}
