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

/** `max_open_files` within what the process may open, leaving the reserve; warns when lowered. */
export function clampMaxOpenFiles(requested: number, limit: number | undefined, logger: Logger): number {
  if (limit === undefined) return requested;
  const allowed = Math.max(1, limit - descriptorReserve(limit));
  if (requested <= allowed) return requested;
  logger.warn(
    { max_open_files: requested, using: allowed, rlimit_nofile: limit },
    'max_open_files is above what the process may open (RLIMIT_NOFILE minus a reserve for sinks and the API): lowered',
  );
  return allowed;
}
