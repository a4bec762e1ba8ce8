import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir, waitUntil } from './harness.js';
import { addStream, NatsServer, readStream } from './nats-server.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir();
const server = new NatsServer();
before(() => server.start());
after(async () => {
  await server.close();
  dir.cleanup();
});

function runAgent(config: string, input: string, extra: string[] = []): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, '--config', config, '--log-level', 'warn', ...extra], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.stdin!.end(input);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

describe('sluice process with a nats sink', () => {
  it('stdin -> nats: every line lands in the stream once, on the rendered subject, before sluice exits', async () => {
    const nc = await server.client();
    await addStream(nc, 'CLI', ['cli.>']);
    const config = join(dir.path, 'sink.yaml');
    writeFileSync(
      config,
      `data_dir: ${join(dir.path, 'data-sink')}\nsources: {in: {type: stdin}}\n` +
        `sinks: {out: {type: nats, inputs: [in], url: "${server.url}", subject: "cli.{{ source_type }}", encoding: {codec: text}}}\n`,
    );
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i}`);
    const result = await runAgent(config, lines.join('\n') + '\n');
    assert.equal(result.code, 0, result.stderr);
    const stored = await readStream(nc, 'CLI');
    await nc.close();
    assert.ok(stored.every((m) => m.subject === 'cli.stdin'), 'rendered subject');
    assert.deepEqual(stored.map((m) => m.data).sort(), [...lines].sort());
  });

  it('refuses to start when no stream captures the subject, and says so', async () => {
    const config = join(dir.path, 'nostream.yaml');
    writeFileSync(
      config,
      `data_dir: ${join(dir.path, 'data-nostream')}\nsources: {in: {type: stdin}}\n` +
        `sinks: {out: {type: nats, inputs: [in], url: "${server.url}", subject: "nowhere.at.all"}}\n`,
    );
    const result = await runAgent(config, 'x\n', ['--require-healthy']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /no JetStream stream on nats:\/\/127\.0\.0\.1:\d+ captures subject \\?"nowhere\.at\.all\\?"/);
  });
});

function startAgent(config: string): { exit: Promise<number | null>; kill: (signal: NodeJS.Signals) => void; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, '--config', config, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { exit, kill: (signal) => child.kill(signal), stderr: () => stderr };
}

function fileLines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((line) => line.endsWith('}'));
}

async function publish(subject: string, from: number, to: number): Promise<void> {
  const nc = await server.client();
  const js = nc.jetstream();
  for (let i = from; i < to; i++) await js.publish(subject, new TextEncoder().encode(`msg ${i}`));
  await nc.close();
}

describe('sluice process with a nats source', () => {
  const sourceConfig = (name: string, subject: string) => {
    const out = join(dir.path, `${name}.ndjson`);
    const config = join(dir.path, `${name}.yaml`);
    writeFileSync(
      config,
      `data_dir: ${join(dir.path, `data-${name}`)}\n` +
        `sources: {in: {type: nats, url: "${server.url}", stream: "${name.toUpperCase()}", durable_name: "sluice-${name}", subject: "${subject}", ack_wait_secs: 2, batch_size: 20}}\n` +
        `sinks: {out: {type: file, inputs: [in], path: "${out}"}}\n`,
    );
    return { out, config };
  };
  const messagesIn = (out: string) => fileLines(out).map((line) => JSON.parse(line) as { message: string; subject: string });

  it('N messages: the file sink gets each once, and the consumer has acked them all', async () => {
    const nc = await server.client();
    await addStream(nc, 'SRC', ['src.>']);
    await publish('src.a', 0, 300);
    const { out, config } = sourceConfig('src', 'src.>');
    const agent = startAgent(config);
    await waitUntil(() => fileLines(out).length >= 300, 30_000, '300 lines in the file');
    const jsm = await nc.jetstreamManager();
    let info = await jsm.consumers.info('SRC', 'sluice-src');
    for (const deadline = Date.now() + 15_000; info.num_ack_pending > 0 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      info = await jsm.consumers.info('SRC', 'sluice-src');
    }
    assert.equal(info.num_ack_pending, 0, 'every message acked');
    assert.equal(info.num_pending, 0);
    agent.kill('SIGTERM');
    assert.equal(await agent.exit, 0, agent.stderr());
    await nc.close();
    const got = messagesIn(out);
    assert.deepEqual(got.map((m) => m.message).sort(), Array.from({ length: 300 }, (_, i) => `msg ${i}`).sort());
    assert.ok(got.every((m) => m.subject === 'src.a'));
  });

  it('kill -9 mid-stream and restart: unacked messages are delivered again, nothing is lost', async () => {
    const nc = await server.client();
    await addStream(nc, 'KILL', ['kill.>']);
    await publish('kill.a', 0, 400);
    const { out, config } = sourceConfig('kill', 'kill.>');
    const first = startAgent(config);
    await waitUntil(() => fileLines(out).length >= 50, 30_000, 'first lines in the file');
    first.kill('SIGKILL');
    await first.exit;
    const jsm = await nc.jetstreamManager();
    const atKill = await jsm.consumers.info('KILL', 'sluice-kill');
    // Published while sluice is down.
    await publish('kill.a', 400, 500);
    const second = startAgent(config);
    const expected = Array.from({ length: 500 }, (_, i) => `msg ${i}`);
    await waitUntil(() => new Set(messagesIn(out).map((m) => m.message)).size >= 500, 60_000, 'all 500 messages in the file');
    let info = await jsm.consumers.info('KILL', 'sluice-kill');
    for (const deadline = Date.now() + 15_000; (info.num_ack_pending > 0 || info.num_pending > 0) && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      info = await jsm.consumers.info('KILL', 'sluice-kill');
    }
    second.kill('SIGTERM');
    assert.equal(await second.exit, 0, second.stderr());
    await nc.close();
    assert.equal(info.num_ack_pending, 0, 'every message acked in the end');
    assert.equal(info.num_pending, 0);
    const got = messagesIn(out).map((m) => m.message);
    assert.deepEqual([...new Set(got)].sort(), expected.sort(), 'nothing lost');
    // At least once: what was unacked at the kill may appear twice, nothing else.
    assert.ok(got.length - 500 <= atKill.num_ack_pending, `duplicates ${got.length - 500} beyond the unacked ${atKill.num_ack_pending}`);
  });
});
