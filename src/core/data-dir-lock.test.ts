import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataDirLock, DataDirLockedError, LOCK_FILE } from './data-dir-lock.js';

const root = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `d${n++}`);

/** A live process that is not us (its pid is what another agent on this host would write). */
function otherProcess() {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { pid: child.pid!, stop: async () => (child.kill('SIGKILL'), await exited) };
}

function writeLock(dir: string, holder: object, ageMs = 0): void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  writeFileSync(path, JSON.stringify(holder));
  const time = new Date(Date.now() - ageMs);
  utimesSync(path, time, time);
}

test('the lock file holds our pid, is 0600 in a data dir made 0700, and is removed on release', async () => {
  const dir = freshDir();
  const lock = await DataDirLock.acquire(dir);
  const path = join(dir, LOCK_FILE);
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  lock.release();
  assert.equal(existsSync(path), false);
});

test('a data dir left 0755 is tightened to 0700 when locked', async () => {
  const dir = freshDir();
  mkdirSync(dir);
  chmodSync(dir, 0o755);
  const lock = await DataDirLock.acquire(dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  lock.release();
});

test('a lock held by a live process on this host is refused, naming the dir and the holder; once it is dead the lock is taken', async () => {
  const dir = freshDir();
  const other = otherProcess();
  writeLock(dir, { pid: other.pid, host: hostname(), since: '2026-01-01T00:00:00.000Z', token: 't' });
  await assert.rejects(DataDirLock.acquire(dir), (error: unknown) => {
    assert.ok(error instanceof DataDirLockedError);
    assert.match(error.message, new RegExp(`data directory ${dir} is in use by another sluice \\(pid ${other.pid} on ${hostname()}`));
    return true;
  });
  await other.stop();
  const lock = await DataDirLock.acquire(dir);
  assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
  lock.release();
});

test('a lock with our own pid (a restarted container is pid 1 again) is stale', async () => {
  const dir = freshDir();
  writeLock(dir, { pid: process.pid, host: hostname(), since: 'x', token: 'old' });
  const lock = await DataDirLock.acquire(dir);
  assert.notEqual(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).token, 'old');
  lock.release();
});

test('another host (another pid namespace): held while its heartbeat is fresh, stale once it stops', async () => {
  const dir = freshDir();
  writeLock(dir, { pid: 1, host: 'other-pod', since: 'x', token: 't' });
  await assert.rejects(DataDirLock.acquire(dir, { staleAfterMs: 60_000 }), /pid 1 on other-pod/);
  writeLock(dir, { pid: 1, host: 'other-pod', since: 'x', token: 't' }, 120_000);
  (await DataDirLock.acquire(dir, { staleAfterMs: 60_000 })).release();
});

test('an empty lock file (its writer died before writing) is held while fresh, stale when old', async () => {
  const dir = freshDir();
  mkdirSync(dir);
  writeFileSync(join(dir, LOCK_FILE), '');
  await assert.rejects(DataDirLock.acquire(dir), DataDirLockedError);
  const old = new Date(Date.now() - 120_000);
  utimesSync(join(dir, LOCK_FILE), old, old);
  (await DataDirLock.acquire(dir)).release();
});

test('the holder keeps its lock fresh, and release leaves a lock that is no longer ours alone', async () => {
  const dir = freshDir();
  const lock = await DataDirLock.acquire(dir, { heartbeatMs: 20 });
  const path = join(dir, LOCK_FILE);
  const old = new Date(Date.now() - 120_000);
  utimesSync(path, old, old);
  const deadline = Date.now() + 10_000;
  while (statSync(path).mtimeMs < Date.now() - 60_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(statSync(path).mtimeMs > Date.now() - 60_000, 'the heartbeat touched the lock file');
  writeFileSync(path, JSON.stringify({ pid: 1, host: 'other', since: 'x', token: 'theirs' }));
  lock.release();
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).token, 'theirs');
});
