// The periodic rescan of a quiet pod tree: CPU of `Discovery.scanAll` on an unchanged tree of N
// files (pods x 2 containers), this build against another build's Discovery (the baseline, e.g.
// ccdbc00 built in /tmp), alternated in one process.
//   node dist/bench/discovery-rescan.js <baseline dist dir, e.g. /tmp/sluice-ccdbc00/dist> [pods=2500] [rounds=5]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Discovery } from '../src/tailer/discovery.js';
import { workDir } from './lib/workspace.js';

const [baselineDist, podsText = '2500', roundsText = '5'] = process.argv.slice(2);
if (!baselineDist) throw new Error('usage: discovery-rescan.js <baseline dist dir> [pods] [rounds]');
const pods = Number(podsText);
const rounds = Number(roundsText);
const root = join(workDir(`discovery-rescan-${pods}`), 'pods');
if (!existsSync(join(root, '..', `.tree-${pods}`))) {
  for (let i = 0; i < pods; i++) {
    for (const c of ['app', 'proxy']) {
      const dir = join(root, `ns_pod-${i}_00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, c);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, '0.log'), 'x\n');
    }
  }
  writeFileSync(join(root, '..', `.tree-${pods}`), '');
}
const Baseline = ((await import(join(baselineDist, 'src', 'tailer', 'discovery.js'))) as { Discovery: typeof Discovery }).Discovery;
const events = { pathChanged: () => {}, fileWritten: () => {}, rejected: () => {}, watchRefused: () => {} };
const make = (D: typeof Discovery) => new D([{ dir: root, depth: 2 }], (path) => /^\d+\.log/.test(basename(path)), events, { maxWatchedDirectories: 100_000 });
const variants = { baseline: make(Baseline), 'this build': make(Discovery) };
for (const d of Object.values(variants)) await d.scanAll(); // first scans: list and watch everything
await new Promise((resolve) => setTimeout(resolve, 2500)); // listings of a just-created tree settle after 2 s
for (const d of Object.values(variants)) await d.scanAll();
const cpu: Record<string, number[]> = { baseline: [], 'this build': [] };
for (let round = 0; round < rounds; round++) {
  for (const [name, d] of Object.entries(variants)) {
    const before = process.cpuUsage();
    const found = await d.scanAll();
    const used = process.cpuUsage(before);
    if (found.length !== pods * 2) throw new Error(`${name} found ${found.length} files, not ${pods * 2}`);
    cpu[name]!.push((used.user + used.system) / 1000);
  }
}
for (const d of Object.values(variants)) d.close();
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const [name, values] of Object.entries(cpu)) console.log(`${name.padEnd(11)} rescan of ${pods * 2} files: ${values.map((v) => v.toFixed(0)).join(', ')} ms CPU (median ${median(values).toFixed(0)})`);
console.log(`ratio this build / baseline (medians): ${(median(cpu['this build']!) / median(cpu.baseline!)).toFixed(2)}`);
