import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CheckpointStore } from './checkpoint-store.js';

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
  assert.deepEqual(await loaded.load(), { corrupt: false });
  assert.deepEqual(loaded.byInode(1, 2), [{ fingerprint, offset: 42, path: '/x/0.log', updatedAt: 5 }]);
  assert.equal(loaded.inDirectory('/x').length, 1);
});

test('a missing file is an empty store; a corrupt one is reported, not fatal', async () => {
  assert.deepEqual(await new CheckpointStore(join(dir, 'none.json')).load(), { corrupt: false });
  const path = join(dir, 'corrupt.json');
  writeFileSync(path, '{"version":1,"checkp');
  const store = new CheckpointStore(path);
  assert.deepEqual(await store.load(), { corrupt: true });
  assert.equal(store.size, 0);
});
