import { closeSync, constants, existsSync, fdatasync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE } from '../private-files.js';
import { crc32 } from './disk-record.js';

/** A position in the log: segment number and byte offset within it. */
export interface Position {
  segment: number;
  offset: number;
}

/**
 * The disk buffer's read pointer: the position of the first record the sink has not finished.
 *
 * It is written in place on every move, without fsync: a write(2) is in the kernel once it
 * returns, so after a kill -9 of the process (the kernel survives) the pointer is exact and the
 * replay is only what the sink had not finished. An fdatasync on a timer (ack_persist interval)
 * bounds what a power loss or kernel crash can replay to the records finished in one interval.
 *
 * Two fixed 32-byte slots, written alternately: magic, sequence number, segment, offset, CRC-32.
 * A write torn by a power loss spoils only the slot being written; the other one still holds the
 * previous pointer. Recovery takes the valid slot with the highest sequence number.
 */
export const POINTER_FILE = 'ack-pointer.bin';
/** The format before the in-place pointer: JSON, replaced by write + fsync + rename once a second. */
export const LEGACY_POINTER_FILE = 'ack-pointer.json';

const SLOT_BYTES = 32;
const MAGIC = 0x31504c53; // "SLP1"
const fdatasyncAsync = promisify(fdatasync);

type SlotRead = { kind: 'empty' } | { kind: 'corrupt' } | { kind: 'valid'; seq: bigint; position: Position };

function encodeSlot(seq: bigint, position: Position): Buffer {
  const slot = Buffer.alloc(SLOT_BYTES);
  slot.writeUInt32LE(MAGIC, 0);
  slot.writeBigUInt64LE(seq, 4);
  slot.writeBigUInt64LE(BigInt(position.segment), 12);
  slot.writeBigUInt64LE(BigInt(position.offset), 20);
  slot.writeUInt32LE(crc32(slot.subarray(0, 28)), 28);
  return slot;
}

function decodeSlot(bytes: Buffer): SlotRead {
  if (bytes.length < SLOT_BYTES) return bytes.every((b) => b === 0) ? { kind: 'empty' } : { kind: 'corrupt' };
  if (bytes.every((b) => b === 0)) return { kind: 'empty' };
  if (bytes.readUInt32LE(0) !== MAGIC || bytes.readUInt32LE(28) !== crc32(bytes.subarray(0, 28))) return { kind: 'corrupt' };
  const segment = bytes.readBigUInt64LE(12);
  const offset = bytes.readBigUInt64LE(20);
  if (segment < 1n || segment > BigInt(Number.MAX_SAFE_INTEGER) || offset > BigInt(Number.MAX_SAFE_INTEGER)) return { kind: 'corrupt' };
  return { kind: 'valid', seq: bytes.readBigUInt64LE(4), position: { segment: Number(segment), offset: Number(offset) } };
}

/** A legacy JSON pointer, checked: anything but positive integers is corrupt. */
function parseLegacy(text: string): Position | undefined {
  try {
    const value = JSON.parse(text) as Partial<Position> | null;
    const { segment, offset } = value ?? {};
    if (Number.isSafeInteger(segment) && segment! >= 1 && Number.isSafeInteger(offset) && offset! >= 0) return { segment: segment!, offset: offset! };
  } catch {
    // reported by the caller
  }
  return undefined;
}

export interface ReadPointer {
  /** The persisted pointer; undefined when there is none (a new buffer) or it is unusable. */
  position: Position | undefined;
  /** Highest sequence number seen in a valid slot. */
  seq: bigint;
  /** Why the pointer (or one of its slots) could not be used: for a log line and a metric. */
  problem?: string;
  /** Found only in the legacy JSON file (to be rewritten in the new format, then removed). */
  legacy: boolean;
}

/** Reads the persisted pointer of the buffer in `dir` (the new file first, else the legacy one). */
export function readPointer(dir: string): ReadPointer {
  let bytes: Buffer;
  try {
    bytes = readHead(join(dir, POINTER_FILE), 2 * SLOT_BYTES);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return { position: undefined, seq: 0n, legacy: false, problem: `unreadable ${POINTER_FILE} (${(error as Error).message})` };
    return readLegacy(dir);
  }
  const slots = [decodeSlot(bytes.subarray(0, SLOT_BYTES)), decodeSlot(bytes.subarray(SLOT_BYTES, 2 * SLOT_BYTES))];
  let best: Extract<SlotRead, { kind: 'valid' }> | undefined;
  for (const slot of slots) if (slot.kind === 'valid' && (!best || slot.seq > best.seq)) best = slot;
  const corrupt = slots.filter((slot) => slot.kind === 'corrupt').length;
  if (!best) {
    // The file is written (and synced) as soon as it is created: no valid slot means damage
    // (or a first write that failed: then the legacy pointer, if any, is still the one).
    const problem = `${POINTER_FILE} holds no valid pointer (${bytes.length} bytes, ${corrupt} corrupt slots)`;
    const legacy = readLegacy(dir);
    return { ...legacy, problem: legacy.position ? `${problem}; using ${LEGACY_POINTER_FILE}` : problem };
  }
  const result: ReadPointer = { position: best.position, seq: best.seq, legacy: false };
  if (corrupt > 0) result.problem = `${POINTER_FILE}: a torn or corrupt slot, using the other one (segment ${best.position.segment}, byte ${best.position.offset})`;
  return result;
}

