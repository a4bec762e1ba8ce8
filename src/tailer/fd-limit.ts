import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';

/**
 * The soft RLIMIT_NOFILE of this process, from /proc/self/limits (Node has no getrlimit; it
 * raises the soft limit to the hard one at startup, so this is what the process really has).
 * Undefined when unlimited or unknown (not Linux): nothing to clamp to then.
 */
export function openFilesSoftLimit(limitsPath = '/proc/self/limits'): number | undefined {
  let text: string;
  try {
    text = readFileSync(limitsPath, 'utf8');
  } catch {
    return undefined;
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  if (soft === undefined || !/^\d+$/.test(soft)) return undefined;
  return Number(soft);
}

/**
 * Descriptors kept for everything but log files: sink connections, the API and metrics server,
 * the Kubernetes watch, checkpoint writes, inotify, directory listings. A quarter of a small
 * limit, at most 256.
 */
export function descriptorReserve(limit: number): number {
  return Math.min(256, Math.floor(limit / 4));
}

/** Where the limit is unknown (not Linux, or unlimited): the classic soft limit's worth. */
export const FALLBACK_MAX_OPEN_FILES = 1024;

/**
 * `max_open_files` when the config leaves it out: every descriptor the process may open but the
 * reserve, so a node with thousands of containers needs no parking (a container runtime's limit
 * is usually 1,048,576; a shell's 1,024 still leaves 768). A fixed default below the node's file
 * count closes and reopens every written file each time it is written.
 */
export function defaultMaxOpenFiles(limit: number | undefined): number {
  if (limit === undefined) return FALLBACK_MAX_OPEN_FILES;
  return Math.max(1, limit - descriptorReserve(limit));
}

/** `max_open_files` within what the process may open, leaving the reserve; warns when lowered. */
export function clampMaxOpenFiles(requested: number | undefined, limit: number | undefined, logger: Logger): number {
  if (requested === undefined) return defaultMaxOpenFiles(limit);
  if (limit === undefined) return requested;
  const allowed = Math.max(1, limit - descriptorReserve(limit));
  if (requested <= allowed) return requested;
  logger.warn(
    { max_open_files: requested, using: allowed, rlimit_nofile: limit },
    'max_open_files is above what the process may open (RLIMIT_NOFILE minus a reserve for sinks and the API): lowered',
  );
  return allowed;
}
