// Appends CRI lines to many container logs at a fixed total rate, like pods on a quiet node.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeLineGenerator } from './generate-cri.js';

export interface RateWriter {
  readonly written: number;
  stop(): void;
}

/** `containers` log files under `root`, `linesPerSecond` in total, spread evenly over them. */
export function startRateWriter(root: string, containers: number, linesPerSecond: number): RateWriter {
  const files: string[] = [];
  for (let i = 0; i < containers; i++) {
    const dir = join(root, `bench_app-${i}_00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 'app');
    mkdirSync(dir, { recursive: true });
    files.push(join(dir, '0.log'));
  }
  const next = makeLineGenerator(7);
  let written = 0;
  const started = performance.now();
  const tickMs = 100;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * linesPerSecond) - written;
    const perFile = new Map<string, string>();
    for (let n = 0; n < due; n++) {
      const file = files[(written + n) % files.length]!;
      perFile.set(file, (perFile.get(file) ?? '') + next(written + n));
    }
    for (const [file, text] of perFile) appendFileSync(file, text);
    written += Math.max(due, 0);
  }, tickMs);
  return {
    get written() {
      return written;
    },
    stop: () => clearInterval(timer),
  };
}
