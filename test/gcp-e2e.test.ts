// The sluice process: stdin -> remap -> gcp_stackdriver_logs sink -> a fake Cloud Logging that
// throttles once, with the token from a fake metadata server (GKE Workload Identity, found through
// GCE_METADATA_HOST). Lines whose log id Cloud Logging refuses are a partial failure: the others
// are written, and the agent still exits 0 once every line is acknowledged.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { FakeGcpLogging } from './fakes/gcp-logging.js';
import { runStdinAgent } from './agent-process.js';
import { tempDir } from './harness.js';

const dir = tempDir();
after(() => dir.cleanup());

it('gcp_stackdriver_logs: every stdin line is written once after a 429, refused entries are rejected, one metadata-server token', async () => {
  const gcp = await new FakeGcpLogging({ metadata: true, throttleWrites: 1 }).start();
  try {
    const config = join(dir.path, 'agent.toml');
    writeFileSync(
      config,
      `data_dir = "${dir.path}"\n[sources.in]\ntype = "stdin"\n` +
        `[transforms.tag]\ntype = "remap"\ninputs = ["in"]\nsource = '''\n.app = "web"\n.level = "err"\nif starts_with(.message, "bad") { .app = "bad id!" }\n'''\n` +
        `[sinks.gcp]\ntype = "gcp_stackdriver_logs"\ninputs = ["tag"]\nendpoint = "${gcp.url}"\nproject_id = "e2e-project"\nlog_id = "{{ app }}"\n` +
        `severity_key = "level"\nresource = { type = "k8s_container", location = "europe-west1", cluster_name = "e2e" }\n` +
        `batch.max_events = 100\nbatch.timeout_secs = 0.2\nrequest.retry_initial_backoff_secs = 0.05\n`,
    );
    const lines = Array.from({ length: 400 }, (_, i) => `line ${i} ünïcödé`);
    const bad = ['bad one', 'bad two'];
    const { code, stderr } = await runStdinAgent(config, [...lines.slice(0, 200), ...bad, ...lines.slice(200)].join('\n') + '\n', {
      GCE_METADATA_HOST: new URL(gcp.url).host,
      GOOGLE_APPLICATION_CREDENTIALS: '',
    });
    assert.equal(code, 0, stderr);
    const written = gcp.entries.map((e) => (e.jsonPayload as { message: string }).message);
    assert.deepEqual([...written].sort(), [...lines].sort(), 'each line once, the refused ones left out');
    assert.ok(gcp.entries.every((e) => e.logName === 'projects/e2e-project/logs/web' && e.severity === 'ERROR' && !('level' in (e.jsonPayload as object))));
    assert.deepEqual(gcp.issued.map((i) => i.via), ['metadata'], 'one token, cached');
    assert.equal(gcp.receiver.requests.filter((r) => r.status === 429).length, 1);
    assert.match(stderr, /HTTP 429/, 'the throttling was logged');
    assert.match(stderr, /invalid_entry/, 'the refused entries were logged with their reason');
    assert.doesNotMatch(stderr, /ya29\./, 'the token never reaches the logs');
  } finally {
    await gcp.close();
  }
});
