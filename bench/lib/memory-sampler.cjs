// `BENCH_NODE_ARGS="--require <this file>"`: every 100 ms, appends the agent's memory breakdown
// (process.memoryUsage and V8's heap spaces, MiB) as one JSON line to $BENCH_MEMORY_LOG, so the
// peak of a run can be split into heap spaces, external memory and array buffers.
const { appendFileSync } = require('node:fs');
const v8 = require('node:v8');
const out = process.env.BENCH_MEMORY_LOG;
if (out) {
  const mib = (n) => Math.round((n / 2 ** 20) * 10) / 10;
  setInterval(() => {
    const m = process.memoryUsage();
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, mib(s.space_size)]));
    appendFileSync(out, `${JSON.stringify({ t: Date.now(), rss: mib(m.rss), heapTotal: mib(m.heapTotal), heapUsed: mib(m.heapUsed), external: mib(m.external), arrayBuffers: mib(m.arrayBuffers), spaces })}\n`);
  }, 100).unref();
}
