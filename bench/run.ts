// `npm run bench`: runs W1-W4 and writes bench/RESULTS.md (the tables, the machine, the date, and
// the figures against issue 7's targets). `node dist/bench/run.js w1 w3` runs a subset (RESULTS.md
// then holds that subset). Set W4_SECONDS for a shorter soak.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { TABLE_HEADER, formatRow, type Row } from './lib/measure.js';
import { describeLaunch } from './lib/product-node.js';
import { runW1 } from './w1-single-file.js';
import { formatW2Details, runW2Detailed, type W2Details } from './w2-node.js';
import { STEADY_HEADER, formatHeap, formatSteady, runW3, runW4, type SteadyResult } from './w3-w4-steady.js';
import { runW5, type W5Result } from './w5-many-files.js';
import { runW6, type W6Result } from './w6-cluster.js';

const only = process.argv.slice(2);
const wanted = (name: string): boolean => only.length === 0 || only.includes(name);

const w1 = wanted('w1') ? await runW1() : [];
const w2 = wanted('w2') ? await runW2Detailed() : undefined;
const w3 = wanted('w3') ? await runW3() : undefined;
const w4 = wanted('w4') ? await runW4() : undefined;
const w5: W5Result[] = wanted('w5') ? [await runW5(2500, 60, 5), await runW5(5000, 0, 0)] : [];
const w6: W6Result | undefined = wanted('w6') ? await runW6() : undefined;

interface Target {
  workload: string;
  target: string;
  measured: string;
  met: boolean;
}

function targets(): Target[] {
  const rows: Target[] = [];
  const file = w1.find((row) => row.workload.endsWith('-> file'));
  if (file) {
    const perCpu = file.lines / file.cpuSeconds;
    const rate = file.lines / file.seconds;
    rows.push({
      workload: 'W1 -> file',
      target: '>= 300,000 lines/s, >= 300,000 lines per CPU-s, peak RSS <= 100 MiB',
      measured: `${Math.round(rate).toLocaleString('en-US')} lines/s, ${Math.round(perCpu).toLocaleString('en-US')} per CPU-s, ${file.peakRssMiB.toFixed(0)} MiB`,
      met: rate >= 300_000 && perCpu >= 300_000 && file.peakRssMiB <= 100,
    });
  }
  if (w2) {
    const row = w2.rows.find((r) => r.workload.startsWith('W2 sluice'))!;
    const rate = row.lines / row.seconds;
    rows.push({
      workload: 'W2 -> http, enriched',
      target: '>= 200,000 lines/s, 0 lost',
      measured: `${Math.round(rate).toLocaleString('en-US')} lines/s, ${w2.details.lost} lost, ${w2.details.duplicates} duplicated`,
      met: rate >= 200_000 && w2.details.lost === 0 && w2.details.duplicates === 0,
    });
  }
  if (w3) {
    const rss = Math.max(w3.agentRssStartMiB, w3.agentRssEndMiB);
    rows.push({
      workload: 'W3 idle node',
      target: '<= 1 % of one core, RSS <= 80 MiB',
      measured: `${w3.agentCpuPercent.toFixed(2)} %, RSS ${w3.agentRssStartMiB.toFixed(1)} / ${w3.agentRssEndMiB.toFixed(1)} MiB (means of first / last minute; peak ${w3.agentPeakRssMiB.toFixed(1)})`,
      met: w3.agentCpuPercent <= 1 && rss <= 80,
    });
  }
  if (w4) {
    const growth = ((w4.agentRssEndMiB - w4.agentRssStartMiB) / w4.agentRssStartMiB) * 100;
    rows.push({
      workload: 'W4 soak',
      target: 'RSS growth < 5 % from minute 1 to minute 10',
      measured: `${w4.agentRssStartMiB.toFixed(1)} -> ${w4.agentRssEndMiB.toFixed(1)} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %)`,
      met: growth < 5,
    });
  }
  // Issue 17's targets for the same runs (memory at or below Fluent Bit's, keeping the throughput).
  if (file) {
    const rate = file.lines / file.seconds;
    rows.push({
      workload: 'W1 -> file, memory',
      target: 'peak RSS <= 60 MiB, keeping >= 280,000 lines/s (issue 17)',
      measured: `${file.peakRssMiB.toFixed(0)} MiB, ${Math.round(rate).toLocaleString('en-US')} lines/s`,
      met: file.peakRssMiB <= 60 && rate >= 280_000,
    });
  }
  if (w2) {
    const row = w2.rows.find((r) => r.workload.startsWith('W2 sluice'))!;
    const rate = row.lines / row.seconds;
    rows.push({
      workload: 'W2 -> http, memory',
      target: 'peak RSS <= 110 MiB, keeping >= 200,000 lines/s (issue 17)',
      measured: `${row.peakRssMiB.toFixed(0)} MiB, ${Math.round(rate).toLocaleString('en-US')} lines/s`,
      met: row.peakRssMiB <= 110 && rate >= 200_000,
    });
  }
  if (w3) {
    const rss = (w3.agentRssStartMiB + w3.agentRssEndMiB) / 2;
    rows.push({
      workload: 'W3 idle node, round 2',
      target: '<= 0.5 % of one core, RSS <= 70 MiB mean (issue 17)',
      measured: `${w3.agentCpuPercent.toFixed(2)} %, RSS ${rss.toFixed(1)} MiB mean`,
      met: w3.agentCpuPercent <= 0.5 && rss <= 70,
    });
  }
  for (const r of w5) {
    if (r.agentCpuPercent !== undefined) {
      const latency = Math.max(...r.newPodLatencyMs.map((ms) => (Number.isNaN(ms) ? Infinity : ms)));
      rows.push({
        workload: `W5 ${r.files.toLocaleString('en-US')} files`,
        target: '<= 5 % of one core, <= 120 MiB after start-up, start-up <= 10 s, a new pod\'s first line <= 2 s (issue 17)',
        measured: `${r.agentCpuPercent.toFixed(1)} %, ${r.rssMeanMiB?.toFixed(0)} MiB, start-up ${r.startupSeconds.toFixed(1)} s, new pod <= ${latency.toFixed(0)} ms`,
        met: r.agentCpuPercent <= 5 && (r.rssMeanMiB ?? Infinity) <= 120 && r.startupSeconds <= 10 && latency <= 2000,
      });
    } else {
      rows.push({
        workload: `W5 ${r.files.toLocaleString('en-US')} files, start-up`,
        target: 'start-up <= 20 s (issue 17)',
        measured: `${r.startupSeconds.toFixed(1)} s`,
        met: r.startupSeconds <= 20,
      });
    }
  }
  if (w6) {
    const jittered = w6.startup.find((s) => s.jitterMs > 0);
    const busiest = w6.steady.at(-1);
    rows.push({
      workload: 'W6 1,000 agents',
      target: 'start-up lists from the watch cache, spread by jitter; steady requests = the watches; bytes per agent in its own pods (issue 17)',
      measured: `${jittered?.fromEtcd ?? '-'} lists from etcd at start-up; ${busiest ? `${busiest.requestsPerSecond.toFixed(2)} requests/s at ${busiest.churn} replacements/s; ${busiest.bytesPerAgentPerSecond.toFixed(0)} B/s per agent = ${(busiest.bytesPerAgentPerSecond / busiest.clusterPodBytesPerSecond).toFixed(4)} of the cluster's pod events` : ''}`,
      met: jittered?.fromEtcd === 0 && (busiest?.requestsPerSecond ?? 1) < 1,
    });
  }
  return rows;
}

