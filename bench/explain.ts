// Explain passes of `npm run bench`: for a target a workload missed, run that workload again with
// the agent instrumented and say, from what this run measured, what stops it.
// - memory pass: the agent with bench/lib/memory-sampler.cjs (a sample every 100 ms): what the peak
//   (W1, W2) or the window's mean (W3, W5) holds, against a bare node started with the same flags;
// - profile pass (CPU targets): the agent with --cpu-prof: self time by category and function.
// Passes are separate runs, so the sampler and the profiler stay out of the measured figures; each
// pass prints its own figures next to the measured pass's, which shows what the instrument cost.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSummary, readProfiles, summarise } from './lib/cpu-profile.js';
import type { Row } from './lib/measure.js';
import { breakdown, floorVerdict, formatBreakdown, gcBetween, meanBreakdown, parseSamples, peakSample, windowSamples, type Floor } from './lib/memory-breakdown.js';
import { MEMORY_SAMPLER, measureNodeFloor } from './lib/node-floor.js';
import { agentLaunch, benchNodeArgs } from './lib/product-node.js';
import { runW1 } from './w1-single-file.js';
import { runW2Detailed, type W2Details } from './w2-node.js';
import { runW3, type SteadyResult } from './w3-w4-steady.js';
import { runW5, type W5Result } from './w5-many-files.js';

export type Explained = 'w1' | 'w2' | 'w3' | 'w5';

/** The figures of one pass that its targets are about. */
export interface Figures {
  /** What the memory target is on: peak RSS (W1, W2) or mean RSS over the window (W3, W5), MiB. */
  memoryMiB: number;
  /** The agent's process CPU seconds over the span the target is on (the run, or the window). */
  cpuSeconds: number;
  /** Wall seconds of that span. */
  seconds: number;
  /** Lines the agent shipped over the span, when the target is per line. */
  lines?: number;
  text: string;
}

const W5_STEADY_SECONDS = 60;
/** The steady window of W3 and W5 seen from the end of the agent's life: they stop it 2-3 s after it. */
const windowOf = (key: Explained): { seconds: number; tailSeconds: number } | undefined =>
  key === 'w3' ? { seconds: Number(process.env.W3_SECONDS ?? 60), tailSeconds: 3 } : key === 'w5' ? { seconds: W5_STEADY_SECONDS, tailSeconds: 3 } : undefined;

export const runW5Steady = (): Promise<W5Result> => runW5(2500, W5_STEADY_SECONDS, 5);

export function rowFigures(row: Row): Figures {
  const rate = Math.round(row.lines / row.seconds).toLocaleString('en-US');
  return { memoryMiB: row.peakRssMiB, cpuSeconds: row.cpuSeconds, seconds: row.seconds, lines: row.lines, text: `peak RSS ${row.peakRssMiB.toFixed(0)} MiB, ${row.cpuSeconds.toFixed(2)} CPU-s, ${rate} lines/s` };
}

export function steadyFigures(r: SteadyResult): Figures {
  const mean = (r.agentRssStartMiB + r.agentRssEndMiB) / 2;
  return { memoryMiB: mean, cpuSeconds: (r.agentCpuPercent / 100) * r.seconds, seconds: r.seconds, text: `RSS mean ${mean.toFixed(1)} MiB, CPU ${r.agentCpuPercent.toFixed(2)} % of one core` };
}

export function w5Figures(r: W5Result): Figures {
  const cpu = r.agentCpuPercent ?? Number.NaN;
  return { memoryMiB: r.rssMeanMiB ?? Number.NaN, cpuSeconds: (cpu / 100) * W5_STEADY_SECONDS, seconds: W5_STEADY_SECONDS, text: `RSS mean ${r.rssMeanMiB?.toFixed(1)} MiB, CPU ${cpu.toFixed(2)} % of one core` };
}

/** Runs `fn` with environment variables set (the workloads read BENCH_NODE_ARGS and friends when they start the agent). */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** One more run of a workload, the agent started with `nodeArgs` after BENCH_NODE_ARGS. */
async function rerun(key: Explained, nodeArgs: string[], env: Record<string, string> = {}): Promise<Figures> {
  return withEnv({ ...env, BENCH_NODE_ARGS: [...benchNodeArgs(), ...nodeArgs].join(' ') }, async () => {
    switch (key) {
      case 'w1':
        return withEnv({ W1_SINKS: 'file' }, async () => rowFigures((await runW1()).find((r) => r.workload.endsWith('-> file'))!));
      case 'w2':
        return rowFigures((await runW2Detailed()).rows.find((r) => r.workload.startsWith('W2 sluice'))!);
      case 'w3':
        return steadyFigures(await runW3());
      case 'w5':
        return w5Figures(await runW5Steady());
    }
  });
}

