import { basename, dirname } from 'node:path';

/**
 * What kubelet encodes in a container log path:
 * `<log_directory>/<namespace>_<pod name>_<pod uid>/<container name>/<restart count>.log`
 * plus the rotated siblings `<n>.log.<YYYYMMDD-hhmmss>` and `<n>.log.<YYYYMMDD-hhmmss>.gz`.
 * Namespaces, pod names and UIDs cannot contain `_`, so the pod directory splits unambiguously.
 */
export interface PodLogPath {
  readonly podNamespace: string;
  readonly podName: string;
  readonly podUid: string;
  readonly containerName: string;
  readonly restartCount: number;
  /** `current` = `<n>.log`, `rotated` = renamed by kubelet, `compressed` = rotated then gzipped. */
  readonly rotation: 'current' | 'rotated' | 'compressed';
  /** The `YYYYMMDD-hhmmss` suffix of rotated files; sorts chronologically as a string. */
  readonly rotatedAt: string | undefined;
}

// Matched once per discovered file, never per line. `.gz.tmp` (kubelet compressing) is not matched.
const LOG_FILE_NAME = /^(\d+)\.log(?:\.(\d{8}-\d{6})(\.gz)?)?$/;

/** Whether a file name is a container log's (`<n>.log`, rotated or gzipped): the cheap test before a stat. */
export function isPodLogFileName(fileName: string): boolean {
  return LOG_FILE_NAME.test(fileName);
}

/** Parses the last three segments of `path`; undefined when it is not a kubelet container log. */
export function parsePodLogPath(path: string): PodLogPath | undefined {
  const fileName = basename(path);
  const nameMatch = LOG_FILE_NAME.exec(fileName);
  if (!nameMatch) return undefined;
  const containerDir = dirname(path);
  const containerName = basename(containerDir);
  const podDir = basename(dirname(containerDir));
  const parts = podDir.split('_');
  if (parts.length !== 3 || containerName === '' || parts.some((p) => p === '')) return undefined;
  const rotatedAt = nameMatch[2];
  return {
    podNamespace: parts[0]!,
    podName: parts[1]!,
    podUid: parts[2]!,
    containerName,
    restartCount: Number(nameMatch[1]),
    rotation: rotatedAt === undefined ? 'current' : nameMatch[3] ? 'compressed' : 'rotated',
    rotatedAt,
  };
}

/**
 * Files of one container instance form a sequence read strictly in order: rotated files by
 * their timestamp, then the current file. A rotated file and its `.gz` share a rank (same bytes).
 */
export function podLogSequence(path: string, info: PodLogPath): { key: string; rank: string } {
  return {
    key: `${dirname(path)}/${info.restartCount}`,
    rank: info.rotatedAt ?? '99999999-999999',
  };
}

/**
 * Legacy `/var/log/containers/<pod>_<namespace>_<container>-<64 hex container id>.log` links.
 * Only the link name is parsed; the target (under /var/log/pods) is what gets read.
 */
export interface LegacyContainerLink {
  readonly podName: string;
  readonly podNamespace: string;
  readonly containerName: string;
  readonly containerId: string;
}

const LEGACY_LINK_NAME = /^([^_]+)_([^_]+)_(.+)-([0-9a-f]{64})\.log$/;

export function parseLegacyContainerLink(path: string): LegacyContainerLink | undefined {
  const match = LEGACY_LINK_NAME.exec(basename(path));
  if (!match) return undefined;
  return { podName: match[1]!, podNamespace: match[2]!, containerName: match[3]!, containerId: match[4]! };
}
