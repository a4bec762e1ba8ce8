import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pino } from 'pino';
import { MetricsRegistry } from '../src/core/metrics.js';
import { RunTimeErrors } from '../src/core/run-time-errors.js';
import { PlainLineDecoder } from '../src/sources/file/plain-line-decoder.js';
import { isPodLogFileName, parsePodLogPath, podLogSequence } from '../src/sources/kubernetes_logs/pod-log-path.js';
import { Discovery } from '../src/tailer/discovery.js';
import { FileCheckpoints } from '../src/tailer/file-checkpoints.js';
import { FileOpener } from '../src/tailer/file-opener.js';
import { FileTracker } from '../src/tailer/file-tracker.js';
import { DecodeStats } from '../src/tailer/line-decoder.js';
import type { FileAdmission, TailedFile } from '../src/tailer/tailed-file.js';

const dirs: string[] = [];

/** Removes the trees `tailerParts` made (call from `after`). */
export function removePartsDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** kubelet's read order from the file name; plain lines. `ready`: the admission waits for it. */
export function kubeletAdmission(path: string, ready?: Promise<boolean>): FileAdmission | undefined {
  const pod = parsePodLogPath(path);
  if (pod === undefined) return undefined;
  return {
    sequence: podLogSequence(path, pod),
    rotated: pod.rotation !== 'current',
    compressed: pod.rotation === 'compressed',
    ...(ready ? { ready } : {}),
    createDecoder: (file, stats) => new PlainLineDecoder(file, stats),
  };
}

export interface PartsOptions {
  readFrom?: 'beginning' | 'end';
  ignoreOlderSecs?: number;
  maxOpenFiles?: number;
  admit?: (path: string) => FileAdmission | undefined;
  /** A tree made by an earlier `tailerParts` (a restart): its files and checkpoints. */
  dir?: string;
}

/**
 * The tailer's parts below the loop (discovery, tracker, checkpoints, opener) wired as the tailer
 * wires them, on a temp tree `<root>/ns_pod_uid/c/`, for unit tests: what the hooks were told is
 * recorded (`done` marks a file done, as the tailer does).
 */
export function tailerParts(options: PartsOptions = {}) {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sluice-tailer-parts-'));
  if (options.dir === undefined) dirs.push(dir);
  const root = join(dir, 'pods');
  const containerDir = join(root, 'ns_pod_uid', 'c');
  mkdirSync(containerDir, { recursive: true });
  const logger = pino({ level: 'silent' });
  const registry = new MetricsRegistry();
  const metrics = registry.forComponent('source', 'logs', 'file');
  const errors = new RunTimeErrors(metrics, logger);
  const recorded = { excluded: [] as string[], dropped: [] as string[], done: [] as Array<[string, string]>, wakes: 0 };
  const discovery = new Discovery([{ dir: root, depth: 2 }], (path) => isPodLogFileName(basename(path)), {
    pathChanged: () => {},
    fileWritten: () => {},
    rejected: () => {},
    watchRefused: () => {},
  }, { maxWatchedDirectories: 0 });
  let tracker!: FileTracker;
  const checkpoints = new FileCheckpoints(join(dir, 'data', 'checkpoints.json'), 1000, () => tracker.files.all(), logger, metrics);
  tracker = new FileTracker(
    { admit: options.admit ?? ((path) => kubeletAdmission(path)), ignoreOlderSecs: options.ignoreOlderSecs, readFrom: options.readFrom ?? 'beginning', logger },
    discovery,
    checkpoints,
    errors,
    {
      wake: () => void recorded.wakes++,
      excluded: (file) => void recorded.excluded.push(file.path),
      dropped: (file) => void recorded.dropped.push(file.path),
    },
  );
  const stats = new DecodeStats();
  const hooks = {
    wake: () => void recorded.wakes++,
    done: (file: TailedFile, reason: string) => {
      file.state = 'done';
      file.readable = false;
      recorded.done.push([file.path, reason]);
    },
  };
  const opener = new FileOpener(
    { maxOpenFiles: options.maxOpenFiles ?? 16, maxReadBytes: 64 * 1024, maxLineBytes: 1 << 20, logger },
    tracker.files,
    discovery,
    tracker,
    checkpoints,
    stats,
    Buffer.allocUnsafe(64 * 1024),
    errors,
    hooks,
  );
  const write = (name: string, text: string): string => {
    const path = join(containerDir, name);
    writeFileSync(path, text, { flag: 'a' });
    return path;
  };
  const close = async (): Promise<void> => {
    for (const file of tracker.files.all()) if (file.state === 'open') await opener.closeReader(file);
    opener.close();
    discovery.close();
  };
  return { dir, root, containerDir, discovery, tracker, files: tracker.files, checkpoints, opener, recorded, metrics: registry, write, close };
}
