import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeCriFile } from './generate-cri.js';

/** Benchmark data lives under bench/.data (git-ignored), generated once and reused. */
export const DATA_DIR = join(import.meta.dirname, '..', '..', '..', 'bench', '.data');

export function workDir(name: string): string {
  const dir = join(DATA_DIR, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A pod log file with `lines` deterministic CRI lines, generated once per size. */
export async function criFile(dir: string, lines: number): Promise<{ path: string; bytes: number }> {
  const podDir = join(dir, 'pods', `bench_w1-app-0_00000000-0000-4000-8000-${String(lines).padStart(12, '0')}`, 'app');
  const path = join(podDir, '0.log');
  if (!existsSync(path)) {
    mkdirSync(podDir, { recursive: true });
    await writeCriFile(path, lines);
  }
  return { path, bytes: statSync(path).size };
}
