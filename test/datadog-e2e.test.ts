// The sluice process: stdin -> datadog_logs sink -> a fake Datadog intake that throttles once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { FakeDatadog } from './fakes/datadog.js';
import { tempDir } from './harness.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir();
after(() => dir.cleanup());

it('datadog_logs: every stdin line reaches Datadog once, gzip, after a 429 with Retry-After', async () => {
  const key = 'e2e0123456789abcdef0123456789abc';
  const dd = await new FakeDatadog({ apiKey: key, throttlePosts: 1 }).start();
  try {
    const config = join(dir.path, 'agent.toml');
    writeFileSync(
      config,
      `data_dir = "${dir.path}"\n[sources.in]\ntype = "stdin"\n` +
        `[sinks.datadog]\ntype = "datadog_logs"\ninputs = ["in"]\nendpoint = "${dd.url}"\ndefault_api_key = "${key}"\n` +
        `batch.max_events = 100\nbatch.timeout_secs = 0.2\n`,
    );
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ünïcödé`);
    const child = spawn(process.execPath, [CLI, '--config', config, '--log-level', 'warn'], { stdio: ['pipe', 'ignore', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL' });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.end(lines.join('\n') + '\n');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.deepEqual(dd.entries.map((e) => e.message).sort(), [...lines].sort(), 'each line once');
    assert.ok(dd.entries.every((e) => e.ddsource === 'kubernetes' && typeof e.timestamp === 'number'));
    assert.ok(dd.receiver.requests.some((r) => r.method === 'GET' && r.url === '/api/v1/validate'), 'the healthcheck validated the key');
    assert.ok(dd.receiver.requests.filter((r) => r.method === 'POST').every((r) => r.headers['content-encoding'] === 'gzip'));
    assert.equal(dd.receiver.requests.filter((r) => r.status === 429 && r.method === 'POST').length, 1);
    assert.ok(dd.receiver.requests.some((r) => r.url === '/api/v1/validate' && r.status === 200));
    assert.doesNotMatch(stderr, new RegExp(key), 'the key never reaches the logs');
  } finally {
    await dd.close();
  }
});
