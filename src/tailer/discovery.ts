import { lstatSync, readdirSync, watch as fsWatch, type BigIntStats, type FSWatcher, type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PathPolicy, type DiscoveryRoot, type RejectReason } from './path-policy.js';

export type { DiscoveryRoot } from './path-policy.js';

export interface DiscoveredFile {
  readonly path: string;
  /** Of the file's validated real path (a legacy link and its target have one identity). */
  readonly stats: Stats;
}

export interface DiscoveryEvents {
  /** Something was created, deleted or renamed at `path` (a `rename` inotify event). */
  pathChanged(path: string): void;
  /** A file in `dir` was written to (called per write: kept allocation-free). */
  fileWritten(dir: string): void;
  /** `path` will not be read (see `PathPolicy`); reported once per path, not on every scan. */
  rejected(path: string, reason: RejectReason): void;
  /**
   * `dir` is not watched: `max_watched_directories` reached, or the kernel's inotify watches
   * are exhausted (ENOSPC). Its new files are found by the periodic scan only. Once per directory.
   */
  watchRefused(dir: string, cause: WatchRefusal): void;
}

export type WatchRefusal = 'max_watched_directories' | 'inotify_watches_exhausted';

export interface DiscoveryLimits {
  readonly maxWatchedDirectories: number;
  /** `fs.watch` (tests make it fail like the kernel does). */
  readonly watch?: typeof fsWatch;
}

interface KnownDir {
  readonly root: DiscoveryRoot;
  readonly level: number;
  readonly dir: string;
  readonly owner: Discovery;
  watcher: FSWatcher | undefined;
  /** Not watched for a limit, already reported. */
  refused: boolean;
}

/** A watcher's directory, for the listeners all watchers share (see `Discovery.watchDir`). */
const KNOWN_DIR = Symbol('knownDir');
type DirWatcher = FSWatcher & { [KNOWN_DIR]?: KnownDir };
const DIRECTORIES_PER_YIELD = 64;
/**
 * A directory's listing is reused while its mtime is unchanged, once that mtime is at least this
 * much older than the listing (a change in the same timestamp tick as the listing would not move
 * it: such a listing is taken again next time; 2 s covers the coarsest granularity, FAT's).
 */
const RACY_MTIME_MS = 2000;

/** What a walk found in one directory, kept to skip the next listing while nothing was added, removed or renamed. */
interface Listing {
  readonly ino: bigint;
  readonly mtimeNs: bigint;
  /** Listed safely after the last change (see RACY_MTIME_MS): reusable while the mtime stays. */
  readonly settled: boolean;
  readonly dirs: readonly string[];
  readonly others: readonly string[];
}
const NO_NAMES: readonly string[] = Object.freeze([]);
/** Rejected paths remembered so each is reported once; past this, the memory starts over. */
const MAX_REMEMBERED_REJECTIONS = 10_000;

/**
 * Finds files by walking the roots, and watches every directory it walked (non-recursive
 * fs.watch per directory: recursive watching is unreliable on Linux with Node 20), so a new pod
 * directory, container directory or file is seen within milliseconds; the periodic full scan
 * is the safety net for lost events (inotify queue overflow, watcher errors) and for the
 * directories beyond `maxWatchedDirectories` or the kernel's inotify limit. Only paths the
 * `PathPolicy` accepts are returned: the tree is written by pods.
 */
export class Discovery {
  private readonly dirs = new Map<string, KnownDir>();
  private readonly listings = new Map<string, Listing>();
  private readonly policy: PathPolicy;
  /** Paths already reported as rejected (a pod's bad link is listed again by every scan). */
  private readonly reported = new Set<string>();
  private closed = false;
  private listedSinceYield = 0;
  /** Directories with a watcher: a count kept up to date, as the limit is checked per directory walked. */
  private watching = 0;
  private readonly watch: typeof fsWatch;

  constructor(
    private readonly roots: readonly DiscoveryRoot[],
    /** Path-only decision, before any stat or open. */
    private readonly accept: (path: string) => boolean,
    private readonly events: DiscoveryEvents,
    private readonly limits: DiscoveryLimits,
  ) {
    this.policy = new PathPolicy(roots);
    this.watch = limits.watch ?? fsWatch;
  }

  /** The path to open for a discovered `path`, validated again now (see `PathPolicy.openablePath`). */
  openablePath(path: string): string {
    return this.policy.openablePath(path);
  }

  /** Whether `dir` has a watcher now (its files' writes come as events). */
  watches(dir: string): boolean {
    return this.dirs.get(dir)?.watcher !== undefined;
  }

  get watchedDirectories(): number {
    return this.watching;
  }

  /** Walks every root; directories no longer present stop being watched. */
  async scanAll(): Promise<DiscoveredFile[]> {
    const found: DiscoveredFile[] = [];
    const seen = new Set<string>();
    this.policy.refresh();
    for (const root of this.roots) await this.walk(root.dir, root, 0, found, seen);
    for (const [dir, known] of this.dirs) {
      if (!seen.has(dir)) this.forgetDir(dir, known);
    }
    return found;
  }

  /** Looks at one path after an event: a new directory is walked, a file is stat'ed. */
  async scanPath(path: string): Promise<DiscoveredFile[]> {
    const parent = this.dirs.get(dirname(path));
    if (parent === undefined) return [];
    const found: DiscoveredFile[] = [];
    let info: Stats;
    try {
      info = await lstat(path);
    } catch {
      const gone = this.dirs.get(path);
      if (gone) this.forgetDir(path, gone);
      return found;
    }
    if (info.isDirectory()) {
      if (parent.level < parent.root.depth) await this.walk(path, parent.root, parent.level + 1, found, new Set());
    } else {
      await this.consider(path, found);
    }
    return found;
  }

