import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CheckpointStore } from './checkpoint-store.js';
import { hashHead } from './fingerprint.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-checkpoints-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fingerprint = { dev: 1, ino: 2, headLength: 10, headHash: 'abc' };

test('persists atomically and loads back, keyed by fingerprint', async () => {
  const path = join(dir, 'a', 'checkpoints.json');
  const store = new CheckpointStore(path);
  store.set({ fingerprint, offset: 42, path: '/x/0.log', updatedAt: 5 });
  await Promise.all([store.persist(), store.persist()]);
  assert.deepEqual(readdirSync(join(dir, 'a')), ['checkpoints.json'], 'no temporary file left');
  const body = JSON.parse(readFileSync(path, 'utf8'));
  assert.deepEqual(Object.keys(body.checkpoints), ['1:2:10:abc']);
  const loaded = new CheckpointStore(path);
  assert.equal((await loaded.load()).corrupt, false);
  assert.deepEqual(loaded.byInode(1, 2), [{ fingerprint, offset: 42, path: '/x/0.log', updatedAt: 5 }]);
  assert.equal(loaded.inDirectory('/x').length, 1);
});

test('paths needing JSON escapes are written and read back exactly', async () => {
  const path = join(dir, 'escapes', 'checkpoints.json');
  const store = new CheckpointStore(path);
  const odd = '/logs/ns_pod "quoted" \\ back\nslash_ü/0.log';
  store.set({ fingerprint: { ...fingerprint, headHash: 'h"\\' }, offset: 7, path: odd, updatedAt: 9 });
  await store.persist();
  const loaded = new CheckpointStore(path);
  assert.equal((await loaded.load()).corrupt, false);
  assert.deepEqual(loaded.byInode(1, 2), [{ fingerprint: { ...fingerprint, headHash: 'h"\\' }, offset: 7, path: odd, updatedAt: 9 }]);
});

test('a data directory removed while running is made again', async () => {
  const path = join(dir, 'removed', 'checkpoints.json');
  const store = new CheckpointStore(path);
  store.set({ fingerprint, offset: 1, path: '/x/0.log', updatedAt: 5 });
  await store.persist();
  rmSync(join(dir, 'removed'), { recursive: true });
  store.set({ fingerprint, offset: 2, path: '/x/0.log', updatedAt: 6 });
  await store.persist();
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).checkpoints['1:2:10:abc'].offset, 2);
});

test('a failed write is reported and does not block the next ones', async () => {
  const blocked = join(dir, 'blocked');
  writeFileSync(blocked, 'a file where the directory should be');
  const store = new CheckpointStore(join(blocked, 'checkpoints.json'));
  store.set({ fingerprint, offset: 3, path: '/x/0.log', updatedAt: 5 });
  await assert.rejects(store.persist());
  rmSync(blocked);
  await store.persist();
  assert.equal(JSON.parse(readFileSync(join(blocked, 'checkpoints.json'), 'utf8')).checkpoints['1:2:10:abc'].offset, 3);
});

test('a missing file is an empty store; a corrupt one is reported, not fatal', async () => {
  assert.equal((await new CheckpointStore(join(dir, 'none.json')).load()).corrupt, false);
  const path = join(dir, 'corrupt.json');
  writeFileSync(path, '{"version":1,"checkp');
  const store = new CheckpointStore(path);
  assert.equal((await store.load()).corrupt, true);
  assert.equal(store.size, 0);
});

test('prune drops only old records of files gone from both their inode and their directory', () => {
  const store = new CheckpointStore(join(dir, 'prune.json'));
  const record = (ino: number, path: string, updatedAt: number) => ({ fingerprint: { dev: 1, ino, headLength: 1, headHash: `h${ino}` }, offset: 1, path, updatedAt });
  store.set(record(1, '/gone/0.log', 0)); // old, file and directory gone: dropped
  store.set(record(2, '/live-dir/0.log.1', 0)); // old, but its directory still has files (a gzip copy may come)
  store.set(record(3, '/other/0.log', 0)); // old, but its inode is still tracked
  store.set(record(4, '/gone/1.log', 9_000)); // recent
  store.prune(10_000, 5_000, new Set(['1:3']), new Set(['/live-dir']));
  assert.equal(store.size, 3);
  assert.deepEqual(store.byInode(1, 1), []);
  assert.equal(store.byInode(1, 2).length, 1);
});

test('bestMatch picks the record whose longest head matches', () => {
  const head = Buffer.from('2024-01-01T00:00:00Z stdout F hello\n');
  const fp = (length: number, text = head) => ({ dev: 1, ino: 1, headLength: length, headHash: hashHead(text, length) });
  const records = [
    { fingerprint: fp(10), offset: 10, path: '/a', updatedAt: 0 },
    { fingerprint: fp(20), offset: 20, path: '/a', updatedAt: 0 },
    { fingerprint: fp(30, Buffer.from('x'.repeat(40))), offset: 30, path: '/a', updatedAt: 0 },
  ];
  assert.equal(CheckpointStore.bestMatch(records, head)?.offset, 20);
  assert.equal(CheckpointStore.bestMatch(records, Buffer.from('other')), undefined);
});

const modeOf = (path: string) => statSync(path).mode & 0o777;

test('checkpoints are written 0600 in directories made 0700', async () => {
  const path = join(dir, 'private', 'nested', 'checkpoints.json');
  const store = new CheckpointStore(path);
  store.set({ fingerprint, offset: 1, path: '/x/0.log', updatedAt: 5 });
  await store.persist();
  assert.equal(modeOf(path), 0o600);
  assert.equal(modeOf(join(dir, 'private', 'nested')), 0o700);
  assert.equal(modeOf(join(dir, 'private')), 0o700);
});

