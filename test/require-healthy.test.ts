// `--require-healthy` through the sluice process: with the API on, a sink whose healthcheck fails
// keeps the agent from starting (`/started` 503, a metric naming the sink, `/ready` saying why)
// until the check passes; without the API the start fails with exit 1 (as Vector's flag does).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from './harness.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir();
after(() => dir.cleanup());

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

function startAgent(config: string): Running {
  // The timeout only turns a hang into a failure instead of stalling the suite.
  const child = spawn(process.execPath, [CLI, '--config', config, '--require-healthy'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL' });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

async function until<T>(what: string, agent: Running, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline || agent.child.exitCode !== null) throw new Error(`${what}: not seen (exit ${agent.child.exitCode}); stderr:\n${agent.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A destination whose health endpoint answers 503 until `healthy` is set; it stores POSTed bodies. */
async function destination(): Promise<{ server: Server; url: string; setHealthy(): void; bodies: string[] }> {
  let healthy = false;
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (req.method === 'POST') bodies.push(body);
      res.writeHead(req.method === 'POST' || healthy ? 200 : 503).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, setHealthy: () => (healthy = true), bodies };
}

function apiPortOf(agent: Running): Promise<number> {
  return until('API listening', agent, async () => {
    const match = /"address":"127\.0\.0\.1:(\d+)".*API listening/.exec(agent.stderr());
    return match ? Number(match[1]) : undefined;
  });
}

describe('--require-healthy', () => {
  it('with the API on: /started stays 503 and sluice_component_healthy says which sink, until its healthcheck passes; then it starts and ships', async () => {
    const dest = await destination();
    const input = join(dir.path, 'in.log');
    writeFileSync(input, 'one\ntwo\n');
    const config = join(dir.path, 'wait.toml');
    writeFileSync(
      config,
      `data_dir = "${join(dir.path, 'data-wait')}"\napi.enabled = true\napi.address = "127.0.0.1:0"\n` +
        `[sources.in]\ntype = "file"\ninclude = ["${input}"]\nread_from = "beginning"\n` +
        `[sinks.out]\ntype = "http"\ninputs = ["in"]\nuri = "${dest.url}/ingest"\nencoding.codec = "ndjson"\nbatch.timeout_secs = 0.1\n`,
    );
    const agent = startAgent(config);
    try {
      const api = `http://127.0.0.1:${await apiPortOf(agent)}`;
      // Fails first, then a retry fails too: the agent is waiting, not exiting.
      await until('a retry', agent, async () => (/retrying/.test(agent.stderr()) ? true : undefined));
      const started = await fetch(`${api}/started`);
      assert.equal(started.status, 503);
      const ready = (await (await fetch(`${api}/ready`)).json()) as { reasons?: string[] };
      assert.ok(ready.reasons?.some((r) => /waiting for healthy sinks.*out/.test(r)), JSON.stringify(ready));
      const metrics = await (await fetch(`${api}/metrics`)).text();
      assert.match(metrics, /sluice_component_healthy\{[^}]*component_id="out"[^}]*\} 0/);
      assert.equal(dest.bodies.length, 0, 'nothing is read or shipped before the sinks are healthy');

      dest.setHealthy();
      await until('/started 200', agent, async () => ((await fetch(`${api}/started`)).status === 200 ? true : undefined));
      assert.match(await (await fetch(`${api}/metrics`)).text(), /sluice_component_healthy\{[^}]*component_id="out"[^}]*\} 1/);
      await until('both lines shipped', agent, async () => (dest.bodies.join('').split('\n').filter(Boolean).length >= 2 ? true : undefined));
      assert.deepEqual(
        dest.bodies.join('').split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { message: string }).message),
        ['one', 'two'],
      );
      agent.child.kill('SIGTERM');
      assert.equal(await agent.exit, 0);
    } finally {
      agent.child.kill('SIGKILL');
      dest.server.close();
    }
  });

  it('with the API on: a shutdown signal while waiting stops at once with a line naming the unhealthy sink (exit 0)', async () => {
    const dest = await destination();
    const config = join(dir.path, 'abort.toml');
    writeFileSync(
      config,
      `data_dir = "${join(dir.path, 'data-abort')}"\napi.enabled = true\napi.address = "127.0.0.1:0"\n` +
        `[sources.in]\ntype = "demo_logs"\nformat = "shuffle"\nlines = ["x"]\ninterval_secs = 1\n` +
        `[sinks.out]\ntype = "http"\ninputs = ["in"]\nuri = "${dest.url}/ingest"\nencoding.codec = "json"\n`,
    );
    const agent = startAgent(config);
    try {
      await apiPortOf(agent);
      await until('a failed healthcheck', agent, async () => (/healthcheck failed/.test(agent.stderr()) ? true : undefined));
      agent.child.kill('SIGTERM');
      assert.equal(await agent.exit, 0);
      assert.match(agent.stderr(), /stopped before starting: still waiting for healthy sinks \(out\)/);
      assert.equal(dest.bodies.length, 0);
    } finally {
      agent.child.kill('SIGKILL');
      dest.server.close();
    }
  });

  it('without the API: a failing healthcheck ends the start with exit 1 and says which sink', async () => {
    const dest = await destination();
    const config = join(dir.path, 'noapi.toml');
    writeFileSync(
      config,
      `data_dir = "${join(dir.path, 'data-noapi')}"\n` +
        `[sources.in]\ntype = "demo_logs"\nformat = "shuffle"\nlines = ["x"]\ninterval_secs = 1\n` +
        `[sinks.out]\ntype = "http"\ninputs = ["in"]\nuri = "${dest.url}/ingest"\nencoding.codec = "json"\n`,
    );
    const agent = startAgent(config);
    try {
      assert.equal(await agent.exit, 1);
      assert.match(agent.stderr(), /sink \\?"out\\?" healthcheck failed/);
      assert.equal(dest.bodies.length, 0);
    } finally {
      agent.child.kill('SIGKILL');
      dest.server.close();
    }
  });
});
