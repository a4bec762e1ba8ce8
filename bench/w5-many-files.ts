// W5, many files: P pods x 2 containers (default 2,500 x 2 = 5,000 files), each file with one line
// before the agent starts, then one line per file every 10 s. The agent (the CLI, with the product
// image's node settings) runs kubernetes_logs (path metadata) -> http into a receiver here that
// notes when each file's lines arrive.
//
//   node dist/bench/w5-many-files.js [pods=2500] [steady_seconds=60] [new_pods=5]
//
// Measured: start-up (agent start until the first line of every file has arrived), agent CPU (%
// of one core) and RSS over the steady window, and the latency of the first line of pods created
// during the window (directory + file created, one line written, until it arrives).
// Baselines of the same run: for start-up, plain node opening and reading every file once
// (`readFile` of each, 64 at a time); for CPU, the writer process's own CPU.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { benchPort, CLI } from './lib/agent.js';
import { agentLaunch, benchNodeArgs, describeLaunch } from './lib/product-node.js';
import { cpuSeconds, memoryMiB } from './lib/proc.js';
import { workDir } from './lib/workspace.js';

const CONTAINERS = ['app', 'proxy'];
const LINE_INTERVAL_S = 10;

export interface W5Result {
  pods: number;
  files: number;
  startupSeconds: number;
  baselineReadSeconds: number;
  agentCpuPercent: number | undefined;
  writerCpuPercent: number | undefined;
  rssMeanMiB: number | undefined;
  rssPeakMiB: number;
  newPodLatencyMs: number[];
  linesWritten: number;
  linesReceived: number;
  markdown: string;
}