  close(): void {
    this.closed = true;
    for (const [dir, known] of this.dirs) this.forgetDir(dir, known);
  }

  private forgetDir(dir: string, known: KnownDir): void {
    this.unwatch(known);
    this.dirs.delete(dir);
    this.listings.delete(dir);
  }

  private unwatch(known: KnownDir): void {
    if (known.watcher === undefined) return;
    known.watcher.close();
    known.watcher = undefined;
    this.watching--;
  }

  private async walk(dir: string, root: DiscoveryRoot, level: number, found: DiscoveredFile[], seen: Set<string>): Promise<void> {
    // Listing is synchronous (cheaper than a threadpool round trip per directory and per file);
    // big trees yield to the event loop now and then so one scan never blocks it for long.
    if (++this.listedSinceYield >= DIRECTORIES_PER_YIELD) {
      this.listedSinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const listing = this.list(dir);
    if (listing === undefined) return; // gone meanwhile, or unreadable: the next scan tries again
    seen.add(dir);
    this.watchDir(dir, root, level);
    for (const name of listing.dirs) {
      if (level < root.depth) await this.walk(join(dir, name), root, level + 1, found, seen);
    }
    // FIFOs and devices too: refused and reported, not ignored.
    for (const name of listing.others) await this.consider(join(dir, name), found, true);
  }

  /**
   * The directory's entries: listed again only when its mtime moved (an entry added, removed or
   * renamed) since a settled listing. The periodic scan of a node's tree is then one lstat per
   * directory instead of a readdir (bench/discovery-rescan.ts, 5,000 quiet files: 231 -> 114 ms of
   * CPU per rescan, the rest being the lstat of each file).
   */
  private list(dir: string): Listing | undefined {
    let info: BigIntStats;
    try {
      info = lstatSync(dir, { bigint: true });
    } catch {
      return undefined;
    }
    const cached = this.listings.get(dir);
    if (cached?.settled && cached.ino === info.ino && cached.mtimeNs === info.mtimeNs) return cached;
    const listedAtNs = BigInt(Date.now()) * 1_000_000n;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      this.listings.delete(dir);
      return undefined;
    }
    const dirs: string[] = [];
    const others: string[] = [];
    for (const entry of entries) (entry.isDirectory() ? dirs : others).push(entry.name);
    const settled = listedAtNs - info.mtimeNs >= BigInt(RACY_MTIME_MS) * 1_000_000n;
    // A container directory has no subdirectories, a pod directory no files: one shared empty list each.
    const listing: Listing = { ino: info.ino, mtimeNs: info.mtimeNs, settled, dirs: dirs.length === 0 ? NO_NAMES : dirs, others: others.length === 0 ? NO_NAMES : others };
    this.listings.set(dir, listing);
    return listing;
  }

  /** `listed`: found by walking down from a root (see `PathPolicy.checkListed`). */
  private async consider(path: string, found: DiscoveredFile[], listed = false): Promise<void> {
    if (!this.accept(path)) return;
    const verdict = listed ? this.policy.checkListed(path) : this.policy.check(path);
    if (verdict === undefined) return; // deleted between readdir and stat, or a dangling link
    if (verdict.ok) found.push({ path, stats: verdict.stats });
    else this.reportRejected(path, verdict.reason);
  }

  private reportRejected(path: string, reason: RejectReason): void {
    const key = `${reason}:${path}`;
    if (this.reported.has(key)) return;
    if (this.reported.size >= MAX_REMEMBERED_REJECTIONS) this.reported.clear();
    this.reported.add(key);
    this.events.rejected(path, reason);
  }

  private watchDir(dir: string, root: DiscoveryRoot, level: number): void {
    const known = this.dirs.get(dir);
    if (known?.watcher || this.closed) return;
    const entry: KnownDir = known ?? { root, level, dir, owner: this, watcher: undefined, refused: false };
    this.dirs.set(dir, entry);
    if (this.watching >= this.limits.maxWatchedDirectories) return this.refuse(dir, entry, 'max_watched_directories');
    try {
      // One pair of listener functions for every watcher, finding the directory on the watcher
      // (`this`), not a pair of closures each: ~190 bytes of heap per watched directory (W5: 7,500).
      const watcher: DirWatcher = this.watch(dir, { persistent: false });
      watcher[KNOWN_DIR] = entry;
      watcher.on('change', Discovery.onWatchEvent);
      watcher.on('error', Discovery.onWatchError);
      entry.watcher = watcher;
      entry.refused = false;
      this.watching++;
    } catch (error) {
      // ENOENT: raced with deletion. ENOSPC: the kernel's inotify watches are used up.
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') this.refuse(dir, entry, 'inotify_watches_exhausted');
    }
  }

  private static onWatchEvent(this: DirWatcher, eventType: string, name: string | Buffer | null): void {
    const entry = this[KNOWN_DIR]!;
    if (eventType === 'change') entry.owner.events.fileWritten(entry.dir);
    else if (name !== null && name !== undefined) entry.owner.events.pathChanged(join(entry.dir, name.toString()));
  }

  private static onWatchError(this: DirWatcher): void {
    const entry = this[KNOWN_DIR]!;
    if (entry.watcher === this) entry.owner.unwatch(entry);
    else this.close();
    entry.owner.events.pathChanged(entry.dir);
  }

  /** The periodic scan covers the directory (and tries to watch it again each time). */
  private refuse(dir: string, entry: KnownDir, cause: WatchRefusal): void {
    if (entry.refused) return;
    entry.refused = true;
    this.events.watchRefused(dir, cause);
  }
}

