import type { watch as fsWatch } from 'node:fs';
import { fstatSync } from 'node:fs';
import type { Logger } from 'pino';
import type { EventOutput } from '../core/component.js';
import type { LogEvent } from '../core/event.js';
import type { ComponentMetrics } from '../core/metrics.js';
import { RunTimeErrors } from '../core/run-time-errors.js';
import { FileCheckpoints } from './file-checkpoints.js';
import { Discovery, type DiscoveryRoot } from './discovery.js';
import { Exclusions } from './exclusions.js';
import { FileOpener, REFUSED_PATHS } from './file-opener.js';
import type { FileRegistry } from './file-registry.js';
import { FileTracker } from './file-tracker.js';
import { PlainChunkReader } from './chunk-reader.js';
import { DecodeStats } from './line-decoder.js';
import { MergeHandoff } from './merge-handoff.js';
import type { FileAdmission, FileReadContext, TailedFile } from './tailed-file.js';
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
  /**
   * Files at end of file that fs events cannot be trusted for (directory not watched, events
   * seen missed, or something time-based pending: a rotated file's quiet period, an unfinished
   * merge) are re-checked this often without fs events.
   */
  readonly idlePollMs?: number;
  /** Every other file at its end is re-checked this often anyway (lost inotify events), default `SAFETY_POLL_MS`. */
  readonly safetyPollMs?: number;
  /** `fs.watch` for the directories (tests give one that misses events, as some filesystems do). */
  readonly watch?: typeof fsWatch;
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
 * With no further event to ride on, the coalesced round comes by timer this much later than the
 * first write (see `Wake.soon`): when writes come more often, each round is served in the wake-up
 * of an fs event instead of one of its own (W3: one wake-up per round instead of two).
 */
const WRITE_LATEST_FACTOR = 2;
/**
 * The same for a file created, renamed or deleted: short, because a new file must be opened
 * before it can vanish (a pod that lives 100 ms), and an open descriptor is what keeps it readable.
 */
const DISCOVERY_COALESCE_MS = 20;

/**
 * A file in a watched directory is re-checked (one `fstat`, or a `stat` of its path when parked)
 * this often even without fs events: inotify loses events when its queue overflows, and some
 * filesystems never send them. Files whose events were seen missed go back to the idle poll.
 * Checking every file each second instead cost 5,000 `fstat`s a second at 5,000 files (W5).
 */