test('a checkpoint directory and files left world-readable are tightened at load', async () => {
  const wide = join(dir, 'wide');
  mkdirSync(wide);
  chmodSync(wide, 0o755);
  const path = join(wide, 'checkpoints.json');
  writeFileSync(path, '{"version":1,"checkpoints":{}}', { mode: 0o644 });
  writeFileSync(`${path}.tmp`, 'left by a crash', { mode: 0o666 });
  const { untightened } = await new CheckpointStore(path).load();
  assert.deepEqual(untightened, []);
  assert.equal(modeOf(wide), 0o700);
  assert.equal(modeOf(path), 0o600);
  assert.equal(modeOf(`${path}.tmp`), 0o600);
});

/** A checkpoint file with `records` besides one valid record under key `good`. */
function fileWith(records: Record<string, unknown>): string {
  const good = { dev: 1, ino: 2, head_length: 10, head_hash: 'abc', offset: 42, path: '/x/0.log', updated_at: 5 };
  return JSON.stringify({ version: 1, checkpoints: { '1:2:10:abc': good, ...records } });
}

test('records with a negative, fractional, NaN or string offset or a wrong shape are dropped and named; the rest load', async () => {
  const base = { dev: 1, ino: 3, head_length: 10, head_hash: 'def', path: '/x/1.log', updated_at: 5 };
  const path = join(dir, 'invalid-records.json');
  const text = fileWith({
    negative: { ...base, offset: -5 },
    fractional: { ...base, offset: 10.5 },
    nan: { ...base, offset: null }, // what JSON.stringify makes of NaN
    nanText: { ...base, offset: 'NaN' },
    string: { ...base, offset: '42' },
    noHash: { dev: 1, ino: 3, head_length: 10, offset: 1, path: '/x/1.log', updated_at: 5 },
    notAnObject: 17,
  });
  writeFileSync(path, text);
  const store = new CheckpointStore(path);
  const report = await store.load();
  assert.equal(report.corrupt, false);
  assert.deepEqual(report.invalid.map((r) => r.key).sort(), ['fractional', 'nan', 'nanText', 'negative', 'noHash', 'notAnObject', 'string']);
  const negative = report.invalid.find((r) => r.key === 'negative')!;
  assert.match(negative.problem, /^offset: /);
  assert.match(negative.record, /"offset":-5/);
  assert.match(report.invalid.find((r) => r.key === 'noHash')!.problem, /^head_hash: /);
  assert.equal(store.size, 1);
  assert.deepEqual(store.byInode(1, 2).map((r) => r.offset), [42]);
  assert.deepEqual(store.byInode(1, 3), []);
  assert.equal(readFileSync(path, 'utf8'), text, 'a file with some bad records is not moved');
});

test('a file that is not a checkpoint file (truncated, wrong shape) is kept aside, not replaced', async () => {
  const cases = {
    truncated: '{"version":1,"checkpoints":{"1:2:10:abc":{"dev":1,"ino"',
    array: '[1,2,3]',
    otherVersion: '{"version":2,"checkpoints":{}}',
    noCheckpoints: '{"version":1}',
    checkpointsNotObject: '{"version":1,"checkpoints":"x"}',
  };
  for (const [name, text] of Object.entries(cases)) {
    const sub = join(dir, `unusable-${name}`);
    mkdirSync(sub);
    const path = join(sub, 'checkpoints.json');
    writeFileSync(path, text);
    const store = new CheckpointStore(path);
    const report = await store.load();
    assert.equal(report.corrupt, true, name);
    assert.ok(report.problem, name);
    assert.match(report.keptAs ?? '', /checkpoints\.json\.corrupt-\d+$/, name);
    assert.equal(readFileSync(report.keptAs!, 'utf8'), text, `${name}: kept byte for byte`);
    assert.equal(store.size, 0);
    store.set({ fingerprint, offset: 1, path: '/x/0.log', updatedAt: 5 });
    await store.persist();
    assert.deepEqual(readdirSync(sub).sort(), ['checkpoints.json', report.keptAs!.slice(sub.length + 1)].sort(), `${name}: the next persist leaves the kept copy alone`);
  }
});

test('successive writes: a moved record is written anew, an unchanged one as before, a dropped one not at all', async () => {
  const path = join(dir, 'successive', 'checkpoints.json');
  const store = new CheckpointStore(path);
  const fp = (ino: number) => ({ dev: 1, ino, headLength: 10, headHash: `h${ino}` });
  store.set({ fingerprint: fp(1), offset: 10, path: '/p/a/0.log', updatedAt: 1 });
  store.set({ fingerprint: fp(2), offset: 20, path: '/p/ü/0.log', updatedAt: 1 });
  store.set({ fingerprint: fp(3), offset: 30, path: '/p/c/0.log', updatedAt: 1 });
  await store.persist();
  assert.equal(store.changedSinceWrite, false);
  store.set({ fingerprint: fp(1), offset: 11, path: '/p/a/0.log', updatedAt: 2 });
  store.delete(fp(3));
  store.set({ fingerprint: fp(4), offset: 40, path: '/p/ü/1.log', updatedAt: 2 });
  assert.equal(store.changedSinceWrite, true);
  await store.persist();
  const loaded = new CheckpointStore(path);
  await loaded.load();
  assert.deepEqual([1, 2, 3, 4].map((ino) => loaded.byInode(1, ino).map((r) => [r.offset, r.path, r.updatedAt])), [[[11, '/p/a/0.log', 2]], [[20, '/p/ü/0.log', 1]], [], [[40, '/p/ü/1.log', 2]]]);
  assert.equal(loaded.changedSinceWrite, false, 'what was loaded is on disk already');
});
