// Node-side benchmark: generates a kubelet-style log tree (CRI, ~196-byte lines), then reads it
// with `wc -l`, with the kubernetes_logs source alone, and with the sluice agent into the
// blackhole and file sinks; prints lines/s, MB/s, CPU seconds and peak RSS for each.
//
//   node dist/bench/node-side/run.js [--containers 100] [--lines 20000] [--keep]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sinkSentEvents } from '../lib/agent.js';
import { writeCriFile } from '../lib/generate-cri.js';
import { TABLE_HEADER, ensureGnuTime, formatRow, measure, startMeasured, type Measured, type Row } from '../lib/measure.js';

const { values } = parseArgs({
  options: {
    containers: { type: 'string', default: '100' },
    lines: { type: 'string', default: '20000' },
    keep: { type: 'boolean', default: false },
  },
});
const containers = Number(values.containers);
const linesPerContainer = Number(values.lines);
const totalLines = containers * linesPerContainer;
ensureGnuTime();

const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-node-'));
const logDirectory = join(dir, 'pods');
const files: string[] = [];
let totalBytes = 0;
process.stderr.write(`generating ${containers} containers x ${linesPerContainer} lines in ${logDirectory}\n`);
for (let i = 0; i < containers; i++) {
  const containerDir = join(logDirectory, `bench_pod-${i}_uid-${i}`, 'app');
  mkdirSync(containerDir, { recursive: true });
  const path = join(containerDir, '0.log');
  totalBytes += await writeCriFile(path, linesPerContainer, 1000 + i);
  files.push(path);
}

const ENTRY = join(import.meta.dirname, '..', '..', 'src', 'cli.js');
const DIRECT = join(import.meta.dirname, 'direct.js');

async function runAgent(name: string, sink: Record<string, unknown>, port: number): Promise<Measured & { seconds: number }> {
  const runDir = join(dir, name);
  mkdirSync(runDir);
  const configPath = join(runDir, 'sluice.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      data_dir: join(runDir, 'data'),
      api: { enabled: true, address: `127.0.0.1:${port}` },
      sources: { k8s: { type: 'kubernetes_logs', log_directory: logDirectory } },
      sinks: { out: { inputs: ['k8s'], ...sink } },
    }),
  );
  const running = startMeasured(process.execPath, [ENTRY, '--config', configPath, '--log-level', 'warn']);
  let completedAt = 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if ((await sinkSentEvents(port, 'out')) >= totalLines) {
      completedAt = performance.now();
      break;
    }
    if (running.child.exitCode !== null) break;
  }
  stopMeasuredChild(running.child.pid!);
  const measured = await running.result();
  if (!completedAt) throw new Error(`${name}: the agent stopped before shipping ${totalLines} lines`);
  return { ...measured, seconds: (completedAt - running.started) / 1000 };
}

/**
 * SIGTERM the agent itself, not the GNU time wrapping it: time killed by a signal writes no
 * figures, while time whose child exits reports it.
 */
function stopMeasuredChild(timePid: number): void {
  const children = readFileSync(`/proc/${timePid}/task/${timePid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  for (const pid of children) process.kill(Number(pid), 'SIGTERM');
}

const rows: string[] = [];
let baseline: Row | undefined;
const row = (workload: string, m: Measured, seconds = m.wallSeconds) => {
  const measured: Row = { workload, lines: totalLines, bytes: totalBytes, seconds, cpuSeconds: m.cpuSeconds, peakRssMiB: m.peakRssMiB, ...(baseline ? { baseline } : {}) };
  baseline ??= measured; // the first row (wc -l) is the others' baseline
  rows.push(formatRow(measured));
};

row('wc -l (same files)', await measure('wc', ['-l', ...files]));
row('kubernetes_logs source alone -> counting output', await measure(process.execPath, [DIRECT, logDirectory, join(dir, 'direct-data'), String(totalLines)]));
const blackhole = await runAgent('blackhole', { type: 'blackhole' }, 18686 + (process.pid % 1000));
row('sluice: kubernetes_logs -> blackhole', blackhole, blackhole.seconds);
const file = await runAgent('file', { type: 'file', path: join(dir, 'file', 'out.ndjson') }, 19686 + (process.pid % 1000));
row('sluice: kubernetes_logs -> file (ndjson)', file, file.seconds);

process.stdout.write(`\n${containers} containers x ${linesPerContainer} lines = ${totalLines.toLocaleString('en-US')} lines, ${(totalBytes / 1e6).toFixed(1)} MB (avg ${(totalBytes / totalLines).toFixed(0)} B/line)\n\n`);
process.stdout.write(`${TABLE_HEADER}\n${rows.join('\n')}\n`);
process.stdout.write('\nAgent runs include startup (~0.3 s) and the 50 ms polling of /metrics; CPU and RSS are the whole process (GNU time).\n');
if (values.keep) process.stdout.write(`tree kept in ${dir}\n`);
else rmSync(dir, { recursive: true, force: true });
