import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from './harness.js';
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
