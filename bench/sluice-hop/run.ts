// Agent -> aggregator -> blackhole on one machine, against agent -> blackhole in the same run.
// `node dist/bench/sluice-hop/run.js [lines=1000000]`: the W1 CRI file read by kubernetes_logs
// (pod metadata from the path, no API) into (1) a blackhole, (2) a sluice sink to an aggregator
// process (sluice source -> blackhole), (3) the same with gzip. Each process runs under GNU time:
// events/s (agent start until its sink had every event acknowledged, which across the hop means
// the aggregator's blackhole took it) and CPU per event on each side.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, runAgentUntil, sinkSentEvents } from '../lib/agent.js';
import { ensureGnuTime, startMeasured } from '../lib/measure.js';
import { agentLaunch, describeLaunch } from '../lib/product-node.js';
import { criFile, workDir } from '../lib/workspace.js';
import { freePort } from '../../test/harness.js';

const lines = Number(process.argv[2] ?? 1_000_000);
// Free ports, picked at start: fixed ones collide with other sluice processes on a shared machine.
const [AGENT_API, AGGREGATOR_API, HOP_PORT] = [await freePort(), await freePort(), await freePort()];

interface Row {
  run: string;
  seconds: number;
  agentCpu: number;
  agentRss: number;
  aggregatorCpu?: number;
  aggregatorRss?: number;
}

ensureGnuTime();
const dir = workDir('sluice-hop');
const file = await criFile(dir, lines);
const source = { k8s: { type: 'kubernetes_logs', log_directory: join(dir, 'pods'), read_from: 'beginning' } };
const rows: Row[] = [];

async function agentTo(sink: Record<string, unknown>, name: string): Promise<Awaited<ReturnType<typeof runAgentUntil>>> {
  const dataDir = join(dir, `data-agent-${name}`);
  rmSync(dataDir, { recursive: true, force: true });
  const run = await runAgentUntil({ dir, port: AGENT_API, sinkId: 'out', expected: lines, config: { data_dir: dataDir, sources: source, sinks: { out: { inputs: ['k8s'], ...sink } } } });
  if (run.sent < lines) throw new Error(`${name}: only ${run.sent} of ${lines} events acknowledged`);
  return run;
}

const direct = await agentTo({ type: 'blackhole' }, 'blackhole');
rows.push({ run: 'agent -> blackhole (baseline)', seconds: direct.secondsToComplete, agentCpu: direct.cpuSeconds, agentRss: direct.peakRssMiB });

for (const compression of [false, true]) {
  const name = compression ? 'hop-gzip' : 'hop';
  const aggDir = join(dir, `data-aggregator-${name}`);
  rmSync(aggDir, { recursive: true, force: true });
  const configPath = join(dir, `aggregator-${name}.json`);
  writeFileSync(
    configPath,
    JSON.stringify({
      data_dir: aggDir,
      api: { enabled: true, address: `127.0.0.1:${AGGREGATOR_API}` },
      sources: { in: { type: 'sluice', address: `127.0.0.1:${HOP_PORT}` } },
      sinks: { out: { type: 'blackhole', inputs: ['in'] } },
    }),
  );
  const { nodeArgs, env } = agentLaunch();
  const aggregator = startMeasured(process.execPath, [...nodeArgs, CLI, '--config', configPath, '--log-level', 'warn'], { env });
  for (const deadline = Date.now() + 15_000; ; ) {
    if ((await fetch(`http://127.0.0.1:${AGGREGATOR_API}/health`).catch(() => undefined))?.ok) break;
    if (Date.now() > deadline) throw new Error('aggregator did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const agent = await agentTo({ type: 'sluice', address: `127.0.0.1:${HOP_PORT}`, compression }, name);
  const received = await sinkSentEvents(AGGREGATOR_API, 'out');
  const metrics = await (await fetch(`http://127.0.0.1:${AGGREGATOR_API}/metrics`)).text();
  const refused = Number(/sluice_component_errors_total\{[^}]*reason="buffer_full"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
  console.log(`${name}: aggregator answered ${refused} batches 503 (downstream buffer full)`);
  aggregator.stop();
  const agg = await aggregator.result();
  if (received < lines) throw new Error(`${name}: the aggregator's blackhole took ${received} of ${lines}`);
  rows.push({ run: `agent -> sluice${compression ? ' (gzip)' : ''} -> aggregator -> blackhole`, seconds: agent.secondsToComplete, agentCpu: agent.cpuSeconds, agentRss: agent.peakRssMiB, aggregatorCpu: agg.cpuSeconds, aggregatorRss: agg.peakRssMiB });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const us = (cpu: number) => ((cpu / lines) * 1e6).toFixed(2);
console.log(`${lines.toLocaleString('en-US')} lines (${(file.bytes / 1e6).toFixed(0)} MB), ${describeLaunch()}`);
console.log('| run | events/s | agent CPU s | agent µs CPU/event | agent peak RSS MiB | aggregator CPU s | aggregator µs CPU/event | aggregator peak RSS MiB | events/s ÷ baseline |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const row of rows) {
  const agg = row.aggregatorCpu === undefined ? '| | | ' : `| ${row.aggregatorCpu.toFixed(2)} | ${us(row.aggregatorCpu)} | ${row.aggregatorRss!.toFixed(0)} `;
  console.log(`| ${row.run} | ${fmt(lines / row.seconds)} | ${row.agentCpu.toFixed(2)} | ${us(row.agentCpu)} | ${row.agentRss.toFixed(0)} ${agg}| ${(lines / row.seconds / (lines / rows[0]!.seconds)).toFixed(3)} |`);
}
