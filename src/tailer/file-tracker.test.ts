import assert from 'node:assert/strict';
import { renameSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { kubeletAdmission, removePartsDirs, tailerParts } from '../../test/tailer-parts.js';
import { inodeKey } from './tailed-file.js';

after(removePartsDirs);

test('files are registered by identity; read_from = end applies to the first scan only', async () => {
  const parts = tailerParts({ readFrom: 'end' });
  const first = parts.write('0.log', 'a\n');
  await parts.tracker.initialScan();
  const later = parts.write('1.log', 'b\n');
  parts.tracker.pathChanged(later);
  assert.equal(parts.tracker.workDue, true);
  await parts.tracker.discover();
  assert.equal(parts.tracker.workDue, false);
  const a = parts.files.get(inodeKey(statSync(first)))!;
  const b = parts.files.get(inodeKey(statSync(later)))!;
  assert.deepEqual([a.path, a.startAtEnd, a.state], [first, true, 'waiting']);
  assert.deepEqual([b.path, b.startAtEnd, b.state], [later, false, 'waiting']);
  assert.equal(parts.files.atPath(first), a);
  await parts.close();
});

test('a rename keeps the file (same inode) and takes the new name\'s place in the sequence', async () => {
  const parts = tailerParts();
  const current = parts.write('0.log', 'a\n');
  await parts.tracker.initialScan();
  const file = parts.files.atPath(current)!;
  const rotated = join(parts.containerDir, '0.log.20260101-000000');
  renameSync(current, rotated);
  parts.tracker.requestFullScan();
  await parts.tracker.discover();
  assert.equal(parts.files.atPath(rotated), file);
  assert.equal(parts.files.atPath(current), undefined);
  assert.deepEqual([file.admission.rotated, file.rank], [true, '20260101-000000']);
  await parts.close();
});

test('a new file takes the name of one whose new name was not seen: the old one waits for its rank, then is placed by its rotated name', async () => {
  const parts = tailerParts();
  const current = parts.write('0.log', 'old\n');
  await parts.tracker.initialScan();
  const old = parts.files.atPath(current)!;
  const rotated = join(parts.containerDir, '0.log.20260101-000000');
  renameSync(current, rotated);
  parts.write('0.log', 'new\n');
  parts.tracker.pathChanged(current); // only the event for the current name
  await parts.tracker.discover();
  const fresh = parts.files.atPath(current)!;
  assert.notEqual(fresh, old);
  assert.equal(old.path, rotated, 'found under its rotated name when the directory was listed again');
  assert.equal(old.rankPending, false);
  assert.deepEqual([old.rank, fresh.rank], ['20260101-000000', '99999999-999999']);
  assert.equal(parts.files.isNextInSequence(old), true);
  assert.equal(parts.files.isNextInSequence(fresh), false, 'read after the rotated file');
  await parts.close();
});

test('vanished files: a file never opened is forgotten, an open one is orphaned and finishes at its end', async () => {
  const parts = tailerParts();
  const never = parts.write('0.log', 'a\n');
  const opened = parts.write('1.log', 'b\n');
  await parts.tracker.initialScan();
  const neverFile = parts.files.atPath(never)!;
  const openedFile = parts.files.atPath(opened)!;
  openedFile.state = 'open';
  unlinkSync(never);
  unlinkSync(opened);
  parts.tracker.requestFullScan();
  await parts.tracker.discover();
  assert.equal(parts.files.get(neverFile.key), undefined);
  assert.deepEqual(parts.recorded.dropped, [never]);
  assert.equal(parts.files.get(openedFile.key), openedFile);
  assert.deepEqual([openedFile.orphaned, openedFile.readable], [true, true]);
  openedFile.state = 'waiting'; // nothing to close in this test
  await parts.close();
});

test('ignore_older_secs: an old file without a checkpoint is not registered, until it is written again', async () => {
  const parts = tailerParts({ ignoreOlderSecs: 60 });
  const path = parts.write('0.log', 'a\n');
  const old = new Date(Date.now() - 3600_000);
  utimesSync(path, old, old);
  await parts.tracker.initialScan();
  assert.equal(parts.files.size, 0);
  parts.write('0.log', 'b\n');
  parts.tracker.requestFullScan();
  await parts.tracker.discover();
  assert.equal(parts.files.atPath(path)?.path, path);
  await parts.close();
});

test('an admission that settles false finishes the file unread (excluded); true makes it readable', async () => {
  let decide!: (read: boolean) => void;
  const decision = new Promise<boolean>((resolve) => (decide = resolve));
  const parts = tailerParts({ admit: (path) => kubeletAdmission(path, path.endsWith('0.log') ? decision : Promise.resolve(true)) });
  const skipped = parts.write('0.log', 'a\n');
  const read = parts.write('1.log', 'b\n');
  await parts.tracker.initialScan();
  assert.equal(parts.files.atPath(skipped)!.admissionPending, true);
  decide(false);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(parts.recorded.excluded, [skipped]);
  assert.deepEqual([parts.files.atPath(read)!.admissionPending, parts.files.atPath(read)!.readable], [false, true]);
  await parts.close();
});
