import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { KubeletSim } from './kubelet-sim.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-sim-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('writes CRI records, splitting long messages into 16 KiB partials', () => {
  const sim = new KubeletSim({ root: join(dir, 'cri'), format: 'cri' });
  const c = sim.addPod('ns', 'p', ['c']).container('c');
  sim.write(c, 'stdout', 'a'.repeat(16 * 1024 + 5));
  sim.write(c, 'stderr', '');
  sim.stop();
  const lines = readFileSync(c.currentPath, 'utf8').split('\n');
  assert.match(lines[0]!, /^\S+Z stdout P a{16384}$/);
  assert.match(lines[1]!, /^\S+Z stdout F a{5}$/);
  assert.match(lines[2]!, /^\S+Z stderr F $/);
  assert.equal(c.currentPath, join(dir, 'cri', `ns_p_${c.pod.uid}`, 'c', '0.log'));
});

test('writes Docker json-file records; partials lack the trailing newline', () => {
  const sim = new KubeletSim({ root: join(dir, 'docker'), format: 'docker', partialBytes: 4 });
  const c = sim.addPod('ns', 'p', ['c']).container('c');
  sim.write(c, 'stdout', 'abcdef');
  sim.stop();
  const records = readFileSync(c.currentPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(records.map((r) => r.log), ['abcd', 'ef\n']);
  assert.equal(records[0].stream, 'stdout');
});

test('rotates by rename at the size limit, gzips older rotated files, prunes beyond maxFiles, deletes pods', () => {
  const sim = new KubeletSim({ root: join(dir, 'rot'), format: 'cri', rotateAtBytes: 200, maxFiles: 3, compress: true });
  const pod = sim.addPod('ns', 'p', ['c']);
  const c = pod.container('c');
  for (let i = 0; i < 40; i++) sim.write(c, 'stdout', `line ${i}`);
  const rotated = sim.rotatedFiles(c);
  assert.equal(rotated.length, 2, 'current + 2 rotated = maxFiles');
  assert.ok(rotated[0]!.endsWith('.gz') && !rotated[1]!.endsWith('.gz'));
  assert.match(gunzipSync(readFileSync(rotated[0]!)).toString(), /stdout F line \d+\n/);
  assert.ok(!readdirSync(c.dir).some((n) => n.endsWith('.tmp')));
  sim.deletePod(pod);
  assert.ok(!existsSync(pod.dir));
});