function readLegacy(dir: string): ReadPointer {
  let text: string;
  try {
    text = readHead(join(dir, LEGACY_POINTER_FILE), 4096).toString();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { position: undefined, seq: 0n, legacy: false };
    return { position: undefined, seq: 0n, legacy: true, problem: `unreadable ${LEGACY_POINTER_FILE} (${(error as Error).message})` };
  }
  const position = parseLegacy(text);
  if (!position) return { position: undefined, seq: 0n, legacy: true, problem: `${LEGACY_POINTER_FILE} is not a valid pointer: ${JSON.stringify(text.slice(0, 80))}` };
  return { position, seq: 0n, legacy: true };
}

/** At most `limit` bytes from the start of a file (whatever is there: a device, a huge file). */
function readHead(path: string, limit: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const bytes = Buffer.alloc(limit);
    let length = 0;
    for (let n = -1; n !== 0 && length < limit; length += n) n = readSync(fd, bytes, length, limit - length, length);
    return bytes.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * The pointer file: `write` on every move (no fsync), `sync` on a timer, `syncNow` at the end.
 * A failed write leaves the file to be reopened by the next one (a disk that was full, a volume
 * remounted); the caller reports the failure.
 */
export class PointerFile {
  private fd: number | undefined;
  /** Reopen before the next write: the last one failed. */
  private broken = true;
  /** A (re)created file's directory entry is made durable by the next sync. */
  private created = false;
  private syncing = false;
  /** The last position that reached the kernel (at first: the one recovered). */
  written: Position;
  /** Writes since the last sync. */
  dirty = false;

  constructor(
    private readonly dir: string,
    private seq: bigint,
    recovered: Position,
  ) {
    this.written = recovered;
  }

  /** Both slots, durably: a slot left torn by the last run is overwritten at once. Throws on failure. */
  init(): void {
    this.write(this.written);
    this.write(this.written);
    this.syncNow();
  }

  /** In place, into the slot not holding the newest pointer: survives a kill -9 once it returns. */
  write(position: Position): void {
    if (this.broken && !this.syncing) this.reopen();
    if (this.fd === undefined) throw new Error(`${POINTER_FILE} is not open`);
    const seq = this.seq + 1n;
    try {
      const written = writeSync(this.fd, encodeSlot(seq, position), 0, SLOT_BYTES, Number(seq % 2n) * SLOT_BYTES);
      if (written !== SLOT_BYTES) throw Object.assign(new Error(`short write: ${written} of ${SLOT_BYTES} bytes`), { code: 'EIO' });
    } catch (error) {
      this.broken = true;
      throw error;
    }
    this.seq = seq;
    this.written = position;
    this.dirty = true;
  }

  /** Makes every write so far durable (off the event loop); resolves with the position now on disk. */
  async sync(): Promise<Position> {
    if (this.fd === undefined || this.broken) throw new Error(`${POINTER_FILE} is not open`);
    const [position, created] = [this.written, this.created];
    this.dirty = false;
    this.syncing = true;
    try {
      await fdatasyncAsync(this.fd);
      if (created) await fsyncDir(this.dir);
      this.created = false;
    } catch (error) {
      this.dirty = true;
      this.broken = true;
      throw error;
    } finally {
      this.syncing = false;
    }
    return position;
  }

  /** The same, synchronously (at shutdown: the pointer is on disk when the sink's last ack returns). */
  syncNow(): Position {
    if (this.fd === undefined || this.broken) throw new Error(`${POINTER_FILE} is not open`);
    const position = this.written;
    fsyncSync(this.fd);
    if (this.created) fsyncDirSync(this.dir);
    this.created = false;
    this.dirty = false;
    return position;
  }

  close(): void {
    const fd = this.fd;
    this.fd = undefined;
    this.broken = true;
    if (fd !== undefined) closeQuietly(fd);
  }

  private reopen(): void {
    if (this.fd !== undefined) closeQuietly(this.fd);
    this.fd = undefined;
    const path = join(this.dir, POINTER_FILE);
    this.created = !existsSync(path);
    // Not O_APPEND: the slots are written at their own offsets.
    this.fd = openSync(path, constants.O_RDWR | constants.O_CREAT, PRIVATE_FILE_MODE);
    this.broken = false;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing to lose: what was written is in the kernel
  }
}

function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
