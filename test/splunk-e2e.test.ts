// The sluice process: stdin -> splunk_hec_logs sink -> a fake HEC with indexer acknowledgement.
// The agent exits 0 only once every line is acked, i.e. confirmed indexed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { FakeSplunkHec } from './fakes/splunk-hec.js';
import { tempDir } from './harness.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir();
after(() => dir.cleanup());

it('splunk_hec_logs: every stdin line reaches HEC once, acked after the indexer confirms it', async () => {
  const token = 'e2e00000-1111-2222-3333-444444444444';
  const hec = await new FakeSplunkHec({ token, indexerAck: true, autoConfirm: true, busyPosts: 1 }).start();
  try {
    const config = join(dir.path, 'agent.toml');
    writeFileSync(
      config,
      `data_dir = "${dir.path}"\n[sources.in]\ntype = "stdin"\n` +
        `[sinks.splunk]\ntype = "splunk_hec_logs"\ninputs = ["in"]\nendpoint = "${hec.url}"\ndefault_token = "${token}"\n` +
        `sourcetype = "sluice"\ncompression = "gzip"\nbatch.max_events = 50\nrequest.retry_initial_backoff_secs = 0.05\n` +
        `acknowledgements.query_interval = 0.05\n`,
    );
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ünïcödé`);
    const child = spawn(process.execPath, [CLI, '--config', config, '--log-level', 'warn'], { stdio: ['pipe', 'ignore', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL' });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.end(lines.join('\n') + '\n');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, stderr);
    const messages = hec.events.map((e) => (e.envelope.event as { message: string }).message);
    assert.deepEqual([...messages].sort(), [...lines].sort(), 'each line once');
    assert.ok(hec.events.every((e) => e.envelope.sourcetype === 'sluice' && typeof e.envelope.time === 'number'));
    assert.ok(hec.ackQueries.length > 0, 'the agent waited for indexer acknowledgements');
    assert.doesNotMatch(stderr, new RegExp(token), 'the token never reaches the logs');
    assert.equal(hec.receiver.requests.filter((r) => r.status === 503 && r.url === '/services/collector/event').length, 1, 'the 503 was retried');
    assert.ok(hec.receiver.requests.some((r) => r.url === '/services/collector/health' && r.status === 200), 'healthcheck');
    assert.match(stderr, /Server is busy/, 'the 503 was logged');
  } finally {
    await hec.close();
  }
});
