import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { EventOutput } from '../core/component.js';
import type { LogEvent } from '../core/event.js';
import { Finalizer } from '../core/finalizer.js';
import type { ComponentMetrics } from '../core/metrics.js';
import { Checkpointer } from './checkpointer.js';
import { PlainChunkReader } from './chunk-reader.js';
import { Discovery, type DiscoveryRoot } from './discovery.js';
import { Exclusions } from './exclusions.js';
import { FileOpener } from './file-opener.js';
import type { FileRegistry } from './file-registry.js';
import { FileTracker } from './file-tracker.js';
import { fingerprintFromHead } from './fingerprint.js';
import { DecodeStats } from './line-decoder.js';
import { LogBudget } from './log-budget.js';
import { MergeHandoff } from './merge-handoff.js';
import type { FileAdmission, TailedFile } from './tailed-file.js';
import { Wake } from './wake.js';

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
  private readonly checkpoints: Checkpointer;
  private readonly discovery: Discovery;
  private readonly files: FileRegistry;
  private readonly tracker: FileTracker;
  private readonly exclusions: Exclusions;
  private readonly handoff: MergeHandoff;
  /** Events read in this round, not sent yet (one batch for the small reads of many files). */
  private outgoing: LogEvent[] = [];
  private readonly sharedReadBuffer: Buffer;
  private readonly stats = new DecodeStats();
  /** Bytes read and events sent since the last `flushStats`. */
  private receivedBytes = 0;
  private receivedEvents = 0;
  private readonly loopWake = new Wake();
  /** Resolves when the run is asked to stop. */
  private stopped: Promise<void> = new Promise(() => {});
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
  private readonly opener: FileOpener;

  constructor(private readonly options: TailerOptions) {
    this.checkpoints = new Checkpointer(options.checkpointPath, options.checkpointIntervalMs, () => this.files.all(), options.logger, options.metrics);
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
        this.tracker.pathChanged(path);
        const file = this.files.atPath(path);
        if (file) this.markWritten(file);
        this.loopWake.soon(DISCOVERY_COALESCE_MS);
      },
      fileWritten: (dir) => {
        for (const file of this.files.inDirectory(dir)) this.markWritten(file);
        this.loopWake.soon(this.writeCoalesceMs);
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
    this.tracker = new FileTracker(options, this.discovery, this.checkpoints, {
      wake: () => this.wake(),
      excluded: (file) => this.exclusions.excludedOnAdmission(file),
      dropped: (file) => this.handoff.release(file, true),
    });
    this.files = this.tracker.files;
    this.handoff = new MergeHandoff(this.files, this.checkpoints);
    const openerHooks = { wake: () => this.wake(), done: (file: TailedFile, reason: string) => this.markDone(file, reason) };
    this.opener = new FileOpener(options, this.files, this.discovery, this.tracker, this.checkpoints, this.stats, this.sharedReadBuffer, this.refusalLogs, openerHooks);
    this.exclusions = new Exclusions(this.files, this.tracker, this.opener, this.handoff, openerHooks);
  }

  private wake(): void {
    this.loopWake.wake();
  }

  private markWritten(file: TailedFile): void {
    file.readable = true;
    file.pollOnly = false;
    file.eventSeq++;
  }

  /** Files currently open (for tests and metrics). */
  get openFiles(): number {
    return this.opener.openFiles;
  }

  async run(out: EventOutput, shutdown: AbortSignal): Promise<void> {
    await this.checkpoints.load();
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
        this.tracker.requestFullScan();
        this.wake();
      }, this.options.scanIntervalMs),
      setInterval(() => this.pollIdleFiles(), this.idlePollMs),
      setInterval(() => void this.checkpoints.persist(), this.options.checkpointIntervalMs),
      setInterval(() => {
        this.openFilesGauge.set(this.opener.openFiles);
        this.trackedFilesGauge.set(this.files.size);
        this.watchedDirectoriesGauge.set(this.discovery.watchedDirectories);
      }, 1000),
    ];
    for (const timer of timers) timer.unref();
    try {
      await this.tracker.initialScan();
      while (!shutdown.aborted) {
        await this.tracker.discover();
        if (this.exclusions.due) await this.exclusions.apply();
        await this.opener.openWaitingFiles();
        const round = await this.readRound(out, shutdown);
        if (shutdown.aborted) break;
        // Every file read reached its end and nothing else is due: sleep now rather than after one
        // more pass that finds nothing (one pass per wake-up, not two).
        if (round === Round.nothingRead || (round === Round.allAtEnd && !this.loopWorkDue())) await this.loopWake.sleep();
        // Reads are synchronous: let timers, fs events and the other components run between rounds.
        else await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.flushStats();
      for (const timer of timers) clearInterval(timer);
      this.loopWake.close();
      shutdown.removeEventListener('abort', onAbort);
      this.opener.close();
      this.discovery.close();
      for (const file of this.files.all()) if (file.state === 'open') await this.opener.closeReader(file);
    }
  }

  /**
   * Stop reading the file at `path` (the source excluded it after it was opened, e.g. an exclude
   * annotation added to a running pod). Lines not read yet are not shipped. Applied by the loop
   * between reads, never in the middle of one (the reader must not close under a read).
   */
  async stopReading(path: string): Promise<void> {
    this.exclusions.stop(path);
  }

  /**
   * Read again a file the source had excluded (the exclusion was lifted), from the end of the
   * file as it is when reopened: lines written while excluded are never collected.
   */
  resumeReading(path: string): void {
    this.exclusions.resume(path);
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
    await this.checkpoints.persist(true);
  }

  private markDone(file: TailedFile, reason: string): void {
    this.options.logger.debug({ path: file.path, reason, offset: file.splitter?.readOffset }, 'file done');
    file.state = 'done';
    file.readable = false;
    this.handoff.release(file, false);
    this.wake(); // later files of its sequence may open now
  }

  // ---- reading ---------------------------------------------------------------------------

  /** One read from every open file that may have data. */
  private async readRound(out: EventOutput, shutdown: AbortSignal): Promise<Round> {
    let round = Round.nothingRead;
    this.receivedEvents += this.handoff.flushStranded(this.outgoing);
    const files = this.files.snapshot();
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      if (shutdown.aborted) break;
      if (file.state !== 'open' || !file.readable || file.rankPending || !this.files.isNextInSequence(file)) continue;
      if (this.exclusions.stopping(file)) continue; // excluded meanwhile
      const dataBefore = file.lastDataAt;
      await this.readTurn(file, out);
      if (!file.readable && file.state === 'open') {
        if (file.lastDataAt !== dataBefore) this.opener.parking.touch(file);
        else this.opener.parking.enlist(file);
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
    return this.tracker.workDue || this.exclusions.due || this.opener.anyOpenableFile();
  }

  private async readTurn(file: TailedFile, out: EventOutput): Promise<void> {
    if (file.inherited !== undefined) this.handoff.adoptIfInherited(file);
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
          file.fingerprint = fingerprintFromHead(file.dev, file.ino, chunk);
          this.checkpoints.remember(file);
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
    const expired: LogEvent[] = [];
    if (quiet && file.decoder!.pendingOffset() !== undefined) await this.flushStalledMerge(file, out);
    else if (file.decoder!.flushExpired?.(expired)) await this.emit(file, expired, out);
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
    if (file.fingerprint !== undefined) file.beforeTruncation = { fingerprint: file.fingerprint, offset: this.opener.resumeOffsetOf(file) };
    file.reader = new PlainChunkReader(handle, 0, this.sharedReadBuffer);
    file.fingerprint = undefined;
    this.opener.startReading(file, 0);
    file.readable = true;
  }

  private async emit(file: TailedFile, events: LogEvent[], out: EventOutput): Promise<void> {
    const pending = file.decoder!.pendingOffset();
    const lineEnd = file.splitter!.nextLineOffset;
    // The merges taken over from the previous file are among these events: its end goes with them.
    const settles = file.inherited === undefined ? undefined : this.handoff.settledBy(file, pending);
    const acknowledged = this.checkpoints.inFlight(file, pending === undefined ? lineEnd : Math.min(lineEnd, pending), settles?.settle);
    if (events.length === 0) return acknowledged();
    const finalizer = new Finalizer(events.length, ({ rejected }) => {
      if (rejected > 0) this.options.metrics.discarded('rejected', rejected);
      acknowledged();
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
    const heir = continued ? this.handoff.heirOf(file) : undefined;
    if (heir === undefined) file.decoder!.flush(events);
    await this.opener.closeReader(file);
    this.markDone(file, reason);
    await this.emit(file, events, out); // acknowledges up to the start of the unfinished merges
    if (continued && file.copyOf !== undefined) await this.opener.skipCopiedBytes(file.copyOf, file.splitter!.readOffset);
    if (heir !== undefined) this.handoff.passOn(file, heir);
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
}
