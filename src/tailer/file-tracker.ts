import { dirname } from 'node:path';
import type { RunTimeErrors } from '../core/run-time-errors.js';
import type { FileCheckpoints } from './file-checkpoints.js';
import { PlainChunkReader } from './chunk-reader.js';
import type { DiscoveredFile, Discovery } from './discovery.js';
import { fingerprintFromHead, headMatches, pathStillHolds, readHeadAt, readPlainHead } from './fingerprint.js';
import { FileRegistry } from './file-registry.js';
import { TailedFile, inodeKey } from './tailed-file.js';
import type { TailerOptions } from './tailer.js';

/** What the tracker asks of the tailer. */
export interface FileTrackerHooks {
  /** There may be work for the loop (a file found, placed or admitted). */
  wake(): void;
  /** The source's admission said no: the file is finished unread. */
  excluded(file: TailedFile): void;
  /** The file is about to be forgotten: merges it took over go out as they are. */
  dropped(file: TailedFile): void;
}

/**
 * Which file is which: registers what discovery finds by identity (device + inode, checked against
 * the head where inodes are reused), follows renames, places files renamed away unseen in their
 * sequence once their directory is listed again, and forgets files that vanished. The files
 * themselves are in `files` (by key, path, directory and sequence).
 */
export class FileTracker {
  readonly files = new FileRegistry();
  private readonly dirtyPaths = new Set<string>();
  /** Directories holding a file renamed away unseen (`renamedAwayUnseen`). */
  private readonly rankPendingDirs = new Set<string>();
  /** Paths un-excluded before the tailer tracked them: registered to start at their end. */
  private readonly resumeAtEndPaths = new Set<string>();
  private fullScanDue = true;

  constructor(
    private readonly options: Pick<TailerOptions, 'admit' | 'ignoreOlderSecs' | 'readFrom' | 'logger'>,
    private readonly discovery: Discovery,
    private readonly checkpoints: FileCheckpoints,
    private readonly errors: RunTimeErrors,
    private readonly hooks: FileTrackerHooks,
  ) {}

  /** Work for the loop: a scan or listing due, or files to place. */
  get workDue(): boolean {
    return this.fullScanDue || this.dirtyPaths.size > 0 || this.rankPendingDirs.size > 0;
  }

  /** The periodic full rescan is due. */
  requestFullScan(): void {
    this.fullScanDue = true;
  }

  /** An fs event named `path` (created, renamed, deleted): list it again. */
  pathChanged(path: string): void {
    this.dirtyPaths.add(path);
  }

  /** The first scan: files found now start at their end with `read_from = "end"`. */
  async initialScan(): Promise<void> {
    await this.registerAll(await this.discovery.scanAll(), true);
    this.fullScanDue = false;
  }

  /** An exclusion was lifted for a path not tracked: registered again, to start at its end. */
  resumeAtEnd(path: string): void {
    this.resumeAtEndPaths.add(path);
    this.dirtyPaths.add(path);
  }

  /** Serves what fs events and timers asked for: the full rescan, listings of changed paths, pending ranks. */
  async discover(): Promise<void> {
    if (this.fullScanDue) {
      this.fullScanDue = false;
      this.dirtyPaths.clear();
      const resumesBefore = [...this.resumeAtEndPaths];
      const found = await this.discovery.scanAll();
      await this.registerAll(found, false);
      // Those were registered by this scan, or are gone (added meanwhile: left for their own listing).
      for (const path of resumesBefore) this.resumeAtEndPaths.delete(path);
      this.forgetVanished(found);
    }
    // Registering may ask for more listings (a file renamed away unseen): until none is left.
    while (this.dirtyPaths.size > 0) {
      const paths = [...this.dirtyPaths];
      this.dirtyPaths.clear();
      for (const path of paths) await this.registerAll(await this.discovery.scanPath(path), false);
    }
    if (this.rankPendingDirs.size > 0) await this.resolvePendingRanks();
  }

