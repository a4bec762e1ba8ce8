import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { removePartsDirs, tailerParts } from '../../test/tailer-parts.js';

after(removePartsDirs);

test('a new file opens at its start, or at its end with read_from = end; the checkpoint starts there', async () => {
  for (const readFrom of ['beginning', 'end'] as const) {
    const parts = tailerParts({ readFrom });
    const path = parts.write('0.log', 'one\ntwo\n');
    await parts.tracker.initialScan();
    await parts.opener.openWaitingFiles();
    const file = parts.files.atPath(path)!;
    const start = readFrom === 'end' ? 8 : 0;
    assert.deepEqual([file.state, file.splitter?.readOffset, file.acks?.acknowledgedOffset, parts.opener.openFiles], ['open', start, start, 1], readFrom);
    assert.ok(file.fingerprint !== undefined, 'a file with bytes has its fingerprint from its head');
    await parts.close();
  }
});

test('a file with a checkpoint matching its head resumes there, whatever read_from says', async () => {
  const first = tailerParts();
  const path = first.write('0.log', 'one\ntwo\n');
  await first.tracker.initialScan();
  await first.opener.openWaitingFiles();
  first.checkpoints.inFlight(first.files.atPath(path)!, 4)(); // 'one' acknowledged
  await first.checkpoints.persist(true);
  await first.close();

  const second = tailerParts({ readFrom: 'end', dir: first.dir }); // a restart on the same tree
  await second.checkpoints.load();
  await second.tracker.initialScan();
  await second.opener.openWaitingFiles();
  const file = second.files.atPath(path)!;
  assert.deepEqual([file.splitter?.readOffset, file.acks?.acknowledgedOffset], [4, 4]);
  await second.close();

  writeFileSync(path, 'other bytes under the same inode\n'); // the head no longer matches
  const third = tailerParts({ dir: first.dir });
  await third.checkpoints.load();
  await third.tracker.initialScan();
  await third.opener.openWaitingFiles();
  assert.equal(third.files.atPath(path)!.splitter?.readOffset, 0, 'a record of other bytes is not used');
  await third.close();
});

test('max_open_files: a file next in turn parks an idle open file, which reopens where it stood', async () => {
  const parts = tailerParts({ maxOpenFiles: 1 });
  const a = parts.write('0.log', 'a1\n');
  const b = parts.write('1.log', 'b1\n');
  await parts.tracker.initialScan();
  await parts.opener.openWaitingFiles();
  const fileA = parts.files.atPath(a)!;
  const fileB = parts.files.atPath(b)!;
  assert.deepEqual([fileA.state, fileB.state, parts.opener.openFiles], ['open', 'waiting', 1]);
  fileA.splitter!.push(Buffer.from('a1\n'), fileA.decoder!, []); // read to its end
  fileA.readable = false; // idle at its end: it may be parked (the loop enlists it)
  parts.opener.parking.enlist(fileA);
  await parts.opener.openWaitingFiles();
  assert.deepEqual([fileA.state, fileB.state, parts.opener.openFiles], ['parked', 'open', 1]);
  parts.write('0.log', 'a2\n');
  fileA.readable = true; // written to
  fileB.readable = false;
  parts.opener.parking.enlist(fileB);
  await parts.opener.openWaitingFiles();
  assert.deepEqual([fileA.state, fileB.state], ['open', 'parked']);
  assert.equal(fileA.splitter!.readOffset, 3, 'reopened at its read offset, not from its start');
  await parts.close();
});

test('a file never opened is not parked: with no idle file to close, it waits its turn', async () => {
  const parts = tailerParts({ maxOpenFiles: 1 });
  parts.write('0.log', 'a\n');
  const b = parts.write('1.log', 'b\n');
  await parts.tracker.initialScan();
  await parts.opener.openWaitingFiles();
  await parts.opener.openWaitingFiles(); // the open file still has data: nothing to park
  assert.equal(parts.files.atPath(b)!.state, 'waiting');
  assert.equal(parts.opener.anyOpenableFile(), true);
  await parts.close();
});

test('the gzip copy of a file being read is not read again', async () => {
  const text = 'x1\nx2\n';
  const parts = tailerParts();
  const plain = parts.write('0.log.20260101-000000', text);
  await parts.tracker.initialScan();
  await parts.opener.openWaitingFiles();
  const gz = join(parts.containerDir, '0.log.20260101-000000.gz');
  writeFileSync(gz, gzipSync(Buffer.from(text)));
  parts.tracker.requestFullScan();
  await parts.tracker.discover();
  await parts.opener.openWaitingFiles();
  assert.deepEqual(parts.recorded.done, [[gz, 'gzip of a file already read']]);
  assert.equal(parts.files.atPath(plain)!.state, 'open');
  await parts.close();
});
