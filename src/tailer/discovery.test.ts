import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import { Discovery } from './discovery.js';
import type { DiscoveryRoot, RejectReason } from './path-policy.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tree() {
  const base = mkdtempSync(join(tmpdir(), 'sluice-discovery-'));
  dirs.push(base);
  const root = join(base, 'pods');
  const container = join(root, 'ns_pod_uid', 'c');
  mkdirSync(container, { recursive: true });
  const docker = join(base, 'docker');
  mkdirSync(docker);
  return { base, root, container, docker };
}

function discovery(roots: DiscoveryRoot[]) {
  const rejected: Array<[string, RejectReason]> = [];
  const found = new Discovery(roots, (path) => /^\d+\.log/.test(basename(path)), {
    pathChanged: () => {},
    fileWritten: () => {},
    rejected: (path, reason) => rejected.push([path, reason]),
  });
  return { discovery: found, rejected };
}

test('only regular files under the root (or links into a declared target) are found; the rest is reported once', async () => {
  const { base, root, container, docker } = tree();
  writeFileSync(join(container, '0.log'), 'fine\n');
  const secret = join(base, 'secret');
  writeFileSync(secret, 'password\n');
  symlinkSync(secret, join(container, '1.log'));
  // Named like a rotated file: read as one, it never ends (and restarts at every rescan).
  symlinkSync('/proc/self/status', join(container, '2.log.20240101-000000'));
  writeFileSync(join(docker, 'abc-json.log'), '{}\n');
  symlinkSync(join(docker, 'abc-json.log'), join(container, '3.log'));
  symlinkSync(join(container, '0.log'), join(container, '4.log')); // inside the root: fine
  execFileSync('mkfifo', [join(container, '5.log')]);
  symlinkSync(join(base, 'nowhere'), join(container, '6.log')); // dangling: nothing to read or report
  symlinkSync(container, join(container, '7.log')); // a directory behind a log name

  const { discovery: d, rejected } = discovery([{ dir: root, depth: 2, linkTargets: [docker] }]);
  try {
    const first = (await d.scanAll()).map((f) => basename(f.path)).sort();
    assert.deepEqual(first, ['0.log', '3.log', '4.log']);
    await d.scanAll();
    assert.deepEqual(await d.scanPath(join(container, '1.log')), []);
    assert.deepEqual(rejected.map(([path, reason]) => [basename(path), reason]).sort(), [
      ['1.log', 'link_outside_root'],
      ['2.log.20240101-000000', 'link_outside_root'],
      ['5.log', 'not_regular_file'],
      ['7.log', 'not_regular_file'],
    ]);
  } finally {
    d.close();
  }
});

test('the path to open is validated again: a link swapped in after discovery is refused', async () => {
  const { base, root, container, docker } = tree();
  const path = join(container, '0.log');
  writeFileSync(path, 'fine\n');
  writeFileSync(join(docker, 'abc-json.log'), '{}\n');
  symlinkSync(join(docker, 'abc-json.log'), join(container, '1.log'));
  const { discovery: d } = discovery([{ dir: root, depth: 2, linkTargets: [docker] }]);
  try {
    assert.equal((await d.scanAll()).length, 2);
    assert.equal(d.openablePath(path), path);
    assert.equal(d.openablePath(join(container, '1.log')), join(docker, 'abc-json.log'), 'a legacy link opens its target');
    rmSync(path);
    writeFileSync(join(base, 'secret'), 'password\n');
    symlinkSync(join(base, 'secret'), path);
    assert.throws(() => d.openablePath(path), { code: 'EUNSAFE', reason: 'link_outside_root' });
    rmSync(path);
    assert.throws(() => d.openablePath(path), { code: 'ENOENT' });
  } finally {
    d.close();
  }
});
