import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PlainChunkReader, closeQuietly, openForReading, openVerified } from './chunk-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-chunk-reader-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A file just written whose atime is older than its mtime (as a log file is between reads). */
function freshlyWrittenLog(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, '2024-01-01T00:00:00Z stdout F a line\n');
  const { mtime } = statSync(path);
  utimesSync(path, new Date(mtime.getTime() - 3_600_000), mtime);
  return path;
}

async function atimeAfterRead(path: string, openFile: (path: string) => Promise<number>): Promise<number> {
  const before = statSync(path).atimeMs;
  const fd = await openFile(path);
  try {
    const chunk = await new PlainChunkReader(fd, 0, Buffer.alloc(1024)).read();
    assert.equal(chunk.toString(), '2024-01-01T00:00:00Z stdout F a line\n');
  } finally {
    await closeQuietly(fd);
  }
  return statSync(path).atimeMs - before;
}

test('log files are read without updating their access time (no inode write per read)', async (t) => {
  const control = await atimeAfterRead(freshlyWrittenLog('control.log'), async (path) => openSync(path, 'r'));
  if (control === 0) return t.skip('this filesystem does not update atime on reads (noatime mount)');
  assert.equal(await atimeAfterRead(freshlyWrittenLog('0.log'), openForReading), 0);
});

test('opening never blocks on a FIFO and never follows a final link: only regular files are opened', { timeout: 20_000 }, async () => {
  const fifo = join(dir, 'fifo.log');
  execFileSync('mkfifo', [fifo]);
  // Without O_NONBLOCK this open waits for a writer forever (on a threadpool thread: the test times out).
  await assert.rejects(openVerified(fifo), { code: 'EUNSAFE', reason: 'not_regular_file' });
  const link = join(dir, 'link.log');
  symlinkSync(freshlyWrittenLog('target.log'), link);
  await assert.rejects(openVerified(link), { code: 'ELOOP' });
  const { fd, stats } = await openVerified(join(dir, 'target.log'));
  closeSync(fd);
  assert.equal(stats.ino, statSync(join(dir, 'target.log')).ino);
});
