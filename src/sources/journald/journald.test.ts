// The journald source against real journal files written by systemd-journal-remote from export
// format, read by the real journalctl, through the sluice process.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { collector, startTopology, tempDir, waitUntil } from '../../../test/harness.js';

const CLI = join(import.meta.dirname, '..', '..', 'cli.js');
const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote';
const BOOT_ID = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replaceAll('-', '');
const OTHER_BOOT = '0123456789abcdef0123456789abcdef';
const dir = tempDir();
after(() => dir.cleanup());

interface TestEntry {
  message: string | Buffer;
  unit?: string;
  boot?: string;
  extra?: Record<string, string>;
}

let clock = 1_700_000_000_000_000;

function exportField(name: string, value: string | Buffer): Buffer {
  if (typeof value === 'string' && !value.includes('\n')) return Buffer.from(`${name}=${value}\n`);
  const bytes = Buffer.from(value);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(bytes.length));
  return Buffer.concat([Buffer.from(`${name}\n`), length, bytes, Buffer.from('\n')]);
}

/** Appends entries to `<journalDir>/remote.journal` with systemd's own writer. */
function writeJournal(journalDir: string, entries: TestEntry[]): void {
  mkdirSync(journalDir, { recursive: true });
  const parts: Buffer[] = [];
  for (const entry of entries) {
    clock += 1_000_000;
    parts.push(exportField('__REALTIME_TIMESTAMP', String(clock)), exportField('__MONOTONIC_TIMESTAMP', String(clock - 1_600_000_000_000_000)));
    parts.push(exportField('_BOOT_ID', entry.boot ?? BOOT_ID), exportField('_HOSTNAME', 'node-a'), exportField('MESSAGE', entry.message));
    if (entry.unit !== undefined) parts.push(exportField('_SYSTEMD_UNIT', entry.unit));
    for (const [name, value] of Object.entries(entry.extra ?? {})) parts.push(exportField(name, value));
    parts.push(Buffer.from('\n'));
  }
  const result = spawnSync(JOURNAL_REMOTE, ['-o', join(journalDir, 'remote.journal'), '-'], { input: Buffer.concat(parts), encoding: 'utf8' });
  assert.equal(result.status, 0, `systemd-journal-remote failed: ${result.stderr}`);
}

