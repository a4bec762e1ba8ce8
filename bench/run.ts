// `npm run bench`: runs W1-W4 and writes bench/RESULTS.md (the table, the machine, the date).
// W2 is included when bench/w2-node.ts exists in this build. Set W4_SECONDS for a shorter soak.
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { TABLE_HEADER, formatRow, type Row } from './lib/measure.js';
import { runW1 } from './w1-single-file.js';
import { STEADY_HEADER, formatSteady, runW3, runW4 } from './w3-w4-steady.js';

const only = process.argv.slice(2);
const wanted = (name: string): boolean => only.length === 0 || only.includes(name);
const throughput: Row[] = [];
const steady: string[] = [];

if (wanted('w1')) throughput.push(...(await runW1()));
if (wanted('w2')) {
  const w2Module = './w2-node.js'; // a variable: this file must build before W2 exists
  const w2 = (await import(w2Module).catch(() => undefined)) as { runW2?: () => Promise<Row[]> } | undefined;
  if (w2?.runW2) throughput.push(...(await w2.runW2()));
}
if (wanted('w3')) steady.push(formatSteady(await runW3()));
if (wanted('w4')) steady.push(formatSteady(await runW4()));

const report = [
  '# Benchmark results',
  '',
  `Measured ${new Date().toISOString()} on ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.`,
  'Produced by `npm run bench` (see bench/README.md for what each workload does). Figures vary between runs by',
  'roughly 10-20 % on a shared 2-core machine; the baseline rows ran in the same invocation.',
  '',
  '## Throughput (W1, W2)',
  '',
  TABLE_HEADER,
  ...throughput.map(formatRow),
  '',
  '## Steady state (W3 idle node, W4 soak)',
  '',
  STEADY_HEADER,
  ...steady,
  '',
].join('\n');
writeFileSync(join(import.meta.dirname, '..', '..', 'bench', 'RESULTS.md'), report);
console.log(report);
