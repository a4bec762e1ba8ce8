// `node dist/bench/lib/memory-peak.js <BENCH_MEMORY_LOG file>`: the sample with the highest RSS of a
// memory-sampler.cjs log, and the first one, as one line each (what the peak holds).
import { readFileSync } from 'node:fs';

interface Sample {
  rss: number;
  rssAnon?: number;
  rssFile?: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  spaces: Record<string, number>;
  used?: Record<string, number>;
  gcMs?: { young: number; full: number; count: number };
}

export function describeSample(s: Sample): string {
  const space = (name: string) => `${s.spaces[name] ?? 0}${s.used ? ` (used ${s.used[name] ?? 0})` : ''}`;
  return (
    `RSS ${s.rss} MiB` +
    (s.rssAnon !== undefined ? ` (anonymous ${s.rssAnon}, file-backed ${s.rssFile})` : '') +
    ` = heap ${s.heapTotal} (new ${space('new_space')}, old ${space('old_space')}, code ${space('code_space')}, large objects ${space('large_object_space')}; used ${s.heapUsed})` +
    ` + external ${s.external} (array buffers ${s.arrayBuffers}) + ${Math.round((s.rss - s.heapTotal - s.external) * 10) / 10} outside the JS heap`
  );
}

export function memoryPeak(path: string): { first: Sample; peak: Sample; last: Sample } {
  const samples = readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Sample);
  if (samples.length === 0) throw new Error(`${path}: no samples`);
  return { first: samples[0]!, peak: samples.reduce((a, b) => (b.rss > a.rss ? b : a)), last: samples.at(-1)! };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { first, peak, last } = memoryPeak(process.argv[2]!);
  console.log(`first: ${describeSample(first)}`);
  console.log(`peak:  ${describeSample(peak)}`);
  if (last.gcMs) console.log(`GC pauses over the run: young ${last.gcMs.young} ms, full ${last.gcMs.full} ms (${last.gcMs.count} GCs)`);
}
