import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import type { EventOutput, Source, SourceRunContext } from '../src/core/component.js';
import type { LogEvent } from '../src/core/event.js';
import type { MetricsRegistry } from '../src/core/metrics.js';
import { isPodLogFileName } from '../src/sources/kubernetes_logs/pod-log-path.js';
import { commonTailerSettings, tailerOptionsSchema, type TailerConfig } from '../src/tailer/options.js';
import { Tailer, type TailerOptions } from '../src/tailer/tailer.js';
import { KubeletSim, type KubeletSimOptions, type SimContainer, type Stream } from './kubelet-sim.js';
import type { CollectingOutput } from './source-driver.js';
import { testContext } from './source-driver.js';
import { kubeletAdmission } from './tailer-parts.js';

/**
 * The tailer alone, on a tree a simulated kubelet writes: kubelet's file names give the read
 * order (rotated files by their stamp, then the current one), and each line is one event of the
 * plain line decoder (`message` = the raw CRI or json-file record). `lineOf` reads the record
 * back, so tests check what was shipped per container stream, in order, without the source's
 * parsing, partial merging or metadata.
 */
export class TailerSource implements Source {
  readonly tailer: Tailer;

  constructor(options: Partial<TailerConfig>, logDirectory: string, dataDir: string, timings: Partial<Pick<TailerOptions, 'idlePollMs' | 'rotatedQuietMs' | 'safetyPollMs' | 'watch'>> = {}) {
    const config = z.object(tailerOptionsSchema).parse({ glob_minimum_cooldown_ms: 200, ...options });
    const { ctx, metrics } = testContext(dataDir, 'tail', 'file');
    this.metrics = metrics;
    this.tailer = new Tailer({
      roots: [{ dir: logDirectory, depth: 2, linkTargets: [] }],
      acceptPath: (path) => isPodLogFileName(basename(path)),
      admit: (path) => kubeletAdmission(path),
      ...commonTailerSettings(config, ctx),
      ...timings,
    });
  }

  readonly metrics: MetricsRegistry;

  run({ out, shutdown }: SourceRunContext): Promise<void> {
    return this.tailer.run(out as EventOutput, shutdown);
  }

  close(): Promise<void> {
    return this.tailer.close();
  }
}

/**
 * One record of a CRI or json-file log, as the runtime wrote it. A line in neither format (cut
 * by damage) has no stream and is its raw bytes.
 */
export function lineOf(event: LogEvent): { container: string; stream: Stream | undefined; message: string } {
  const raw = event.fields.message as string;
  const container = dirname(event.fields.file as string);
  const cri = /^\S+ (stdout|stderr) F (.*)$/s.exec(raw);
  if (cri !== null) return { container, stream: cri[1] as Stream, message: cri[2]! };
  let docker: { log?: unknown; stream?: unknown } | undefined;
  try {
    docker = JSON.parse(raw) as { log?: unknown; stream?: unknown };
  } catch {
    return { container, stream: undefined, message: raw };
  }
  assert.ok(typeof docker.log === 'string' && docker.log.endsWith('\n'), `a whole json-file record: ${raw}`);
  return { container, stream: docker.stream as Stream, message: docker.log.slice(0, -1) };
}

/** The messages shipped for one container stream, in order. */
export function shipped(out: CollectingOutput, container: SimContainer, stream: Stream): string[] {
  const lines: string[] = [];
  for (const event of out.events) {
    const line = lineOf(event);
    if (line.container === container.dir && line.stream === stream) lines.push(line.message);
  }
  return lines;
}

/** Every message written appears exactly once, in order, per container stream. */
export function assertExactlyOnceInOrder(out: CollectingOutput, sim: KubeletSim): void {
  for (const pod of sim.pods) {
    for (const container of pod.containers.values()) {
      for (const stream of ['stdout', 'stderr'] as const) {
        assert.deepEqual(shipped(out, container, stream), container.written[stream], `${container.dir} ${stream}`);
      }
    }
  }
}

export function totalWritten(sim: KubeletSim): number {
  let total = 0;
  for (const pod of sim.pods) for (const c of pod.containers.values()) total += c.written.stdout.length + c.written.stderr.length;
  return total;
}

const tempDirs: string[] = [];

/** Removes the trees `tailerSetup` made (call from `after`). */
export function removeTailerDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function tailerSetup(options: Partial<TailerConfig> = {}, simOptions: Partial<KubeletSimOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tailer-'));
  tempDirs.push(dir);
  const logDirectory = join(dir, 'pods');
  const dataDir = join(dir, 'data');
  const sim = new KubeletSim({ root: logDirectory, format: 'cri', ...simOptions });
  const build = (timings: Partial<Pick<TailerOptions, 'idlePollMs' | 'rotatedQuietMs' | 'safetyPollMs' | 'watch'>> = {}) => {
    const source = new TailerSource(options, logDirectory, dataDir, timings);
    return { source, metrics: source.metrics };
  };
  return { dir, logDirectory, dataDir, sim, build };
}
