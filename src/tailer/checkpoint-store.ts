import { open, readFile, rename } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { makePrivateDir, PRIVATE_FILE_MODE, tightenExisting } from '../core/private-files.js';
import { parseCheckpointFile, type InvalidRecord } from './checkpoint-file.js';
import { fingerprintKey, headMatches, type Fingerprint } from './fingerprint.js';
import { addToGroup, removeFromGroup } from './groups.js';

const ignore = (): void => {};
const FILE_OPEN = '{"version":1,"checkpoints":{';
const FILE_CLOSE = '}}';

export interface CheckpointRecord {
  fingerprint: Fingerprint;
  /** Byte offset (decompressed, for gzip) up to which every line is acknowledged. */
  offset: number;
  /** Last path the file was seen under (informative; identity is the fingerprint). */
  path: string;
  /** Epoch ms of the last change; records of vanished files expire after a while. */
  updatedAt: number;
}

export interface LoadReport {
  /** The file was unusable as a whole: `problem` says why, `keptAs` where it went. */
  corrupt: boolean;
  problem?: string;
  keptAs?: string;
  /** Records dropped because they failed validation (the others are loaded). */
  invalid: InvalidRecord[];
  untightened: string[];
}

/**
 * `<data_dir>/<component id>/checkpoints.json`, keyed by fingerprint. Written atomically:
 * a temporary file is written and fsynced, then renamed over the old one (and the directory
 * fsynced, see `persist`), so a crash (kill -9, power loss) leaves either the old or the new
 * file, never half.
 *
 * Every step is asynchronous (threadpool), none blocks the event loop: the data directory may
 * be a network volume (a ReadWriteMany claim), where each of them is a round trip to a server.
 */
export class CheckpointStore {
  private readonly records = new Map<string, CheckpointRecord>();
  /** `dev:ino` -> fingerprint keys, so looking up a newly found file does not scan every record. */
  private readonly byInodeIndex = new Map<string, readonly string[]>();
  private writing: Promise<void> | undefined;
  private directoryMade = false;
  /**
   * Per record key: its JSON entry, made when the record object changes (its offset moved), not
   * on every write, and its UTF-8 length. The first write flattens it: one flat string per record
   * stays, not a tree of the pieces (W5: 127,000 cons strings at 5,000 records).
   */
  private readonly entries = new Map<string, { record: CheckpointRecord; text: string; bytes: number }>();
  /** This write's entries, in order (reused). */
  private readonly writeList: string[] = [];
  /** A record was set or dropped since the last write began (a failed write sets it again). */
  private changed = false;
  /** The file's bytes, reused from one write to the next. */
  private writeBuffer = Buffer.alloc(0);

  private readonly tmpPath: string;

  constructor(readonly path: string) {
    this.tmpPath = `${path}.tmp`;
  }

