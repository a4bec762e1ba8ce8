// Runs a command under GNU time to get CPU seconds and peak RSS of the whole process tree.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measured {
  wallSeconds: number;
  cpuSeconds: number;
  /** The kernel's part of cpuSeconds (page cache, syscalls): what moves when the VM's memory is cold. */
  sysSeconds: number;
  peakRssMiB: number;
  exitCode: number | null;
}

export function ensureGnuTime(): void {
  if (existsSync('/usr/bin/time')) return;
  const install = spawnSync('bash', ['-c', 'apt-get update -qq && apt-get install -y -qq time'], { stdio: 'inherit' });
  if (install.status !== 0 || !existsSync('/usr/bin/time')) throw new Error('GNU time (/usr/bin/time) is needed: apt-get install time');
}

export interface Running {
  /** The GNU time process; signal the measured command with `stop()`, not through this. */
  child: ChildProcess;
  /** SIGTERM the measured command (GNU time itself would die without writing its report). */
  stop(): void;
  started: number;
  /** Wait for exit and read the figures GNU time wrote. */
  result(): Promise<Measured>;
}

export function startMeasured(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdout?: 'ignore' | 'pipe' | 'inherit' } = {}): Running {
  const report = join(tmpdir(), `sluice-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', report, command, ...args], {
    stdio: ['ignore', options.stdout ?? 'ignore', 'inherit'],
    env: options.env ?? process.env,
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    started,
    stop() {
      const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      for (const pid of children) process.kill(Number(pid), 'SIGTERM');
    },
    async result() {
      const exitCode = await exited;
      const [wall, user, sys, maxKiB] = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      rmSync(report, { force: true });
      return { wallSeconds: wall!, cpuSeconds: user! + sys!, sysSeconds: sys!, peakRssMiB: maxKiB! / 1024, exitCode };
    },
  };
}

export async function measure(command: string, args: string[]): Promise<Measured> {
  return startMeasured(command, args).result();
}

export interface Row {
  workload: string;
  lines: number;
  bytes: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  /** The baseline run of the same invocation this row is compared with (`wc -l`, the writer alone). */
  baseline?: Row;
}

export function formatRow(row: Row): string {
  const linesPerSec = row.lines / row.seconds;
  const mbPerSec = row.bytes / 1e6 / row.seconds;
  const perCpu = row.cpuSeconds > 0 ? row.lines / row.cpuSeconds : Infinity;
  const ratio = row.baseline ? `${(linesPerSec / (row.baseline.lines / row.baseline.seconds)).toFixed(3)}` : '';
  return `| ${row.workload} | ${fmt(linesPerSec)} | ${mbPerSec.toFixed(1)} | ${row.cpuSeconds.toFixed(2)} | ${fmt(perCpu)} | ${row.peakRssMiB.toFixed(0)} | ${ratio} |`;
}

export const TABLE_HEADER =
  '| run | lines/s | MB/s | CPU s | lines per CPU-s | peak RSS MiB | lines/s ÷ baseline lines/s |\n|---|---:|---:|---:|---:|---:|---:|';

function fmt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '∞';
}
