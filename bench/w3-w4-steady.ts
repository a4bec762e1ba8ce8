// W3 idle node: 110 pods writing 1 line/s each for 60 s: CPU% of one core and RSS.
// W4 soak: 5,000 lines/s for 10 minutes: RSS at minute 1 vs minute 10.
// Baseline in the same invocation: the writer itself (this process) over the same window.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, sinkSentEvents } from './lib/agent.js';
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
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const agent = spawn(process.execPath, [...nodeArgs, CLI, '--config', configPath, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const pid = agent.pid!;
  const sleep = (s: number) => new Promise((resolve) => setTimeout(resolve, s * 1000));
  await sleep(options.warmupSeconds);
  const cpu0 = cpuSeconds(pid);
  const selfCpu0 = process.cpuUsage();
  // RSS saw-tooths with each GC: compare averages over the first and the last minute of the
  // window (one sample a second), not two single readings that may land on different GC phases.
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(memoryMiB(pid).rss), 1000);
  const t0 = performance.now();
  await sleep(options.seconds);
  clearInterval(sampler);
  const elapsed = (performance.now() - t0) / 1000;
  const edge = Math.max(1, Math.min(60, Math.floor(samples.length / 2)));
  const average = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const rssStart = average(samples.slice(0, edge));
  const rssEnd = average(samples.slice(-edge));
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
  };
}

export const runW3 = (seconds = Number(process.env.W3_SECONDS ?? 60)) =>
  runSteady({ name: 'w3-idle-node', containers: 110, linesPerSecond: 110, seconds, warmupSeconds: 5, port: 18688 });

export const runW4 = (seconds = Number(process.env.W4_SECONDS ?? 540)) =>
  runSteady({ name: 'w4-soak', containers: 20, linesPerSecond: 5000, seconds, warmupSeconds: 60, port: 18689 });

export function formatSteady(r: SteadyResult): string {
  const growth = ((r.agentRssEndMiB - r.agentRssStartMiB) / r.agentRssStartMiB) * 100;
  return (
    `| ${r.workload} | ${r.seconds.toFixed(0)} s | ${r.linesWritten} written / ${r.linesShipped} shipped | ` +
    `${r.agentCpuPercent.toFixed(2)} % | ${r.agentRssStartMiB.toFixed(1)} -> ${r.agentRssEndMiB.toFixed(1)} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %) | ` +
    `${r.agentPeakRssMiB.toFixed(1)} MiB | ${r.writerCpuPercent.toFixed(2)} % |`
  );
}

export const STEADY_HEADER =
  '| run | window | lines | agent CPU (% of one core) | agent RSS, mean of first -> last minute | agent peak RSS | baseline: writer CPU % |\n|---|---|---|---:|---|---:|---:|';

if (import.meta.url === `file://${process.argv[1]}`) {
  const which = process.argv[2] ?? 'w3';
  const result = which === 'w4' ? await runW4() : await runW3();
  console.log(STEADY_HEADER);
  console.log(formatSteady(result));
}
