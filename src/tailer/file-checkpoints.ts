import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { LogEvent } from '../core/event.js';
import { Finalizer } from '../core/finalizer.js';
import type { ComponentMetrics } from '../core/metrics.js';
import { RunTimeErrors } from '../core/run-time-errors.js';
import { AckTracker } from './ack-tracker.js';
import { CheckpointStore, type CheckpointRecord } from './checkpoint-store.js';
import { CheckpointWriteBackoff } from './checkpoint-write-backoff.js';
import type { TailedFile } from './tailed-file.js';

const MAX_INVALID_RECORD_WARNINGS = 20;
/** Checkpoints of vanished files are kept this long (a gzip of a rotated file may still appear). */
const CHECKPOINT_RECORD_TTL_MS = 15 * 60 * 1000;
/**
 * A tracked file's record whose offset did not move gets a fresh `updated_at` at most this often
 * (far inside the TTL, so a live file's record never looks expired after a restart), not on every
 * persist: the file is then rewritten only when an offset moved, and each unchanged record keeps
 * its encoded text (W5: 5,000 records re-encoded every second).
 */
const RECORD_REFRESH_MS = 60 * 1000;

/**
 * Acknowledgements -> checkpoints. Each file's acknowledged offset is its `AckTracker`'s; this is
 * the only writer of checkpoint records: on opening a file, when it gets its fingerprint, when it
 * is forgotten, and on the persist timer (atomically, by the store), with a backoff while writes fail.
 */
export class FileCheckpoints {
  private readonly store: CheckpointStore;
  private readonly writes: CheckpointWriteBackoff;
  /** Some acknowledged offset may have moved since the last persist. */
  private dirty = false;
  private readonly errors: RunTimeErrors;

  constructor(
    path: string,
    intervalMs: number,
    /** The tracked files: their acknowledged offsets are what is persisted. */
    private readonly files: () => readonly TailedFile[],
    private readonly logger: Logger,
    private readonly metrics: ComponentMetrics,
  ) {
    this.store = new CheckpointStore(path);
    this.errors = new RunTimeErrors(metrics, logger);
    this.writes = new CheckpointWriteBackoff(intervalMs);
  }

  /** The record of the file with this inode whose fingerprint matches `head`. */
  matchByInode(dev: number, ino: number, head: Buffer): CheckpointRecord | undefined {
    return CheckpointStore.bestMatch(this.store.byInode(dev, ino), head);
  }

  /** The record of a file of `dir` whose fingerprint matches `head` (gzip copies have their own inode). */
  matchInDirectory(dir: string, head: Buffer): CheckpointRecord | undefined {
    return CheckpointStore.bestMatch(this.store.inDirectory(dir), head);
  }

  hasInode(dev: number, ino: number): boolean {
    return this.store.byInode(dev, ino).length > 0;
  }

  /** `file` starts reading at `offset`: acknowledgements count from there. */
  startAt(file: TailedFile, offset: number): void {
    file.acks = new AckTracker(offset);
    this.remember(file);
  }

  /**
   * The lines of `file` up to `offset` were handed on: returns what to call once their events are
   * all acknowledged (then `after`, if given). The checkpoint moves over the contiguous prefix only.
   */
  inFlight(file: TailedFile, offset: number, after?: () => void): () => void {
    const acks = file.acks!;
    const batch = acks.push(offset);
    this.dirty = true;
    return () => {
      acks.complete(batch);
      after?.();
      this.dirty = true;
    };
  }

  /**
   * `events` read from `file` go on, covering its lines up to `offset`: once every one is
   * acknowledged (delivered or rejected), the checkpoint may move there (then `after` runs).
   * No events: acknowledged at once.
   */
  handOn(file: TailedFile, events: LogEvent[], offset: number, after?: () => void): void {
    const acknowledged = this.inFlight(file, offset, after);
    if (events.length === 0) return acknowledged();
    const finalizer = new Finalizer(events.length, ({ rejected }) => {
      if (rejected > 0) this.metrics.discarded('rejected', rejected);
      acknowledged();
    });
    for (const event of events) event.finalizer = finalizer;
  }

  /** Records `file`'s acknowledged offset now (no write to disk). */
  remember(file: TailedFile): void {
    if (file.fingerprint === undefined || file.acks === undefined) return;
    this.record(file, file.acks.acknowledgedOffset, Date.now());
  }

  private record(file: TailedFile, offset: number, now: number): void {
    const record: CheckpointRecord = { fingerprint: file.fingerprint!, offset, path: file.path, updatedAt: now };
    file.checkpointRecord = record;
    this.store.set(record);
  }

  /** Whether the store already holds what `file` would record now (no need to touch its record). */
  private static upToDate(file: TailedFile, offset: number, now: number): boolean {
    const last = file.checkpointRecord;
    return last !== undefined && last.fingerprint === file.fingerprint && last.offset === offset && last.path === file.path && now - last.updatedAt < RECORD_REFRESH_MS;
  }

  async load(): Promise<void> {
    const { logger, metrics } = this;
    const path = this.store.path;
    const report = await this.store.load();
    if (report.untightened.length > 0) logger.warn({ paths: report.untightened }, 'cannot make checkpoint files private (0600/0700)');
    if (report.corrupt) {
      this.errors.report('checkpoint_file_corrupt', { path, problem: report.problem, kept_as: report.keptAs }, 'checkpoint file is unusable; files are read per read_from', { level: 'error' });
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

  /** Writes the checkpoints if any moved (`force`: whatever happened, as at shutdown). */
  async persist(force = false): Promise<void> {
    if (!force && (!this.dirty || !this.writes.due())) return;
    this.dirty = false;
    const now = Date.now();
    const files = this.files();
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      if (file.fingerprint === undefined || file.acks === undefined) continue;
      const offset = file.acks.acknowledgedOffset;
      if (force || !FileCheckpoints.upToDate(file, offset, now)) this.record(file, offset, now);
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
    // Acknowledgements that moved no offset (or only records refreshed within the minute): the file on disk says it all.
    if (!force && !this.store.changedSinceWrite) return;
    const { logger, metrics } = this;
    try {
      await this.store.persist(force); // the rename fsynced at shutdown, not each second
      if (this.writes.succeeded()) logger.info({ path: this.store.path }, 'checkpoints written again');
    } catch (error) {
      this.dirty = true;
      const { code, report, retryInMs } = this.writes.failed(error);
      this.errors.count('checkpoint_write_failed'); // logged once per run of failures (below)
      metrics.counter('sluice_checkpoint_write_errors_total', 'Failed checkpoint writes (retried with backoff), by error code.', ['code']).inc({ ...metrics.labels, code });
      if (report) {
        logger.error(
          { path: this.store.path, code, err: (error as Error).message, retry_in_ms: retryInMs },
          `cannot write checkpoints (${code}); retrying with backoff, reported once until they are written again`,
        );
      }
    }
  }
}
