// W3 idle node: 110 pods writing 1 line/s each for 60 s: CPU% of one core and RSS.
// W4 soak: 5,000 lines/s for 10 minutes: RSS at minute 1 vs minute 10.
// Baseline in the same invocation: the writer itself (this process) over the same window.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchPort, CLI, sinkSentEvents } from './lib/agent.js';
import { agentLaunch, benchNodeArgs, describeLaunch } from './lib/product-node.js';
import { cpuSeconds, memoryMiB } from './lib/proc.js';
import { startRateWriter } from './lib/rate-writer.js';
import { workDir } from './lib/workspace.js';

export interface SteadyResult {
  workload: string;
  seconds: number;
  linesWritten: number;
  linesShipped: number;
  agentCpuPercent: number;
  agentRssStartMiB: number;
  agentRssEndMiB: number;
  agentPeakRssMiB: number;
  writerCpuPercent: number;
  /** V8 heap from the agent's /metrics (one scrape every 10 s), means of the first and last minute. */
  heap: { usedStartMiB: number; usedEndMiB: number; totalStartMiB: number; totalEndMiB: number; youngStartMiB: number; youngEndMiB: number };
}

interface HeapSample {
  used: number;
  total: number;
  /** Size of the young generation (V8's "new" space, both semi-spaces). */
  young: number;
}

