// The data directory end to end, through the sluice process: one agent per data_dir.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from './harness.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir('sluice-data-dir-');
after(() => dir.cleanup());

function startAgent(config: string): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, '--config', config, '--graceful-shutdown-limit-secs', '5'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

async function waitForLog(get: () => string, pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(get())) {
    if (Date.now() > deadline) throw new Error(`no log matching ${pattern}; stderr:\n${get()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('data directory', () => {
  it('a second agent on the same data_dir exits 1 with one line naming the dir and the holder', async () => {
    const dataDir = join(dir.path, 'shared');
    const config = join(dir.path, 'shared.yaml');
    writeFileSync(config, `data_dir: ${dataDir}\nsources: {demo: {type: demo_logs, interval_secs: 0.05}}\nsinks: {out: {type: blackhole, inputs: [demo]}}\n`);
    const first = startAgent(config);
    await waitForLog(first.stderr, /sluice started/);
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
});
