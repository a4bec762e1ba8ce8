import type { Stats } from 'node:fs';
import { lstat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { EventOutput } from '../core/component.js';
import type { LogEvent } from '../core/event.js';
import { Finalizer } from '../core/finalizer.js';
import type { ComponentMetrics } from '../core/metrics.js';
import { AckTracker } from './ack-tracker.js';
import { CheckpointStore } from './checkpoint-store.js';
import { CheckpointWriteBackoff } from './checkpoint-write-backoff.js';
import { GzipChunkReader, PlainChunkReader, openVerified } from './chunk-reader.js';
import { Discovery, type DiscoveredFile, type DiscoveryRoot } from './discovery.js';
import { FINGERPRINT_HEAD_BYTES, fingerprintFromHead, headMatches, pathStillHolds, readGzipHead, readHeadAt, readPlainHead, type Fingerprint } from './fingerprint.js';
import { UnsafePathError } from './path-policy.js';
import { DecodeStats } from './line-decoder.js';
import { LineSplitter } from './line-splitter.js';
import { LogBudget } from './log-budget.js';
import { OpenBackoff } from './open-backoff.js';
import { FileRegistry } from './file-registry.js';
import { ParkingOrder } from './parking-order.js';
import { TailedFile, inodeKey, type FileAdmission, type InheritedMerges } from './tailed-file.js';

export interface TailerOptions {
  readonly roots: readonly DiscoveryRoot[];
  /** Cheap path test applied by discovery before a file is even stat'ed. */
  acceptPath(path: string): boolean;
  /** How to read the file at `path`; undefined = do not read it. Never opens the file. */
  admit(path: string): FileAdmission | undefined;
  readonly maxReadBytes: number;
  readonly maxLineBytes: number;
  readonly maxOpenFiles: number;
  /** Directories watched for events at most; the others are covered by the full rescan only. */
  readonly maxWatchedDirectories: number;
  /** Full rescan period (fs events find most files much sooner). */
  readonly scanIntervalMs: number;
  readonly readFrom: 'beginning' | 'end';
  /** Files without a checkpoint whose mtime is older than this are not read. */
  readonly ignoreOlderSecs: number | undefined;
  readonly checkpointIntervalMs: number;
  readonly checkpointPath: string;
  /** Open files at end of file are re-checked this often even without fs events. */
  readonly idlePollMs?: number;
  /** A rotated or renamed-away file with no successor is finished after this long without data. */
  readonly rotatedQuietMs?: number;
  /** How long a write event waits for others before the loop reads (default `WRITE_COALESCE_MS`). */
  readonly writeCoalesceMs?: number;
  readonly metrics: ComponentMetrics;
  readonly logger: Logger;
}

/**
 * How long a write to a tracked file waits for others before the loop reads (bounds the added
 * latency). On a quiet node each pod writes now and then: one read round per window serves every
 * file written meanwhile, instead of a timer, wake-up and round per write (W3: 20 ms -> 100 ms
 * took ~10 % off the agent's CPU).
 */
const WRITE_COALESCE_MS = 100;
/**
 * The same for a file created, renamed or deleted: short, because a new file must be opened
 * before it can vanish (a pod that lives 100 ms), and an open descriptor is what keeps it readable.
 */
const DISCOVERY_COALESCE_MS = 20;

/**
 * Small reads of one round travel downstream as one batch: on a quiet node, a round reads one
 * line from each of many files, and each batch costs a trip through the queues and the sinks
 * whatever its size. A read of a busy file (up to `max_read_bytes`) is sent about on its own.
 */
const SEND_BATCH_EVENTS = 128;

/** What a read round found. */
const enum Round {
  nothingRead,
  /** Every file read reached its end (a short read with no fs event meanwhile) or finished. */
  allAtEnd,
  /** A file read may have more: go round again soon. */
  moreToRead,
}

/** Checkpoints of vanished files are kept this long (a gzip of a rotated file may still appear). */
const MAX_INVALID_RECORD_WARNINGS = 20;
const CHECKPOINT_RECORD_TTL_MS = 15 * 60 * 1000;

/**
 * Finds, reads and follows files; turns their lines into events through each file's decoder;
 * keeps checkpoints that only move with end-to-end acknowledgements.
 *
 * One loop does everything in turn (no per-line promises): discovery work, opening files,
 * then one read of at most `maxReadBytes` from each file that may have data (round robin, so
 * 100 busy files share the reader fairly). Files at their end wait for an fs event or the slow
 * idle poll; nothing is polled in a tight loop.
 */
export class Tailer {
  private readonly store: CheckpointStore;
  private readonly discovery: Discovery;
  private readonly files = new FileRegistry();
  /** Open files that may be parked (closed under `max_open_files`), least recently active first. */
  private readonly parking = new ParkingOrder<TailedFile>();
  private readonly dirtyPaths = new Set<string>();
  /** Directories holding a file renamed away unseen (`renamedAwayUnseen`). */
  private readonly rankPendingDirs = new Set<string>();
  /** Paths un-excluded before the tailer tracked them: registered to start at their end. */
  private readonly resumeAtEndPaths = new Set<string>();
  /** Files the source excluded, closed by the loop before its next reads. */
  private readonly pendingStops = new Set<TailedFile>();
  /** Merges handed to a next file that finished without taking them: emitted as they are by the next round. */
  private strandedMerges: InheritedMerges[] = [];
  /** Events read in this round, not sent yet (one batch for the small reads of many files). */
  private outgoing: LogEvent[] = [];
  private readonly sharedReadBuffer: Buffer;
  private readonly stats = new DecodeStats();
  /** Bytes read and events sent since the last `flushStats`. */
  private receivedBytes = 0;
  private receivedEvents = 0;
  private openCount = 0;
  private fullScanDue = true;
  private checkpointsDirty = false;
  private readonly checkpointWrites: CheckpointWriteBackoff;
  private wakePending = false;
  private coalesceTimer: NodeJS.Timeout | undefined;
  /** `performance.now()` when `coalesceTimer` fires, and the delay it was set with. */
  private coalesceDueAt = 0;
  private coalesceDelayMs = 0;
  /** Resolves when the run is asked to stop. */
  private stopped: Promise<void> = new Promise(() => {});
  private wakeUp: (() => void) | undefined;
  private readonly idlePollMs: number;
  private readonly rotatedQuietMs: number;
  private readonly writeCoalesceMs: number;
  private readonly openFilesGauge;
  private readonly trackedFilesGauge;
  private readonly watchedDirectoriesGauge;
  /** Warnings about refused paths (their number is the pods' choice); each is still counted. */
  private readonly refusalLogs = new LogBudget();
  /** Watch refusals already logged, by cause (each refused directory is still counted). */
  private readonly loggedWatchRefusals = new Set<string>();
  /** Opening paused while the process is out of descriptors. */
  private readonly openBackoff = new OpenBackoff(() => this.wake());

  constructor(private readonly options: TailerOptions) {
    this.store = new CheckpointStore(options.checkpointPath);
    this.checkpointWrites = new CheckpointWriteBackoff(options.checkpointIntervalMs);
    this.sharedReadBuffer = Buffer.allocUnsafe(options.maxReadBytes);
    this.idlePollMs = options.idlePollMs ?? 1000;
    this.rotatedQuietMs = options.rotatedQuietMs ?? 5000;
    this.writeCoalesceMs = options.writeCoalesceMs ?? WRITE_COALESCE_MS;
    const labels = options.metrics.labels;
    this.openFilesGauge = options.metrics.gauge('sluice_source_open_files', 'Files the source holds open.').labels(labels);
    this.trackedFilesGauge = options.metrics.gauge('sluice_source_tracked_files', 'Files the source knows (open, waiting or finished).').labels(labels);
    this.watchedDirectoriesGauge = options.metrics
      .gauge('sluice_source_watched_directories', 'Directories watched for file events (max_watched_directories; the others wait for the rescan).')
      .labels(labels);
    const limits = { maxWatchedDirectories: options.maxWatchedDirectories };
    this.discovery = new Discovery(options.roots, options.acceptPath, {
      pathChanged: (path) => {
        this.dirtyPaths.add(path);
        const file = this.files.atPath(path);
        if (file) this.markWritten(file);
        this.wakeSoon(DISCOVERY_COALESCE_MS);
      },
      fileWritten: (dir) => {
        for (const file of this.files.inDirectory(dir)) this.markWritten(file);
        this.wakeSoon(this.writeCoalesceMs);
      },
      rejected: (path, reason) => {
        options.metrics.error(reason);
        const suppressed = this.refusalLogs.take();
        if (suppressed !== undefined) options.logger.warn({ path, reason, suppressed }, 'not reading a path in the log tree: only regular files under the root are read');
      },
      watchRefused: (dir, cause) => {
        options.metrics.error(cause === 'max_watched_directories' ? 'watch_limit_reached' : 'inotify_watches_exhausted');
        if (this.loggedWatchRefusals.has(cause)) return;
        this.loggedWatchRefusals.add(cause);
        options.logger.warn(
          { dir, cause, max_watched_directories: options.maxWatchedDirectories, rescan_ms: options.scanIntervalMs },
          cause === 'max_watched_directories'
            ? 'max_watched_directories reached: new files in further directories are found by the periodic rescan only'
            : 'the kernel refused an inotify watch (fs.inotify.max_user_watches used up): new files in further directories are found by the periodic rescan only',
        );
      },
    }, limits);
  }

  private markWritten(file: TailedFile): void {
    file.readable = true;
    file.pollOnly = false;
    file.eventSeq++;
  }

  /** Files currently open (for tests and metrics). */
  get openFiles(): number {
    return this.openCount;
  }

  async run(out: EventOutput, shutdown: AbortSignal): Promise<void> {
    await this.loadCheckpoints();
    let resolveStopped!: () => void;
    this.stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
    const onAbort = (): void => {
      resolveStopped();
      this.wake();
    };
    shutdown.addEventListener('abort', onAbort);
    if (shutdown.aborted) resolveStopped();
    const timers = [
      setInterval(() => {
        this.fullScanDue = true;
        this.wake();
      }, this.options.scanIntervalMs),
      setInterval(() => this.pollIdleFiles(), this.idlePollMs),
      setInterval(() => void this.persistCheckpoints(), this.options.checkpointIntervalMs),
      setInterval(() => {
        this.openFilesGauge.set(this.openCount);
        this.trackedFilesGauge.set(this.files.size);
        this.watchedDirectoriesGauge.set(this.discovery.watchedDirectories);
      }, 1000),
    ];
    for (const timer of timers) timer.unref();
    try {
      await this.registerAll(await this.discovery.scanAll(), true);
      this.fullScanDue = false;
      while (!shutdown.aborted) {
        await this.discover();
        if (this.pendingStops.size > 0) await this.applyPendingStops();
        await this.openWaitingFiles();
        const round = await this.readRound(out, shutdown);
        if (shutdown.aborted) break;
        // Every file read reached its end and nothing else is due: sleep now rather than after one
        // more pass that finds nothing (one pass per wake-up, not two).
        if (round === Round.nothingRead || (round === Round.allAtEnd && !this.loopWorkDue())) await this.sleep();
        // Reads are synchronous: let timers, fs events and the other components run between rounds.
        else await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.flushStats();
      for (const timer of timers) clearInterval(timer);
      clearTimeout(this.coalesceTimer);
      this.coalesceTimer = undefined;
      shutdown.removeEventListener('abort', onAbort);
      this.openBackoff.close();
      this.discovery.close();
      for (const file of this.files.all()) if (file.state === 'open') await this.closeReader(file);
    }
  }

  /**
   * Stop reading the file at `path` (the source excluded it after it was opened, e.g. an exclude
   * annotation added to a running pod). Lines not read yet are not shipped. Applied by the loop
   * between reads, never in the middle of one (the reader must not close under a read).
   */
  async stopReading(path: string): Promise<void> {
    const file = this.files.atPath(path);
    if (file === undefined || file.state === 'done') return;
    this.pendingStops.add(file);
    this.wake();
  }

  private async applyPendingStops(): Promise<void> {
    for (const file of this.pendingStops) {
      this.pendingStops.delete(file);
      if (file.state === 'done') continue;
      await this.closeReader(file);
      this.markDone(file, 'excluded by the source');
      this.releaseInherited(file, true);
      file.excludedBySource = true;
    }
  }

  /**
   * Read again a file the source had excluded (the exclusion was lifted). Reading starts at the
   * end of the file as it is when reopened: lines written while excluded are never collected.
   * A path not tracked (excluded before it was registered) is registered again the same way.
   */
  resumeReading(path: string): void {
    const file = this.files.atPath(path);
    if (file !== undefined && this.pendingStops.delete(file)) return; // never stopped: it reads on
    if (file === undefined) {
      this.resumeAtEndPaths.add(path);
      this.dirtyPaths.add(path);
    } else {
      if (!file.excludedBySource || file.state !== 'done') return;
      file.excludedBySource = false;
      file.resumeAtEnd = true;
      file.decoder?.release?.();
      file.splitter = undefined; // opened afresh (new splitter, acks and decoder)
      file.state = 'waiting';
      file.readable = true;
    }
    this.wake();
  }

  /**
   * For gauges sampled at scrape time: bytes written but not read yet, over the open plain files
   * (size now - read offset; gzip files left out, their size is not in read bytes), and when the
   * oldest event not acknowledged yet was read.
   */
  async backlog(): Promise<{ bytes: number; oldestUnackedAt: number | undefined }> {
    let oldestUnackedAt: number | undefined;
    for (const file of this.files.all()) {
      const at = file.acks?.oldestPendingAt;
      if (at !== undefined && (oldestUnackedAt === undefined || at < oldestUnackedAt)) oldestUnackedAt = at;
    }
    const sizes = await Promise.all(
      this.files.all().map(async (file) => {
        const offset = file.state === 'open' && !file.compressed ? file.splitter?.readOffset : undefined;
        if (offset === undefined) return 0;
        const stats = await lstat(file.path).catch(() => undefined);
        return stats !== undefined && stats.ino === file.ino && stats.dev === file.dev ? Math.max(0, stats.size - offset) : 0;
      }),
    );
    return { bytes: sizes.reduce((sum, size) => sum + size, 0), oldestUnackedAt };
  }

  /** Persists checkpoints one last time (every acknowledgement that will come has come). */
  async close(): Promise<void> {
    await this.persistCheckpoints(true);
  }

  // ---- discovery -------------------------------------------------------------------------

  private async discover(): Promise<void> {
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
      if (known.state === 'done' && changed) {
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
    if (previous !== undefined && previous.state !== 'done') this.renamedAwayUnseen(previous);
    const file = new TailedFile(canonical, key, stats.dev, stats.ino, admission, initial && this.options.readFrom === 'end', stats);
    file.resumeAtEnd = this.resumeAtEndPaths.delete(canonical);
    this.options.logger.debug({ path: canonical, key }, 'file found');
    this.files.add(file);
    if (admission.ready !== undefined) this.awaitAdmission(file, admission.ready);
    this.wake();
  }

  private awaitAdmission(file: TailedFile, ready: Promise<boolean>): void {
    file.admissionPending = true;
    const settle = (read: boolean): void => {
      file.admissionPending = false;
      if (read) file.readable = true;
      else if (file.state === 'waiting') {
        this.markDone(file, 'excluded by the source');
        file.excludedBySource = true;
      }
      this.wake();
    };
    ready.then(settle, (error: unknown) => {
      this.options.logger.warn({ path: file.path, err: error }, 'admission check failed; reading the file');
      settle(true);
    });
  }

  private tooOld(mtimeMs: number, dev: number, ino: number): boolean {
    if (mtimeMs >= Date.now() - this.options.ignoreOlderSecs! * 1000) return false;
    return this.store.byInode(dev, ino).length === 0; // with a checkpoint it resumes, however old
  }

  private renamed(file: TailedFile, path: string): void {
    const admission = this.options.admit(path);
    const canonical = admission?.canonicalPath ?? path;
    if (canonical === file.path) return;
    this.options.logger.debug({ path: file.path, to: canonical, key: file.key, state: file.state }, 'file renamed');
    // Renamed to a name the source does not read: finish it like a rotated file.
    this.files.move(file, canonical, admission ?? { ...file.admission, rotated: true });
    file.rankPending = false;
    if (file.state === 'waiting') file.readable = true;
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
        this.wake();
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
      if (file.state === 'waiting' && file.splitter === undefined) this.forget(file);
      else if (file.state === 'done' && (file.acks?.pendingBatches ?? 0) === 0) this.forget(file);
    }
  }

  private forget(file: TailedFile): void {
    this.options.logger.debug({ path: file.path, state: file.state }, 'file forgotten');
    this.rememberCheckpoint(file);
    this.releaseInherited(file, true);
    file.decoder?.release?.();
    this.files.remove(file);
  }

  // ---- opening ---------------------------------------------------------------------------

  /**
   * Files are opened as soon as they are found (an open descriptor keeps a deleted file's bytes
   * readable), but read only in sequence order. Under `max_open_files`, files next in their
   * sequence go first and may push out an idle or blocked one; the others wait for a free slot.
   */
  private async openWaitingFiles(): Promise<void> {
    if (!this.anyOpenableFile()) return; // the usual case: one cheap pass instead of two
    for (const file of this.files.all()) {
      // A parked file (closed to respect max_open_files) reopens only when it may have data.
      if (file.state !== 'waiting' || !file.readable || file.admissionPending || !this.files.isNextInSequence(file)) continue;
      if (file.pollOnly && (await this.unchangedWhileParked(file))) continue;
      if (this.openCount >= this.options.maxOpenFiles && !(await this.parkOneFile())) break;
      await this.openAndEnlist(file);
    }
    for (const file of this.files.all()) {
      if (this.openCount >= this.options.maxOpenFiles) return;
      if (file.state === 'waiting' && file.readable && !file.admissionPending && file.splitter === undefined) await this.openAndEnlist(file);
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
    if (file.eventSeq !== eventSeq || inodeKey(stats) !== file.key || stats.size !== file.splitter.readOffset) return false;
    file.readable = false;
    return true;
  }

  private anyOpenableFile(): boolean {
    if (this.openBackoff.paused) return false; // the backoff wakes the loop when it ends
    const files = this.files.all();
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      if (file.state === 'waiting' && file.readable && !file.admissionPending) return true;
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
    candidate.state = 'waiting';
    candidate.readable = blocked; // a blocked file still has everything to read
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
        this.options.metrics.error('too_many_open_files');
        if (this.openBackoff.failed()) {
          this.options.logger.warn({ path: file.path, code, retry_ms: this.openBackoff.retryInMs }, 'out of file descriptors: files are opened again after a backoff (raise RLIMIT_NOFILE or lower max_open_files)');
        }
        return;
      }
      if (error instanceof UnsafePathError) {
        // Swapped for a link, a FIFO or a device since it was found: refused, never read.
        this.options.metrics.error(error.reason);
        const suppressed = this.refusalLogs.take();
        if (suppressed !== undefined) this.options.logger.warn({ path: file.path, reason: error.reason, suppressed }, 'not reading a file that is no longer a regular file under the root');
      } else if (code !== 'ENOENT') {
        this.options.metrics.error('open_failed');
        this.options.logger.warn({ path: file.path, err: error }, 'cannot open file');
      }
      this.markDone(file, `open failed: ${code}`);
    }
  }

  /** Opens the file at `path` as validated now: its real path, no link followed, a regular file. */
  private async openChecked(path: string): ReturnType<typeof openVerified> {
    return openVerified(this.discovery.openablePath(path));
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
  private movedBeforeOpen(file: TailedFile): void {
    this.options.logger.debug({ path: file.path, key: file.key }, 'file renamed before open');
    file.readable = false;
    this.dirtyPaths.add(dirname(file.path));
  }

  private async openPlain(file: TailedFile): Promise<void> {
    const { handle, stats } = await this.openChecked(file.path);
    let started = false;
    try {
      if (inodeKey(stats) !== file.key) return this.movedBeforeOpen(file);
      const head = await readPlainHead(handle);
      let start: number;
      if (file.splitter !== undefined) {
        // Reopening a parked file: same bytes as before?
        if (file.fingerprint !== undefined && !headMatches(file.fingerprint, head)) {
          this.markDone(file, 'changed while parked');
          return;
        }
        start = file.splitter.readOffset;
      } else {
        const record = CheckpointStore.bestMatch(this.store.byInode(file.dev, file.ino), head);
        if (file.resumeAtEnd) {
          start = stats.size;
          file.fingerprint ??= head.length > 0 ? this.fingerprintOf(file, head) : undefined;
        } else if (record !== undefined && record.offset <= stats.size) {
          start = record.offset;
          file.fingerprint = record.fingerprint;
        } else {
          start = (await this.resumeCopy(file, head)) ?? (file.startAtEnd ? stats.size : 0);
          file.fingerprint = head.length > 0 ? this.fingerprintOf(file, head) : undefined;
        }
        this.startReading(file, start);
      }
      file.reader = new PlainChunkReader(handle, start, this.sharedReadBuffer);
      file.state = 'open';
      file.readable = true;
      this.openCount++;
      started = true;
    } finally {
      if (!started) await handle.close();
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
      else if (await this.holdsStartOf(original, head)) offset = this.resumeOffsetOf(original);
      else continue;
      file.copyOf = original;
      this.options.logger.debug({ path: file.path, original: original.path, offset }, 'a copy of a file being read: resumed at its offset');
      return offset;
    }
    return undefined;
  }

  /** Where a copy of `file` would go on: its last complete line, or its earliest unfinished merge. */
  private resumeOffsetOf(file: TailedFile): number {
    return Math.min(file.splitter!.nextLineOffset, file.decoder?.pendingOffset() ?? Infinity);
  }

  /**
   * Whether `head` is how `original` starts: by its fingerprint, or, for a copy still being
   * written (shorter than the fingerprint), by the bytes the original holds now.
   */
  private async holdsStartOf(original: TailedFile, head: Buffer): Promise<boolean> {
    if (original.fingerprint !== undefined && headMatches(original.fingerprint, head)) return true;
    if (head.length >= FINGERPRINT_HEAD_BYTES || !(original.reader instanceof PlainChunkReader)) return false;
    const now = await readPlainHead(original.reader.handle);
    return now.length >= head.length && now.subarray(0, head.length).equals(head);
  }

  /**
   * A copy was read to its end: the original, if it still holds the same bytes (not truncated
   * yet), goes on after what the copy shipped rather than shipping it again. Its checkpoint
   * moves there once its own earlier reads are acknowledged (the copy's checkpoint covers the rest).
   */
  private async skipCopiedBytes(original: TailedFile, end: number): Promise<void> {
    const splitter = original.splitter;
    const fingerprint = original.fingerprint;
    if (original.state === 'done' || splitter === undefined || splitter.readOffset >= end || fingerprint === undefined) return;
    if (!(await this.stillHolds(original, fingerprint, end))) return;
    this.options.logger.debug({ path: original.path, from: splitter.readOffset, to: end }, 'skipped the bytes its copy shipped');
    original.decoder?.release?.();
    original.decoder = original.admission.createDecoder(original, this.stats); // its unfinished merges were the copy's
    original.splitter = new LineSplitter(end, this.options.maxLineBytes, this.stats); // a parked file reopens there
    if (original.reader instanceof PlainChunkReader) original.reader = new PlainChunkReader(original.reader.handle, end, this.sharedReadBuffer);
    original.acks!.complete(original.acks!.push(end));
    this.checkpointsDirty = true;
  }

  /** Whether `file` (open, or parked: by its path) still starts as `fingerprint` says and has `size` bytes or more. */
  private async stillHolds(file: TailedFile, fingerprint: Fingerprint, size: number): Promise<boolean> {
    const reader = file.reader;
    try {
      if (reader instanceof PlainChunkReader) {
        return (await reader.handle.stat()).size >= size && headMatches(fingerprint, await readPlainHead(reader.handle));
      }
      const stats = await lstat(file.path);
      return inodeKey(stats) === file.key && stats.size >= size && (await pathStillHolds(fingerprint, false, file.path));
    } catch {
      return false;
    }
  }

  private async openCompressed(file: TailedFile): Promise<void> {
    const { handle, stats } = await this.openChecked(file.path);
    let started = false;
    try {
      if (inodeKey(stats) === file.key) started = await this.startCompressed(file, handle);
      else this.movedBeforeOpen(file);
    } finally {
      if (!started) await handle.close();
    }
  }

  /** Starts reading an open gzip file; false when it is not to be read (the handle is the caller's then). */
  private async startCompressed(file: TailedFile, handle: FileHandle): Promise<boolean> {
    const head = await readGzipHead(handle);
    const dir = dirname(file.path);
    // The same bytes under their uncompressed name, still tracked?
    for (const other of this.files.all()) {
      if (other === file || other.compressed) continue;
      if (other.fingerprint === undefined) await this.fingerprintOpenFile(other);
      if (other.fingerprint === undefined) continue;
      if (dirname(other.path) !== dir || !headMatches(other.fingerprint, head)) continue;
      if (other.state === 'waiting' && other.splitter === undefined) {
        this.markDone(other, 'read from its gzip copy'); // never opened: the gzip copy is read instead
        continue;
      }
      this.markDone(file, 'gzip of a file already read'); // the plain file is (being) read to its end: the gzip is a duplicate
      return false;
    }
    if (file.resumeAtEnd) {
      this.markDone(file, 'resumed after an exclusion: a gzip gets no new lines');
      return false;
    }
    const record = CheckpointStore.bestMatch(this.store.inDirectory(dir), head);
    let start = 0;
    if (record !== undefined) {
      start = record.offset;
      file.fingerprint = record.fingerprint;
    } else {
      file.fingerprint = head.length > 0 ? this.fingerprintOf(file, head) : undefined;
      if (file.startAtEnd || file.resumeAtEnd) {
        this.markDone(file, 'read_from end');
        return false;
      }
    }
    this.startReading(file, start);
    file.reader = new GzipChunkReader(handle, start, this.options.maxReadBytes);
    file.state = 'open';
    file.readable = true;
    this.openCount++;
    return true;
  }

  /** An open file that was empty when opened gets its fingerprint as soon as it has bytes. */
  private async fingerprintOpenFile(file: TailedFile): Promise<void> {
    if (!(file.reader instanceof PlainChunkReader) || file.splitter?.readOffset !== 0) return;
    const head = await readPlainHead(file.reader.handle);
    if (head.length === 0 || file.fingerprint !== undefined) return;
    file.fingerprint = this.fingerprintOf(file, head);
    this.rememberCheckpoint(file);
  }

  private startReading(file: TailedFile, start: number): void {
    this.options.logger.debug({ path: file.path, start, key: file.key }, 'file opened');
    file.splitter = new LineSplitter(start, this.options.maxLineBytes, this.stats);
    file.acks = new AckTracker(start);
    file.decoder = file.admission.createDecoder(file, this.stats);
    this.rememberCheckpoint(file);
  }

  private fingerprintOf(file: TailedFile, head: Buffer): Fingerprint {
    return fingerprintFromHead(file.dev, file.ino, head);
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

  private markDone(file: TailedFile, reason: string): void {
    this.options.logger.debug({ path: file.path, reason, offset: file.splitter?.readOffset }, 'file done');
    file.state = 'done';
    file.readable = false;
    this.releaseInherited(file, false);
    this.wake(); // later files of its sequence may open now
  }

  private async closeReader(file: TailedFile): Promise<void> {
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

  // ---- reading ---------------------------------------------------------------------------

  /** One read from every open file that may have data. */
  private async readRound(out: EventOutput, shutdown: AbortSignal): Promise<Round> {
    let round = Round.nothingRead;
    if (this.strandedMerges.length > 0) this.emitStrandedMerges();
    const files = this.files.snapshot();
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      if (shutdown.aborted) break;
      if (file.state !== 'open' || !file.readable || file.rankPending || !this.files.isNextInSequence(file)) continue;
      if (this.pendingStops.size > 0 && this.pendingStops.has(file)) continue; // excluded meanwhile
      const dataBefore = file.lastDataAt;
      await this.readTurn(file, out);
      if (!file.readable && file.state === 'open') {
        if (file.lastDataAt !== dataBefore) this.parking.touch(file);
        else this.parking.enlist(file);
      }
      if (file.readable) round = Round.moreToRead;
      else if (round === Round.nothingRead) round = Round.allAtEnd;
    }
    await this.sendOutgoing(out);
    if (round !== Round.nothingRead) this.flushStats();
    return round;
  }

  /** Work for the loop besides reading readable files (it would otherwise wait for a wake-up). */
  private loopWorkDue(): boolean {
    return this.fullScanDue || this.dirtyPaths.size > 0 || this.pendingStops.size > 0 || this.rankPendingDirs.size > 0 || this.anyOpenableFile();
  }

  private async readTurn(file: TailedFile, out: EventOutput): Promise<void> {
    if (file.inherited !== undefined && file.inherited.adoptedAt === undefined) this.adoptMerges(file);
    const successorKnown = file.admission.rotated && this.files.hasSuccessor(file);
    const plain = file.reader instanceof PlainChunkReader ? file.reader : undefined;
    const eventSeq = file.eventSeq;
    let stats: Stats | undefined;
    if (file.pollOnly && plain !== undefined) {
      // Idle poll without an fs event: one fstat instead of a read that most likely returns nothing.
      file.pollOnly = false;
      stats = await this.statOpen(file, plain);
      if (stats === undefined) return this.finish(file, out, 'stat failed');
      if (stats.size > plain.offset) stats = undefined;
    }
    if (stats === undefined) {
      let chunk: Buffer;
      try {
        chunk = await file.reader!.read();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.finish(file, out, 'vanished'); // deleted before opened
        this.options.metrics.error(file.compressed ? 'gzip_corrupt' : 'read_failed');
        this.options.logger.warn({ path: file.path, err: error }, file.compressed ? 'corrupt or truncated gzip file; lines before the damage were read' : 'read failed');
        await this.finish(file, out, 'read error');
        return;
      }
      if (chunk.length > 0) {
        file.readAny = true;
        const splitter = file.splitter!;
        if (file.fingerprint === undefined && splitter.readOffset === 0) {
          file.fingerprint = this.fingerprintOf(file, chunk);
          this.rememberCheckpoint(file);
        }
        // A short read of a live file reached its end: skip the read that would return nothing
        // (and its fstat) unless an fs event came meanwhile. Deletion, truncation and quiet
        // periods are still checked on the next event or idle poll.
        const atEnd = plain !== undefined && chunk.length < plain.chunkBytes && !file.admission.rotated && !file.orphaned;
        const events: LogEvent[] = [];
        splitter.push(chunk, file.decoder!, events);
        file.lastDataAt = Date.now();
        this.receivedBytes += chunk.length;
        if (atEnd && file.eventSeq === eventSeq) file.readable = false;
        await this.emit(file, events, out);
        return;
      }
    }
    file.readable = false;
    if (file.compressed || successorKnown) return this.finish(file, out, successorKnown ? 'successor' : 'gzip end', true);
    const quiet = Date.now() - file.lastDataAt >= this.rotatedQuietMs;
    if ((file.admission.rotated || file.orphaned) && quiet) return this.finish(file, out, 'quiet');
    if (quiet && file.decoder!.pendingOffset() !== undefined) await this.flushStalledMerge(file, out);
    stats ??= await this.statOpen(file, plain!);
    if (stats === undefined) return this.finish(file, out, 'stat failed');
    if (stats.nlink === 0) return this.finish(file, out, 'deleted'); // deleted: release its disk space now
    if (stats.size < file.splitter!.readOffset) await this.restartTruncated(file);
  }

  private async statOpen(file: TailedFile, reader: PlainChunkReader): Promise<Stats | undefined> {
    try {
      return await reader.handle.stat();
    } catch (error) {
      this.options.metrics.error('read_failed');
      this.options.logger.warn({ path: file.path, err: error }, 'stat of an open file failed');
      return undefined;
    }
  }

  /**
   * A partial line whose end never came (a process that exited after writing without a newline,
   * Docker then logs it without `\n`): ship what there is rather than hold it, and the file's
   * checkpoint, until the pod is deleted.
   */
  private async flushStalledMerge(file: TailedFile, out: EventOutput): Promise<void> {
    const events: LogEvent[] = [];
    file.decoder!.flush(events);
    this.options.logger.debug({ path: file.path, events: events.length }, 'flushed a partial line after a quiet period');
    await this.emit(file, events, out);
  }

  /** Copy-truncate rotation (generic files): the file shrank, so read it again from the start. */
  private async restartTruncated(file: TailedFile): Promise<void> {
    this.options.metrics.error('file_truncated');
    const handle = (file.reader as PlainChunkReader).handle;
    // Its copy may not be found yet (copytruncate): it must still know where this file stood.
    if (file.fingerprint !== undefined) file.beforeTruncation = { fingerprint: file.fingerprint, offset: this.resumeOffsetOf(file) };
    file.reader = new PlainChunkReader(handle, 0, this.sharedReadBuffer);
    file.fingerprint = undefined;
    this.startReading(file, 0);
    file.readable = true;
  }

  private async emit(file: TailedFile, events: LogEvent[], out: EventOutput): Promise<void> {
    const pending = file.decoder!.pendingOffset();
    const lineEnd = file.splitter!.nextLineOffset;
    const acks = file.acks!;
    const batch = acks.push(pending === undefined ? lineEnd : Math.min(lineEnd, pending));
    // The merges taken over from the previous file are among these events: its end goes with them.
    const inherited = file.inherited;
    const settles = inherited?.adoptedAt !== undefined && (pending === undefined || pending > inherited.adoptedAt) ? inherited : undefined;
    if (settles !== undefined) file.inherited = undefined;
    this.checkpointsDirty = true;
    if (events.length === 0) {
      acks.complete(batch);
      settles?.settle();
      return;
    }
    const finalizer = new Finalizer(events.length, ({ rejected }) => {
      if (rejected > 0) this.options.metrics.discarded('rejected', rejected);
      acks.complete(batch);
      settles?.settle();
      this.checkpointsDirty = true;
    });
    for (const event of events) event.finalizer = finalizer;
    this.receivedEvents += events.length;
    if (this.outgoing.length === 0) this.outgoing = events;
    else for (const event of events) this.outgoing.push(event);
    if (this.outgoing.length >= SEND_BATCH_EVENTS) await this.sendOutgoing(out);
  }

  /** Sends the events read so far in this round as one batch. */
  private async sendOutgoing(out: EventOutput): Promise<void> {
    const events = this.outgoing;
    if (events.length === 0) return;
    this.outgoing = [];
    const full = out.send(events);
    // The events are handed over either way; at shutdown, stop waiting for room downstream.
    if (full !== undefined) await Promise.race([full, this.stopped]);
  }

  /**
   * The file ends for good: emit what is pending, close it, let its successor start. `continued`:
   * the next file of its sequence carries on the same stream (rotation), so a partial line left at
   * the end merges with its final part there, as kubelet reads it.
   */
  private async finish(file: TailedFile, out: EventOutput, reason: string, continued = false): Promise<void> {
    const events: LogEvent[] = [];
    file.splitter!.flush(file.decoder!, events);
    const heir = continued ? this.heirOf(file) : undefined;
    if (heir === undefined) file.decoder!.flush(events);
    await this.closeReader(file);
    this.markDone(file, reason);
    await this.emit(file, events, out); // acknowledges up to the start of the unfinished merges
    if (continued && file.copyOf !== undefined) await this.skipCopiedBytes(file.copyOf, file.splitter!.readOffset);
    if (heir === undefined) return;
    const acks = file.acks!;
    const batch = acks.push(file.splitter!.nextLineOffset);
    // Merges this file took over itself and passes on unfinished (a file of fragments only).
    const earlier = file.inherited;
    file.inherited = undefined;
    const merges: InheritedMerges = {
      decoder: file.decoder!,
      settle: () => {
        acks.complete(batch);
        earlier?.settle();
        this.checkpointsDirty = true;
      },
      adoptedAt: undefined,
    };
    if (heir.state === 'done') this.strandedMerges.push(merges);
    else heir.inherited = merges;
  }

  /** The next file of `file`'s sequence, if it may take over the merges `file` left unfinished. */
  private heirOf(file: TailedFile): TailedFile | undefined {
    if (file.decoder!.pendingOffset() === undefined) return undefined;
    const heir = this.files.successorOf(file);
    if (heir === undefined || heir.readAny || heir.inherited !== undefined) return undefined;
    return heir;
  }

  /** First read of a file that inherited merges: its decoder continues them. */
  private adoptMerges(file: TailedFile): void {
    const inherited = file.inherited!;
    const offset = file.splitter!.readOffset;
    if (file.decoder!.adoptPending?.(inherited.decoder, offset)) {
      inherited.adoptedAt = offset;
      return;
    }
    file.inherited = undefined;
    this.strandedMerges.push(inherited);
  }

  /**
   * A file that inherited merges will not read them: emit them as they are. `adoptedToo`: it
   * took them over but will not emit them either (excluded, forgotten): let its predecessor go.
   * (A file that finishes emits what it adopted, and `emit` settles it.)
   */
  private releaseInherited(file: TailedFile, adoptedToo: boolean): void {
    const inherited = file.inherited;
    if (inherited === undefined || (inherited.adoptedAt !== undefined && !adoptedToo)) return;
    file.inherited = undefined;
    if (inherited.adoptedAt === undefined) this.strandedMerges.push(inherited);
    else inherited.settle(); // adopted, then dropped (excluded): nothing will come
  }

  /** Merges no next file took over: shipped as they are, with the next batch. */
  private emitStrandedMerges(): void {
    const stranded = this.strandedMerges;
    this.strandedMerges = [];
    for (const { decoder, settle } of stranded) {
      const events: LogEvent[] = [];
      decoder.flush(events);
      if (events.length === 0) {
        settle();
        continue;
      }
      const finalizer = new Finalizer(events.length, settle);
      for (const event of events) event.finalizer = finalizer;
      this.receivedEvents += events.length;
      for (const event of events) this.outgoing.push(event);
    }
  }

  private pollIdleFiles(): void {
    let any = false;
    const files = this.files.all();
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      // An fs event since the last poll made the file readable and was served: events work for it.
      const servedByEvents = file.eventSeq !== file.polledSeq;
      file.polledSeq = file.eventSeq;
      if (file.state !== 'done' && !file.readable && !servedByEvents) {
        file.readable = true;
        file.pollOnly = true;
        any = true;
      }
    }
    if (any) this.wake();
  }

  private flushStats(): void {
    const stats = this.stats;
    const metrics = this.options.metrics;
    if (stats.malformedLines > 0) metrics.error('malformed_line', stats.malformedLines);
    if (stats.invalidUtf8 > 0) metrics.error('invalid_utf8', stats.invalidUtf8);
    if (stats.truncatedLines > 0) metrics.error('line_too_long', stats.truncatedLines);
    if (stats.mergeLimitHits > 0) metrics.error('merged_line_too_long', stats.mergeLimitHits);
    stats.malformedLines = stats.invalidUtf8 = stats.truncatedLines = stats.mergeLimitHits = 0;
    // Counted once per round, not per read: prom-client hashes the labels on every increment.
    if (this.receivedBytes > 0) metrics.receivedBytes.inc(this.receivedBytes);
    if (this.receivedEvents > 0) metrics.receivedEvents.inc(this.receivedEvents);
    this.receivedBytes = this.receivedEvents = 0;
  }

  // ---- checkpoints -----------------------------------------------------------------------

  private async loadCheckpoints(): Promise<void> {
    const { logger, metrics } = this.options;
    const path = this.store.path;
    const report = await this.store.load();
    if (report.untightened.length > 0) logger.warn({ paths: report.untightened }, 'cannot make checkpoint files private (0600/0700)');
    if (report.corrupt) {
      metrics.error('checkpoint_file_corrupt');
      logger.error({ path, problem: report.problem, kept_as: report.keptAs }, 'checkpoint file is unusable; files are read per read_from');
    }
    if (report.invalid.length === 0) return;
    metrics
      .counter('sluice_checkpoint_records_invalid_total', 'Checkpoint records dropped at load because they failed validation.')
      .inc(metrics.labels, report.invalid.length);
    // One line per record, up to a bound: a file of garbage must not flood the agent's own logs.
    for (const { key, record, problem } of report.invalid.slice(0, MAX_INVALID_RECORD_WARNINGS)) {
      logger.warn({ path, key, record, problem }, 'invalid checkpoint record dropped; its file is read per read_from');
    }
    if (report.invalid.length > MAX_INVALID_RECORD_WARNINGS) {
      logger.warn({ path, more: report.invalid.length - MAX_INVALID_RECORD_WARNINGS }, 'more invalid checkpoint records dropped');
    }
  }

  private rememberCheckpoint(file: TailedFile): void {
    if (file.fingerprint === undefined || file.acks === undefined) return;
    this.store.set({ fingerprint: file.fingerprint, offset: file.acks.acknowledgedOffset, path: file.path, updatedAt: Date.now() });
  }

  private async persistCheckpoints(force = false): Promise<void> {
    if (!force && (!this.checkpointsDirty || !this.checkpointWrites.due())) return;
    this.checkpointsDirty = false;
    const now = Date.now();
    const files = this.files.all();
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      if (file.fingerprint === undefined || file.acks === undefined) continue;
      const offset = file.acks.acknowledgedOffset;
      this.store.set({ fingerprint: file.fingerprint, offset, path: file.path, updatedAt: now });
    }
    if (this.store.hasRecordsOlderThan(now - CHECKPOINT_RECORD_TTL_MS)) {
      const liveInodes = new Set<string>();
      const liveDirs = new Set<string>();
      for (const file of files) {
        liveInodes.add(`${file.dev}:${file.ino}`);
        liveDirs.add(dirname(file.path));
      }
      this.store.prune(now, CHECKPOINT_RECORD_TTL_MS, liveInodes, liveDirs);
    }
    const { logger, metrics } = this.options;
    try {
      await this.store.persist();
      if (this.checkpointWrites.succeeded()) logger.info({ path: this.store.path }, 'checkpoints written again');
    } catch (error) {
      this.checkpointsDirty = true;
      const { code, report, retryInMs } = this.checkpointWrites.failed(error);
      metrics.error('checkpoint_write_failed');
      metrics.counter('sluice_checkpoint_write_errors_total', 'Failed checkpoint writes (retried with backoff), by error code.', ['code']).inc({ ...metrics.labels, code });
      if (report) {
        logger.error(
          { path: this.store.path, code, err: (error as Error).message, retry_in_ms: retryInMs },
          `cannot write checkpoints (${code}); retrying with backoff, reported once until they are written again`,
        );
      }
    }
  }

  // ---- waiting ---------------------------------------------------------------------------

  private wake(): void {
    const resolve = this.wakeUp;
    if (resolve) {
      this.wakeUp = undefined;
      resolve();
    } else {
      this.wakePending = true;
    }
  }

  /**
   * Wakes the loop at most `delayMs` later (fs events): writes to many files in the same moment
   * are then served by one read round instead of one wake-up each. A pending wake-up is only ever
   * brought forward.
   */
  private wakeSoon(delayMs: number): void {
    if (this.wakeUp === undefined) {
      this.wakePending = true; // the loop is busy: it goes round again anyway
      return;
    }
    if (this.coalesceTimer !== undefined) {
      if (delayMs >= this.coalesceDelayMs) return; // the pending one comes no later
      if (performance.now() + delayMs >= this.coalesceDueAt) return;
      clearTimeout(this.coalesceTimer);
    }
    this.coalesceDelayMs = delayMs;
    this.coalesceDueAt = performance.now() + delayMs;
    this.coalesceTimer = setTimeout(() => {
      this.coalesceTimer = undefined;
      this.wake();
    }, delayMs);
  }

  private sleep(): Promise<void> {
    if (this.wakePending) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.wakeUp = resolve;
    });
  }
}
