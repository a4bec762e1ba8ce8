// What an operator sees of a running agent: its own log lines (rate-limited, text or JSON, level
// flags) and its /metrics. Every case runs the `sluice` process.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from './harness.js';

const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir();
after(() => dir.cleanup());

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

function startAgent(args: string[]): Running {
  // The timeout only turns a hang into a failure instead of stalling the suite.
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 90_000, killSignal: 'SIGKILL' });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

async function until(what: string, ready: () => boolean, agent: Running, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline || agent.child.exitCode !== null) throw new Error(`${what}: not seen (exit ${agent.child.exitCode}); stderr:\n${agent.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type LogLine = { level: string; msg: string; [key: string]: unknown };
const jsonLines = (stderr: string): LogLine[] =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

function write(name: string, text: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('operator-facing logs', () => {
  it('a failing http sink logs one warning, then a line per 5 s with the suppressed count, then one "recovered" line', async () => {
    let failing = true;
    let refused = 0;
    let accepted = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method !== 'POST') return res.writeHead(200).end();
        if (failing) refused++;
        else accepted++;
        res.writeHead(failing ? 500 : 200).end('busy');
      });
    });
    const port = await listen(server);
    try {
      const config = write(
        'failing-http.yaml',
        `data_dir: ${join(dir.path, 'data-http')}\n` +
          `sources: {demo: {type: demo_logs, interval_secs: 0.01, batch_size: 5}}\n` +
          `sinks: {out: {type: http, inputs: [demo], uri: "http://127.0.0.1:${port}/", batch: {timeout_secs: 0.05},\n` +
          `  request: {concurrency: 2, retry_initial_backoff_secs: 0.02, retry_max_duration_secs: 0.05}}}\n`,
      );
      const agent = startAgent(['--config', config]);
      const failureLines = () => jsonLines(agent.stderr()).filter((l) => l.msg.startsWith('request failed'));
      await until('first failure line', () => failureLines().length > 0, agent);
      const firstAt = Date.now();
      await until('a line with the suppressed count', () => failureLines().some((l) => typeof l.suppressed === 'number'), agent);
      failing = false;
      const recoveredLines = () => jsonLines(agent.stderr()).filter((l) => /recovered/.test(l.msg));
      await until('the recovered line', () => recoveredLines().length > 0 && accepted > 0, agent);
      const elapsed = Date.now() - firstAt;
      agent.child.kill('SIGTERM');
      assert.equal(await agent.exit, 0, agent.stderr());

      const lines = failureLines();
      // Lines are at least 5 s apart: the first, then one per started 5 s window at most.
      assert.ok(lines.length <= 2 + Math.floor(elapsed / 5000), `${lines.length} failure lines in ${elapsed} ms:\n${agent.stderr()}`);
      assert.ok(refused > lines.length * 5, `${refused} refused requests, ${lines.length} lines`);
      const counted = lines.find((l) => typeof l.suppressed === 'number')!;
      assert.ok((counted.suppressed as number) > 0);
      assert.equal(counted.reason, 'http_5xx');
      assert.equal(counted.component_id, 'out');
      assert.equal(recoveredLines().length, 1, agent.stderr());
      assert.equal(recoveredLines()[0]!.component_id, 'out');
      assert.ok((recoveredLines()[0]!.failures as number) >= lines.length);
    } finally {
      server.close();
    }
  });

  it('--log-format text writes one human-readable line per record; -v shows debug records', async () => {
    const logs = join(dir.path, 'text-logs');
    mkdirSync(logs);
    writeFileSync(join(logs, 'app.log'), 'hello\n');
    const config = write(
      'text.yaml',
      `data_dir: ${join(dir.path, 'data-text')}\nsources: {app: {type: file, include: ["${logs}/*.log"]}}\nsinks: {out: {type: blackhole, inputs: [app]}}\n`,
    );
    const agent = startAgent(['--config', config, '--log-format', 'text', '-v']);
    await until('the debug line of the opened file', () => /DEBUG source\.app: file opened /.test(agent.stderr()), agent);
    await until('sluice started', () => /INFO  sluice started /.test(agent.stderr()), agent);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exit, 0, agent.stderr());
    const lines = agent.stderr().trimEnd().split('\n');
    for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/, line);
    assert.ok(lines.some((line) => line.includes(`file opened path=${join(logs, 'app.log')}`)), agent.stderr());
    assert.ok(lines.some((line) => /INFO  stopped cleanly$/.test(line)), agent.stderr());
  });

  it('-q and -v move the level from --log-level, repeatably', () => {
    const config = write(
      'finite.yaml',
      `data_dir: ${join(dir.path, 'data-finite')}\nsources: {demo: {type: demo_logs, interval_secs: 0, count: 3}}\nsinks: {out: {type: blackhole, inputs: [demo]}}\n`,
    );
    const run = (...flags: string[]) => {
      const result = spawnSync(process.execPath, [CLI, '--config', config, ...flags], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(result.status, 0, result.stderr);
      return jsonLines(result.stderr).map((l) => l.level);
    };
    assert.ok(run().includes('info'));
    assert.deepEqual(run('-q'), []);
    assert.deepEqual(run('-qq', '-l', 'info'), []);
    assert.ok(run('-l', 'fatal', '-vvv').includes('info'));
    assert.deepEqual(run('-l', 'fatal', '-vv'), []);
  });
});

describe('operator-facing metrics (GET /metrics of a running agent)', () => {
  let agent: Running;
  let scrape: () => Promise<string>;
  let metrics = '';
  // The first request is refused (503), the rest accepted: both statuses are seen.
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(req.method === 'POST' && requests++ === 0 ? 503 : 200).end());
  });

  before(async () => {
    const port = await listen(server);
    const config = write(
      'metrics.yaml',
      `data_dir: ${join(dir.path, 'data-metrics')}\napi: {enabled: true, address: "127.0.0.1:0"}\n` +
        `sources: {demo: {type: demo_logs, interval_secs: 0.01, batch_size: 5}}\n` +
        `transforms: {errors: {type: filter, inputs: [demo], condition: 'message.contains("error")'}}\n` +
        `sinks: {out: {type: http, inputs: [errors], uri: "http://127.0.0.1:${port}/", batch: {timeout_secs: 0.05}, buffer: {max_events: 321}}}\n`,
    );
    agent = startAgent(['--config', config]);
    await until('sluice started', () => agent.stderr().includes('sluice started'), agent);
    const [, apiPort] = agent.stderr().match(/"address":"127\.0\.0\.1:(\d+)"/)!;
    scrape = async () => (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
    const delivered = /^sluice_component_sent_events_total\{[^}]*component_id="out"[^}]*\} [1-9]/m;
    const deadline = Date.now() + 30_000;
    while (!delivered.test((metrics = await scrape()))) {
      if (Date.now() > deadline) throw new Error(`no events delivered:\n${metrics}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  after(async () => {
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exit, 0, agent.stderr());
    server.close();
  });

  it('sluice_build_info names the version (as --version) and Node.js; process and Node.js metrics have their standard names', () => {
    assert.match(metrics, new RegExp(`^sluice_build_info\\{version="${version.replace(/\./g, '\\.')}",node_version="${process.version.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
    const cli = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
    assert.equal(cli.stdout.trim(), version);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds'])
      assert.match(metrics, new RegExp(`^${name} \\d`, 'm'), name);
    assert.doesNotMatch(metrics, /^sluice_(process|nodejs)_/m);
  });

  it('buffer capacity is shown beside buffer depth', () => {
    const labels = 'component_kind="sink",component_id="out",component_type="http"';
    assert.match(metrics, new RegExp(`^sluice_component_buffer_events\\{${labels}\\} \\d+$`, 'm'));
    assert.match(metrics, new RegExp(`^sluice_component_buffer_max_events\\{${labels}\\} 321$`, 'm'));
    assert.match(metrics, /^sluice_component_buffer_max_events\{component_kind="transform",component_id="errors",component_type="filter"\} \d+$/m);
  });

  it('the request-duration histogram has the HTTP status as a label', () => {
    const labels = 'component_kind="sink",component_id="out",component_type="http"';
    assert.match(metrics, new RegExp(`^sluice_sink_request_duration_seconds_count\\{${labels},status="200"\\} [1-9]`, 'm'));
    assert.match(metrics, new RegExp(`^sluice_sink_request_duration_seconds_count\\{${labels},status="503"\\} 1$`, 'm'));
    assert.match(metrics, new RegExp(`^sluice_sink_request_duration_seconds_bucket\\{le="0\\.005",${labels},status="200"\\} \\d+$`, 'm'));
  });

  it('no series that can only be 0: bytes in for sources, bytes out for sinks, none for transforms', () => {
    assert.match(metrics, /^sluice_component_received_bytes_total\{component_kind="source",component_id="demo",component_type="demo_logs"\} \d+$/m);
    assert.match(metrics, /^sluice_component_sent_bytes_total\{component_kind="sink",component_id="out",component_type="http"\} [1-9]/m);
    assert.doesNotMatch(metrics, /^sluice_component_(received|sent)_bytes_total\{component_kind="transform"/m);
    assert.doesNotMatch(metrics, /^sluice_component_sent_bytes_total\{component_kind="source"/m);
    assert.doesNotMatch(metrics, /^sluice_component_received_bytes_total\{component_kind="sink"/m);
  });
});

describe('source backlog (GET /metrics)', () => {
  it('sluice_source_backlog_bytes and the oldest unacknowledged age: above 0 while a stuck sink holds the source back, then 0', async () => {
    // Requests are held unanswered until `release`: the sink's buffer fills and the source stops reading.
    const held: ServerResponse[] = [];
    let holding = true;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => (holding && req.method === 'POST' ? held.push(res) : res.writeHead(200).end()));
    });
    const port = await listen(server);
    const logs = join(dir.path, 'backlog-logs');
    mkdirSync(logs);
    const lines = 5_000;
    const text = Array.from({ length: lines }, (_, i) => `line ${String(i).padStart(6, '0')} of a log that the sink cannot take yet`).join('\n') + '\n';
    writeFileSync(join(logs, 'app.log'), text);
    const size = Buffer.byteLength(text);
    const config = write(
      'backlog.yaml',
      `data_dir: ${join(dir.path, 'data-backlog')}\napi: {enabled: true, address: "127.0.0.1:0"}\n` +
        `sources: {app: {type: file, include: ["${logs}/*.log"], max_read_bytes: 4096}}\n` +
        `sinks: {out: {type: http, inputs: [app], uri: "http://127.0.0.1:${port}/", healthcheck: {enabled: false}, buffer: {max_events: 10},\n` +
        `  batch: {max_events: 10, timeout_secs: 0.05}, request: {concurrency: 1, timeout_secs: 600}}}\n`,
    );
    const agent = startAgent(['--config', config]);
    try {
      await until('sluice started', () => agent.stderr().includes('sluice started'), agent);
      const [, apiPort] = agent.stderr().match(/"address":"127\.0\.0\.1:(\d+)"/)!;
      const gauge = async (name: string): Promise<number | undefined> => {
        const text = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
        const match = new RegExp(`^${name}\\{component_kind="source",component_id="app",component_type="file"\\} (\\S+)$`, 'm').exec(text);
        return match ? Number(match[1]) : undefined;
      };
      const backlog = () => gauge('sluice_source_backlog_bytes');
      const age = () => gauge('sluice_source_oldest_unacknowledged_event_age_seconds');
      let value: number | undefined;
      await until('a held request', () => held.length > 0, agent);
      const deadline = Date.now() + 30_000;
      while (!((value = await backlog()) !== undefined && value > 0)) {
        if (Date.now() > deadline) throw new Error(`no backlog shown (last ${value})\n${agent.stderr()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(value < size, `backlog ${value} of a ${size}-byte file`);
      while (!((value = await age()) !== undefined && value > 0)) {
        if (Date.now() > deadline) throw new Error(`no unacknowledged age shown (last ${value})\n${agent.stderr()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      holding = false;
      for (const res of held.splice(0)) res.writeHead(200).end();
      while ((value = await backlog()) !== 0) {
        if (Date.now() > deadline + 60_000) throw new Error(`backlog stays at ${value}\n${agent.stderr()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Every event read is acknowledged once the last requests are answered.
      while ((value = await age()) !== 0) {
        if (Date.now() > deadline + 60_000) throw new Error(`unacknowledged age stays at ${value}\n${agent.stderr()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      // Even after a failure: answer what is held, so the agent can drain and the server close.
      holding = false;
      for (const res of held.splice(0)) res.writeHead(200).end();
      agent.child.kill('SIGTERM');
      assert.equal(await agent.exit, 0, agent.stderr());
      server.close();
    }
  });
});
