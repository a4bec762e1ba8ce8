import { randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { makePrivateDir, PRIVATE_FILE_MODE } from './private-files.js';

export const LOCK_FILE = 'sluice.lock';

/** Who holds a data directory, as written in its lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  since: string;
  token: string;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: Partial<LockHolder>,
  ) {
    const who = holder.pid === undefined ? 'an agent that is still writing its lock file' : `pid ${holder.pid} on ${holder.host} since ${holder.since}`;
    super(`data directory ${dir} is in use by another sluice (${who}): two agents on one data_dir overwrite each other's checkpoints; give each its own data_dir (lock file ${join(dir, LOCK_FILE)})`);
  }
}

export interface DataDirLockOptions {
  /** How often the holder touches the lock file. Default 10 s. */
  heartbeatMs?: number;
  /** A lock file untouched this long is stale whoever wrote it. Default 60 s. */
  staleAfterMs?: number;
}

/**
 * One agent per data directory: `<data_dir>/sluice.lock`, created with O_EXCL and holding the
 * pid, host name and a token. Node has no flock, so a lock left by a dead agent is detected:
 * - same host name: the pid is gone, or is our own (a restarted container is pid 1 again);
 * - any host: the file's mtime, refreshed by the holder every `heartbeatMs`, is older than
 *   `staleAfterMs` (another pod on the same hostPath is in another pid namespace: its pid says
 *   nothing to us, its heartbeat does).
 * A stale lock is removed and creation retried, so of two agents racing for it one wins.
 */
export class DataDirLock {
  private heartbeat: NodeJS.Timeout | undefined;
  private released = false;
  private readonly onExit = (): void => this.release();

  private constructor(
    readonly dir: string,
    readonly path: string,
    private readonly holder: LockHolder,
    /** Paths whose wider modes could not be tightened (see private-files). */
    readonly untightened: string[],
  ) {}

  static async acquire(dir: string, options: DataDirLockOptions = {}): Promise<DataDirLock> {
    const heartbeatMs = options.heartbeatMs ?? 10_000;
    const staleAfterMs = options.staleAfterMs ?? 60_000;
    const untightened = await makePrivateDir(dir);
    const path = join(dir, LOCK_FILE);
    const holder: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), token: randomUUID() };
    for (let attempt = 1; !(await create(path, holder)); attempt++) {
      const found = await readHolder(path);
      if (found === undefined) continue; // removed meanwhile: try again
      // Stale again and again: another agent keeps taking it over; let that one have it.
      if (attempt > 3 || !isStale(found, staleAfterMs)) throw new DataDirLockedError(dir, found.holder);
      await rm(path, { force: true });
    }
    const lock = new DataDirLock(dir, path, holder, untightened);
    lock.heartbeat = setInterval(() => {
      const now = new Date();
      utimes(path, now, now).catch(() => undefined); // a read-only volume: nothing else can write there either
    }, heartbeatMs);
    lock.heartbeat.unref();
    process.once('exit', lock.onExit);
    return lock;
  }

  /** Removes the lock file if it is still ours (synchronous: also runs on process exit). */
  release(): void {
    if (this.released) return;
    this.released = true;
    clearInterval(this.heartbeat);
    process.off('exit', this.onExit);
    try {
      const current = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<LockHolder>;
      if (current.token === this.holder.token) unlinkSync(this.path);
    } catch {
      // gone or replaced: not ours to remove
    }
  }
}

async function create(path: string, holder: LockHolder): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(holder));
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

async function readHolder(path: string): Promise<{ holder: Partial<LockHolder>; ageMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    let holder: Partial<LockHolder> = {};
    try {
      holder = JSON.parse(text) as Partial<LockHolder>;
    } catch {
      // empty or torn: its writer died between create and write, or is writing right now (mtime tells)
    }
    return { holder, ageMs: Date.now() - info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function isStale({ holder, ageMs }: { holder: Partial<LockHolder>; ageMs: number }, staleAfterMs: number): boolean {
  if (ageMs > staleAfterMs) return true;
  if (typeof holder.pid !== 'number' || holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const NOT_WRITABLE = new Set(['EROFS', 'EACCES', 'EPERM']);

/**
 * For the agent at startup: the lock, or undefined once the reason not to start is logged.
 * A data directory that cannot be written at all is not a reason: the agent still ships logs
 * (checkpoints and disk buffers report and retry their writes); it runs unlocked, with a warning.
 */
export async function lockDataDir(dir: string, logger: Logger): Promise<{ release(): void } | undefined> {
  try {
    const lock = await DataDirLock.acquire(dir);
    if (lock.untightened.length > 0) logger.warn({ paths: lock.untightened }, 'cannot make the data directory private (0700)');
    return lock;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof DataDirLockedError) logger.error({ data_dir: dir, holder: error.holder }, error.message);
    else if (code !== undefined && NOT_WRITABLE.has(code)) {
      logger.warn({ data_dir: dir, code }, 'data directory is not writable: running without its lock; checkpoints are not saved until it is');
      return { release: () => undefined };
    } else logger.error({ data_dir: dir, err: (error as Error).message }, 'cannot lock the data directory');
    return undefined;
  }
}