interface Agent {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

function startAgent(name: string, config: string, dataDir: string): Agent {
  const path = join(dir.path, `${name}.toml`);
  writeFileSync(path, `data_dir = "${dataDir}"\n${config}`);
  // The timeout only turns a hang into a failure instead of stalling the suite.
  const child = spawn(process.execPath, [CLI, '--config', path], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL' });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

async function stopAgent(agent: Agent): Promise<void> {
  agent.child.kill('SIGINT');
  assert.equal(await agent.exit, 0, agent.stderr());
}

function readLines(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function waitForLines(path: string, count: number, agent: Agent): Promise<Array<Record<string, unknown>>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const lines = readLines(path);
    if (lines.length >= count) return lines;
    if (Date.now() > deadline || agent.child.exitCode !== null) throw new Error(`expected ${count} lines in ${path}, got ${lines.length}; stderr:\n${agent.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function source(id: string, journalDir: string, options = ''): string {
  return `[sources.${id}]\ntype = "journald"\njournal_directory = "${journalDir}"\n${options}`;
}

function fileSink(id: string, input: string, path: string): string {
  return `[sinks.${id}]\ntype = "file"\ninputs = ["${input}"]\npath = "${path}"\nencoding.codec = "json"\n`;
}

describe('journald source (real journal files, real journalctl)', () => {
  it('ships MESSAGE as message with the journal fields; include/exclude units and current_boot_only filter', async () => {
    const journal = join(dir.path, 'fields-journal');
    writeJournal(journal, [
      { message: 'one', unit: 'foo.service', extra: { PRIORITY: '6', SYSLOG_IDENTIFIER: 'foo' } },
      { message: 'two', unit: 'bar.service' },
      { message: Buffer.from('multi\nline ünï'), unit: 'baz.service' },
      { message: 'kernel says', extra: { _TRANSPORT: 'kernel' } },
      { message: 'old boot', unit: 'foo.service', boot: OTHER_BOOT },
      { message: 'three', unit: 'foo.service' },
    ]);
    const out = (name: string) => join(dir.path, `fields-${name}.ndjson`);
    const agent = startAgent(
      'fields',
      source('inc', journal, 'include_units = ["foo", "baz.service"]\n') +
        source('exc', journal, 'exclude_units = ["foo"]\n') +
        source('every_boot', journal, 'current_boot_only = false\n') +
        fileSink('inc_out', 'inc', out('inc')) +
        fileSink('exc_out', 'exc', out('exc')) +
        fileSink('every_boot_out', 'every_boot', out('all')),
      join(dir.path, 'fields-data'),
    );
    try {
      const all = await waitForLines(out('all'), 6, agent);
      assert.deepEqual(all.map((e) => e.message), ['one', 'two', 'multi\nline ünï', 'kernel says', 'old boot', 'three']);
      const inc = await waitForLines(out('inc'), 3, agent);
      assert.deepEqual(inc.map((e) => e.message), ['one', 'multi\nline ünï', 'three']);
      const exc = await waitForLines(out('exc'), 3, agent);
      assert.deepEqual(exc.map((e) => e.message), ['two', 'multi\nline ünï', 'kernel says']);
      const first = inc[0]!;
      assert.equal(first._SYSTEMD_UNIT, 'foo.service');
      assert.equal(first.PRIORITY, '6');
      assert.equal(first.SYSLOG_IDENTIFIER, 'foo');
      assert.equal(first._BOOT_ID, BOOT_ID);
      assert.equal(first.host, 'node-a');
      assert.equal(first.source_type, 'journald');
      assert.equal(first.MESSAGE, undefined);
      assert.match(String(first.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.equal(Date.parse(String(first.timestamp)) * 1000, Number(first.__REALTIME_TIMESTAMP));
      // Entries written while the agent runs are followed.
      writeJournal(journal, [{ message: 'live', unit: 'foo.service' }]);
      assert.deepEqual((await waitForLines(out('inc'), 4, agent)).map((e) => e.message).at(-1), 'live');
      assert.equal(readLines(out('exc')).length, 3);
    } finally {
      await stopAgent(agent);
    }
  });

  it('a restart resumes after the checkpointed cursor (file mode 0600), without duplicates', async () => {
    const journal = join(dir.path, 'restart-journal');
    const dataDir = join(dir.path, 'restart-data');
    const out = join(dir.path, 'restart.ndjson');
    const config = source('journal', journal) + fileSink('out', 'journal', out);
    writeJournal(journal, [1, 2, 3].map((n) => ({ message: `entry ${n}`, unit: 'app.service' })));
    let agent = startAgent('restart', config, dataDir);
    try {
      await waitForLines(out, 3, agent);
    } finally {
      await stopAgent(agent);
    }
    const checkpoint = join(dataDir, 'journal', 'journald_cursor');
    assert.equal(statSync(checkpoint).mode & 0o777, 0o600);
    const cursor = readFileSync(checkpoint, 'utf8').trim();
    // The checkpoint is the cursor of the last entry: nothing comes after it.
    const after = spawnSync('journalctl', [`--directory=${journal}`, `--after-cursor=${cursor}`, '-o', 'cat', '--no-pager'], { encoding: 'utf8' });
    assert.equal(after.status, 0, after.stderr);
    assert.equal(after.stdout, '');

    writeJournal(journal, [4, 5].map((n) => ({ message: `entry ${n}`, unit: 'app.service' })));
    agent = startAgent('restart', config, dataDir);
    try {
      await waitForLines(out, 5, agent);
      assert.match(agent.stderr(), /journald resumes after its checkpoint/);
    } finally {
      await stopAgent(agent);
    }
    assert.deepEqual(readLines(out).map((e) => e.message), [1, 2, 3, 4, 5].map((n) => `entry ${n}`));
  });

  it('journalctl exiting is logged and it is restarted after the last entry read', async () => {
    const journal = join(dir.path, 'crash-journal');
    const out = join(dir.path, 'crash.ndjson');
    const calls = join(dir.path, 'crash-calls');
    const wrapper = join(dir.path, 'journalctl-wrapper.sh');
    writeFileSync(wrapper, `#!/bin/sh\necho "$$ $*" >> "${calls}"\nexec journalctl "$@"\n`);
    chmodSync(wrapper, 0o755);
    writeJournal(journal, [1, 2].map((n) => ({ message: `entry ${n}` })));
    const agent = startAgent('crash', source('journal', journal, `journalctl_path = "${wrapper}"\n`) + fileSink('out', 'journal', out), join(dir.path, 'crash-data'));
    try {
      await waitForLines(out, 2, agent);
      const firstPid = Number(readFileSync(calls, 'utf8').split(' ', 1)[0]);
      process.kill(firstPid, 'SIGKILL'); // the journalctl this test's agent started
      await waitUntil(() => /journalctl exited; restarting it/.test(agent.stderr()), 10_000, 'the restart log line');
      writeJournal(journal, [{ message: 'entry 3' }]);
      await waitForLines(out, 3, agent);
      const invocations = readFileSync(calls, 'utf8').trim().split('\n');
      assert.equal(invocations.length, 2);
      assert.doesNotMatch(invocations[0]!, /--after-cursor/);
      assert.match(invocations[1]!, /--after-cursor=s=/);
    } finally {
      await stopAgent(agent);
    }
    assert.deepEqual(readLines(out).map((e) => e.message), ['entry 1', 'entry 2', 'entry 3']);
  });

  it('the cursor is checkpointed only once the sink acknowledged', async () => {
    const journal = join(dir.path, 'ack-journal');
    writeJournal(journal, [1, 2].map((n) => ({ message: `entry ${n}` })));
    const sink = collector('journald-ack');
    sink.mode = 'hold';
    const running = await startTopology({
      sources: { journal: { type: 'journald', journal_directory: journal } },
      sinks: { out: { type: 'test_collect', name: 'journald-ack', inputs: ['journal'] } },
    });
    const checkpoint = join(running.dir, 'data', 'journal', 'journald_cursor');
    try {
      await sink.waitFor(2, 15_000);
      assert.equal(existsSync(checkpoint), false);
      sink.releaseAll();
      await waitUntil(() => existsSync(checkpoint), 10_000, 'the checkpoint');
      assert.match(readFileSync(checkpoint, 'utf8'), /^s=.*;i=2;/);
    } finally {
      await running.stop();
    }
  });
  it('a journalctl that cannot start is logged and retried, not a silent stall', async () => {
    const agent = startAgent('missing', source('journal', join(dir.path, 'no-journal'), 'journalctl_path = "/nonexistent/journalctl"\n') + fileSink('out', 'journal', join(dir.path, 'missing.ndjson')), join(dir.path, 'missing-data'));
    try {
      await waitUntil(() => (agent.stderr().match(/journalctl exited; restarting it/g) ?? []).length >= 2, 15_000, 'two restart log lines');
      const line = agent.stderr().split('\n').find((l) => l.includes('journalctl exited'))!;
      assert.match(line, /ENOENT/);
      assert.match(line, /"level":"warn"/);
    } finally {
      await stopAgent(agent);
    }
  });
});