  private async registerAll(found: readonly DiscoveredFile[], initial: boolean): Promise<void> {
    for (const entry of found) await this.register(entry, initial);
  }

  private async register({ path, stats }: DiscoveredFile, initial: boolean): Promise<void> {
    const key = inodeKey(stats);
    const known = this.files.get(key);
    if (known !== undefined) {
      const changed = stats.size !== known.seenSize || stats.mtimeMs !== known.seenMtimeMs || path !== known.path;
      if (known.finished && changed) {
        // A finished file moved or changed: the same file, or its inode reused by a new one.
        if (!(await this.sameIdentity(known, path))) {
          this.forget(known);
          await this.register({ path, stats }, false);
          return;
        }
        known.seenSize = stats.size;
        known.seenMtimeMs = stats.mtimeMs;
      }
      if (known.path !== path && this.options.admit(path)?.compressed === !known.compressed) {
        // A gzip name for a plain file or the reverse: the inode of a deleted file was reused.
        this.forget(known);
        await this.register({ path, stats }, false);
        return;
      }
      known.orphaned = false;
      if (known.path !== path) this.renamed(known, path);
      return;
    }
    // Not registered when too old: every scan asks again, so a file written to again is read.
    if (this.options.ignoreOlderSecs !== undefined && this.tooOld(stats.mtimeMs, stats.dev, stats.ino)) return;
    const admission = this.options.admit(path);
    if (admission === undefined) return;
    const canonical = admission.canonicalPath ?? path;
    const previous = this.files.atPath(canonical);
    if (previous !== undefined && !previous.finished) this.renamedAwayUnseen(previous);
    const file = new TailedFile(canonical, key, stats.dev, stats.ino, admission, initial && this.options.readFrom === 'end', stats);
    file.resumeAtEnd = this.resumeAtEndPaths.delete(canonical);
    this.options.logger.debug({ path: canonical, key }, 'file found');
    this.files.add(file);
    if (admission.ready !== undefined) this.awaitAdmission(file, admission.ready);
    this.hooks.wake();
  }

  private awaitAdmission(file: TailedFile, ready: Promise<boolean>): void {
    file.admissionPending = true;
    const settle = (read: boolean): void => {
      file.admissionPending = false;
      if (read) file.readable = true;
      else if (file.state === 'waiting') this.hooks.excluded(file);
      this.hooks.wake();
    };
    ready.then(settle, (error: unknown) => {
      this.errors.report('admission_failed', { path: file.path, err: error }, 'admission check failed; reading the file');
      settle(true);
    });
  }

  private tooOld(mtimeMs: number, dev: number, ino: number): boolean {
    if (mtimeMs >= Date.now() - this.options.ignoreOlderSecs! * 1000) return false;
    return !this.checkpoints.hasInode(dev, ino); // with a checkpoint it resumes, however old
  }

  private renamed(file: TailedFile, path: string): void {
    const admission = this.options.admit(path);
    const canonical = admission?.canonicalPath ?? path;
    if (canonical === file.path) return;
    this.options.logger.debug({ path: file.path, to: canonical, key: file.key, state: file.state }, 'file renamed');
    // Renamed to a name the source does not read: finish it like a rotated file.
    this.files.move(file, canonical, admission ?? { ...file.admission, rotated: true });
    file.rankPending = false;
    if (file.closed) file.readable = true;
  }

  /**
   * A new file took the name of one still being read, whose new name was not seen yet. Its
   * place in the sequence comes from that name, so the file (and the files after it) wait until
   * the directory is listed again: found under its rotated name, it takes that rank (see
   * `renamed`); already gzipped, it takes the rank of its gzip copy; gone, it is the oldest file
   * left (kubelet deletes the oldest first).
   */
  private renamedAwayUnseen(file: TailedFile): void {
    this.options.logger.debug({ path: file.path, key: file.key, state: file.state }, 'file renamed away unseen');
    const sequence = file.admission.sequence;
    this.files.releasePath(file, { ...file.admission, rotated: true, sequence: sequence && { key: sequence.key, rank: '' } });
    file.readable = true; // its writes no longer reach it by name: check it now
    if (sequence === undefined) return;
    file.rankPending = true;
    this.dirtyPaths.add(dirname(file.path));
    this.rankPendingDirs.add(dirname(file.path));
  }

