// W1: one 2,000,000-line CRI file read from the beginning -> file sink (JSON lines) and -> blackhole.
// Baseline in the same invocation: `wc -l` on the same file.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { benchPort, runAgentUntil } from './lib/agent.js';
import { TABLE_HEADER, ensureGnuTime, formatRow, measure, type Row } from './lib/measure.js';
import { criFile, workDir } from './lib/workspace.js';

export async function runW1(lines = Number(process.env.W1_LINES ?? 2_000_000)): Promise<Row[]> {
  ensureGnuTime();
  const dir = workDir('w1');
  const file = await criFile(dir, lines);
  const rows: Row[] = [];

  const wc = await measure('wc', ['-l', file.path]);
  const baseline: Row = { workload: 'W1 baseline: wc -l', lines, bytes: file.bytes, seconds: wc.wallSeconds || 0.001, cpuSeconds: wc.cpuSeconds, peakRssMiB: wc.peakRssMiB };
  rows.push(baseline);

  // Experiments: W1_SOURCE_OPTIONS='{"max_read_bytes":32768}' (JSON) is merged into the source's options.
  const sourceOptions = JSON.parse(process.env.W1_SOURCE_OPTIONS ?? '{}') as Record<string, unknown>;
  const sinks = (process.env.W1_SINKS?.split(',') ?? ['file', 'blackhole']) as Array<'file' | 'blackhole'>;
  for (const sink of sinks) {
    const dataDir = join(dir, `data-${sink}`);
    const outPath = join(dir, 'out.ndjson');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(outPath, { force: true });
    const run = await runAgentUntil({
      dir,
      port: benchPort(18686),
      sinkId: 'out',
      expected: lines,
      config: {
        data_dir: dataDir,
        sources: { k8s: { type: 'kubernetes_logs', log_directory: join(dir, 'pods'), read_from: 'beginning', ...sourceOptions } },
        sinks: { out: sink === 'file' ? { type: 'file', inputs: ['k8s'], path: outPath } : { type: 'blackhole', inputs: ['k8s'] } },
      },
      nodeArgs: [...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'profiles')}`] : [])],
    });
    if (run.sent < lines) throw new Error(`W1 ${sink}: only ${run.sent} of ${lines} events arrived`);
    rows.push({ workload: `W1 sluice -> ${sink}`, lines, bytes: file.bytes, seconds: run.secondsToComplete, cpuSeconds: run.cpuSeconds, peakRssMiB: run.peakRssMiB, baseline });
    rmSync(outPath, { force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runW1();
  console.log(TABLE_HEADER);
  for (const row of rows) console.log(formatRow(row));
}
