// Many quiet files past max_open_files: the source alone (in this process) on N pods that wrote
// one line each and then stay quiet. Prints the CPU it spends (% of one core) over a window once
// every line is read, capped (N > max_open_files: the idle poll reopens parked files, each reopen
// parks another) and uncapped (max_open_files >= N) as the baseline of the same run.
//   node dist/bench/many-quiet-files.js [files=4000] [max_open_files=1024] [seconds=10]
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import type { LogEvent } from '../src/core/event.js';
import { MetricsRegistry } from '../src/core/metrics.js';
import { kubernetesLogsSchema } from '../src/sources/kubernetes_logs/config.js';
import { KubernetesLogsSource } from '../src/sources/kubernetes_logs/source.js';
import { workDir } from './lib/workspace.js';

const [filesText = '4000', maxOpenText = '1024', secondsText = '10'] = process.argv.slice(2);
const files = Number(filesText);
const maxOpen = Number(maxOpenText);
const seconds = Number(secondsText);

/** The tree is generated once per size and reused (its checkpoints are not). */
function makeTree(dir: string): void {
  rmSync(join(dir, 'data'), { recursive: true, force: true });
  const marker = join(dir, `tree-${files}`);
  if (existsSync(marker)) return;
  rmSync(dir, { recursive: true, force: true });
  for (let i = 0; i < files; i++) {
    const container = join(dir, 'pods', `quiet_p${i}_00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 'c');
    mkdirSync(container, { recursive: true });
    writeFileSync(join(container, '0.log'), `2026-01-01T00:00:00.000000001Z stdout F quiet ${i}\n`);
  }
  writeFileSync(marker, '');
}

async function measure(maxOpenFiles: number): Promise<{ cpuPercent: number; events: number }> {
  const dir = workDir(`many-quiet-files-${files}`);
  makeTree(dir);
  const source = new KubernetesLogsSource(
    kubernetesLogsSchema.parse({ log_directory: join(dir, 'pods'), max_open_files: maxOpenFiles }),
    { id: 'k8s', logger: pino({ level: 'warn' }), metrics: new MetricsRegistry().forComponent('source', 'k8s', 'kubernetes_logs'), dataDir: join(dir, 'data') },
  );
  const controller = new AbortController();
  let events = 0;
  const running = source.run({
    out: {
      send(batch: LogEvent[]) {
        events += batch.length;
        for (const event of batch) event.ack();
        return undefined;
      },
    },
    shutdown: controller.signal,
  });
  while (events < files) await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 3000)); // past start-up work (JIT, first scans)
  const before = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const used = process.cpuUsage(before);
  controller.abort();
  await running;
  await source.close();
  return { cpuPercent: ((used.user + used.system) / 1e3 / (seconds * 1000)) * 100, events };
}

const capped = await measure(maxOpen);
const baseline = await measure(Math.max(files, maxOpen));
const line = (name: string, r: { cpuPercent: number; events: number }): string => `${name.padEnd(34)} ${r.cpuPercent.toFixed(1).padStart(6)} % of a core  (${r.events} events)`;
process.stdout.write(`${files} quiet files, ${seconds} s window\n`);
process.stdout.write(`${line(`max_open_files = ${maxOpen}`, capped)}\n`);
process.stdout.write(`${line(`max_open_files = ${Math.max(files, maxOpen)} (baseline)`, baseline)}\n`);
process.stdout.write(`ratio capped / baseline: ${(capped.cpuPercent / baseline.cpuPercent).toFixed(1)}\n`);
