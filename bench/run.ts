// `npm run bench`: runs W1-W4 and writes bench/RESULTS.md (the tables, the machine, the date, and
// the figures against issue 7's targets). `node dist/bench/run.js w1 w3` runs a subset (RESULTS.md
// then holds that subset). Set W4_SECONDS for a shorter soak.
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { TABLE_HEADER, formatRow, type Row } from './lib/measure.js';
import { describeLaunch } from './lib/product-node.js';
import { runW1 } from './w1-single-file.js';
import { formatW2Details, runW2Detailed, type W2Details } from './w2-node.js';
import { STEADY_HEADER, formatHeap, formatSteady, runW3, runW4, type SteadyResult } from './w3-w4-steady.js';

const only = process.argv.slice(2);
const wanted = (name: string): boolean => only.length === 0 || only.includes(name);

const w1 = wanted('w1') ? await runW1() : [];
const w2 = wanted('w2') ? await runW2Detailed() : undefined;
const w3 = wanted('w3') ? await runW3() : undefined;
const w4 = wanted('w4') ? await runW4() : undefined;

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
  '## Against the targets (issue 7)',
  '',
  '| workload | target | measured | met |',
  '|---|---|---|---|',
  ...targets().map((t) => `| ${t.workload} | ${t.target} | ${t.measured} | ${t.met ? 'yes' : 'no'} |`),
  '',
  ...(throughput.length > 0 ? ['## Throughput (W1, W2)', '', TABLE_HEADER, ...throughput.map(formatRow), ''] : []),
  ...(w2Details ? ['W2 check:', '', '```', formatW2Details(w2Details), '```', ''] : []),
  ...(steady.length > 0 ? ['## Steady state (W3 idle node, W4 soak)', '', STEADY_HEADER, ...steady.map(formatSteady), '', ...steady.map((r) => `- ${formatHeap(r)}`), ''] : []),
].join('\n');
writeFileSync(join(import.meta.dirname, '..', '..', 'bench', 'RESULTS.md'), report);
console.log(report);
if (w2Details && (w2Details.lost > 0 || w2Details.duplicates > 0)) process.exitCode = 1;
