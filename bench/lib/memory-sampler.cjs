// `BENCH_NODE_ARGS="--require <this file>"`: every 100 ms ($BENCH_MEMORY_INTERVAL_MS), appends the agent's memory breakdown
// (process.memoryUsage, RSS split into anonymous and file-backed pages from /proc/self/status, and
// V8's heap spaces: size and used, MiB; GC pause milliseconds so far) as one JSON line to $BENCH_MEMORY_LOG, so the peak of a
// run can be split into heap spaces, external memory, array buffers and what lies outside V8.
// `require(<this file>).sample()` gives one such sample without a log (the bare-node reference of
// bench/lib/node-floor.ts takes the same figures this way).
const { appendFileSync, readFileSync } = require('node:fs');
const v8 = require('node:v8');
const { PerformanceObserver, constants } = require('node:perf_hooks');
const out = process.env.BENCH_MEMORY_LOG;
// Milliseconds spent in GC pauses so far, young (scavenge) and full (mark-compact, incremental steps).
const gcMs = { young: 0, full: 0, count: 0 };
const mib = (n) => Math.round((n / 2 ** 20) * 10) / 10;
const status = (text, key) => mib(Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN) * 1024);
function sample() {
  const m = process.memoryUsage();
  const proc = readFileSync('/proc/self/status', 'utf8');
  const heap = v8.getHeapSpaceStatistics().filter((s) => s.space_size > 0);
  const spaces = Object.fromEntries(heap.map((s) => [s.space_name, mib(s.space_size)]));
  const used = Object.fromEntries(heap.map((s) => [s.space_name, mib(s.space_used_size)]));
  return { t: Date.now(), rss: mib(m.rss), rssAnon: status(proc, 'RssAnon'), rssFile: status(proc, 'RssFile'), heapTotal: mib(m.heapTotal), heapUsed: mib(m.heapUsed), external: mib(m.external), arrayBuffers: mib(m.arrayBuffers), spaces, used, gcMs: { young: Math.round(gcMs.young), full: Math.round(gcMs.full), count: gcMs.count } };
}
module.exports = { sample };
if (out) {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = entry.detail?.kind ?? entry.kind;
      gcMs[kind === constants.NODE_PERFORMANCE_GC_MINOR ? 'young' : 'full'] += entry.duration;
      gcMs.count++;
    }
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => appendFileSync(out, `${JSON.stringify(sample())}\n`), Number(process.env.BENCH_MEMORY_INTERVAL_MS ?? 100)).unref();
}
