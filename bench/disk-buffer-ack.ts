// Disk buffer: push -> read back -> ack, CPU per event, this build against a baseline build in the
// same run, alternated (each run in its own process). The read pointer is written in place on
// every ack since s5-disk-replay: this measures what that costs.
// `node dist/bench/disk-buffer-ack.js [baseline dist dir, e.g. /tmp/base/dist] [events=400000] [rounds=3]`
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const PER_RECORD = 100;

if (process.argv[2] === '--child') {
  const [distDir, count] = [process.argv[3]!, Number(process.argv[4])];
  const { DiskBuffer } = (await import(pathToFileURL(join(distDir, 'src/core/buffers/disk.js')).href)) as typeof import('../src/core/buffers/disk.js');
  const { LogEvent } = (await import(pathToFileURL(join(distDir, 'src/core/event.js')).href)) as typeof import('../src/core/event.js');
  const { Finalizer } = (await import(pathToFileURL(join(distDir, 'src/core/finalizer.js')).href)) as typeof import('../src/core/finalizer.js');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-disk-'));
  try {
    const buffer = await DiskBuffer.open({ dir, maxBytes: 256 * 1024 * 1024, whenFull: 'block' });
    const pod = Object.freeze({ pod_name: 'bench-pod', namespace: 'default', container: 'app' });
    const started = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let done = 0;
    const consumed = (async () => {
      for await (const batch of buffer) {
        for (const event of batch) event.ack('delivered');
        done += batch.length;
        if (done >= count) break;
      }
    })();
    for (let n = 0; n < count; n += PER_RECORD) {
      const finalizer = new Finalizer(PER_RECORD, () => undefined);
      const events = Array.from({ length: PER_RECORD }, (_, i) => new LogEvent({ message: `line ${n + i} ${'x'.repeat(80)}`, timestamp: '2026-12-02T02:00:00.000000000Z', kubernetes: pod }, finalizer));
      await buffer.push(events);
    }
    await consumed;
    await buffer.shutdown();
    const cpu = process.cpuUsage(started);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(JSON.stringify({ cpuSeconds: (cpu.user + cpu.system) / 1e6, seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

const baseline = process.argv[2] && process.argv[2] !== '-' ? resolve(process.argv[2]) : undefined;
const events = Number(process.argv[3] ?? 400_000);
const rounds = Number(process.argv[4] ?? 3);
const self = resolve(import.meta.dirname, '..');
const variants: Array<[string, string]> = [['this build', self], ...(baseline ? ([['baseline', baseline]] as Array<[string, string]>) : [])];
const results = new Map<string, Array<{ cpuSeconds: number; seconds: number; maxRssMiB: number }>>();
for (let round = 0; round < rounds; round++) {
  for (const [name, dist] of variants) {
    const out = execFileSync(process.execPath, [import.meta.filename, '--child', dist, String(events)], { encoding: 'utf8' });
    results.set(name, [...(results.get(name) ?? []), JSON.parse(out.trim().split('\n').pop()!)]);
  }
}
console.log(`disk buffer push -> read -> ack, ${events} events in ${PER_RECORD}-event records, ${rounds} rounds alternated`);
for (const [name, runs] of results) {
  const cpu = runs.map((r) => r.cpuSeconds);
  const perEvent = cpu.map((c) => ((c / events) * 1e6).toFixed(2)).join(' / ');
  console.log(`${name}: CPU s ${cpu.map((c) => c.toFixed(2)).join(' / ')} (µs/event ${perEvent}); wall s ${runs.map((r) => r.seconds.toFixed(2)).join(' / ')}; peak RSS MiB ${runs.map((r) => r.maxRssMiB.toFixed(0)).join(' / ')}`);
}
