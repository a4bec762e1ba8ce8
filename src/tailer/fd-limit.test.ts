import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { clampMaxOpenFiles, defaultMaxOpenFiles, openFilesSoftLimit } from './fd-limit.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-fd-limit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function limits(name: string, soft: string, hard: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    'Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max processes             62987                62987                processes \n' +
      `Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     \n` +
      'Max locked memory         8388608              8388608              bytes     \n',
  );
  return path;
}

function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

test('the soft RLIMIT_NOFILE is read from /proc/self/limits; unlimited or unreadable is unknown', (t) => {
  assert.equal(openFilesSoftLimit(limits('a', '1024', '524288')), 1024);
  assert.equal(openFilesSoftLimit(limits('b', 'unlimited', 'unlimited')), undefined);
  assert.equal(openFilesSoftLimit(join(dir, 'missing')), undefined);
  if (process.platform !== 'linux') return t.skip('no /proc/self/limits here');
  assert.ok((openFilesSoftLimit() ?? 0) > 0);
});

test('max_open_files is lowered to the limit minus a reserve, with a warning; a lower value is kept', () => {
  const { logger, lines } = recordingLogger();
  assert.equal(clampMaxOpenFiles(1024, 1024, logger), 768);
  assert.equal(clampMaxOpenFiles(1024, 64, logger), 48);
  assert.equal(lines.length, 2);
  assert.deepEqual([lines[0]!.max_open_files, lines[0]!.using, lines[0]!.rlimit_nofile], [1024, 768, 1024]);
  assert.equal(clampMaxOpenFiles(500, 1_048_576, logger), 500);
  assert.equal(clampMaxOpenFiles(1024, undefined, logger), 1024, 'unknown limit (not Linux): as configured');
  assert.equal(lines.length, 2);
});

test('max_open_files left out follows the fd budget (the limit minus the reserve), without a warning', () => {
  const { logger, lines } = recordingLogger();
  assert.equal(clampMaxOpenFiles(undefined, 1_048_576, logger), 1_048_320, 'a container runtime\'s limit: no parking at any realistic file count');
  assert.equal(clampMaxOpenFiles(undefined, 20_000, logger), 19_744);
  assert.equal(clampMaxOpenFiles(undefined, 1024, logger), 768);
  assert.equal(clampMaxOpenFiles(undefined, 200, logger), 150);
  assert.equal(clampMaxOpenFiles(undefined, undefined, logger), 1024, 'unknown limit: the classic 1,024');
  assert.equal(defaultMaxOpenFiles(2), 2, 'a tiny limit: a reserve of a quarter');
  assert.equal(lines.length, 0);
});