  /** After the directories were listed again: place the files renamed away unseen. */
  private async resolvePendingRanks(): Promise<void> {
    const dirs = [...this.rankPendingDirs];
    this.rankPendingDirs.clear();
    for (const dir of dirs) {
      for (const file of [...this.files.inDirectory(dir)]) {
        if (!file.rankPending) continue;
        if (file.splitter === undefined) {
          // Never opened, and no longer listed: gone. Its inode may already be another file's.
          this.forget(file);
          continue;
        }
        const copy = await this.findGzipCopy(file);
        const sequence = file.admission.sequence!;
        if (copy !== undefined) this.files.rerank(file, { ...file.admission, sequence: { key: sequence.key, rank: copy.rank } });
        file.rankPending = false;
        this.hooks.wake();
      }
    }
  }

  /** The gzip file of the directory holding the same bytes as `file`, if any. */
  private async findGzipCopy(file: TailedFile): Promise<TailedFile | undefined> {
    if (file.fingerprint === undefined) await this.fingerprintOpenFile(file);
    if (file.fingerprint === undefined) return undefined;
    for (const other of this.files.inDirectory(dirname(file.path))) {
      if (!other.compressed || other === file) continue;
      if (headMatches(file.fingerprint, await this.headAt(other.path, true))) return other;
    }
    return undefined;
  }

  /** Tracked files not found by a full scan: finished ones are forgotten, open ones finish at EOF. */
  private forgetVanished(found: readonly DiscoveredFile[]): void {
    const seen = new Set<string>();
    for (const entry of found) seen.add(inodeKey(entry.stats));
    for (const file of this.files.snapshot()) {
      if (seen.has(file.key)) continue;
      file.orphaned = true;
      file.readable = file.state === 'open';
      if (file.state === 'waiting') this.forget(file);
      else if (file.finished && (file.acks?.pendingBatches ?? 0) === 0) this.forget(file);
    }
  }

  private forget(file: TailedFile): void {
    this.options.logger.debug({ path: file.path, state: file.state }, 'file forgotten');
    this.checkpoints.remember(file);
    this.hooks.dropped(file);
    file.decoder?.release?.();
    this.files.remove(file);
  }

  /** The head of the file at `path` (empty when it cannot be read safely, as when gone). */
  private async headAt(path: string, compressed: boolean): Promise<Buffer> {
    try {
      return await readHeadAt(this.discovery.openablePath(path), compressed);
    } catch {
      return Buffer.alloc(0);
    }
  }

  /** Another file holds the name now (rotated between discovery and open): find it again under its new name. */
  movedBeforeOpen(file: TailedFile): void {
    this.options.logger.debug({ path: file.path, key: file.key }, 'file renamed before open');
    file.readable = false;
    this.dirtyPaths.add(dirname(file.path));
  }

  /** An open file that was empty when opened gets its fingerprint as soon as it has bytes. */
  async fingerprintOpenFile(file: TailedFile): Promise<void> {
    if (!(file.reader instanceof PlainChunkReader) || file.splitter?.readOffset !== 0) return;
    const head = await readPlainHead(file.reader.fd);
    if (head.length === 0 || file.fingerprint !== undefined) return;
    file.fingerprint = fingerprintFromHead(file.dev, file.ino, head);
    this.checkpoints.remember(file);
  }

  private async sameIdentity(file: TailedFile, path: string): Promise<boolean> {
    if (file.fingerprint === undefined) return path === file.path; // never had a byte: cannot tell, assume new
    let target: string;
    try {
      target = this.discovery.openablePath(path);
    } catch {
      return true; // gone or unsafe: nothing to re-identify (as when gone)
    }
    return pathStillHolds(file.fingerprint, file.compressed, target);
  }
}
