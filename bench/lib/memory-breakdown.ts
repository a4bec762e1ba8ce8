// What a memory-sampler.cjs sample is made of, as parts that add up to its RSS, and how a
// workload's memory compares with the floor of any Node.js process run with the same flags.
// Pure functions over samples (MiB), so that run.ts's explanations follow the data of its run.

export interface MemorySample {
  t?: number;
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

/** RSS = fileBacked + newSpace + oldSpace + code + largeObjects + otherSpaces + external + rest (MiB). */
export interface Breakdown {
  rss: number;
  /** Pages mapped from files: the node binary, shared libraries (shared with other node processes). */
  fileBacked: number;
  newSpace: number;
  newSpaceUsed: number;
  oldSpace: number;
  oldSpaceUsed: number;
  code: number;
  largeObjects: number;
  /** Every other V8 space (read-only, trusted, shared, ...). */
  otherSpaces: number;
  /** Memory V8 objects hold outside the heap (Buffers, external strings); arrayBuffers is part of it. */
  external: number;
  arrayBuffers: number;
  /** Anonymous pages outside the V8 heap and external memory: malloc (libuv, openssl, zlib, ICU), thread stacks, allocator slack. */
  rest: number;
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

export function breakdown(s: MemorySample): Breakdown {
  const space = (name: string): number => s.spaces[name] ?? 0;
  const usedOf = (name: string): number => s.used?.[name] ?? Number.NaN;
  const heap = sum(Object.values(s.spaces));
  const newSpace = space('new_space');
  const oldSpace = space('old_space');
  const code = space('code_space') + space('code_large_object_space');
  const largeObjects = space('large_object_space') + space('new_large_object_space');
  // Without the split (an older sampler log), everything counts as anonymous.
  const fileBacked = s.rssFile ?? 0;
  return {
    rss: s.rss,
    fileBacked,
    newSpace,
    newSpaceUsed: usedOf('new_space'),
    oldSpace,
    oldSpaceUsed: usedOf('old_space'),
    code,
    largeObjects,
    otherSpaces: heap - newSpace - oldSpace - code - largeObjects,
    external: s.external,
    arrayBuffers: s.arrayBuffers,
    rest: s.rss - fileBacked - heap - s.external,
  };
}

/** The part-by-part mean of several breakdowns (a target on mean RSS is explained by the mean parts). */
export function meanBreakdown(parts: Breakdown[]): Breakdown {
  if (parts.length === 0) throw new Error('no samples to average');
  const keys = Object.keys(parts[0]!) as Array<keyof Breakdown>;
  return Object.fromEntries(keys.map((key) => [key, sum(parts.map((p) => p[key])) / parts.length])) as unknown as Breakdown;
}

export function parseSamples(text: string): MemorySample[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as MemorySample);
}

export const peakSample = (samples: MemorySample[]): MemorySample => {
  if (samples.length === 0) throw new Error('no samples');
  return samples.reduce((a, b) => (b.rss > a.rss ? b : a));
};

/**
 * The samples of a measurement window given from the end of the log: the `seconds` before the last
 * `tailSeconds` (a workload's window ends a little before it stops the agent).
 */
export function windowSamples(samples: MemorySample[], window: { seconds: number; tailSeconds: number }): MemorySample[] {
  const end = samples.at(-1)?.t;
  if (end === undefined) return [];
  const to = end - window.tailSeconds * 1000;
  const from = to - window.seconds * 1000;
  return samples.filter((s) => s.t !== undefined && s.t >= from && s.t <= to);
}

/** GC pauses between the first and the last sample (the sampler's counters only grow). */
export function gcBetween(first: MemorySample, last: MemorySample): { young: number; full: number; count: number } | undefined {
  if (!first.gcMs || !last.gcMs) return undefined;
  return { young: last.gcMs.young - first.gcMs.young, full: last.gcMs.full - first.gcMs.full, count: last.gcMs.count - first.gcMs.count };
}

const f = (n: number): string => (Number.isNaN(n) ? '?' : n.toFixed(1));

export function formatBreakdown(b: Breakdown): string {
  return (
    `RSS ${f(b.rss)} MiB = file-backed ${f(b.fileBacked)} (node binary, shared libraries)` +
    ` + new space ${f(b.newSpace)} (used ${f(b.newSpaceUsed)})` +
    ` + old space ${f(b.oldSpace)} (used ${f(b.oldSpaceUsed)})` +
    ` + code ${f(b.code)} + large objects ${f(b.largeObjects)} + other V8 spaces ${f(b.otherSpaces)}` +
    ` + external ${f(b.external)} (array buffers ${f(b.arrayBuffers)})` +
    ` + rest ${f(b.rest)} (${b.rest < 0 ? 'negative: committed V8 pages not touched yet' : 'malloc: libuv, openssl, zlib, thread stacks'})`
  );
}

export interface Floor {
  /** A bare `node -e` with the agent's flags, nothing loaded, a moment after start. */
  idle: Breakdown;
  /** The same after allocating short-lived objects for a while: its young generation at the size the flags give it. */
  churned: Breakdown;
}

const PARTS: Array<[keyof Breakdown, string]> = [
  ['fileBacked', 'file-backed'],
  ['newSpace', 'new space'],
  ['oldSpace', 'old space'],
  ['code', 'code'],
  ['largeObjects', 'large objects'],
  ['otherSpaces', 'other V8 spaces'],
  ['external', 'external'],
  ['rest', 'rest'],
];

/** `agent` minus `base`, part by part, largest first (the parts sum to the RSS difference). */
export function excessOver(agent: Breakdown, base: Breakdown): Array<{ part: string; mib: number }> {
  return PARTS.map(([key, part]) => ({ part, mib: agent[key] - base[key] })).sort((a, b) => b.mib - a.mib);
}

/**
 * Where a memory target stands against what any Node.js process with these flags holds: the idle
 * bare node plus the agent's new space (committed but not yet touched in a bare node, so not in its
 * RSS), and the bare node measured once its young generation is full; then what the agent holds
 * above the latter, part by part.
 */
export function floorVerdict(targetMiB: number, agent: Breakdown, floor: Floor): { floorMiB: number; text: string } {
  const floorMiB = floor.idle.rss + agent.newSpace;
  const headroom = targetMiB - floorMiB;
  const excess = excessOver(agent, floor.churned)
    .filter((e) => Math.abs(e.mib) >= 0.05)
    .map((e) => `${e.part} ${e.mib >= 0 ? '+' : ''}${f(e.mib)}`);
  const text =
    `target ${f(targetMiB)} MiB; floor: bare node idle ${f(floor.idle.rss)} (file-backed ${f(floor.idle.fileBacked)}) + the agent's new space ${f(agent.newSpace)} = ${f(floorMiB)} MiB, ` +
    (headroom <= 0 ? `${f(-headroom)} MiB over the target before the agent holds anything` : `leaving ${f(headroom)} MiB for all the agent holds`) +
    `, which here is ${f(agent.rss - floorMiB)} MiB` +
    `; bare node once its young generation is full: ${f(floor.churned.rss)} MiB (new space ${f(floor.churned.newSpace)}, file-backed ${f(floor.churned.fileBacked)}).` +
    ` The agent is ${f(agent.rss - floor.churned.rss)} MiB above that: ${excess.join(', ') || 'nothing'}`;
  return { floorMiB, text };
}