interface MemoryPass {
  figures: Figures;
  samples: ReturnType<typeof parseSamples>;
}

const f1 = (n: number): string => n.toFixed(1);
const signed = (n: number, digits = 1): string => `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`;

/** Runs each workload's passes at most once, however many of its targets need them. */
export class Explainer {
  private readonly memory = new Map<Explained, Promise<MemoryPass>>();
  private readonly profile = new Map<Explained, Promise<{ figures: Figures; lines: string[] }>>();
  private floor: Promise<Floor> | undefined;
  readonly profiling = process.env.BENCH_EXPLAIN_PROFILE !== '0';

  private memoryPass(key: Explained): Promise<MemoryPass> {
    let pass = this.memory.get(key);
    if (!pass) {
      pass = (async () => {
        const dir = mkdtempSync(join(tmpdir(), `sluice-explain-${key}-`));
        const log = join(dir, 'memory.jsonl');
        try {
          // A window's mean needs no 100 ms samples, and an idle agent would pay for them (CPU, garbage).
          const intervalMs = windowOf(key) ? '1000' : '100';
          const figures = await rerun(key, ['--require', MEMORY_SAMPLER], { BENCH_MEMORY_LOG: log, BENCH_MEMORY_INTERVAL_MS: intervalMs });
          return { figures, samples: parseSamples(readFileSync(log, 'utf8')) };
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      })();
      this.memory.set(key, pass);
    }
    return pass;
  }

  private nodeFloor(): Promise<Floor> {
    const { nodeArgs, env } = agentLaunch(benchNodeArgs());
    return (this.floor ??= measureNodeFloor(nodeArgs, env.NODE_OPTIONS ?? ''));
  }

  /** The bare-node reference, once measured (printed once for all the memory explanations). */
  async floorLines(): Promise<string[]> {
    if (!this.floor) return [];
    const floor = await this.floor;
    const { nodeArgs, env } = agentLaunch(benchNodeArgs());
    return [
      `Bare node, the floor of the memory verdicts below (\`node -e\` in this run with the agent's flags ${nodeArgs.join(' ') || '(none)'}; NODE_OPTIONS ${env.NODE_OPTIONS || '(none)'}):`,
      '',
      `- idle: ${formatBreakdown(floor.idle)}`,
      `- young generation full (after 4M short-lived objects): ${formatBreakdown(floor.churned)}`,
      '',
    ];
  }

  /** GC pauses over the target's span, from the memory pass's sampler. */
  private async gcLine(key: Explained): Promise<string> {
    const { samples, figures } = await this.memoryPass(key);
    const span = windowOf(key) ? windowSamples(samples, windowOf(key)!) : samples;
    const gc = span.length > 1 ? gcBetween(span[0]!, span.at(-1)!) : undefined;
    if (!gc) return 'GC pauses: no sampler figures';
    const wall = ((span.at(-1)!.t ?? 0) - (span[0]!.t ?? 0)) / 1000;
    const perLine = figures.lines ? `, ${(((gc.young + gc.full) * 1000) / figures.lines).toFixed(2)} µs per line` : '';
    return `GC pauses (memory pass's sampler, ${windowOf(key) ? 'the window' : 'the run'}): young ${gc.young} ms + full ${gc.full} ms over ${gc.count} GCs = ${(((gc.young + gc.full) / 1000 / wall) * 100).toFixed(2)} % of ${f1(wall)} s wall${perLine} (pauses in wall-clock time: longer on a loaded machine)`;
  }

  /** Lines explaining a memory target of `targetMiB` that the measured pass (`measured`) missed. */
  async explainMemory(key: Explained, targetMiB: number, measured: Figures): Promise<string[]> {
    const { figures, samples } = await this.memoryPass(key);
    const window = windowOf(key);
    const inWindow = window ? windowSamples(samples, window) : [];
    const agent = window ? meanBreakdown(inWindow.map(breakdown)) : breakdown(peakSample(samples));
    const floor = await this.nodeFloor();
    return [
      `memory pass (agent with memory-sampler.cjs, ${samples.length} samples, ${windowOf(key) ? 'one a second' : 'one per 100 ms'}): ${figures.text}; measured pass: ${measured.text}` +
        ` (difference ${signed(figures.memoryMiB - measured.memoryMiB)} MiB: the sampler's cost plus run-to-run noise)`,
      `${window ? `mean of the window's ${inWindow.length} samples` : 'peak sample'}: ${formatBreakdown(agent)}`,
      floorVerdict(targetMiB, agent, floor).text,
      await this.gcLine(key),
    ];
  }

  /** Lines explaining a CPU target (throughput, CPU per line, idle CPU) from a --cpu-prof pass. */
  async explainCpu(key: Explained, measured: Figures, context: string[] = []): Promise<string[]> {
    if (!this.profiling) return [...context, 'profile pass skipped (BENCH_EXPLAIN_PROFILE=0)', await this.gcLine(key)];
    let pass = this.profile.get(key);
    if (!pass) {
      pass = (async () => {
        const dir = mkdtempSync(join(tmpdir(), `sluice-profile-${key}-`));
        try {
          const figures = await rerun(key, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
          const profiles = readProfiles(dir);
          const summary = summarise(profiles, { window: windowOf(key) });
          const spanS = summary.spanUs / 1e6;
          const busyS = summary.busyUs / 1e6;
          // The measured pass's CPU over the profiled span: its whole run, or its window's rate over the window.
          const measuredCpu = windowOf(key) ? (measured.cpuSeconds / measured.seconds) * spanS : measured.cpuSeconds;
          const unit = figures.lines
            ? { label: 'µs/line', per: (us: number) => us / figures.lines! }
            : { label: 'ms per wall s', per: (us: number) => us / 1000 / spanS };
          const lines = [
            `profile pass (--cpu-prof, ${profiles.length} profile${profiles.length === 1 ? '' : 's'}): ${figures.text}; measured pass: ${measured.text}` +
              ` (difference ${signed(figures.cpuSeconds - measured.cpuSeconds, 2)} CPU-s: the profiler's cost plus run-to-run noise; the shares below are the profile pass's)`,
            `main thread not idle ${busyS.toFixed(2)} s of ${spanS.toFixed(1)} s profiled${windowOf(key) ? ' (the steady window)' : ''}; the agent's CPU over ${windowOf(key) ? 'such a span' : 'its run'}: ${measuredCpu.toFixed(2)} s in the measured pass` +
              ` (${figures.cpuSeconds.toFixed(2)} s in this one, the profiler's sampling thread included)` +
              (busyS < measuredCpu
                ? `, so at least ${(measuredCpu - busyS).toFixed(2)} CPU-s (${(((measuredCpu - busyS) / measuredCpu) * 100).toFixed(0)} %) off the main thread: libuv threadpool (fs calls), V8's GC helper threads, kernel`
                : ': the non-idle time is wall-clock, so it includes waiting for a core on a loaded machine'),
            ...formatSummary(summary, unit),
          ];
          return { figures, lines };
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      })();
      this.profile.set(key, pass);
    }
    return [...context, ...(await pass).lines, await this.gcLine(key)];
  }
}

/** A lines/s target: the cores the agent used, and the cores its CPU per line needs for the target. */
export function throughputVerdict(row: Row, targetLinesPerSecond: number): string {
  const usPerLine = (row.cpuSeconds / row.lines) * 1e6;
  return (
    `${targetLinesPerSecond.toLocaleString('en-US')} lines/s: measured ${Math.round(row.lines / row.seconds).toLocaleString('en-US')} lines/s with the agent on ${(row.cpuSeconds / row.seconds).toFixed(2)} cores` +
    ` (${row.cpuSeconds.toFixed(2)} CPU-s in ${row.seconds.toFixed(1)} s); at ${usPerLine.toFixed(2)} µs of CPU per line the target needs ${((targetLinesPerSecond * usPerLine) / 1e6).toFixed(2)} cores of ${availableParallelism()}`
  );
}

/** A lines-per-CPU-second target as CPU per line. */
export function perCpuVerdict(row: Row, targetLinesPerCpuSecond: number): string {
  const usPerLine = (row.cpuSeconds / row.lines) * 1e6;
  const target = 1e6 / targetLinesPerCpuSecond;
  return `${targetLinesPerCpuSecond.toLocaleString('en-US')} lines per CPU-s = ${target.toFixed(2)} µs of CPU per line: measured ${usPerLine.toFixed(2)} µs (${signed(usPerLine - target, 2)})`;
}

/** An idle-CPU target (% of one core) as CPU milliseconds per wall second. */
export function idleCpuVerdict(measuredPercent: number, targetPercent: number): string {
  return `${targetPercent} % of one core = ${(targetPercent * 10).toFixed(1)} ms of CPU per wall second: measured ${(measuredPercent * 10).toFixed(1)} ms/s`;
}

/** Who else used W2's machine: the bench's own receiver and fake API server (this process) and the writer. */
export function w2Budget(row: Row, writer: Row, details: W2Details): string {
  return (
    `the rest of W2's machine over the same ${row.seconds.toFixed(1)} s: bench receiver + fake API ${details.receiverCpuSeconds.toFixed(1)} CPU-s (${(details.receiverCpuSeconds / row.seconds).toFixed(2)} cores), ` +
    `writer ${writer.cpuSeconds.toFixed(1)} CPU-s`
  );
}
