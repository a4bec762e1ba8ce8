// Two sluice processes, agent (file source -> sluice sink) and aggregator (sluice source -> file
// sink behind a disk buffer): the aggregator killed with SIGKILL mid-stream and restarted loses
// nothing; the agent's checkpoint does not move while no aggregator has the events; failover
// between two aggregators.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { waitForLog } from './agent-process.js';
import { tempDir, waitUntil } from './harness.js';
import { freePort } from './sluice-peer.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir('sluice-peer-e2e-');
after(() => dir.cleanup());

interface Proc {
  child: ChildProcess;
  exit: Promise<number | null>;
  stderr: () => string;
}

const running = new Set<Proc>();
after(() => {
  for (const proc of running) proc.child.kill('SIGKILL');
});

function start(name: string, config: string): Proc {
  const path = join(dir.path, `${name}.yaml`);
  writeFileSync(path, config);
  // The timeout only turns a hang into a failure instead of stalling the suite.
  const child = spawn(process.execPath, [CLI, '--config', path, '--graceful-shutdown-limit-secs', '5'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000, killSignal: 'SIGKILL' });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const proc: Proc = { child, stderr: () => stderr, exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  running.add(proc);
  void proc.exit.then(() => running.delete(proc));
  return proc;
}

async function stop(proc: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  proc.child.kill(signal);
  return proc.exit;
}

function aggregator(name: string, port: number): Proc {
  const proc = start(
    name,
    `data_dir: ${join(dir.path, `data-${name}`)}\n` +
      `sources: {in: {type: sluice, address: "127.0.0.1:${port}"}}\n` +
      `sinks: {out: {type: file, inputs: [in], path: "${join(dir.path, `${name}.ndjson`)}", buffer: {type: disk, max_size: 67108864}}}\n`,
  );
  return proc;
}

function agent(name: string, input: string, addresses: string[]): Proc {
  return start(
    name,
    `data_dir: ${join(dir.path, `data-${name}`)}\n` +
      `sources: {in: {type: file, include: ["${input}"], checkpoint_interval_secs: 0.2}}\n` +
      `sinks: {out: {type: sluice, inputs: [in], address: ${JSON.stringify(addresses)}, healthcheck: {enabled: false}, ` +
      `batch: {max_events: 200, timeout_secs: 0.05}, request: {retry_initial_backoff_secs: 0.1, retry_max_duration_secs: 0.5, timeout_secs: 5}}}\n`,
  );
}

function linesOut(name: string): string[] {
  const path = join(dir.path, `${name}.ndjson`);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => (JSON.parse(line) as { message: string }).message);
}

