import { readFileSync } from 'node:fs';

/** Used when the kernel's inotify limit cannot be read (not Linux). */
const FALLBACK_WATCHED_DIRECTORIES = 8192;

/**
 * Default `max_watched_directories`: half of the kernel's inotify watches per user
 * (/proc/sys/fs/inotify/max_user_watches), as every process of the same user on the node
 * (the runtime, kubelet, other agents running as root) draws from that one pool.
 */
export function defaultMaxWatchedDirectories(path = '/proc/sys/fs/inotify/max_user_watches'): number {
  try {
    const limit = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(limit) && limit > 0) return Math.max(1, Math.floor(limit / 2));
  } catch {
    // not Linux
  }
  return FALLBACK_WATCHED_DIRECTORIES;
}