const steady: SteadyResult[] = [w3, w4].filter((r): r is SteadyResult => r !== undefined);
const throughput: Row[] = [...w1, ...(w2?.rows ?? [])];
const w2Details: W2Details | undefined = w2?.details;

const report = [
  '# Benchmark results',
  '',
  `Measured ${new Date().toISOString()} on ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.`,
  `The agent ran as the product image runs it: ${describeLaunch()}.`,
  'Produced by `npm run bench` (see bench/README.md for what each workload does). Figures vary between runs by',
  'roughly 10-20 % on a shared 2-core machine; the baseline rows ran in the same invocation.',
  '',
  '## Against the targets (issue 7, then issue 17)',
  '',
  '| workload | target | measured | met |',
  '|---|---|---|---|',
  ...targets().map((t) => `| ${t.workload} | ${t.target} | ${t.measured} | ${t.met ? 'yes' : 'no'} |`),
  '',
  ...(throughput.length > 0 ? ['## Throughput (W1, W2)', '', TABLE_HEADER, ...throughput.map(formatRow), ''] : []),
  ...(w2Details ? ['W2 check:', '', '```', formatW2Details(w2Details), '```', ''] : []),
  ...(steady.length > 0 ? ['## Steady state (W3 idle node, W4 soak)', '', STEADY_HEADER, ...steady.map(formatSteady), '', ...steady.map((r) => `- ${formatHeap(r)}`), ''] : []),
  ...(w5.length > 0 ? ['## Many files (W5)', '', ...w5.flatMap((r) => [r.markdown, '']), ''] : []),
  ...(w6 ? ['## Cluster scale (W6)', '', w6.markdown, ''] : []),
].join('\n');
// Notes written by hand (profiles, before/after tables) live below this marker and are kept.
const MARKER = '<!-- hand-written notes below: kept when run.ts rewrites this file -->';
const resultsPath = join(import.meta.dirname, '..', '..', 'bench', 'RESULTS.md');
const previous = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '';
const notes = previous.includes(MARKER) ? previous.slice(previous.indexOf(MARKER)) : '';
writeFileSync(resultsPath, notes ? `${report}\n${notes}` : report);
console.log(report);
if (w2Details && (w2Details.lost > 0 || w2Details.duplicates > 0)) process.exitCode = 1;
