// The data directory end to end, through the sluice process: one agent per data_dir.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from './harness.js';
import { waitForLog } from './agent-process.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir('sluice-data-dir-');
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL'); // a failed test leaves no agent behind
  dir.cleanup();
});

function startAgent(config: string, stdin: 'ignore' | 'pipe' = 'ignore', user: { uid?: number; gid?: number } = {}) {
  const child: ChildProcess = spawn(process.execPath, [CLI, '--config', config, '--graceful-shutdown-limit-secs', '5'], { stdio: [stdin, 'ignore', 'pipe'], ...user });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

async function get(port: string, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** Polls `path` until `accept` says yes (what is awaited is a state, not a duration). */
async function poll(port: string, path: string, accept: (r: { status: number; body: string }) => boolean, what: string): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await get(port, path);
    if (accept(response)) return response;
    if (Date.now() > deadline) throw new Error(`${what}: last answer ${response.status} ${response.body.slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('data directory', () => {
  it('a second agent on the same data_dir exits 1 with one line naming the dir and the holder; the dir is made private', async () => {
    const dataDir = join(dir.path, 'shared');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755); // as an older version left it
    const config = join(dir.path, 'shared.yaml');
    writeFileSync(config, `data_dir: ${dataDir}\nsources: {demo: {type: demo_logs, interval_secs: 0.05}}\nsinks: {out: {type: blackhole, inputs: [demo]}}\n`);
    const first = startAgent(config);
    await waitForLog(first.stderr, /sluice started/);
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dataDir, 'sluice.lock')).mode & 0o777, 0o600);
    const second = startAgent(config);
    assert.equal(await second.exit, 1);
    const lines = second.stderr().trim().split('\n');
    assert.equal(lines.length, 1, second.stderr());
    const line = JSON.parse(lines[0]!) as { level: number | string; msg: string; holder: { pid: number } };
    assert.match(line.msg, new RegExp(`data directory ${dataDir} is in use by another sluice \\(pid ${first.child.pid} `));
    assert.equal(line.holder.pid, first.child.pid);
    assert.doesNotMatch(first.stderr(), /stopped/, 'the first agent runs on');
    first.child.kill('SIGTERM');
    assert.equal(await first.exit, 0);
    assert.equal(existsSync(join(dataDir, 'sluice.lock')), false, 'the lock is released at exit');
  });

  it('a disk buffer that cannot write (ENOSPC) stalls its sink visibly (/ready 503, metrics), then delivers everything once space returns', async () => {
    const dataDir = join(dir.path, 'full');
    const out = join(dir.path, 'full-out.txt');
    const config = join(dir.path, 'full.yaml');
    writeFileSync(
      config,
      `data_dir: ${dataDir}\napi: {enabled: true, address: "127.0.0.1:0"}\nsources: {in: {type: stdin}}\n` +
        `sinks: {out: {type: file, inputs: [in], path: "${out}", encoding: {codec: text}, buffer: {type: disk, max_size: 1048576}}}\n`,
    );
    const agent = startAgent(config, 'pipe');
    const [, port] = await waitForLog(agent.stderr, /"address":"127\.0\.0\.1:(\d+)"/);
    await waitForLog(agent.stderr, /sluice started/);
    assert.equal((await get(port!, '/ready')).status, 200);
    // The buffer's next segment (after 128 KiB, max_size / 8) is /dev/full: writes fail with ENOSPC as on a full disk.
    const nextSegment = join(dataDir, 'buffer', 'out', 'segment-000000000002.log');
    symlinkSync('/dev/full', nextSegment);
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'x'.repeat(80)}`);
    agent.child.stdin!.write(lines.join('\n') + '\n');

    const stuck = await poll(port!, '/ready', (r) => r.status === 503, '/ready turns 503 while the buffer cannot write');
    const body = JSON.parse(stuck.body) as { ready: boolean; phase: string; reasons: string[] };
    assert.equal(body.ready, false);
    assert.equal(body.phase, 'running');
    assert.equal(body.reasons.length, 1);
    assert.match(body.reasons[0]!, /^sink out: disk buffer cannot write \(ENOSPC\)/);
    const metrics = (await get(port!, '/metrics')).body;
    assert.match(metrics, /sluice_component_stalled\{[^}]*component_id="out"[^}]*\} 1/);
    assert.match(metrics, /sluice_buffer_write_errors_total\{[^}]*component_id="out"[^}]*code="ENOSPC"\} [1-9]/);

    rmSync(nextSegment); // space returns
    await poll(port!, '/ready', (r) => r.status === 200, '/ready is 200 again once writes succeed');
    assert.match((await get(port!, '/metrics')).body, /sluice_component_stalled\{[^}]*component_id="out"[^}]*\} 0/);
    agent.child.stdin!.end(); // the source ends: the agent drains and exits
    assert.equal(await agent.exit, 0, agent.stderr());
    assert.deepEqual(readFileSync(out, 'utf8').split('\n').slice(0, -1), lines, 'every line once, in order');
    assert.equal(agent.stderr().match(/disk buffer: write failed/g)?.length, 1, 'the stall is logged once, not per retry');
  });

  it('a read-only data dir: the real error code is logged once and counted, writes back off, and checkpoints are written once it is writable', async () => {
    // Root ignores permissions: run the agent as nobody then (a non-root runner is refused by the mode alone).
    const asRoot = process.getuid?.() === 0;
    const user = asRoot ? { uid: 65534, gid: 65534 } : {};
    chmodSync(dir.path, 0o755);
    const base = join(dir.path, 'readonly');
    const podDir = join(base, 'pods', 'ns_web_0b6ac1f6-0000-4000-8000-000000000001', 'c');
    mkdirSync(podDir, { recursive: true });
    writeFileSync(join(podDir, '0.log'), '2026-12-01T00:00:00.000000000Z stdout F hello\n');
    const dataDir = join(base, 'data');
    mkdirSync(dataDir);
    if (asRoot) chownSync(dataDir, 65534, 65534);
    chmodSync(dataDir, 0o500);
    const config = join(base, 'agent.yaml');
    writeFileSync(
      config,
      `data_dir: ${dataDir}\napi: {enabled: true, address: "127.0.0.1:0"}\n` +
        `sources: {k8s: {type: kubernetes_logs, log_directory: ${join(base, 'pods')}, checkpoint_interval_secs: 0.1}}\n` +
        `sinks: {out: {type: blackhole, inputs: [k8s]}}\n`,
    );
    const agent = startAgent(config, 'ignore', user);
    const [, port] = await waitForLog(agent.stderr, /"address":"127\.0\.0\.1:(\d+)"/);
    const errorsOf = (metrics: string) => Number(/sluice_checkpoint_write_errors_total\{[^}]*code="EACCES"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
    await poll(port!, '/metrics', (r) => errorsOf(r.body) >= 4, 'several failed attempts counted');
    const reports = agent.stderr().match(/cannot write checkpoints[^"]*/g) ?? [];
    assert.deepEqual(reports, ['cannot write checkpoints (EACCES); retrying with backoff, reported once until they are written again'], agent.stderr());
    assert.doesNotMatch(agent.stderr(), /ENOENT/);

    chmodSync(dataDir, 0o700); // writable again
    await waitForLog(agent.stderr, /checkpoints written again/);
    const checkpoints = join(dataDir, 'k8s', 'checkpoints.json');
    const records = Object.values((JSON.parse(readFileSync(checkpoints, 'utf8')) as { checkpoints: Record<string, { offset: number }> }).checkpoints);
    assert.deepEqual(records.map((r) => r.offset), [46], 'the line read while read-only is checkpointed');
    assert.equal(statSync(checkpoints).mode & 0o777, 0o600);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exit, 0, agent.stderr());
  });
});
