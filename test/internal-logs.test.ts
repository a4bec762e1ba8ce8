// The internal_logs source through the sluice process: the agent's own records reach a sink,
// and a sink fed by them that keeps failing does not feed its failures back.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from './harness.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir();
after(() => dir.cleanup());

function startAgent(config: string): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  // The timeout only turns a hang into a failure instead of stalling the suite.
  const child = spawn(process.execPath, [CLI, '--config', config], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL' });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

async function until<T>(what: string, probe: () => T | undefined, diagnostics: () => string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${diagnostics()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function events(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function stderrRecords(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A port nobody listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('internal_logs source, end to end', () => {
  it('ships the "sluice started" record to a file sink as an event', async () => {
    const out = join(dir.path, 'agent-logs.ndjson');
    const config = join(dir.path, 'internal.toml');
    writeFileSync(config, `data_dir = "${dir.path}"\n[sources.agent]\ntype = "internal_logs"\n[sinks.out]\ntype = "file"\ninputs = ["agent"]\npath = "${out}"\n`);
    const agent = startAgent(config);
    const started = await until('the "sluice started" event', () => events(out).find((e) => e.message === 'sluice started'), agent.stderr);
    agent.child.kill('SIGINT');
    assert.equal(await agent.exit, 0, agent.stderr());
    assert.equal(started.level, 'info');
    assert.equal(started.pid, agent.child.pid);
    assert.equal(typeof started.host, 'string');
    assert.equal(started.source_type, 'internal_logs');
    assert.equal(started.components, 2);
    assert.ok(!Number.isNaN(Date.parse(String(started.timestamp))));
    // stderr logging goes on as before.
    assert.match(agent.stderr(), /"msg":"sluice started"/);
  });

  it('a failing sink fed by internal_logs (through a transform) does not feed its failures back into it', async () => {
    const out = join(dir.path, 'agent-logs-loop.ndjson');
    const config = join(dir.path, 'loop.toml');
    const port = await deadPort();
    writeFileSync(
      config,
      `data_dir = "${join(dir.path)}"\n[sources.agent]\ntype = "internal_logs"\n` +
        `[transforms.keep]\ntype = "sample"\ninputs = ["agent"]\nrate = 1\n` +
        `[sinks.dead]\ntype = "http"\ninputs = ["keep"]\nuri = "http://127.0.0.1:${port}/"\nhealthcheck.enabled = false\n` +
        `request.retry_initial_backoff_secs = 0.05\nrequest.retry_max_duration_secs = 0.1\n` +
        `[sinks.out]\ntype = "file"\ninputs = ["agent"]\npath = "${out}"\n`,
    );
    const agent = startAgent(config);
    const failures = (): Record<string, unknown>[] => stderrRecords(agent.stderr()).filter((r) => r.component_id === 'dead');
    await until('the http sink failing', () => (failures().length > 0 ? true : undefined), agent.stderr);
    // A record logged after the failure: once it is in the file, so would be any failure record.
    agent.child.kill('SIGHUP');
    await until('the reload record in the file', () => events(out).find((e) => String(e.message).startsWith('config reloaded')), agent.stderr);
    agent.child.kill('SIGKILL'); // the dead sink would hold the drain until the shutdown limit
    await agent.exit;
    const shipped = events(out);
    const others = stderrRecords(agent.stderr()).filter((r) => r.component_id !== 'dead' && r.component_id !== 'out');
    assert.ok(failures().length > 0);
    assert.deepEqual(
      shipped.filter((e) => e.component_id === 'dead' || e.component_id === 'out'),
      [],
      'records of the sinks fed by internal_logs must not come back as events',
    );
    // Bounded by what the rest of the agent logged: at most one event per such record.
    assert.ok(shipped.length <= others.length, `${shipped.length} events > ${others.length} records outside the pipeline`);
  });
});