const SAFETY_POLL_MS = 10_000;

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
  private readonly checkpoints: FileCheckpoints;
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
  /** Idle polls between two safety polls of a file whose fs events are trusted. */
  private readonly safetyPollTicks: number;
  private pollTick = 0;
  private readonly writeCoalesceMs: number;
  private readonly openFilesGauge;
  private readonly trackedFilesGauge;
  private readonly watchedDirectoriesGauge;
  private readonly errors: RunTimeErrors;
  private readonly opener: FileOpener;
  /** What each file's reads need of the tailer. */
  private readonly readContext: FileReadContext;
  /** Where the events go while `run` runs. */
  private out: EventOutput | undefined;

  constructor(private readonly options: TailerOptions) {
    this.errors = new RunTimeErrors(options.metrics, options.logger);
    this.checkpoints = new FileCheckpoints(options.checkpointPath, options.checkpointIntervalMs, () => this.files.all(), options.logger, options.metrics);
    this.sharedReadBuffer = Buffer.allocUnsafe(options.maxReadBytes);
    this.idlePollMs = options.idlePollMs ?? 1000;
    this.safetyPollTicks = Math.max(1, Math.round((options.safetyPollMs ?? SAFETY_POLL_MS) / this.idlePollMs));
    this.writeCoalesceMs = options.writeCoalesceMs ?? WRITE_COALESCE_MS;
    const labels = options.metrics.labels;
    this.openFilesGauge = options.metrics.gauge('sluice_source_open_files', 'Files the source holds open.').labels(labels);
    this.trackedFilesGauge = options.metrics.gauge('sluice_source_tracked_files', 'Files the source knows (open, waiting or finished).').labels(labels);
    this.watchedDirectoriesGauge = options.metrics
      .gauge('sluice_source_watched_directories', 'Directories watched for file events (max_watched_directories; the others wait for the rescan).')
      .labels(labels);
    const limits = { maxWatchedDirectories: options.maxWatchedDirectories, watch: options.watch };
    this.discovery = new Discovery(options.roots, options.acceptPath, {
      pathChanged: (path) => {
        this.tracker.pathChanged(path);
        const file = this.files.atPath(path);
        if (file) this.markWritten(file);
        this.loopWake.soon(DISCOVERY_COALESCE_MS);
      },
      fileWritten: (dir) => {
        for (const file of this.files.inDirectory(dir)) this.markWritten(file);
        this.loopWake.soon(this.writeCoalesceMs, this.writeCoalesceMs * WRITE_LATEST_FACTOR);
      },
      rejected: (path, reason) => {
        this.errors.report(reason, { path, reason }, 'not reading a path in the log tree: only regular files under the root are read', { group: REFUSED_PATHS });
      },
      watchRefused: (dir, cause) => {
        const limit = cause === 'max_watched_directories';
        this.errors.report(
          limit ? 'watch_limit_reached' : 'inotify_watches_exhausted',
          { dir, cause, max_watched_directories: options.maxWatchedDirectories, rescan_ms: options.scanIntervalMs },
          limit
            ? 'max_watched_directories reached: new files in further directories are found by the periodic rescan only'
            : 'the kernel refused an inotify watch (fs.inotify.max_user_watches used up): new files in further directories are found by the periodic rescan only',
          { once: true }, // each refused directory is still counted
        );
      },
    }, limits);
    this.tracker = new FileTracker(options, this.discovery, this.checkpoints, this.errors, {
      wake: () => this.wake(),
      excluded: (file) => this.exclusions.excludedOnAdmission(file),
      dropped: (file) => this.handoff.release(file, true),
    });
    this.files = this.tracker.files;
    this.handoff = new MergeHandoff(this.files, this.checkpoints);
    const openerHooks = { wake: () => this.wake(), done: (file: TailedFile, reason: string) => this.markDone(file, reason) };
    this.opener = new FileOpener(options, this.files, this.discovery, this.tracker, this.checkpoints, this.stats, this.sharedReadBuffer, this.errors, openerHooks);
    this.exclusions = new Exclusions(this.files, this.tracker, this.opener, this.handoff, openerHooks);
    this.readContext = {
      checkpoints: this.checkpoints,
      handoff: this.handoff,
      files: this.files,
      opener: this.opener,
      errors: this.errors,
      logger: options.logger,
      rotatedQuietMs: options.rotatedQuietMs ?? 5000,
      sharedReadBuffer: this.sharedReadBuffer,
      send: (events) => this.send(events),
      bytesRead: (bytes) => {
        this.receivedBytes += bytes;
      },
      done: openerHooks.done,
    };
  }

  private wake(): void {
    this.loopWake.wake();
  }

  private markWritten(file: TailedFile): void {
    file.readable = true;
    file.pollOnly = false;
    file.eventSeq++;
  }

  async run(out: EventOutput, shutdown: AbortSignal): Promise<void> {
    this.out = out;
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
        const round = await this.readRound(shutdown);
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
   * For a gauge sampled at scrape time: bytes written but not read yet, over the open plain files
   * (size now - read offset; gzip files left out, their size is not in read bytes). One `fstat`
   * of each open descriptor, synchronous as the reads are: through the threadpool each was a round
   * trip and a wake-up of the loop, per file per scrape (W3: 220 a scrape).
   */
  backlogBytes(): number {
    let bytes = 0;
    const files = this.files.all();
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      const reader = file.reader;
      if (file.state !== 'open' || !(reader instanceof PlainChunkReader) || file.splitter === undefined) continue;
      try {
        bytes += Math.max(0, fstatSync(reader.fd).size - file.splitter.readOffset);
      } catch {
        // closed meanwhile: nothing it holds is counted
      }
    }
    return bytes;
  }

  /** For a gauge sampled at scrape time: when the oldest event not acknowledged yet was read. */
  oldestUnackedAt(): number | undefined {
    let oldest: number | undefined;
    for (const file of this.files.all()) {
      const at = file.acks?.oldestPendingAt;
      if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at;
    }
    return oldest;
  }

  /** Persists checkpoints one last time (every acknowledgement that will come has come). */
  async close(): Promise<void> {
    await this.checkpoints.persist(true);
  }

  /** `file` is finished (`done`): its merges go on or out, and its sequence's next file may open. */
  private markDone(file: TailedFile, reason: string): void {
    this.options.logger.debug({ path: file.path, reason, offset: file.splitter?.readOffset }, 'file done');
    file.state = 'done';
    file.readable = false;
    this.handoff.release(file, false);
    this.wake(); // later files of its sequence may open now
  }

  // ---- reading ---------------------------------------------------------------------------

  /** One read from every open file that may have data. */
  private async readRound(shutdown: AbortSignal): Promise<Round> {
    let round = Round.nothingRead;
    this.receivedEvents += this.handoff.flushStranded(this.outgoing);
    const files = this.files.snapshot();
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      if (shutdown.aborted) break;
      if (file.state !== 'open' || !file.readable || file.rankPending || !this.files.isNextInSequence(file)) continue;
      if (this.exclusions.stopping(file)) continue; // excluded meanwhile
      const dataBefore = file.lastDataAt;
      await file.readOnce(this.readContext);
      if (!file.readable && file.state === 'open') {
        if (file.lastDataAt !== dataBefore) this.opener.parking.touch(file);
        else this.opener.parking.enlist(file);
      }
      if (file.readable) round = Round.moreToRead;
      else if (round === Round.nothingRead) round = Round.allAtEnd;
    }
    await this.sendOutgoing();
    if (round !== Round.nothingRead) this.flushStats();
    return round;
  }

  /** Work for the loop besides reading readable files (it would otherwise wait for a wake-up). */
  private loopWorkDue(): boolean {
    return this.tracker.workDue || this.exclusions.due || this.opener.anyOpenableFile();
  }

  /** The events of one read of a file join the round's batch; a full batch goes at once. */
  private async send(events: LogEvent[]): Promise<void> {
    this.receivedEvents += events.length;
    if (this.outgoing.length === 0) this.outgoing = events;
    else for (const event of events) this.outgoing.push(event);
    if (this.outgoing.length >= SEND_BATCH_EVENTS) await this.sendOutgoing();
  }

  /** Sends the events read so far in this round as one batch. */
  private async sendOutgoing(): Promise<void> {
    const events = this.outgoing;
    if (events.length === 0) return;
    this.outgoing = [];
    const full = this.out!.send(events);
    // The events are handed over either way; at shutdown, stop waiting for room downstream.
    if (full !== undefined) await Promise.race([full, this.stopped]);
  }

  /**
   * Marks the files at their end that are due a check without an fs event: each second those
   * whose events cannot be trusted (`pollsEachTick`), every `safetyPollTicks` the others (spread
   * over the ticks by registration order, so a big node's checks do not all fall in one second).
   */
  private pollIdleFiles(): void {
    let any = false;
    const tick = ++this.pollTick;
    const every = this.safetyPollTicks;
    const files = this.files.all();
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      // An fs event since the last poll made the file readable and was served: events work for it.
      const servedByEvents = file.eventSeq !== file.polledSeq;
      file.polledSeq = file.eventSeq;
      if (file.finished || file.readable || servedByEvents) continue;
      if (!this.pollsEachTick(file)) {
        if ((tick + file.order) % every !== 0) continue;
        // Its safety poll: skipped when events came for it since the last one (they work for it;
        // a lost last event is then found one period later). W5 writes every file each 10 s.
        const eventsSince = file.eventSeq !== file.safetySeq;
        file.safetySeq = file.eventSeq;
        if (eventsSince) continue;
      }
      file.readable = true;
      file.pollOnly = true;
      any = true;
    }
    if (any) this.wake();
  }

  /**
   * Whether `file` is checked at every idle poll: its directory is not watched (a limit, a watcher
   * error), an event was seen missed for it, or what ends or flushes it is time, not a write (a
   * rotated or orphaned file's quiet period, a partial line or multiline group waiting).
   */
  private pollsEachTick(file: TailedFile): boolean {
    if (file.eventsMissed || file.state === 'waiting' || file.admission.rotated || file.orphaned) return true;
    if (file.decoder !== undefined && file.decoder.pendingOffset() !== undefined) return true;
    return !this.discovery.watches(file.dir);
  }

  private flushStats(): void {
    const stats = this.stats;
    const metrics = this.options.metrics;
    const errors = this.errors;
    errors.count('malformed_line', stats.malformedLines);
    errors.count('invalid_utf8', stats.invalidUtf8);
    errors.count('line_too_long', stats.truncatedLines);
    errors.count('merged_line_too_long', stats.mergeLimitHits);
    stats.malformedLines = stats.invalidUtf8 = stats.truncatedLines = stats.mergeLimitHits = 0;
    // Counted once per round, not per read: prom-client hashes the labels on every increment.
    if (this.receivedBytes > 0) metrics.receivedBytes.inc(this.receivedBytes);
    if (this.receivedEvents > 0) metrics.receivedEvents.inc(this.receivedEvents);
    this.receivedBytes = this.receivedEvents = 0;
  }
}
