// `sluice tap` and `sluice top` against a running `sluice` process.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from './harness.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir();

interface Agent {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  stop: () => Promise<number | null>;
}

/** demo_logs -> filter (adds nothing, drops nothing) -> blackhole, with the API on `host`. */
async function startAgent(name: string, host: string, apiExtra = ''): Promise<Agent> {
  const config = join(dir.path, `${name}.yaml`);
  writeFileSync(
    config,
    `data_dir: ${join(dir.path, name)}\napi: {enabled: true, address: "${host.includes(':') ? `[${host}]` : host}:0"${apiExtra}}\n` +
      `sources: {gen: {type: demo_logs, interval_secs: 0.01, batch_size: 5}}\n` +
      `transforms: {keep: {type: filter, inputs: [gen], condition: 'message.contains("seq")'}}\n` +
      `sinks: {out: {type: blackhole, inputs: [keep]}}\n`,
  );
  const child = spawn(process.execPath, [CLI, '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  let port: string | undefined;
  while (!(port = /"address":"[^"]*:(\d+)"/.exec(stderr)?.[1]) || !/sluice started/.test(stderr)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`agent did not start; stderr:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    child,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      return exit;
    },
  };
}

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

/** An address of this machine that is not loopback (the host's eth0), if there is one. */
const networkAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && !a.internal && a.family === 'IPv4')?.address;

describe('sluice tap and top', () => {
  let agent: Agent;
  before(async () => {
    agent = await startAgent('local', '127.0.0.1');
  });
  after(async () => {
    assert.equal(await agent.stop(), 0, agent.stderr());
    dir.cleanup();
  });

  it('tap --outputs-of prints N events as the json codec encodes them and exits 0', async () => {
    const result = await run(['tap', '--url', agent.url, '--outputs-of', 'gen', '--limit', '5']);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 5, result.stdout);
    for (const line of lines) {
      const event = JSON.parse(line) as Record<string, unknown>;
      assert.equal(event.source_type, 'demo_logs');
      assert.match(String(event.message), /seq/);
      assert.equal(event.component_id, undefined, 'the event itself, not the wire envelope');
    }
    assert.match(result.stderr, /tapping outputs of gen/);
  });

  it('tap --inputs-of shows what enters a sink: the outputs of its upstream', async () => {
    const result = await run(['tap', '--url', agent.url, '--inputs-of', 'out', '--limit', '3', '--meta']);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { component_id: string; event: { source_type: string } });
    assert.equal(lines.length, 3);
    for (const line of lines) {
      assert.equal(line.component_id, 'keep');
      assert.equal(line.event.source_type, 'demo_logs');
    }
    // A typo, or a sink's outputs (it has none), would wait forever: the API says so at once.
    for (const args of [['--outputs-of', 'gne'], ['--outputs-of', 'out'], ['--inputs-of', 'gen']]) {
      const none = await run(['tap', '--url', agent.url, ...args, '--limit', '1']);
      assert.equal(none.status, 1, args.join(' '));
      assert.match(none.stderr, /answered 404: no component matches (outputs|inputs)_of=/);
    }
  });

  it('tap --max-rate samples: at most N events a second, the rest announced on stderr', async () => {
    // The agent makes ~500 events a second; 3 a second are shown, so 6 events take two windows.
    const result = await run(['tap', '--url', agent.url, '--outputs-of', 'gen', '--max-rate', '3', '--limit', '6']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trimEnd().split('\n').length, 6);
    assert.match(result.stderr, /sluice tap: \d+ events not shown \(\d+ in all\): sampled: at most 3 events a second are shown/);
  });

  it('top --once --json returns every component with counts that grow', async () => {
    const sample = async () => {
      const result = await run(['top', '--url', agent.url, '--once', '--json', '--interval', '0.3']);
      assert.equal(result.status, 0, result.stderr);
      return JSON.parse(result.stdout) as { components: Array<{ id: string; kind: string; type: string; sent_events: number; received_events: number; sent_events_per_sec: number; buffer_events?: number }> };
    };
    const first = await sample();
    const second = await sample();
    const byId = (s: typeof first) => new Map(s.components.map((c) => [c.id, c]));
    assert.deepEqual([...byId(first).keys()].sort(), ['gen', 'keep', 'out']);
    assert.equal(byId(first).get('keep')!.type, 'filter');
    assert.equal(byId(first).get('out')!.kind, 'sink');
    for (const id of ['gen', 'keep', 'out']) {
      assert.ok(byId(second).get(id)!.sent_events > byId(first).get(id)!.sent_events, `${id} grows`);
      assert.ok(byId(second).get(id)!.sent_events_per_sec > 0, `${id} has a rate`);
    }
    assert.ok(byId(second).get('out')!.received_events > byId(first).get('out')!.received_events);
    assert.equal(typeof byId(second).get('out')!.buffer_events, 'number');
  });

  it('top --once prints a table naming each component', async () => {
    const result = await run(['top', '--url', agent.url, '--once', '--interval', '0.2']);
    assert.equal(result.status, 0, result.stderr);
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    assert.match(header!, /^ID\s+KIND\s+TYPE\s+EVENTS IN\s+IN\/S\s+EVENTS OUT\s+OUT\/S\s+BYTES IN\s+BYTES OUT\s+ERRORS\s+BUFFER$/);
    assert.deepEqual(
      rows.map((r) => r.split(/\s+/).slice(0, 3).join(' ')),
      ['gen source demo_logs', 'keep transform filter', 'out sink blackhole'],
    );
  });

  it('a tap without --limit ends with exit 0 when the agent shuts down', async () => {
    const short = await startAgent('short', '127.0.0.1');
    const tap = spawn(process.execPath, [CLI, 'tap', '--url', short.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    tap.stdout.on('data', (chunk) => (stdout += chunk));
    tap.stderr.on('data', (chunk) => (stderr += chunk));
    const exit = new Promise<number | null>((resolve) => tap.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while (!stdout.includes('\n')) {
      if (Date.now() > deadline) throw new Error(`no event tapped; stderr:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await short.stop(), 0, short.stderr());
    assert.equal(await exit, 0, stderr);
    assert.match(stderr, /the agent closed the stream \(\d+ events\)/);
  });

  it('a tap against an agent that is not there fails with the address, exit 1', async () => {
    const result = await run(['tap', '--url', 'http://127.0.0.1:1', '--limit', '1']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /cannot reach the agent API at http:\/\/127\.0\.0\.1:1: ECONNREFUSED/);
  });

  it('a client that is not on loopback gets 403, unless api.tap_from_network = true', { skip: networkAddress ? false : 'this machine has no non-loopback IPv4 address' }, async () => {
    const closed = await startAgent('network', networkAddress!);
    try {
      const result = await run(['tap', '--url', closed.url, '--limit', '1']);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /answered 403: tap shows log data: only clients on the loopback address/);
      assert.equal(result.stdout, '');
      const top = await run(['top', '--url', closed.url, '--once', '--json', '--interval', '0.1']);
      assert.equal(top.status, 0, 'counters are not log data: /components answers any client');
    } finally {
      assert.equal(await closed.stop(), 0, closed.stderr());
    }
    const open = await startAgent('network-open', networkAddress!, ', tap_from_network: true');
    try {
      const result = await run(['tap', '--url', open.url, '--limit', '2']);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout.trimEnd().split('\n').length, 2);
    } finally {
      assert.equal(await open.stop(), 0, open.stderr());
    }
  });
});
