import { open, readFile, rename } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { makePrivateDir, PRIVATE_FILE_MODE, tightenExisting } from '../core/private-files.js';
import { parseCheckpointFile, type InvalidRecord } from './checkpoint-file.js';
import { fingerprintKey, headMatches, type Fingerprint } from './fingerprint.js';

const ignore = (): void => {};

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
 * a temporary file is written and fsynced, then renamed over the old one and the directory
 * fsynced, so a crash (kill -9, power loss) leaves either the old or the new file, never half.
 *
 * Every step is asynchronous (threadpool), none blocks the event loop: the data directory may
 * be a network volume (a ReadWriteMany claim), where each of them is a round trip to a server.
 */
export class CheckpointStore {
  private readonly records = new Map<string, CheckpointRecord>();
  /** `dev:ino` -> fingerprint keys, so looking up a newly found file does not scan every record. */
  private readonly byInodeIndex = new Map<string, Set<string>>();
  private writing: Promise<void> | undefined;
  private directoryMade = false;
  /**
   * Per record key: its JSON up to the offset, which changes only with the path, and the whole
   * entry of the record object it was last made for (unchanged records are not encoded again).
   */
  private readonly jsonHeads = new Map<string, { path: string; head: string; record: CheckpointRecord | undefined; entry: string }>();
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
    const inode = `${record.fingerprint.dev}:${record.fingerprint.ino}`;
    let keys = this.byInodeIndex.get(inode);
    if (keys === undefined) this.byInodeIndex.set(inode, (keys = new Set()));
    keys.add(key);
  }

  delete(fingerprint: Fingerprint): void {
    const key = fingerprintKey(fingerprint);
    if (this.records.delete(key)) this.changed = true;
    this.jsonHeads.delete(key);
    const inode = `${fingerprint.dev}:${fingerprint.ino}`;
    const keys = this.byInodeIndex.get(inode);
    keys?.delete(key);
    if (keys?.size === 0) this.byInodeIndex.delete(inode);
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
      this.jsonHeads.delete(key);
      this.changed = true;
      const inode = `${fp.dev}:${fp.ino}`;
      const keys = this.byInodeIndex.get(inode);
      keys?.delete(key);
      if (keys?.size === 0) this.byInodeIndex.delete(inode);
    }
  }

  /**
   * The file's JSON (shape in checkpoint-file.ts), written out directly: no object per record per write, and
   * each record's unchanging part (identity, path) is escaped once, not every second.
   */
  private serialize(): string {
    let text = '{"version":1,"checkpoints":{';
    let separator = '';
    for (const [key, r] of this.records) {
      let cached = this.jsonHeads.get(key);
      if (cached === undefined || cached.path !== r.path) {
        const fp = r.fingerprint;
        const head =
          `${JSON.stringify(key)}:{"dev":${fp.dev},"ino":${fp.ino},"head_length":${fp.headLength},` +
          `"head_hash":${JSON.stringify(fp.headHash)},"path":${JSON.stringify(r.path)},"offset":`;
        this.jsonHeads.set(key, (cached = { path: r.path, head, record: undefined, entry: '' }));
      }
      if (cached.record !== r) {
        cached.record = r;
        cached.entry = `${cached.head}${r.offset},"updated_at":${r.updatedAt}}`;
      }
      text += separator + cached.entry;
      separator = ',';
    }
    return `${text}}}`;
  }

  /** `text` as UTF-8 in the reused write buffer (grown when too small). */
  private encode(text: string): Buffer {
    if (this.writeBuffer.length < text.length * 3) this.writeBuffer = Buffer.allocUnsafe(text.length * 4);
    return this.writeBuffer.subarray(0, this.writeBuffer.write(text));
  }

  /** Writes the current records; concurrent calls are serialised, and a failed write does not block the next. */
  persist(): Promise<void> {
    const previous = this.writing ?? Promise.resolve();
    const next = previous.then(() => this.writeNow());
    const settled = next.then(ignore, ignore); // never rejects: the caller handles `next`
    this.writing = settled;
    void settled.then(() => {
      if (this.writing === settled) this.writing = undefined;
    });
    return next;
  }

  private async writeNow(): Promise<void> {
    this.changed = false;
    try {
      await this.writeAll();
    } catch (error) {
      this.changed = true; // written again by the next persist
      throw error;
    }
  }

  private async writeAll(): Promise<void> {
    const bytes = this.encode(this.serialize());
    const dir = dirname(this.path);
    if (!this.directoryMade) {
      await makePrivateDir(dir);
      this.directoryMade = true;
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
    await syncedWrite(dir, undefined);
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
