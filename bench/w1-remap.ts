// W1 through `remap`: one 2,000,000-line CRI file -> kubernetes_logs -> remap (VRL) -> file sink,
// with two programs, against W1 without the transform in the same invocation. The runs alternate
// (none, program A, program B, none, ...) so that load from other work on a shared machine falls
// on every variant alike; each row's ratio is against the no-transform run of its own round.
// `node dist/bench/w1-remap.js [rounds]` (W1_LINES for fewer lines, BENCH_CPU_PROF=1 for profiles,
// W1_REMAP_SINK=blackhole to leave out the file sink's encoding and writes, W1_REMAP_ONLY=<part of a
// program's name> for one program). Each row's two ratios: lines/s and lines per CPU-second, each
// against the no-transform run of its round; the loaded machine moves the second one less.
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { benchPort, runAgentUntil } from './lib/agent.js';
import { TABLE_HEADER, ensureGnuTime, formatRow, type Row } from './lib/measure.js';
import { criFile, workDir } from './lib/workspace.js';

/**
 * The issue's `. = merge(., parse_json(.message) ?? {})` does not compile in VRL (nor in sluice):
 * parse_json may return a non-object, and merge takes an object (E110). The form VRL accepts
 * coerces with `object(...) ?? {}`.
 */
export const W1_PROGRAMS: Record<string, string> = {
  'merge(parse_json)': '. = merge(., object(parse_json(.message) ?? {}) ?? {})',
  // A typical Kubernetes program: parse JSON app logs, normalise the level, drop noisy fields, add
  // the cluster, lift pod metadata. W1 has no debug lines: the abort drops nothing, every line arrives.
  'typical 10 statements': `
    . = merge(., object(parse_json(.message) ?? {}) ?? {})
    .level = downcase(string(.level) ?? "info")
    del(.stream)
    .cluster = "prod-eu"
    .namespace = .kubernetes.pod_namespace
    if .level == "debug" { abort }
    .latency_s = (to_float(.latency_ms) ?? 0.0) / 1000
    .tags = ["k8s", .kubernetes.container_name]
    .app = .kubernetes.pod_labels.app || "unknown"
    .message = truncate(string(.msg) ?? string(.message) ?? "", 200)
  `,
};

export async function runW1Remap(rounds = Number(process.argv[2] ?? process.env.W1_REMAP_ROUNDS ?? 2), lines = Number(process.env.W1_LINES ?? 2_000_000)): Promise<Array<Row & { sysSeconds: number }>> {
  ensureGnuTime();
  const dir = workDir('w1');
  const file = await criFile(dir, lines);
  // W1_REMAP_BEFORE_CLI: another build's dist/src/cli.js (e.g. before a change); each program then
  // also runs on it, right before the same program on this build.
  const before = process.env.W1_REMAP_BEFORE_CLI;
  const variants: [string, string | undefined, string | undefined][] = [['none', undefined, undefined]];
  const sinkType = process.env.W1_REMAP_SINK ?? 'file';
  for (const [name, program] of Object.entries(W1_PROGRAMS)) {
    if (process.env.W1_REMAP_ONLY && !name.includes(process.env.W1_REMAP_ONLY)) continue;
    if (before) variants.push([`${name}, before`, program, before]);
    variants.push([name, program, undefined]);
  }
  const rows: Array<Row & { sysSeconds: number }> = [];
  for (let round = 1; round <= rounds; round++) {
    let baseline: Row | undefined;
    for (const [name, program, cli] of variants) {
      const dataDir = join(dir, 'data-remap');
      const outPath = join(dir, 'out-remap.ndjson');
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(outPath, { force: true });
      const source = { type: 'kubernetes_logs', log_directory: join(dir, 'pods'), read_from: 'beginning' };
      const run = await runAgentUntil({
        dir,
        port: benchPort(18693),
        cli,
        sinkId: 'out',
        expected: lines,
        config: {
          data_dir: dataDir,
          sources: { k8s: source },
          ...(program === undefined ? {} : { transforms: { vrl: { type: 'remap', inputs: ['k8s'], source: program } } }),
          sinks: { out: { type: sinkType, inputs: [program === undefined ? 'k8s' : 'vrl'], ...(sinkType === 'file' ? { path: outPath } : {}) } },
        },
        nodeArgs: [
          ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
          ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'profiles-remap', name.replace(/\W+/g, '-'))}`] : []),
        ],
      });
      if (run.sent < lines) throw new Error(`W1 remap ${name}: only ${run.sent} of ${lines} events arrived`);
      const row: Row & { sysSeconds: number } = {
        workload: program === undefined ? `round ${round}: W1 -> ${sinkType}, no transform` : `round ${round}: W1 -> remap (${name}) -> ${sinkType}`,
        lines,
        bytes: file.bytes,
        seconds: run.secondsToComplete,
        cpuSeconds: run.cpuSeconds,
        sysSeconds: run.sysSeconds,
        peakRssMiB: run.peakRssMiB,
        baseline,
      };
      baseline ??= row;
      rows.push(row);
      rmSync(outPath, { force: true });
    }
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runW1Remap();
  console.log(`node ${process.version}, load average ${loadavg().map((n) => n.toFixed(1)).join(' ')} at the end`);
  console.log(`${TABLE_HEADER.replace('lines/s ÷ baseline lines/s', "lines/s ÷ the round's no-transform lines/s").replace(/ \|\n/, " | lines per CPU-s ÷ the round's no-transform | of the CPU s, kernel |\n")}---:|---:|`);
  for (const row of rows) {
    const perCpu = row.baseline ? ((row.lines / row.cpuSeconds) / (row.baseline.lines / row.baseline.cpuSeconds)).toFixed(3) : '';
    console.log(`${formatRow(row)} ${perCpu} | ${row.sysSeconds.toFixed(2)} |`);
  }
}
