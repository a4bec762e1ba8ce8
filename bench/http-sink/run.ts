// Bench: the http sink shipping synthetic Kubernetes events to a local receiving server.
// Prints events/s, CPU seconds and peak RSS of the agent process (the receiver runs in this
// process, so its cost is not counted).
// Usage: npm run build && node dist/bench/http-sink/run.js [events=1000000]
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureGnuTime, startMeasured } from '../lib/measure.js';

const events = Number(process.argv[2] ?? 1_000_000);
const AGENT = join(import.meta.dirname, 'agent.js');

let bodies = 0;
let wireBytes = 0;
const server = createServer((req, res) => {
  req.on('data', (chunk: Buffer) => (wireBytes += chunk.length));
  req.on('end', () => {
    bodies++;
    // The bulk API's answer when every document was indexed (what the sink reads with filter_path).
    if (req.url?.includes('/_bulk')) res.writeHead(200, { 'content-type': 'application/json' }).end('{"errors":false}');
    else res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;

ensureGnuTime();
const variants = [
  { name: 'ndjson, memory buffer', codec: 'ndjson', compression: 'none', buffer: 'memory' },
  { name: 'json array + gzip, memory buffer', codec: 'json', compression: 'gzip', buffer: 'memory' },
  { name: 'ndjson, disk buffer', codec: 'ndjson', compression: 'none', buffer: 'disk' },
  { name: 'elasticsearch bulk, memory buffer', codec: 'json', compression: 'none', buffer: 'memory', sink: 'es-bulk' },
  { name: 'elasticsearch data_stream, memory buffer', codec: 'json', compression: 'none', buffer: 'memory', sink: 'es-data-stream' },
  { name: 'loki (JSON push, 10 streams), memory buffer', codec: 'json', compression: 'none', buffer: 'memory', sink: 'loki' },
  { name: 'loki (snappy protobuf), memory buffer', codec: 'json', compression: 'snappy', buffer: 'memory', sink: 'loki' },
];

console.log(`http sink -> local receiver, ${events.toLocaleString('en-US')} events of ~330 bytes (JSON), node ${process.version}\n`);
console.log('| run | events/s | events per CPU-s | CPU s | peak RSS MiB | requests | MB on the wire |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const variant of variants) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-bench-http-'));
  bodies = 0;
  wireBytes = 0;
  try {
    const running = startMeasured(process.execPath, [...(process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []), AGENT, variant.sink ? uri.replace(/\/ingest$/, '') : uri, String(events), variant.codec, variant.compression, variant.buffer, dataDir, variant.sink ?? 'http'], { stdout: 'pipe' });
    let output = '';
    running.child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const measured = await running.result();
    if (measured.exitCode !== 0) throw new Error(`agent failed (${measured.exitCode}): ${output}`);
    const { seconds } = JSON.parse(output.trim()) as { seconds: number };
    const row = [
      variant.name,
      Math.round(events / seconds).toLocaleString('en-US'),
      Math.round(events / measured.cpuSeconds).toLocaleString('en-US'),
      measured.cpuSeconds.toFixed(2),
      measured.peakRssMiB.toFixed(0),
      bodies,
      (wireBytes / 1e6).toFixed(1),
    ];
    console.log(`| ${row.join(' | ')} |`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
server.close();