  /**
   * Loads the file if there is one. Invalid records are dropped and reported; a file that is
   * unusable as a whole (not JSON, wrong shape) is renamed to `keptAs` for a human to look at,
   * rather than overwritten by the next persist, and its files are read per read_from.
   * `untightened`: files or directories left with wider modes than 0600/0700 (see private-files).
   */
  async load(): Promise<LoadReport> {
    const untightened = await tightenExisting(dirname(this.path), [basename(this.path), basename(this.tmpPath)]);
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { corrupt: false, invalid: [], untightened };
      throw error;
    }
    const parsed = parseCheckpointFile(text);
    if (parsed.kind === 'unusable') {
      const keptAs = `${this.path}.corrupt-${Date.now()}`;
      try {
        await rename(this.path, keptAs);
        return { corrupt: true, problem: parsed.problem, keptAs, invalid: [], untightened };
      } catch (error) {
        return { corrupt: true, problem: `${parsed.problem} (cannot keep it aside: ${(error as Error).message})`, invalid: [], untightened };
      }
    }
    for (const record of parsed.records) this.set(record);
    this.changed = false; // as on disk
    return { corrupt: false, invalid: parsed.invalid, untightened };
  }

  get size(): number {
    return this.records.size;
  }

  /** Whether a record was set or dropped since the last write (loaded records are on disk already). */
  get changedSinceWrite(): boolean {
    return this.changed;
  }

  set(record: CheckpointRecord): void {
    const key = fingerprintKey(record.fingerprint);
    const known = this.records.has(key);
    this.records.set(key, record);
    this.changed = true;
    if (known) return; // already indexed
    addToGroup(this.byInodeIndex, `${record.fingerprint.dev}:${record.fingerprint.ino}`, key);
  }

  delete(fingerprint: Fingerprint): void {
    const key = fingerprintKey(fingerprint);
    if (this.records.delete(key)) this.changed = true;
    this.entries.delete(key);
    removeFromGroup(this.byInodeIndex, `${fingerprint.dev}:${fingerprint.ino}`, key);
  }

  /** Records whose file had this device and inode (verify the head before trusting one). */
  byInode(dev: number, ino: number): CheckpointRecord[] {
    const found: CheckpointRecord[] = [];
    for (const key of this.byInodeIndex.get(`${dev}:${ino}`) ?? []) {
      const record = this.records.get(key);
      if (record) found.push(record);
    }
    return found;
  }

  inDirectory(dir: string): CheckpointRecord[] {
    const found: CheckpointRecord[] = [];
    for (const record of this.records.values()) if (dirname(record.path) === dir) found.push(record);
    return found;
  }

  /** Of `records`, the one whose head matches `head` best (the longest matching head). */
  static bestMatch(records: readonly CheckpointRecord[], head: Buffer): CheckpointRecord | undefined {
    let best: CheckpointRecord | undefined;
    for (const record of records) {
      if (!headMatches(record.fingerprint, head)) continue;
      if (best === undefined || record.fingerprint.headLength > best.fingerprint.headLength) best = record;
    }
    return best;
  }

  /** Whether any record was last updated before `cutoff` (epoch ms): only then can `prune` drop one. */
  hasRecordsOlderThan(cutoff: number): boolean {
    for (const record of this.records.values()) if (record.updatedAt < cutoff) return true;
    return false;
  }

  /**
   * Drops records older than `ttlMs` whose file is gone: neither its inode nor its directory
   * holds a tracked file any more (a gzip copy of a rotated file may still need its record).
   */
  prune(now: number, ttlMs: number, liveInodes: ReadonlySet<string>, liveDirs: ReadonlySet<string>): void {
    for (const [key, record] of this.records) {
      const fp = record.fingerprint;
      if (now - record.updatedAt <= ttlMs) continue;
      if (liveInodes.has(`${fp.dev}:${fp.ino}`) || liveDirs.has(dirname(record.path))) continue;
      this.records.delete(key);
      this.entries.delete(key);
      this.changed = true;
      removeFromGroup(this.byInodeIndex, `${fp.dev}:${fp.ino}`, key);
    }
  }

  /**
   * The file's JSON (shape in checkpoint-file.ts) in the reused write buffer: each record's entry
   * is written as kept (see `entries`), with no object per record per write and no whole-file
   * string (1.4 MB a second at 5,000 records, in large-object space).
   */
  private serialize(): Buffer {
    const list = this.writeList;
    list.length = 0;
    let size = FILE_OPEN.length + FILE_CLOSE.length;
    for (const [key, r] of this.records) {
      let entry = this.entries.get(key);
      if (entry === undefined || entry.record !== r) {
        const fp = r.fingerprint;
        const text =
          `${JSON.stringify(key)}:{"dev":${fp.dev},"ino":${fp.ino},"head_length":${fp.headLength},"head_hash":${JSON.stringify(fp.headHash)},` +
          `"path":${JSON.stringify(r.path)},"offset":${r.offset},"updated_at":${r.updatedAt}}`;
        this.entries.set(key, (entry = { record: r, text, bytes: Buffer.byteLength(text) }));
      }
      list.push(entry.text);
      size += entry.bytes + 1;
    }
    if (this.writeBuffer.length < size) this.writeBuffer = Buffer.allocUnsafe(Math.ceil(size * 1.25));
    const buffer = this.writeBuffer;
    let at = buffer.write(FILE_OPEN, 0, 'latin1');
    for (let i = 0; i < list.length; i++) {
      if (i > 0) buffer[at++] = 0x2c; // ,
      at += buffer.write(list[i]!, at);
    }
    at += buffer.write(FILE_CLOSE, at, 'latin1');
    list.length = 0;
    return buffer.subarray(0, at);
  }

  /**
   * Writes the current records; concurrent calls are serialised, and a failed write does not block
   * the next. `syncDirectory` false (the periodic writes): the rename is not fsynced, so a power
   * loss may bring back the previous file, never half of one (the new file is fsynced before it is
   * renamed): older offsets, lines read again, none lost. Three threadpool round trips fewer per
   * write, each a wake-up of the loop (W3: 8 -> 5 a second).
   */
  persist(syncDirectory = true): Promise<void> {
    const previous = this.writing ?? Promise.resolve();
    const next = previous.then(() => this.writeNow(syncDirectory));
    const settled = next.then(ignore, ignore); // never rejects: the caller handles `next`
    this.writing = settled;
    void settled.then(() => {
      if (this.writing === settled) this.writing = undefined;
    });
    return next;
  }

  private async writeNow(syncDirectory: boolean): Promise<void> {
    this.changed = false;
    try {
      await this.writeAll(syncDirectory);
    } catch (error) {
      this.changed = true; // written again by the next persist
      throw error;
    }
  }

  private async writeAll(syncDirectory: boolean): Promise<void> {
    const bytes = this.serialize();
    const dir = dirname(this.path);
    if (!this.directoryMade) {
      await makePrivateDir(dir);
      this.directoryMade = true;
      syncDirectory = true; // the file's first name
    }
    const tmp = this.tmpPath;
    try {
      await syncedWrite(tmp, bytes);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await makePrivateDir(dir); // the directory was removed meanwhile
      await syncedWrite(tmp, bytes);
    }
    await rename(tmp, this.path);
    if (syncDirectory) await syncedWrite(dir, undefined);
  }
}

/** Writes `bytes` to `path` (or opens directory `path` when undefined) and fsyncs it. */
async function syncedWrite(path: string, bytes: Buffer | undefined): Promise<void> {
  const handle = await open(path, bytes === undefined ? 'r' : 'w', PRIVATE_FILE_MODE);
  try {
    if (bytes !== undefined) {
      for (let written = 0; written < bytes.length; ) written += (await handle.write(bytes, written, bytes.length - written)).bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}
