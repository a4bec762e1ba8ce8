// Two sluice processes speaking OTLP/HTTP: agent (stdin -> opentelemetry sink) -> receiver
// (opentelemetry source -> file sink). Every line arrives once, with its fields.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from './harness.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir();
after(() => dir.cleanup());

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function run(args: string[], input?: string) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 90_000, killSignal: 'SIGKILL' });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdout.resume();
  if (input !== undefined) child.stdin.end(input);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, stderr: () => stderr };
}

describe('OTLP between two sluice processes', () => {
  for (const codec of ['protobuf', 'json']) {
    it(`${codec}: every stdin line reaches the receiver's file once, with message, timestamp, host and source_type`, async () => {
      const port = await freePort();
      const base = join(dir.path, codec);
      mkdirSync(join(base, 'agent'), { recursive: true });
      mkdirSync(join(base, 'receiver'), { recursive: true });
      const output = join(base, 'received.ndjson');
      writeFileSync(
        join(base, 'receiver.toml'),
        `data_dir = "${join(base, 'receiver')}"\n[sources.otlp]\ntype = "opentelemetry"\naddress = "127.0.0.1:${port}"\n` +
          `[sinks.out]\ntype = "file"\ninputs = ["otlp"]\npath = "${output}"\n`,
      );
      writeFileSync(
        join(base, 'agent.toml'),
        `data_dir = "${join(base, 'agent')}"\n[sources.in]\ntype = "stdin"\n` +
          `[sinks.otel]\ntype = "opentelemetry"\ninputs = ["in"]\nendpoint = "http://127.0.0.1:${port}"\ncompression = "gzip"\n` +
          `encoding.codec = "${codec}"\nbatch.max_events = 100\nrequest.retry_initial_backoff_secs = 0.1\nhealthcheck.enabled = false\n`,
      );
      const receiver = run(['--config', join(base, 'receiver.toml'), '--log-level', 'info']);
      try {
        const lines = Array.from({ length: 1000 }, (_, i) => `line ${i} ünïcödé {"k":${i}}`);
        // The agent retries until the receiver listens, then exits 0 once stdin is drained and acked.
        const agent = run(['--config', join(base, 'agent.toml'), '--log-level', 'warn'], lines.join('\n') + '\n');
        assert.equal(await agent.exit, 0, agent.stderr());
        assert.ok(existsSync(output), receiver.stderr());
        const received = readFileSync(output, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
        assert.equal(received.length, lines.length, 'each line once');
        assert.deepEqual(received.map((e) => e.message).sort(), [...lines].sort());
        for (const event of received) {
          assert.equal(event.source_type, 'stdin');
          assert.equal(typeof event.host, 'string');
          assert.match(String(event.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'the agent\'s millisecond ISO timestamp, unchanged');
        }
      } finally {
        receiver.child.kill('SIGTERM');
        assert.equal(await receiver.exit, 0, receiver.stderr());
      }
    });
  }
});
