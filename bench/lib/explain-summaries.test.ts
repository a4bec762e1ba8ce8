// The summarising code of run.ts's explain passes, on small fixed inputs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify, formatSummary, summarise, type CpuProfile } from './cpu-profile.js';
import { breakdown, excessOver, floorVerdict, gcBetween, meanBreakdown, parseSamples, peakSample, windowSamples, type MemorySample } from './memory-breakdown.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 9 });

/** root -> (idle), (garbage collector), encode (sluice), write (node:fs), parse (undici); 1 ms steps. */
function profile(samples: number[], deltas?: number[]): CpuProfile {
  return {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 5, 6] },
      { id: 2, callFrame: frame('(idle)') },
      { id: 3, callFrame: frame('(garbage collector)') },
      { id: 4, callFrame: frame('encode', 'file:///app/dist/src/sinks/http/encode.js') },
      { id: 5, callFrame: frame('write', 'node:internal/fs/utils') },
      { id: 6, callFrame: frame('parse', 'file:///app/node_modules/undici/lib/core.js') },
    ],
    startTime: 1_000_000,
    endTime: 1_000_000 + samples.length * 1000,
    samples,
    timeDeltas: deltas ?? samples.map(() => 1000),
  };
}

describe('cpu profile summary', () => {
  it('classifies call frames into GC, sluice by file, dependencies by package, node internals, native', () => {
    assert.deepEqual(classify(frame('(garbage collector)')), { category: 'GC', part: 'GC' });
    assert.deepEqual(classify(frame('f', 'file:///w/dist/src/tailer/tailer.js')), { category: 'sluice', part: 'src/tailer/tailer.js' });
    assert.deepEqual(classify(frame('f', 'file:///w/node_modules/@smithy/x/dist/a.js')), { category: 'dependencies', part: '@smithy/x' });
    assert.deepEqual(classify(frame('f', 'node:internal/streams/writable')), { category: 'node internals', part: 'streams/writable' });
    assert.deepEqual(classify(frame('writeUtf8String')), { category: 'native builtins', part: 'writeUtf8String' });
    assert.equal(classify(frame('(program)')).category, 'native/VM (program)');
  });

  it('counts self time per category without idle, sample i lasting until sample i+1', () => {
    // encode x4, GC x2, write x1, parse x1, idle x2; the last sample has no successor and counts 0.
    const s = summarise([profile([4, 4, 3, 2, 4, 5, 3, 2, 6, 4, 2])]);
    assert.equal(s.busyUs, 8000);
    assert.equal(s.spanUs, 10_000);
    assert.deepEqual(
      s.categories.map((c) => [c.name, c.us]),
      [['sluice', 4000], ['GC', 2000], ['node internals', 1000], ['dependencies', 1000]],
    );
    assert.deepEqual(s.top[0], { name: 'encode', where: 'src/sinks/http/encode.js:10', category: 'sluice', us: 4000 });
    const [categories, top] = formatSummary(s, { label: 'µs/line', per: (us) => us / 1000 });
    assert.match(categories!, /^self time by category, share of the busy time: sluice 50\.0 %, 4\.00 µs\/line \(src\/sinks\/http\/encode\.js 50\.0 %\); GC 25\.0 %/);
    assert.match(top!, /^top self time: encode \(src\/sinks\/http\/encode\.js:10\) 50\.0 %/);
  });

  it('keeps only the window before the tail, measured from the last sample', () => {
    // 10 samples 1 s apart: GC for the first 5 (start-up), encode for the last 5.
    const s = summarise([profile([3, 3, 3, 3, 3, 4, 4, 4, 4, 4], Array(10).fill(1_000_000))], { window: { seconds: 3, tailSeconds: 1 } });
    assert.deepEqual(s.categories.map((c) => [c.name, c.us]), [['sluice', 3_000_000]]);
    assert.equal(s.spanUs, 3_000_000);
  });

  it('adds up several profiles (one per thread)', () => {
    const s = summarise([profile([4, 4, 2]), profile([3, 3, 2])]);
    assert.deepEqual(s.categories.map((c) => [c.name, c.us]), [['sluice', 2000], ['GC', 2000]]);
    assert.equal(s.profiles, 2);
  });
});

const sample = (t: number, rss: number, extra: Partial<MemorySample> = {}): MemorySample => ({
  t,
  rss,
  rssAnon: rss - 40,
  rssFile: 40,
  heapTotal: 30,
  heapUsed: 20,
  external: 4,
  arrayBuffers: 2,
  spaces: { new_space: 16, old_space: 10, code_space: 2, large_object_space: 1, new_large_object_space: 0.5, read_only_space: 0.5 },
  used: { new_space: 5, old_space: 9 },
  gcMs: { young: t / 100, full: 0, count: t / 1000 },
  ...extra,
});

describe('memory breakdown', () => {
  it('splits a sample into parts that add up to its RSS', () => {
    const b = breakdown(sample(0, 90));
    assert.deepEqual(
      { ...b },
      { rss: 90, fileBacked: 40, newSpace: 16, newSpaceUsed: 5, oldSpace: 10, oldSpaceUsed: 9, code: 2, largeObjects: 1.5, otherSpaces: 0.5, external: 4, arrayBuffers: 2, rest: 16 },
    );
    const parts = b.fileBacked + b.newSpace + b.oldSpace + b.code + b.largeObjects + b.otherSpaces + b.external + b.rest;
    assert.equal(parts, b.rss);
  });

  it('finds the peak, the window before the tail, the mean of parts and the GC pauses between samples', () => {
    const samples = parseSamples([0, 1000, 2000, 3000, 4000].map((t, i) => JSON.stringify(sample(t, [80, 95, 85, 82, 81][i]!))).join('\n') + '\n');
    assert.equal(peakSample(samples).rss, 95);
    const window = windowSamples(samples, { seconds: 2, tailSeconds: 1 });
    assert.deepEqual(window.map((s) => s.t), [1000, 2000, 3000]);
    assert.equal(meanBreakdown(window.map(breakdown)).rss, (95 + 85 + 82) / 3);
    assert.deepEqual(gcBetween(window[0]!, window.at(-1)!), { young: 20, full: 0, count: 2 });
  });

  it('states the floor: idle bare node + the agent new space, and the excess over a bare node with a full young generation', () => {
    const agent = breakdown(sample(0, 90));
    const idle = breakdown(sample(0, 42, { spaces: { new_space: 8, old_space: 3 }, external: 1, rssFile: 35 }));
    const churned = breakdown(sample(0, 62, { spaces: { new_space: 16, old_space: 3 }, external: 1, rssFile: 39 }));
    const excess = excessOver(agent, churned);
    assert.equal(excess.reduce((a, e) => a + e.mib, 0), agent.rss - churned.rss);
    const verdict = floorVerdict(60, agent, { idle, churned });
    assert.equal(verdict.floorMiB, 42 + 16);
    assert.match(verdict.text, /^target 60\.0 MiB; floor: bare node idle 42\.0 \(file-backed 35\.0\) \+ the agent's new space 16\.0 = 58\.0 MiB, leaving 2\.0 MiB/);
    assert.match(verdict.text, /The agent is 28\.0 MiB above that: rest \+13\.0, old space \+7\.0, /);
    assert.match(floorVerdict(50, agent, { idle, churned }).text, /8\.0 MiB over the target before the agent holds anything/);
  });
});
