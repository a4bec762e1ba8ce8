// `node dist/bench/lib/memory-peak.js <BENCH_MEMORY_LOG file>`: the first sample and the one with the
// highest RSS of a memory-sampler.cjs log, each split into parts that add up to its RSS, and the GC
// pauses of the run (what the peak holds; run.ts's explain passes print the same split).
import { readFileSync } from 'node:fs';
import { breakdown, formatBreakdown, gcBetween, parseSamples, peakSample, type MemorySample } from './memory-breakdown.js';

export function memoryPeak(path: string): { first: MemorySample; peak: MemorySample; last: MemorySample } {
  const samples = parseSamples(readFileSync(path, 'utf8'));
  if (samples.length === 0) throw new Error(`${path}: no samples`);
  return { first: samples[0]!, peak: peakSample(samples), last: samples.at(-1)! };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { first, peak, last } = memoryPeak(process.argv[2]!);
  console.log(`first: ${formatBreakdown(breakdown(first))}`);
  console.log(`peak:  ${formatBreakdown(breakdown(peak))}`);
  const gc = gcBetween(first, last);
  if (gc) console.log(`GC pauses over the run: young ${gc.young} ms, full ${gc.full} ms (${gc.count} GCs)`);
}