/** Appends `count` numbered lines, `chunk` at a time, `pauseMs` apart. */
async function writeLines(path: string, from: number, count: number, chunk: number, pauseMs: number): Promise<void> {
  for (let n = from; n < from + count; n += chunk) {
    const size = Math.min(chunk, from + count - n);
    appendFileSync(path, Array.from({ length: size }, (_, i) => `line ${String(n + i).padStart(6, '0')} ${'x'.repeat(80)}\n`).join(''));
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

const expected = (count: number) => Array.from({ length: count }, (_, i) => `line ${String(i).padStart(6, '0')} ${'x'.repeat(80)}`);

function tally(lines: string[]): { distinct: number; duplicates: number } {
  const distinct = new Set(lines).size;
  return { distinct, duplicates: lines.length - distinct };
}

describe('agent -> aggregator through two sluice processes', () => {
  it('the aggregator killed with SIGKILL mid-stream and restarted: nothing lost, duplicates counted', async () => {
    const port = await freePort();
    const input = join(dir.path, 'kill.log');
    const total = 20_000;
    // A backlog first (the agent starts behind), then a stream: the aggregator gets thousands of
    // lines within its disk buffer's first pointer fdatasync interval, and the kill comes mid-stream.
    const backlog = 6000;
    writeFileSync(input, expected(backlog).map((line) => `${line}\n`).join(''));
    let agg = aggregator('agg-kill', port);
    await waitForLog(agg.stderr, /sluice source listening/, 15_000);
    const sender = agent('agent-kill', input, [`127.0.0.1:${port}`]);
    const writing = writeLines(input, backlog, total - backlog, 250, 50);
    await waitUntil(() => linesOut('agg-kill').length >= 4000, 60_000, '4000 lines at the aggregator');
    await stop(agg, 'SIGKILL');
    const atKill = linesOut('agg-kill').length;
    await new Promise((resolve) => setTimeout(resolve, 700)); // the agent retries against nothing meanwhile
    agg = aggregator('agg-kill', port);
    await waitForLog(agg.stderr, /sluice source listening/, 15_000);
    await writing;
    await waitUntil(() => new Set(linesOut('agg-kill')).size >= total, 90_000, `all ${total} lines at the aggregator`);
    assert.equal(await stop(sender), 0, sender.stderr());
    assert.equal(await stop(agg), 0, agg.stderr());
    const got = linesOut('agg-kill');
    const { distinct, duplicates } = tally(got);
    assert.deepEqual([...new Set(got)].sort(), expected(total), 'every line once or more');
    // At least once, bounded. The agent sends again the batches it had no answer for (at most
    // request.concurrency 8 x batch.max_events 200). The aggregator's disk buffer replays only what
    // its file sink had not finished: the pointer is written in place on every move (a kill -9
    // keeps it), so that is the one record (one request, at most 200 lines) the sink was writing.
    // Not what it wrote since the pointer's last fdatasync (that bounds a power loss, not a kill).
    console.log(`kill -9 run: ${total} lines, ${atKill} written before the kill, ${distinct} distinct, ${duplicates} duplicates`);
    const bound = 8 * 200 + 200;
    assert.ok(duplicates <= bound, `duplicates ${duplicates} (of ${atKill} written before the kill): more than the agent's batches in flight plus the record in hand (${bound})`);
  });

  it('no aggregator: the agent\'s checkpoint stays at 0; once one is up everything arrives once', async () => {
    const port = await freePort();
    const input = join(dir.path, 'down.log');
    writeFileSync(input, expected(500).map((line) => `${line}\n`).join(''));
    const sender = agent('agent-down', input, [`127.0.0.1:${port}`]);
    await waitForLog(sender.stderr, /aggregator endpoint failed/, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 600)); // several checkpoint intervals
    assert.equal(await stop(sender, 'SIGTERM'), 124, 'the drain limit is hit: the events never left'); // exits with events in flight
    const checkpoints = readFileSync(join(dir.path, 'data-agent-down', 'in', 'checkpoints.json'), 'utf8');
    assert.doesNotMatch(checkpoints, /"offset":\s*[1-9]/, `no offset moved: ${checkpoints}`);
    const agg = aggregator('agg-down', port);
    await waitForLog(agg.stderr, /sluice source listening/, 15_000);
    const again = agent('agent-down', input, [`127.0.0.1:${port}`]);
    await waitUntil(() => linesOut('agg-down').length >= 500, 30_000, '500 lines at the aggregator');
    assert.equal(await stop(again), 0, again.stderr());
    assert.equal(await stop(agg), 0, agg.stderr());
    assert.deepEqual(linesOut('agg-down').sort(), expected(500));
  });

  it('failover between two aggregators: both take batches; one killed, the other takes the rest; the killed one\'s disk buffer delivers on restart', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const input = join(dir.path, 'failover.log');
    writeFileSync(input, '');
    let a = aggregator('agg-a', portA);
    const b = aggregator('agg-b', portB);
    await waitForLog(a.stderr, /sluice source listening/, 15_000);
    await waitForLog(b.stderr, /sluice source listening/, 15_000);
    const sender = agent('agent-failover', input, [`127.0.0.1:${portA}`, `127.0.0.1:${portB}`]);
    const total = 10_000;
    const writing = writeLines(input, 0, total, 200, 25);
    await waitUntil(() => linesOut('agg-a').length >= 1000 && linesOut('agg-b').length >= 1000, 60_000, 'both aggregators receiving');
    await stop(a, 'SIGKILL');
    const aAtKill = linesOut('agg-a').length;
    await writing;
    // What agg-a acknowledged sits in its disk buffer (that is what its 200 meant): every other
    // line must reach agg-b while agg-a is down, and the agent must be left with nothing in flight.
    const union = () => new Set([...linesOut('agg-a'), ...linesOut('agg-b')]);
    await waitUntil(() => linesOut('agg-b').includes(expected(total)[total - 1]!), 60_000, 'the last line at agg-b');
    assert.equal(await stop(sender), 0, `the agent drains with agg-a down: ${sender.stderr()}`);
    const beforeRestart = union().size;
    a = aggregator('agg-a', portA);
    // Started (signal handlers in place) before it may be stopped: its disk buffer may hold nothing.
    await waitForLog(a.stderr, /sluice source listening/, 15_000);
    await waitUntil(() => union().size >= total, 60_000, `all ${total} lines over the two`).catch((error: Error) => {
      const seen = union();
      const missing = expected(total).filter((line) => !seen.has(line)).map((line) => line.slice(5, 11));
      throw new Error(`${error.message}: ${seen.size} distinct, missing ${missing[0]}..${missing[missing.length - 1]}; agent stderr:\n${sender.stderr().slice(-3000)}`);
    });
    assert.equal(await stop(a), 0, a.stderr());
    assert.equal(await stop(b), 0, b.stderr());
    const got = [...linesOut('agg-a'), ...linesOut('agg-b')];
    assert.deepEqual([...new Set(got)].sort(), expected(total));
    const { duplicates } = tally(got);
    console.log(
      `failover run: ${total} lines; agg-a ${aAtKill} at the kill, ${linesOut('agg-a').length} after its restart (${total - beforeRestart} from its disk buffer); agg-b ${linesOut('agg-b').length}; ${duplicates} duplicates`,
    );
    assert.match(sender.stderr(), /aggregator endpoint failed: taken out of the balance/);
  });
});
