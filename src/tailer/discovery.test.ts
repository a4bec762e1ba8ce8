import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import { defaultMaxWatchedDirectories } from './watch-limit.js';
import { Discovery, type DiscoveryLimits, type WatchRefusal } from './discovery.js';
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

function discovery(roots: DiscoveryRoot[], limits: DiscoveryLimits = { maxWatchedDirectories: 100 }) {
  const rejected: Array<[string, RejectReason]> = [];
  const refused: Array<[string, WatchRefusal]> = [];
  const found = new Discovery(
    roots,
    (path) => /^\d+\.log/.test(basename(path)),
    {
      pathChanged: () => {},
      fileWritten: () => {},
      rejected: (path, reason) => rejected.push([path, reason]),
      watchRefused: (dir, cause) => refused.push([dir, cause]),
    },
    limits,
  );
  return { discovery: found, rejected, refused };
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

test('max_watched_directories: directories beyond it are reported once and still scanned; a freed slot is used again', async () => {
  const { root, container } = tree(); // root, pod and container directories
  writeFileSync(join(container, '0.log'), 'fine\n');
  const { discovery: d, refused } = discovery([{ dir: root, depth: 2 }], { maxWatchedDirectories: 2 });
  try {
    assert.equal((await d.scanAll()).length, 1, 'the unwatched directory is still scanned');
    assert.equal(d.watchedDirectories, 2);
    assert.deepEqual(refused, [[container, 'max_watched_directories']]);
    await d.scanAll();
    assert.equal(refused.length, 1, 'reported once, not per scan');
    const other = join(root, 'ns_other_uid');
    mkdirSync(other);
    await d.scanAll();
    assert.equal(d.watchedDirectories, 2);
    rmSync(join(root, 'ns_pod_uid'), { recursive: true });
    await d.scanAll(); // frees the slots of the directories gone
    assert.equal(d.watchedDirectories, 1);
    await d.scanAll();
    assert.equal(d.watchedDirectories, 2, 'root and the new pod directory');
  } finally {
    d.close();
  }
  assert.equal(d.watchedDirectories, 0);
});

test('ENOSPC from fs.watch (inotify watches used up) is reported, not swallowed; the directory is still scanned', async () => {
  const { root, container } = tree();
  writeFileSync(join(container, '0.log'), 'fine\n');
  const exhausted = ((dir: string, ...rest: unknown[]) => {
    if (dir === container) throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' });
    return (watch as (...args: unknown[]) => ReturnType<typeof watch>)(dir, ...rest);
  }) as typeof watch;
  const { discovery: d, refused } = discovery([{ dir: root, depth: 2 }], { maxWatchedDirectories: 100, watch: exhausted });
  try {
    assert.equal((await d.scanAll()).length, 1);
    await d.scanAll();
    assert.deepEqual(refused, [[container, 'inotify_watches_exhausted']]);
    assert.equal(d.watchedDirectories, 2);
  } finally {
    d.close();
  }
});

test('the default max_watched_directories is half the inotify watches per user, 8192 where unknown', () => {
  const { base } = tree();
  writeFileSync(join(base, 'max_user_watches'), '8192\n');
  assert.equal(defaultMaxWatchedDirectories(join(base, 'max_user_watches')), 4096);
  assert.equal(defaultMaxWatchedDirectories(join(base, 'missing')), 8192);
});

test('a listed regular file is not resolved again, yet gets the real path; links still get the full check', async () => {
  const { base, root, container } = tree();
  writeFileSync(join(container, '0.log'), 'fine\n');
  const secret = join(base, 'secret');
  writeFileSync(secret, 'password\n');
  symlinkSync(secret, join(container, '1.log'));
  const linkedRoot = join(base, 'pods-link'); // the configured root is itself a link (/var/log/pods -> /data/pods)
  symlinkSync(root, linkedRoot);
  const { PathPolicy } = await import('./path-policy.js');
  const { realpathSync } = await import('node:fs');
  const policy = new PathPolicy([{ dir: linkedRoot, depth: 2 }]);
  const listed = join(linkedRoot, 'ns_pod_uid', 'c', '0.log');
  const fast = policy.checkListed(listed);
  const full = policy.check(listed);
  assert.ok(fast?.ok && full?.ok);
  assert.equal(fast.realPath, realpathSync(listed));
  assert.equal(fast.realPath, full.realPath);
  assert.equal(fast.stats.ino, full.stats.ino);
  assert.deepEqual(policy.checkListed(join(linkedRoot, 'ns_pod_uid', 'c', '1.log')), { ok: false, reason: 'link_outside_root' });
  assert.equal(policy.checkListed(join(linkedRoot, 'ns_pod_uid', 'c', 'gone.log')), undefined);

  const { discovery: d, rejected } = discovery([{ dir: linkedRoot, depth: 2 }]);
  try {
    const found = await d.scanAll();
    assert.deepEqual(found.map((f) => basename(f.path)), ['0.log']);
    assert.deepEqual(rejected.map(([path, reason]) => [basename(path), reason]), [['1.log', 'link_outside_root']]);
  } finally {
    d.close();
  }
});

test('a rescan lists a directory again only when its mtime moved; a listing taken within 2 s of a change is not reused', async () => {
  const { utimesSync } = await import('node:fs');
  const { root, container } = tree();
  writeFileSync(join(container, '0.log'), 'a\n');
  const old = new Date('2020-01-01T00:00:00Z');
  utimesSync(container, old, old); // settled: changed long before the listing
  const { discovery: d } = discovery([{ dir: root, depth: 2 }]);
  const names = async () => (await d.scanAll()).map((f) => basename(f.path)).sort();
  try {
    assert.deepEqual(await names(), ['0.log']);
    writeFileSync(join(container, '1.log'), 'b\n'); // a new entry moves the directory's mtime
    assert.deepEqual(await names(), ['0.log', '1.log'], 'listed again');
    // That listing was taken right after the change (racy): the next scan lists again, whatever the mtime says.
    writeFileSync(join(container, '2.log'), 'c\n');
    utimesSync(container, old, old);
    assert.deepEqual(await names(), ['0.log', '1.log', '2.log']);
    // Now settled at the old mtime: an entry added behind an mtime put back is not seen (the listing is reused) ...
    writeFileSync(join(container, '3.log'), 'd\n');
    utimesSync(container, old, old);
    assert.deepEqual(await names(), ['0.log', '1.log', '2.log']);
    // ... until the mtime moves; removals and renames move it too.
    utimesSync(container, new Date(), new Date());
    assert.deepEqual(await names(), ['0.log', '1.log', '2.log', '3.log']);
    rmSync(join(container, '0.log'));
    assert.deepEqual(await names(), ['1.log', '2.log', '3.log']);
  } finally {
    d.close();
  }
});