/** The V8 heap figures of the agent's default process metrics (prom-client, `sluice_` prefix), in MiB. */
async function scrapeHeap(port: number): Promise<HeapSample | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (pattern: string): number => Number(new RegExp(`^${pattern} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
    return {
      used: value('nodejs_heap_size_used_bytes'),
      total: value('nodejs_heap_size_total_bytes'),
      young: value('nodejs_heap_space_size_total_bytes\\{space="new"\\}'),
    };
  } catch {
    return undefined;
  }
}

export async function runSteady(options: { name: string; containers: number; linesPerSecond: number; seconds: number; warmupSeconds: number; port: number }): Promise<SteadyResult> {
  const dir = workDir(options.name);
  rmSync(join(dir, 'pods'), { recursive: true, force: true });
  rmSync(join(dir, 'data'), { recursive: true, force: true });
  const writer = startRateWriter(join(dir, 'pods'), options.containers, options.linesPerSecond);
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      data_dir: join(dir, 'data'),
      api: { enabled: true, address: `127.0.0.1:${options.port}` },
      sources: { k8s: { type: 'kubernetes_logs', log_directory: join(dir, 'pods'), ...JSON.parse(process.env.BENCH_SOURCE_OPTIONS ?? '{}') } },
      sinks: { out: { type: 'blackhole', inputs: ['k8s'] } },
    }),
  );
  const { nodeArgs, env } = agentLaunch(benchNodeArgs());
  const agent = spawn(process.execPath, [...nodeArgs, CLI, '--config', configPath, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  const pid = agent.pid!;
  const sleep = (s: number) => new Promise((resolve) => setTimeout(resolve, s * 1000));
  await sleep(options.warmupSeconds);
  const cpu0 = cpuSeconds(pid);
  const selfCpu0 = process.cpuUsage();
  // RSS saw-tooths with each GC: compare averages over the first and the last minute of the
  // window (one sample a second), not two single readings that may land on different GC phases.
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(memoryMiB(pid).rss), 1000);
  // The heap split tells V8's young generation growing (settling) from live data growing (a leak).
  const heapSamples: HeapSample[] = [];
  const heapSampler = setInterval(() => void scrapeHeap(options.port).then((sample) => sample && heapSamples.push(sample)), 10_000);
  const t0 = performance.now();
  await sleep(options.seconds);
  clearInterval(sampler);
  clearInterval(heapSampler);
  const elapsed = (performance.now() - t0) / 1000;
  const average = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const firstAndLast = <T>(values: T[], perMinute: number): [T[], T[]] => {
    const edge = Math.max(1, Math.min(perMinute, Math.floor(values.length / 2)));
    return [values.slice(0, edge), values.slice(-edge)];
  };
  const [rssFirst, rssLast] = firstAndLast(samples, 60);
  const rssStart = average(rssFirst);
  const rssEnd = average(rssLast);
  const [heapFirst, heapLast] = firstAndLast(heapSamples, 6);
  const heapMean = (values: HeapSample[], key: keyof HeapSample) => average(values.map((sample) => sample[key]));
  const cpu1 = cpuSeconds(pid);
  const self = process.cpuUsage(selfCpu0);
  const memory = memoryMiB(pid);
  writer.stop();
  await sleep(2);
  const shipped = await sinkSentEvents(options.port, 'out');
  agent.kill('SIGTERM');
  await new Promise((resolve) => agent.on('exit', resolve));
  return {
    workload: options.name,
    seconds: elapsed,
    linesWritten: writer.written,
    linesShipped: shipped,
    agentCpuPercent: ((cpu1 - cpu0) / elapsed) * 100,
    agentRssStartMiB: rssStart,
    agentRssEndMiB: rssEnd,
    agentPeakRssMiB: memory.peak,
    writerCpuPercent: ((self.user + self.system) / 1e6 / elapsed) * 100,
    heap: {
      usedStartMiB: heapMean(heapFirst, 'used'),
      usedEndMiB: heapMean(heapLast, 'used'),
      totalStartMiB: heapMean(heapFirst, 'total'),
      totalEndMiB: heapMean(heapLast, 'total'),
      youngStartMiB: heapMean(heapFirst, 'young'),
      youngEndMiB: heapMean(heapLast, 'young'),
    },
  };
}

// The window starts 30 s after the agent: what a node pays all day excludes one-off start-up work
// (module loading, the JIT compiling the read path, V8's first memory-reducing GC at ~8 s), which
// was ~25 % of the agent's CPU in a window starting at 5 s.
export const runW3 = (seconds = Number(process.env.W3_SECONDS ?? 60)) =>
  runSteady({ name: 'w3-idle-node', containers: 110, linesPerSecond: 110, seconds, warmupSeconds: 30, port: benchPort(18688) });

export const runW4 = (seconds = Number(process.env.W4_SECONDS ?? 540)) =>
  runSteady({ name: 'w4-soak', containers: 20, linesPerSecond: 5000, seconds, warmupSeconds: 60, port: benchPort(18689) });

export function formatSteady(r: SteadyResult): string {
  const growth = ((r.agentRssEndMiB - r.agentRssStartMiB) / r.agentRssStartMiB) * 100;
  return (
    `| ${r.workload} | ${r.seconds.toFixed(0)} s | ${r.linesWritten} written / ${r.linesShipped} shipped | ` +
    `${r.agentCpuPercent.toFixed(2)} % | ${r.agentRssStartMiB.toFixed(1)} -> ${r.agentRssEndMiB.toFixed(1)} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %) | ` +
    `${r.agentPeakRssMiB.toFixed(1)} MiB | ${r.writerCpuPercent.toFixed(2)} % |`
  );
}

/** A line under the table: where the RSS went (V8 heap used vs reserved, young generation). */
export function formatHeap(r: SteadyResult): string {
  const h = r.heap;
  const pair = (start: number, end: number) => `${start.toFixed(1)} -> ${end.toFixed(1)} MiB`;
  return (
    `${r.workload}: V8 heap (agent /metrics, mean of first -> last minute): used ${pair(h.usedStartMiB, h.usedEndMiB)}, ` +
    `total ${pair(h.totalStartMiB, h.totalEndMiB)}, of which young generation ${pair(h.youngStartMiB, h.youngEndMiB)}`
  );
}

export const STEADY_HEADER =
  '| run | window | lines | agent CPU (% of one core) | agent RSS, mean of first -> last minute | agent peak RSS | baseline: writer CPU % |\n|---|---|---|---:|---|---:|---:|';

if (import.meta.url === `file://${process.argv[1]}`) {
  const which = process.argv[2] ?? 'w3';
  const result = which === 'w4' ? await runW4() : await runW3();
  console.log(STEADY_HEADER);
  console.log(formatSteady(result));
  console.log('');
  console.log(formatHeap(result));
  console.log(describeLaunch());
}
