import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeKafka } from './fakes/kafka/broker.js';
import { tempDir, waitUntil } from './harness.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir();
const kafka = new FakeKafka({ topics: { 'logs-e2e': 3 } });
before(() => kafka.start());
after(async () => {
  await kafka.close();
  dir.cleanup();
});

function startAgent(name: string, yaml: string): { exit: Promise<number | null>; stop: () => void; stderr: () => string } {
  const config = join(dir.path, `${name}.yaml`);
  writeFileSync(config, `data_dir: ${join(dir.path, `data-${name}`)}\n${yaml}`);
  // The timeout only turns a hang into a failure instead of stalling the suite.
  const child = spawn(process.execPath, [CLI, '--config', config, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000, killSignal: 'SIGKILL' });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { exit, stop: () => child.kill('SIGTERM'), stderr: () => stderr };
}

function outLines(path: string): Array<{ message: string; topic: string; message_key?: string }> {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as { message: string; topic: string; message_key?: string });
}

describe('sluice processes through Kafka: file -> kafka sink -> (fake broker) -> kafka source -> file', () => {
  it('every line arrives, with the broker restarted mid-stream; nothing lost, offsets committed to the end', async () => {
    const input = join(dir.path, 'app.log');
    const output = join(dir.path, 'out.ndjson');
    writeFileSync(input, '');
    const producer = startAgent(
      'producer',
      `sources: {in: {type: file, include: ["${input}"], read_from: beginning}}\n` +
        `transforms: {tag: {type: remap, inputs: [in], source: '.app = "e2e"'}}\n` +
        `sinks: {out: {type: kafka, inputs: [tag], bootstrap_servers: "${kafka.bootstrap}", topic: "logs-{{ app }}", key_field: message, encoding: {codec: text}, ` +
        `batch: {max_events: 50, timeout_secs: 0.05}, request: {timeout_secs: 2, retry_initial_backoff_secs: 0.1, retry_max_duration_secs: 0.5}}}\n`,
    );
    const consumer = startAgent(
      'consumer',
      `sources: {in: {type: kafka, bootstrap_servers: "${kafka.bootstrap}", group_id: e2e, topics: [logs-e2e], auto_offset_reset: earliest, commit_interval_ms: 200, session_timeout_ms: 3000}}\n` +
        `sinks: {out: {type: file, inputs: [in], path: "${output}"}}\n`,
    );
    try {
      const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}`);
      appendFileSync(input, lines(0, 1000).join('\n') + '\n');
      await waitUntil(() => outLines(output).length >= 300, 60_000, 'first lines through both agents');
      await kafka.stop();
      appendFileSync(input, lines(1000, 1500).join('\n') + '\n'); // written while the broker is down
      // The broker stays down until the producer has met it down (a fixed pause flaked under load:
      // the producer sometimes read those lines only after the broker was back).
      await waitUntil(() => /request failed: retrying/.test(producer.stderr()), 60_000, 'the producing agent saw the broker go away');
      await kafka.start();
      appendFileSync(input, lines(1500, 2000).join('\n') + '\n');
      const expected = lines(0, 2000);
      await waitUntil(() => new Set(outLines(output).map((l) => l.message)).size >= 2000, 90_000, 'all 2000 lines in the output file');
      const got = outLines(output);
      assert.deepEqual([...new Set(got.map((l) => l.message))].sort(), [...expected].sort(), 'nothing lost');
      assert.ok(got.every((l) => l.topic === 'logs-e2e' && l.message_key === l.message), 'topic and key carried through');
      const stored = kafka.records('logs-e2e');
      assert.equal(new Set(stored.map((r) => r.value!.toString())).size, 2000);
      await waitUntil(
        () => [0, 1, 2].every((p) => kafka.committed('e2e', 'logs-e2e', p) === kafka.highWatermark('logs-e2e', p)),
        20_000,
        'the consumer group committed every partition to its end',
      );
    } finally {
      producer.stop();
      consumer.stop();
      const [a, b] = [await producer.exit, await consumer.exit];
      assert.equal(a, 0, producer.stderr());
      assert.equal(b, 0, consumer.stderr());
    }
  });
});
