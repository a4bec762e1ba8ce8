import assert from 'node:assert/strict';
import type { Stats } from 'node:fs';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { MetricsRegistry } from '../core/metrics.js';
import { FileCheckpoints } from './file-checkpoints.js';
import { fingerprintFromHead } from './fingerprint.js';
import { TailedFile, type FileAdmission } from './tailed-file.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-file-checkpoints-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const logger = pino({ level: 'silent' });
const metrics = () => new MetricsRegistry().forComponent('source', 'logs', 'kubernetes_logs');
const admission = { rotated: false, compressed: false, createDecoder: () => { throw new Error('unused'); } } as unknown as FileAdmission;
const head = Buffer.from('2024-01-01T00:00:00Z stdout F hello\n');

function trackedFile(): TailedFile {
  const file = new TailedFile('/pods/ns_pod_uid/c/0.log', '7:9', 7, 9, admission, false, { size: 0, mtimeMs: 0 } as Stats);
  file.fingerprint = fingerprintFromHead(7, 9, head);
  return file;
}

test('file checkpoints: out-of-order acknowledgements move the checkpoint over the contiguous prefix only', async () => {
  const path = join(dir, 'a', 'checkpoints.json');
  const file = trackedFile();
  const checkpoints = new FileCheckpoints(path, 1000, () => [file], logger, metrics());
  checkpoints.startAt(file, 100);
  const first = checkpoints.inFlight(file, 200);
  const second = checkpoints.inFlight(file, 300);
  let afterSecond = 0;
  const third = checkpoints.inFlight(file, 400, () => afterSecond++);
  third();
  second();
  assert.equal(afterSecond, 1, 'the follow-up runs with its own acknowledgement');
  await checkpoints.persist();
  const reloaded = new FileCheckpoints(path, 1000, () => [], logger, metrics());
  await reloaded.load();
  assert.equal(reloaded.matchByInode(7, 9, head)?.offset, 100, 'the first batch holds the checkpoint back');
  first();
  await checkpoints.persist();
  const again = new FileCheckpoints(path, 1000, () => [], logger, metrics());
  await again.load();
  assert.equal(again.matchByInode(7, 9, head)?.offset, 400);
  assert.equal(again.matchInDirectory('/pods/ns_pod_uid/c', head)?.offset, 400);
  assert.equal(again.hasInode(7, 9), true);
  assert.equal(again.hasInode(7, 10), false);
});

test('file checkpoints: persist writes only when an acknowledgement moved something, unless forced', async () => {
  const path = join(dir, 'b', 'checkpoints.json');
  const file = trackedFile();
  const checkpoints = new FileCheckpoints(path, 1000, () => [file], logger, metrics());
  checkpoints.startAt(file, 0);
  await checkpoints.persist(); // nothing acknowledged yet: no write
  const none = new FileCheckpoints(path, 1000, () => [], logger, metrics());
  await none.load();
  assert.equal(none.hasInode(7, 9), false);
  await checkpoints.persist(true);
  const forced = new FileCheckpoints(path, 1000, () => [], logger, metrics());
  await forced.load();
  assert.equal(forced.matchByInode(7, 9, head)?.offset, 0);
});

test('file checkpoints: acknowledgements that moved no offset do not rewrite the file; a moved offset does', async () => {
  const path = join(dir, 'c', 'checkpoints.json');
  const file = trackedFile();
  const quiet = trackedFile();
  const checkpoints = new FileCheckpoints(path, 1, () => [file, quiet], logger, metrics());
  checkpoints.startAt(file, 0);
  checkpoints.startAt(quiet, 50);
  checkpoints.inFlight(file, 100)();
  await checkpoints.persist();
  const written = statSync(path).ino; // each write is a new file renamed over the old one
  checkpoints.inFlight(file, 100)(); // acknowledged, nothing moved (a read that ended in a partial line)
  await checkpoints.persist();
  checkpoints.inFlight(quiet, 50)();
  await checkpoints.persist();
  assert.equal(statSync(path).ino, written, 'not rewritten');
  checkpoints.inFlight(file, 250)();
  await checkpoints.persist();
  assert.notEqual(statSync(path).ino, written, 'rewritten once an offset moved');
  const reloaded = new FileCheckpoints(path, 1, () => [], logger, metrics());
  await reloaded.load();
  assert.equal(reloaded.matchByInode(7, 9, head)?.offset, 250);
  const before = statSync(path).ino;
  await checkpoints.persist(true);
  assert.notEqual(statSync(path).ino, before, 'forced (shutdown): written whatever moved');
});