function podDir(root: string, i: number): string {
  return join(root, `w5_pod-${i}_00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
}

function criLine(text: string): string {
  return `${new Date().toISOString().replace('Z', '000000Z')} stdout F ${text}\n`;
}

/** Receives NDJSON from the http sink; a message `w5 <file> <seq>` marks file `file`'s line `seq`. */
class Receiver {
  readonly firstSeen = new Map<number, number>();
  received = 0;
  private server!: Server;
  private readonly waiters = new Map<number, () => void>();
  async start(): Promise<number> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const now = performance.now();
        const text = Buffer.concat(chunks).toString('utf8');
        for (const m of text.matchAll(/"message":"w5 (\d+) (\d+)/g)) {
          this.received++;
          const file = Number(m[1]);
          if (!this.firstSeen.has(file)) {
            this.firstSeen.set(file, now);
            this.waiters.get(file)?.();
          }
        }
        res.writeHead(200).end();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }
  arrived(file: number): Promise<void> {
    return this.firstSeen.has(file) ? Promise.resolve() : new Promise((resolve) => this.waiters.set(file, resolve));
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The tree: every file with its first line (`w5 <file> 0`); regenerated only for a new size. */
function makeTree(root: string, pods: number): string[] {
  const marker = join(root, `.tree-${pods}`);
  const files: string[] = [];
  for (let i = 0; i < pods; i++) for (const c of CONTAINERS) files.push(join(podDir(root, i), c, '0.log'));
  if (!existsSync(marker)) {
    rmSync(root, { recursive: true, force: true });
    files.forEach((file, index) => {
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, criLine(`w5 ${index} 0`));
    });
    writeFileSync(marker, '');
  } else {
    // Back to one line per file; pods created by an earlier run go.
    files.forEach((file, index) => writeFileSync(file, criLine(`w5 ${index} 0`)));
    for (const name of readdirSync(root)) if (name.startsWith('w5_new-')) rmSync(join(root, name), { recursive: true, force: true });
  }
  return files;
}

async function baselineRead(files: string[]): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < files.length) await readFile(files[next++]!);
    }),
  );
  return (performance.now() - started) / 1000;
}

export async function runW5(pods = 2500, steadySeconds = 60, newPods = 5, extraSourceOptions: Record<string, unknown> = {}): Promise<W5Result> {
  const dir = workDir(`w5-many-files-${pods}`);
  const root = join(dir, 'pods');
  const files = makeTree(root, pods);
  rmSync(join(dir, 'data'), { recursive: true, force: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  const baselineReadSeconds = await baselineRead(files);
  const receiver = new Receiver();
  const port = await receiver.start();
  const apiPort = benchPort(18_690);
  const config = {
    data_dir: join(dir, 'data'),
    api: { enabled: true, address: `127.0.0.1:${apiPort}` },
    sources: { k8s: { type: 'kubernetes_logs', log_directory: root, ...extraSourceOptions, ...JSON.parse(process.env.BENCH_SOURCE_OPTIONS ?? '{}') } },
    sinks: { out: { type: 'http', inputs: ['k8s'], uri: `http://127.0.0.1:${port}/`, encoding: { codec: 'ndjson' } } },
  };
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config));
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', join(dir, 'profiles')] : [];
  const { nodeArgs, env } = agentLaunch([...benchNodeArgs(), ...profile]);
  const started = performance.now();
  const agent = spawn(process.execPath, [...nodeArgs, CLI, '--config', configPath, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  const pid = agent.pid!;
  const exited = new Promise((resolve) => agent.on('exit', resolve));
  const sleep = (s: number) => new Promise((resolve) => setTimeout(resolve, s * 1000));

  // Start-up: every file's first line.
  const deadline = started + 120_000;
  while (receiver.firstSeen.size < files.length && performance.now() < deadline) await sleep(0.05);
  const startupSeconds = receiver.firstSeen.size < files.length ? Number.NaN : (Math.max(...receiver.firstSeen.values()) - started) / 1000;
  const startupRss = memoryMiB(pid);

  // Steady state: one line per file every 10 s, spread evenly over the interval (100 ms ticks).
  let seq = 1;
  let written = files.length;
  let cursor = 0;
  const perTick = files.length / (LINE_INTERVAL_S * 10);
  let owed = 0;
  const writer = setInterval(() => {
    owed += perTick;
    for (; owed >= 1; owed--) {
      appendFileSync(files[cursor]!, criLine(`w5 ${cursor} ${seq}`));
      written++;
      if (++cursor === files.length) {
        cursor = 0;
        seq++;
      }
    }
  }, 100);
  let agentCpuPercent: number | undefined;
  let writerCpuPercent: number | undefined;
  let rssMeanMiB: number | undefined;
  const newPodLatencyMs: number[] = [];
  if (steadySeconds > 0) {
    await sleep(LINE_INTERVAL_S); // every file written once more: past the first round of reopens
    const cpu0 = cpuSeconds(pid);
    const self0 = process.cpuUsage();
    const t0 = performance.now();
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(memoryMiB(pid).rss), 1000);
    // New pods through the window: each one's first line, timed from the file's creation.
    const gap = steadySeconds / (newPods + 1);
    for (let n = 0; n < newPods; n++) {
      await sleep(gap);
      const index = files.length + n;
      const file = join(root, `w5_new-${n}_00000000-0000-4000-9000-${String(n).padStart(12, '0')}`, 'app', '0.log');
      mkdirSync(join(file, '..'), { recursive: true });
      const created = performance.now();
      writeFileSync(file, criLine(`w5 ${index} 0`));
      await Promise.race([receiver.arrived(index), sleep(30)]);
      newPodLatencyMs.push(receiver.firstSeen.has(index) ? receiver.firstSeen.get(index)! - created : Number.NaN);
    }
    await sleep(Math.max(0, steadySeconds - (performance.now() - t0) / 1000));
    clearInterval(sampler);
    const elapsed = (performance.now() - t0) / 1000;
    agentCpuPercent = ((cpuSeconds(pid) - cpu0) / elapsed) * 100;
    const self = process.cpuUsage(self0);
    writerCpuPercent = ((self.user + self.system) / 1e6 / elapsed) * 100;
    rssMeanMiB = rss.reduce((a, b) => a + b, 0) / rss.length;
  }
  clearInterval(writer);
  await sleep(3);
  const rssPeakMiB = memoryMiB(pid).peak;
  agent.kill('SIGTERM');
  await exited;
  await receiver.close();
  const linesReceived = receiver.received;

  const f = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d));
  const markdown = [
    `W5 ${pods.toLocaleString('en-US')} pods x ${CONTAINERS.length} containers = ${files.length.toLocaleString('en-US')} files (${describeLaunch()}; source options ${JSON.stringify({ ...extraSourceOptions, ...JSON.parse(process.env.BENCH_SOURCE_OPTIONS ?? '{}') })})`,
    '',
    '| measure | sluice | baseline (same run) | ratio |',
    '|---|---:|---:|---:|',
    `| start-up: first line of every file arrived | ${f(startupSeconds)} s (RSS then ${startupRss.rss.toFixed(0)} MiB) | ${f(baselineReadSeconds, 2)} s: plain node reading every file once | ${f(startupSeconds / baselineReadSeconds)} |`,
    ...(steadySeconds > 0
      ? [
          `| steady, 1 line per file per ${LINE_INTERVAL_S} s (${(files.length / LINE_INTERVAL_S).toFixed(0)} lines/s): agent CPU, % of one core | ${f(agentCpuPercent, 2)} % | ${f(writerCpuPercent, 2)} %: the writer | ${f((agentCpuPercent ?? 0) / (writerCpuPercent ?? 1))} |`,
          `| steady: agent RSS, mean over ${steadySeconds} s (peak of the run) | ${f(rssMeanMiB)} MiB (${rssPeakMiB.toFixed(0)}) | | |`,
          `| first line of a pod created meanwhile (${newPods} pods) | ${newPodLatencyMs.map((ms) => f(ms, 0)).join(', ')} ms | | |`,
        ]
      : []),
    `| lines written / received | ${written.toLocaleString('en-US')} / ${linesReceived.toLocaleString('en-US')} | | |`,
  ].join('\n');
  console.log(markdown);
  return { pods, files: files.length, startupSeconds, baselineReadSeconds, agentCpuPercent, writerCpuPercent, rssMeanMiB, rssPeakMiB, newPodLatencyMs, linesWritten: written, linesReceived, markdown };
}

if (process.argv[1] === import.meta.filename) {
  const [pods, seconds, newPods] = process.argv.slice(2).map(Number);
  await runW5(pods || 2500, Number.isNaN(seconds!) || seconds === undefined ? 60 : seconds, newPods ?? 5);
}
