import { rmSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { LogEvent } from '../event.js';
import { makePrivateDir, PRIVATE_FILE_MODE } from '../private-files.js';
import { Finalizer } from '../finalizer.js';
import { fsyncDir, recover, segmentName } from './disk-log.js';
import { LEGACY_POINTER_FILE, PointerFile, type Position } from './disk-pointer.js';
import { decodeEvents, decodeRecord, encodeRecord, HEADER_BYTES } from './disk-record.js';
import type { WhenFull } from './memory.js';
import type { EventBuffer } from './types.js';

export interface DiskBufferOptions {
  /** Directory owned by this buffer (`<data_dir>/buffer/<sink id>/`). */
  dir: string;
  /** Bytes of unacknowledged records the buffer may hold. */
  maxBytes: number;
  whenFull: WhenFull;
  /** Roll to a new segment file past this size. Default: maxBytes / 8, at most 32 MiB. */
  segmentBytes?: number;
  /** Called with events dropped because the buffer was full (drop_newest). */
  onDrop?: (events: LogEvent[]) => void;
  /** Told about problems: records skipped during recovery (other than a torn tail), failed pointer persists. */
  onError?: (message: string) => void;
  /** Told about files or directories whose wider modes could not be tightened to 0600/0700. */
  onUntightened?: (paths: string[]) => void;
  /** Events whose fields cannot be written as JSON (a BigInt, a cycle): acked rejected by the callee. */
  onUnencodable?: (events: LogEvent[], message: string) => void;
  /** Told the bytes held (unacknowledged records) whenever that changes, for a gauge. */
  onUsage?: (bytes: number) => void;
  /**
   * How often the read pointer is made durable (fdatasync) while acks arrive, and the segments
   * behind it deleted. Default 1000 ms. (It is written to the kernel on every move: a kill -9
   * replays only unfinished records; a power loss at most this interval's finished records more.)
   */
  ackPersistIntervalMs?: number;
  /**
   * Told about each failed write attempt (disk full, I/O error). Writes are retried with
   * exponential backoff; producers wait meanwhile (nothing unwritten is acked upstream).
   */
  onWriteFailed?: (error: NodeJS.ErrnoException, attempt: number) => void;
  /** Told when a write succeeds again after failures. */
  onWriteRecovered?: () => void;
  /** First wait before a failed write is retried (doubling up to `writeRetryMaxMs`). Default 100 ms. */
  writeRetryInitialMs?: number;
  /** Default 5 s: a full disk gets a cheap attempt every few seconds, and the sink resumes soon after space returns. */
  writeRetryMaxMs?: number;
}

const READ_CHUNK_BYTES = 4 * 1024 * 1024;
/** Past this many bytes waiting for their fsync, push() makes the producer wait. */
const UNSYNCED_HIGH_WATER_BYTES = 8 * 1024 * 1024;

interface PendingWrite {
  record: Buffer;
  events: LogEvent[];
  count: number;
  synced?: () => void;
  /** Written and synced (a group that failed part-way is retried from the first write without it). */
  written?: boolean;
}

/** A record handed to the consumer, waiting for its events to be released. */
interface OutstandingRecord {
  segment: number;
  end: number;
  bytes: number;
  count: number;
  done: boolean;
}

/**
 * A crash-safe buffer on disk: an append-only log of segment files plus a persisted read pointer.
 *
 * - push: the batch becomes one record (JSON of the events' fields with a length+CRC header);
 *   records queued while a write is in progress are written together and made durable with one
 *   fdatasync (group commit). Only then are the original events acked upstream as 'delivered':
 *   from that moment the source may move its checkpoint, because the data survives a crash here.
 * - iteration yields fresh LogEvents read back from disk, one batch per record. Each record's
 *   Finalizer, once every event in it is released by the sink (delivered or rejected for good),
 *   lets the read pointer advance over the contiguous prefix of finished records. Every move is
 *   written in place into the pointer file (disk-pointer.ts, no fsync); on a timer and at the end
 *   it is made durable (fdatasync) and the segments behind it deleted.
 * - After kill -9, recovery replays from the pointer: exactly the records the sink had not
 *   finished (a write(2) that returned survives the process). After a power loss or kernel crash,
 *   also the records finished since the last fdatasync: at most one `ackPersistIntervalMs`
 *   (plus one fdatasync) of them. Nothing acked upstream is lost. A torn record at the tail
 *   (written, not synced, never acked upstream) fails its CRC and is cut off.
 */
export class DiskBuffer implements EventBuffer {
  private writeSegment: number;
  private writeHandle: FileHandle | undefined;
  private writeOffset: number;
  /** End of durable data per segment: what the reader may read. */
  private readonly syncedEnds = new Map<number, number>();
  private pending: PendingWrite[] = [];
  private pendingBytes = 0;
  private writing: Promise<void> | undefined;
  /** Consecutive failed write attempts (0: writing works). */
  private failedWrites = 0;
  /** Ends the wait before the next write attempt early (shutdown). */
  private endRetryWait: (() => void) | undefined;

  private readPosition: Position;
  private ackPointer: Position;
  /** The pointer last made durable: segments before its segment are deleted. */
  private persistedPointer: Position;
  private pointerFile: PointerFile | undefined;
  private readonly outstanding: OutstandingRecord[] = [];
  private usedBytes: number;
  private heldEvents: number;

  private closed = false;
  private readerDone = false;
  private finished: Promise<void> | undefined;
  private finalized = false;
  private persistTimer: NodeJS.Timeout | undefined;
  private wakeReader: (() => void) | undefined;
  private readonly waitingForSpace: Array<{ bytes: number; admit: () => void }> = [];

  private constructor(
    private readonly options: Required<Pick<DiskBufferOptions, 'dir' | 'maxBytes' | 'whenFull' | 'segmentBytes' | 'ackPersistIntervalMs'>> &
      DiskBufferOptions,
    recovered: { pointer: Position; segments: Map<number, number>; usedBytes: number; events: number },
    pointerFile: PointerFile,
  ) {
    this.pointerFile = pointerFile;
    this.ackPointer = recovered.pointer;
    this.persistedPointer = recovered.pointer;
    this.readPosition = recovered.pointer;
    for (const [segment, end] of recovered.segments) this.syncedEnds.set(segment, end);
    const last = Math.max(recovered.pointer.segment, ...recovered.segments.keys());
    this.writeSegment = last;
    this.writeOffset = recovered.segments.get(last) ?? 0;
    this.syncedEnds.set(last, this.writeOffset);
    this.usedBytes = recovered.usedBytes;
    this.heldEvents = recovered.events;
  }

  /** Open (creating or recovering) the buffer in `options.dir`. */
  static async open(options: DiskBufferOptions): Promise<DiskBuffer> {
    const segmentBytes = options.segmentBytes ?? Math.min(32 * 1024 * 1024, Math.max(64 * 1024, Math.floor(options.maxBytes / 8)));
    const full = { ackPersistIntervalMs: 1000, ...options, segmentBytes };
    const untightened = await makePrivateDir(options.dir);
    const recovered = await recover(options.dir, options.onError);
    untightened.push(...recovered.untightened);
    if (untightened.length > 0) options.onUntightened?.(untightened);
    // Durable (file, then directory below) before anything is read, so the legacy file can go.
    const pointerFile = new PointerFile(options.dir, recovered.seq, recovered.pointer);
    let pointerReady = true;
    try {
      pointerFile.init();
    } catch (error) {
      // Like a failed write of a segment: reported, retried (on the next acks); nothing is lost.
      pointerReady = false;
      options.onError?.(`cannot persist the read pointer (retried on the next acks): ${(error as Error).message}`);
    }
    const buffer = new DiskBuffer(full, recovered, pointerFile);
    buffer.pointerPersistFailing = !pointerReady;
    try {
      buffer.writeHandle = await open(join(options.dir, segmentName(buffer.writeSegment)), 'a', PRIVATE_FILE_MODE);
      await fsyncDir(options.dir);
      if (recovered.legacyPointer && pointerReady) await rm(join(options.dir, LEGACY_POINTER_FILE), { force: true });
    } catch (error) {
      pointerFile.close();
      await buffer.writeHandle?.close().catch(() => undefined);
      throw error;
    }
    return buffer;
  }

  get size(): number {
    return this.heldEvents;
  }

  /** Bytes of records not yet finished by the consumer (what max_size bounds). */
  get bytes(): number {
    return this.usedBytes;
  }

  push(events: LogEvent[]): Promise<void> | undefined {
    if (this.closed) throw new Error('push to a closed buffer');
    if (events.length === 0) return undefined;
    let record: Buffer;
    try {
      record = encodeRecord(events.map((event) => event.fields));
    } catch (error) {
      const encodable = events.filter((event) => isEncodable(event));
      this.options.onUnencodable?.(events.filter((event) => !encodable.includes(event)), (error as Error).message);
      if (encodable.length === 0) return undefined;
      return this.push(encodable);
    }
    if (this.hasRoomFor(record.length)) return this.enqueue(record, events);
    if (this.options.whenFull === 'drop_newest') {
      this.options.onDrop?.(events);
      return undefined;
    }
    return new Promise<void>((resolve) => {
      this.waitingForSpace.push({
        bytes: record.length,
        admit: () => {
          const synced = this.enqueue(record, events);
          if (synced) void synced.then(resolve);
          else resolve();
        },
      });
    });
  }

  close(): void {
    this.closed = true;
    this.wake();
    void this.finishIfDrained();
  }

  /**
   * Resolves once the buffer has shut down: closed, drained by the consumer, every record
   * finished, the read pointer persisted and files closed. Callers that stop early can call
   * `shutdown()` instead.
   */
  whenFinished(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.finished) void this.finished.then(resolve);
      else this.finishedWaiters.push(resolve);
    });
  }
  private readonly finishedWaiters: Array<() => void> = [];

  /** Persist the pointer and close files now, whatever is still unread (it stays on disk). */
  async shutdown(): Promise<void> {
    this.closed = true;
    this.readerDone = true;
    this.wake();
    this.endRetryWait?.(); // what is still unwritten was never acked upstream: the sources re-read it
    await this.writing?.catch(() => undefined);
    this.finalize();
    await this.finished;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LogEvent[]> {
    let chunk: { segment: number; start: number; bytes: Buffer } | undefined;
      for (;;) {
        if (this.readerDone) return;
        const syncedEnd = this.syncedEnds.get(this.readPosition.segment) ?? 0;
        if (this.readPosition.offset < syncedEnd) {
          if (!chunk || chunk.segment !== this.readPosition.segment || this.readPosition.offset >= chunk.start + chunk.bytes.length) {
            chunk = await this.readChunk(this.readPosition, syncedEnd, HEADER_BYTES);
          }
          let decoded = decodeRecord(chunk.bytes, this.readPosition.offset - chunk.start);
          if (decoded.kind === 'incomplete') {
            const need = chunk.bytes.length - (this.readPosition.offset - chunk.start) >= HEADER_BYTES
              ? HEADER_BYTES + chunk.bytes.readUInt32LE(this.readPosition.offset - chunk.start)
              : HEADER_BYTES;
            chunk = await this.readChunk(this.readPosition, syncedEnd, need);
            decoded = decodeRecord(chunk.bytes, 0);
          }
          if (decoded.kind !== 'record') throw new Error(`disk buffer: unreadable record at ${segmentName(this.readPosition.segment)}:${this.readPosition.offset}`);
          const record = decoded.record;
          const segment = this.readPosition.segment;
          const end = chunk.start + record.end;
          this.readPosition = { segment, offset: end };
          yield this.eventsOf(record.payload, { segment, end, bytes: end - (chunk.start + record.start), count: record.count, done: false });
          continue;
        }
        if (this.readPosition.segment < this.writeSegment) {
          this.readPosition = { segment: this.readPosition.segment + 1, offset: 0 };
          chunk = undefined;
          continue;
        }
        if (this.closed && this.pending.length === 0 && !this.writing && this.waitingForSpace.length === 0) break;
        await new Promise<void>((resolve) => (this.wakeReader = resolve));
      }
    // Only the natural end counts as drained: a consumer that breaks out early may iterate again.
    this.readerDone = true;
    void this.finishIfDrained();
  }

  private hasRoomFor(recordBytes: number): boolean {
    const committed = this.usedBytes + this.pendingBytes;
    return committed === 0 || committed + recordBytes <= this.options.maxBytes;
  }

  private enqueue(record: Buffer, events: LogEvent[]): Promise<void> | undefined {
    const write: PendingWrite = { record, events, count: events.length };
    this.pending.push(write);
    this.pendingBytes += record.length;
    this.heldEvents += events.length;
    const mustWait = this.pendingBytes > UNSYNCED_HIGH_WATER_BYTES;
    const synced = mustWait ? new Promise<void>((resolve) => (write.synced = resolve)) : undefined;
    this.writing ??= this.writeLoop();
    return synced;
  }

  /** Group commit: write everything queued, fdatasync once, then ack upstream. */
  private async writeLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const group = this.pending;
        this.pending = [];
        const written = await this.writeGroup(group).catch((error: NodeJS.ErrnoException) => {
          this.failedWrites++;
          this.options.onWriteFailed?.(error, this.failedWrites);
          return error;
        });
        if (!(written instanceof Error)) continue;
        // The disk is full or failing: keep what was not written, in order, and try again later.
        this.pending = group.filter((write) => !write.written).concat(this.pending);
        if (!(await this.waitBeforeRetry())) return;
        await this.reopenWriteSegment().catch(() => undefined); // a failure shows on the next attempt
      }
    } finally {
      this.writing = undefined;
      this.wake();
    }
  }

  /** Writes `group` (marking each write done as it is synced); throws at the first failure. */
  private async writeGroup(group: PendingWrite[]): Promise<void> {
    let start = 0;
    while (start < group.length) {
      // A record never straddles segments; one larger than a segment gets a segment of its own.
      if (this.writeOffset > 0 && this.writeOffset + group[start]!.record.length > this.options.segmentBytes) await this.rollSegment();
      let end = start;
      let size = 0;
      while (end < group.length && (end === start || this.writeOffset + size + group[end]!.record.length <= this.options.segmentBytes)) {
        size += group[end]!.record.length;
        end++;
      }
      const slice = group.slice(start, end);
      const { bytesWritten } = await this.writeHandle!.writev(slice.map((w) => w.record));
      if (bytesWritten !== size) throw Object.assign(new Error(`short write: ${bytesWritten} of ${size} bytes (disk full?)`), { code: 'ENOSPC' });
      await this.writeHandle!.datasync();
      this.writeOffset += size;
      this.syncedEnds.set(this.writeSegment, this.writeOffset);
      if (this.failedWrites > 0) {
        this.failedWrites = 0;
        this.options.onWriteRecovered?.();
      }
      for (const write of slice) {
        write.written = true;
        this.pendingBytes -= write.record.length;
        this.usedBytes += write.record.length;
        for (const event of write.events) event.ack('delivered');
        write.synced?.();
      }
      this.options.onUsage?.(this.usedBytes);
      this.wake();
      start = end;
    }
  }

  /** Waits out the backoff; false when the buffer shuts down meanwhile. */
  private async waitBeforeRetry(): Promise<boolean> {
    const initial = this.options.writeRetryInitialMs ?? 100;
    const delay = Math.min(this.options.writeRetryMaxMs ?? 5000, initial * 2 ** Math.min(this.failedWrites - 1, 20));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.endRetryWait = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.endRetryWait = undefined;
    return !this.readerDone;
  }

  /**
   * After a failed write: a fresh handle on the segment (the old one may be broken: EIO, a
   * volume remounted), cut back to the last synced byte. A partial write may have landed past
   * it, and after a failed fsync the kernel may have dropped those pages: they are written again.
   */
  private async reopenWriteSegment(): Promise<void> {
    await this.writeHandle?.close().catch(() => undefined);
    this.writeHandle = undefined;
    const handle = await open(join(this.options.dir, segmentName(this.writeSegment)), 'a', PRIVATE_FILE_MODE);
    this.writeHandle = handle;
    if ((await handle.stat()).size !== this.writeOffset) await handle.truncate(this.writeOffset);
  }

  /** Opens the next segment before leaving the current one: a failure leaves the state as it was. */
  private async rollSegment(): Promise<void> {
    const next = this.writeSegment + 1;
    const handle = await open(join(this.options.dir, segmentName(next)), 'a', PRIVATE_FILE_MODE);
    try {
      await fsyncDir(this.options.dir);
    } catch (error) {
      await handle.close();
      throw error;
    }
    const previous = this.writeHandle;
    this.writeHandle = handle;
    this.writeSegment = next;
    this.writeOffset = 0;
    this.syncedEnds.set(next, 0);
    await previous?.close().catch(() => undefined);
  }

  private async readChunk(position: Position, syncedEnd: number, atLeast: number) {
    const length = Math.min(syncedEnd - position.offset, Math.max(READ_CHUNK_BYTES, atLeast));
    const handle = await open(join(this.options.dir, segmentName(position.segment)), 'r');
    try {
      const bytes = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(bytes, 0, length, position.offset);
      return { segment: position.segment, start: position.offset, bytes: bytes.subarray(0, bytesRead) };
    } finally {
      await handle.close();
    }
  }

  private eventsOf(payload: Buffer, record: OutstandingRecord): LogEvent[] {
    const fieldsList = decodeEvents(payload);
    this.outstanding.push(record);
    const finalizer = new Finalizer(fieldsList.length, () => {
      record.done = true;
      this.advanceAckPointer();
    });
    return fieldsList.map((fields) => new LogEvent(fields, finalizer));
  }

  private advanceAckPointer(): void {
    let moved = false;
    while (this.outstanding.length > 0 && this.outstanding[0]!.done) {
      const record = this.outstanding.shift()!;
      this.ackPointer = { segment: record.segment, offset: record.end };
      this.usedBytes -= record.bytes;
      this.heldEvents -= record.count;
      moved = true;
    }
    if (!moved) return;
    this.options.onUsage?.(this.usedBytes);
    // FIFO: the oldest blocked producer goes first, once its record fits.
    while (this.waitingForSpace.length > 0 && this.hasRoomFor(this.waitingForSpace[0]!.bytes)) this.waitingForSpace.shift()!.admit();
    if (this.finishIfDrained()) return;
    this.writePointer();
    this.persistTimer ??= setTimeout(() => {
      this.persistTimer = undefined;
      void this.persistPointer();
    }, this.options.ackPersistIntervalMs);
  }

  private persisting: Promise<void> = Promise.resolve();
  private pointerPersistFailing = false;

  /** The pointer worth persisting: one at the very end of a finished segment moves to the next. */
  private pointerToPersist(): Position {
    const pointer = this.ackPointer;
    if (pointer.segment < this.writeSegment && pointer.offset >= (this.syncedEnds.get(pointer.segment) ?? 0)) {
      return { segment: pointer.segment + 1, offset: 0 };
    }
    return pointer;
  }

  /** Into the kernel, now (no fsync): from here a kill -9 does not replay what the sink finished. */
  private writePointer(): boolean {
    const file = this.pointerFile;
    if (!file) return false;
    const pointer = this.pointerToPersist();
    if (pointer.segment === file.written.segment && pointer.offset === file.written.offset) return true;
    try {
      file.write(pointer);
      return true;
    } catch (error) {
      this.pointerWriteFailed(error as Error);
      return false;
    }
  }

  /** Not fatal (a restart replays a little more): told once per outage, not once per ack. */
  private pointerWriteFailed(error: Error): void {
    if (!this.finalized && !this.pointerPersistFailing) this.options.onError?.(`cannot persist the read pointer (retried on the next acks): ${error.message}`);
    this.pointerPersistFailing = true;
  }

  /**
   * On the timer: make the pointer durable (fdatasync, off the event loop), then delete the
   * segments it has passed. Skipped once the buffer has finished: the final, synchronous persist
   * is then the last word.
   */
  private persistPointer(): Promise<void> {
    this.persisting = this.persisting
      .then(async () => {
        const file = this.pointerFile;
        if (this.finalized || !file) return;
        if (!this.writePointer() || !file.dirty) return; // a failed write is retried on the next acks
        const durable = await file.sync();
        if (this.finalized) return;
        for (const segment of this.passedSegments(durable)) await rm(join(this.options.dir, segmentName(segment)), { force: true });
        this.pointerPersistFailing = false;
      })
      .catch((error: Error) => this.pointerWriteFailed(error));
    return this.persisting;
  }

  /** The segments a newly durable pointer has passed (to delete), now behind `persistedPointer`. */
  private passedSegments(durable: Position): number[] {
    const passed: number[] = [];
    for (let segment = this.persistedPointer.segment; segment < durable.segment; segment++) {
      passed.push(segment);
      this.syncedEnds.delete(segment);
    }
    this.persistedPointer = durable;
    return passed;
  }

  /** Finishes once closed, read to the end and every record finished. */
  private finishIfDrained(): boolean {
    if (!this.closed || !this.readerDone || this.outstanding.length > 0) return false;
    if (this.pending.length > 0 || this.writing || this.waitingForSpace.length > 0) return false;
    this.finalize();
    return true;
  }

  /**
   * The final persist is synchronous (a few small syscalls, once): when the sink's last ack
   * returns, the pointer is on disk, so a runtime that exits right after the sink finished
   * replays nothing already delivered.
   */
  private finalize(): void {
    if (this.finalized) return;
    this.finalized = true;
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    const file = this.pointerFile;
    this.pointerFile = undefined;
    if (file) {
      try {
        const pointer = this.pointerToPersist();
        if (pointer.segment !== file.written.segment || pointer.offset !== file.written.offset) file.write(pointer);
        for (const segment of this.passedSegments(file.syncNow())) rmSync(join(this.options.dir, segmentName(segment)), { force: true });
      } catch (error) {
        this.options.onError?.(`cannot persist the read pointer at shutdown: ${(error as Error).message}`);
      }
    }
    const handle = this.writeHandle;
    this.writeHandle = undefined;
    // The pointer file closes once a timer's fdatasync still running on it has returned.
    const closed = Promise.all([handle?.close().catch(() => undefined), this.persisting.then(() => file?.close())]);
    this.finished = closed.then(() => {
      for (const resolve of this.finishedWaiters.splice(0)) resolve();
    });
  }

  private wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }
}

function isEncodable(event: LogEvent): boolean {
  try {
    JSON.stringify(event.fields);
    return true;
  } catch {
    return false;
  }
}

