import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { DiskBuffer } from '../../core/buffers/disk.js';
import { FakeCloudwatchLogs } from '../../../test/fakes/cloudwatch-logs.js';
import { FakeElasticsearch } from '../../../test/fakes/elasticsearch.js';
import { FakeGcpLogging } from '../../../test/fakes/gcp-logging.js';
import { FakeLoki } from '../../../test/fakes/loki.js';
import { Receiver } from '../../../test/fakes/receiver.js';
import { startS3 } from '../../../test/fakes/s3.js';
import { sinkContext } from '../../../test/fakes/sink-harness.js';
import { buildTestSink } from './disk-recovery-sinks.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'disk-recovery-child.js');
/** Nothing listens on port 1: every request is refused, like a destination that is down. */
const DEAD = 'http://127.0.0.1:1';

/** Run the child until `minAcks` events are on disk, kill it with SIGKILL, return the acked ids. */
async function runUntilKilled(dir: string, type: string, minAcks: number): Promise<Set<number>> {
  const proc = spawn(process.execPath, [child, dir, type, DEAD], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const acked = new Set<number>();
  let rest = '';
  await new Promise<void>((resolve, reject) => {
    proc.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child ended: ${code ?? signal}`))));
    proc.stdout.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line.startsWith('acked ')) acked.add(Number(line.slice(6)));
      if (acked.size >= minAcks && !proc.killed) proc.kill('SIGKILL');
    });
  });
  return acked;
}

/** Restart: reopen the buffer and let the same sink type drain it into the live destination. */
async function drainInto(dir: string, type: string, destination: string): Promise<void> {
  const buffer = await DiskBuffer.open({ dir, maxBytes: 64 * 1024 * 1024, whenFull: 'block' });
  assert.ok(buffer.size > 0, 'events survived the kill');
  buffer.close();
  await buildTestSink(type, destination, sinkContext('out', type)).run(buffer);
  await buffer.whenFinished();
}

const destinations: Record<string, () => Promise<{ url: string; ids: () => Promise<number[]>; close: () => Promise<void> }>> = {
  http: async () => {
    const receiver = await new Receiver().start();
    return {
      url: receiver.url,
      ids: async () => receiver.requests.flatMap((r) => r.body.trim().split('\n').map((l) => (JSON.parse(l) as { id: number }).id)),
      close: () => receiver.close(),
    };
  },
  elasticsearch: async () => {
    const es = await new FakeElasticsearch().start();
    return { url: es.url, ids: async () => es.index('recovered').map((d) => d.source.id as number), close: () => es.close() };
  },
  loki: async () => {
    const loki = await new FakeLoki().start();
    return { url: loki.url, ids: async () => loki.stream({ job: 'recovered' }).map((e) => (JSON.parse(e.line) as { id: number }).id), close: () => loki.close() };
  },
  aws_s3: async () => {
    const s3 = await startS3(['recovered']);
    return {
      url: s3.url,
      ids: async () =>
        (await s3.objects('recovered')).flatMap((o) => gunzipSync(o.body).toString().trim().split('\n').map((l) => (JSON.parse(l) as { id: number }).id)),
      close: () => s3.close(),
    };
  },
  aws_cloudwatch_logs: async () => {
    const cw = await new FakeCloudwatchLogs({ region: 'us-east-1', accessKeyId: 'RECOVERY', secretAccessKey: 'RECOVERY' }).start();
    return { url: cw.url, ids: async () => cw.messages('/recovered', 'ns').map((m) => (JSON.parse(m) as { id: number }).id), close: () => cw.close() };
  },
  gcp_stackdriver_logs: async () => {
    const gcp = await new FakeGcpLogging({ apiKey: 'RECOVERY' }).start();
    return { url: gcp.url, ids: async () => gcp.entries.map((e) => (e.jsonPayload as { id: number }).id), close: () => gcp.close() };
  },
};

describe('disk buffer + sink: kill -9 while the destination is down, restart, deliver', () => {
  for (const type of Object.keys(destinations)) {
    test(type, async () => {
      const dir = mkdtempSync(join(tmpdir(), `sluice-recovery-${type}-`));
      try {
        const acked = await runUntilKilled(dir, type, 400);
        const destination = await destinations[type]!();
        try {
          await drainInto(dir, type, destination.url);
          const delivered = new Set(await destination.ids());
          const lost = [...acked].filter((id) => !delivered.has(id));
          assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acked events lost`);
        } finally {
          await destination.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
