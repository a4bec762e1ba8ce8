import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { resolve, sep } from 'node:path';

/** A directory tree to search: files up to `depth` directory levels below `dir` (0 = only `dir`). */
export interface DiscoveryRoot {
  readonly dir: string;
  readonly depth: number;
  /**
   * Directories outside `dir` that a symlink found under it may resolve into (the Docker
   * json-file layout links `<pod>/<container>/0.log` into `/var/lib/docker/containers`).
   * A link resolving anywhere else is rejected: the log tree is written by pods.
   */
  readonly linkTargets?: readonly string[];
}

/** Why a path was not read (fixed strings: metric reasons). */
export type RejectReason = 'link_outside_root' | 'not_regular_file';

export type PathVerdict =
  /** `stats` are those of `realPath` (lstat: a regular file, no link followed). */
  | { readonly ok: true; readonly realPath: string; readonly stats: Stats }
  | { readonly ok: false; readonly reason: RejectReason }
  /** Gone, or a dangling link: nothing to read, nothing to report. */
  | undefined;

/** Thrown by `PathPolicy.openablePath` for a path that must not be read. */
export class UnsafePathError extends Error {
  readonly code = 'EUNSAFE';
  constructor(
    readonly path: string,
    readonly reason: RejectReason,
  ) {
    super(`${reason}: ${path}`);
  }
}

interface ResolvedRoot {
  /** The root as configured (absolute): discovered paths start with it. */
  readonly dir: string;
  /** Real paths a file may live under: the root's own, then its link targets. */
  readonly within: readonly string[];
}

/**
 * Which paths found under the roots may be read: regular files whose real path stays under
 * their root, or under one of the root's `linkTargets` when reached through a symlink. Anything
 * else (a link to /etc/shadow or /proc/self/status, a FIFO, a device, a socket) is refused.
 */
export class PathPolicy {
  private resolved: readonly ResolvedRoot[] = [];

  constructor(private readonly roots: readonly DiscoveryRoot[]) {
    this.refresh();
  }

  /** Resolves the roots again (a root may be created, or be a link that moved, after start). */
  refresh(): void {
    this.resolved = this.roots
      .map((root) => ({ dir: resolve(root.dir), within: [root.dir, ...(root.linkTargets ?? [])].map(realDir) }))
      .sort((a, b) => b.dir.length - a.dir.length); // longest first: the innermost root owns a path
  }

  check(path: string): PathVerdict {
    return this.verdict(path, lstatIfPresent(path));
  }

  /** `check` given the path's lstat (undefined: gone). */
  private verdict(path: string, found: Stats | undefined): PathVerdict {
    if (found === undefined) return undefined;
    let info = found;
    if (!info.isFile() && !info.isSymbolicLink()) return { ok: false, reason: 'not_regular_file' };
    const viaLink = info.isSymbolicLink();
    let realPath: string;
    try {
      realPath = realpathSync.native(path);
      // lstat of the resolved path: no link left to follow, so a swap after realpath shows up here.
      if (viaLink) info = lstatSync(realPath);
    } catch {
      return undefined;
    }
    const root = this.rootOf(resolve(path));
    if (root === undefined) return { ok: false, reason: 'link_outside_root' };
    // Link targets are for links only: a plain file must not leave its root through a linked directory.
    const within = viaLink ? root.within : root.within.slice(0, 1);
    if (!within.some((dir) => isUnder(realPath, dir))) return { ok: false, reason: 'link_outside_root' };
    if (!info.isFile()) return { ok: false, reason: 'not_regular_file' };
    return { ok: true, realPath, stats: info };
  }

  /**
   * `check` for a path listed by walking down from a root through directories that readdir
   * reported as directories (never links): a regular file there is under its root, so its real
   * path is not resolved (realpath costs one lstat per path component, ~40 % of a periodic scan
   * of 5,000 files). Links and anything else get the full `check`. A directory swapped for a link
   * between the listing and this lstat is caught when the file is opened: opening goes through
   * `openablePath`, which always resolves.
   */
  checkListed(path: string): PathVerdict {
    const info = lstatIfPresent(path);
    if (info === undefined || !info.isFile()) return this.verdict(path, info);
    const absolute = resolve(path);
    const root = this.rootOf(absolute);
    if (root === undefined || !isUnder(absolute, root.dir)) return this.verdict(path, info);
    return { ok: true, realPath: root.within[0]! + absolute.slice(root.dir.length), stats: info };
  }

  /** The path to open for `path` (its validated real path); throws `UnsafePathError`, or ENOENT when gone. */
  openablePath(path: string): string {
    const verdict = this.check(path);
    if (verdict === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    if (!verdict.ok) throw new UnsafePathError(path, verdict.reason);
    return verdict.realPath;
  }

  /** By the configured or the real root dir: a legacy link's canonical path is its real target. */
  private rootOf(path: string): ResolvedRoot | undefined {
    return this.resolved.find((root) => isUnder(path, root.dir) || isUnder(path, root.within[0]!));
  }
}

function lstatIfPresent(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function realDir(dir: string): string {
  try {
    return realpathSync.native(dir);
  } catch {
    return resolve(dir); // not there yet: nothing under it can exist either
  }
}

function isUnder(path: string, dir: string): boolean {
  return path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}
