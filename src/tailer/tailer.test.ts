import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { SimContainer } from '../../test/kubelet-sim.js';
import { CollectingOutput, errorCount, openFilesUnder, startSource, waitFor } from '../../test/source-driver.js';
import { assertExactlyOnceInOrder, lineOf, removeTailerDirs, shipped, tailerSetup, totalWritten } from '../../test/tailer-driver.js';

// The tailer's own behaviour (rotation, gzip, restart, truncation, max_open_files, fairness), on
// a kubelet-style tree, each line an event of the plain line decoder: no container-log parsing,
// partial merging or pod metadata (those are kubernetes_logs' tests).
after(removeTailerDirs);

test('follows rotation, gzip and deletion of old files: every line once, in order', async () => {
  const { sim, build } = tailerSetup({}, { rotateAtBytes: 8192, maxFiles: 4, compress: true });
  const pods = [sim.addPod('a', 'p1', ['c1', 'c2']), sim.addPod('b', 'p2', ['c1'])];
  const out = new CollectingOutput();
  const { source } = build();
  const running = startSource(source, out);
  await new Promise((resolve) => setTimeout(resolve, 100)); // started: it finds pods by fs events now
  // Write while the source runs: rotations happen under its feet, some files get gzipped
  // before being fully read, some rotated files are deleted (after being read: it keeps up).
  for (let i = 0; i < 3000; i++) {
    const pod = pods[i % 2]!;
    const container = [...pod.containers.values()][Math.floor(i / 2) % pod.containers.size]!;
    sim.write(container, i % 7 === 0 ? 'stderr' : 'stdout', `line ${i} ${'z'.repeat(i % 50)}`);
    if (i % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await waitFor(() => out.events.length >= totalWritten(sim), 'all lines', 20_000);
  await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more may come
  await running.stop();
  sim.stop();
  assertExactlyOnceInOrder(out, sim);
});

test('a rotated file gzipped before it was fully read is finished from the gzip (or its open descriptor)', async () => {
  const { sim, build } = tailerSetup({ max_read_bytes: 1024 }, { compress: true });
  const c = sim.addPod('ns', 'slow', ['c']).container('c');
  for (let i = 0; i < 200; i++) sim.write(c, 'stdout', `first ${i}`);
  const out = new CollectingOutput();
  out.block(); // downstream full: the source reads one 1 KiB chunk and waits
  const { source } = build();
  const running = startSource(source, out);
  await waitFor(() => out.events.length > 0, 'first batch');
  sim.rotate(c);
  for (let i = 0; i < 200; i++) sim.write(c, 'stdout', `second ${i}`);
  sim.rotate(c); // gzips the first rotated file, which is still being read
  for (let i = 0; i < 50; i++) sim.write(c, 'stdout', `third ${i}`);
  out.unblock();
  await waitFor(() => out.events.length >= 450, 'all lines');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await running.stop();
  sim.stop();
  assertExactlyOnceInOrder(out, sim);
});

test('restart resumes from the checkpoint, including from a gzip written while stopped', async () => {
  const { sim, build, dataDir } = tailerSetup({ max_read_bytes: 2048 }, { format: 'docker', compress: true });
  const c = sim.addPod('ns', 'p', ['c']).container('c');
  for (let i = 0; i < 300; i++) sim.write(c, 'stdout', `before ${i}`);
  const out1 = new CollectingOutput('hold');
  let first = build();
  let running = startSource(first.source, out1);
  await waitFor(() => out1.events.length >= 300, 'first pass');
  // Acknowledge only the first half, out of order: the checkpoint stops at the contiguous prefix.
  const acked = out1.held.splice(0, Math.ceil(out1.held.length / 2));
  for (const batch of acked.reverse()) for (const event of [...batch].reverse()) event.ack();
  const ackedCount = acked.reduce((n, b) => n + b.length, 0);
  await running.stop();
  // While stopped: the file is rotated and gzipped, more is written.
  sim.rotate(c);
  for (let i = 0; i < 100; i++) sim.write(c, 'stdout', `between ${i}`);
  sim.rotate(c);
  assert.equal(sim.rotatedFiles(c).filter((p) => p.endsWith('.gz')).length, 1);
  for (let i = 0; i < 100; i++) sim.write(c, 'stdout', `after ${i}`);
  const out2 = new CollectingOutput();
  first = build();
  running = startSource(first.source, out2);
  const expected = c.written.stdout.slice(ackedCount);
  await waitFor(() => out2.events.length >= expected.length, 'second pass');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await running.stop();
  sim.stop();
  assert.ok(ackedCount > 0 && ackedCount < 300);
  assert.deepEqual(shipped(out2, c, 'stdout'), expected);
  assert.ok(dataDir);
});

test('a truncated gzip: lines before the damage are shipped, counted, other files go on', async () => {
  const { sim, build } = tailerSetup();
  const c = sim.addPod('ns', 'gz', ['c']).container('c');
  for (let i = 0; i < 2000; i++) sim.write(c, 'stdout', `old ${i} ${'w'.repeat(100)}`);
  const rotated = sim.rotate(c);
  const gz = sim.gzip(rotated);
  const { readFileSync, writeFileSync } = await import('node:fs');
  const bytes = readFileSync(gz);
  writeFileSync(gz, bytes.subarray(0, Math.floor(bytes.length / 2)));
  sim.write(c, 'stdout', 'current');
  const out = new CollectingOutput();
  const { source, metrics } = build();
  const running = startSource(source, out);
  await waitFor(() => out.events.some((e) => lineOf(e).message === 'current'), 'the current file');
  await running.stop();
  sim.stop();
  const messages = out.events.map((e) => lineOf(e).message);
  assert.ok(messages.length > 10 && messages.length < 2001, `${messages.length} lines`);
  assert.deepEqual(messages.slice(0, -2), c.written.stdout.slice(0, messages.length - 2));
  assert.equal(await errorCount(metrics, 'gzip_corrupt'), 1);
});

test('fairness: 120 busy files take turns', async () => {
  const { sim, build } = tailerSetup({ max_read_bytes: 4096 });
  for (let p = 0; p < 120; p++) {
    const c = sim.addPod('load', `p${p}`, ['c']).container('c');
    for (let i = 0; i < 300; i++) sim.write(c, 'stdout', `p${p} line ${i} ${'f'.repeat(60)}`);
  }
  const out = new CollectingOutput();
  const { source } = build();
  const running = startSource(source, out);
  await waitFor(() => out.events.length >= 36_000, 'all lines', 20_000);
  await running.stop();
  sim.stop();
  // In the first fifth of the output, every file has already been served.
  const early = new Set(out.events.slice(0, 36_000 / 5).map((e) => lineOf(e).container));
  assert.equal(early.size, 120);
  assertExactlyOnceInOrder(out, sim);
});

test('max_open_files caps descriptors; idle files are parked and resumed', async () => {
  const { sim, build, logDirectory } = tailerSetup({ max_open_files: 3 });
  const containers = [];
  for (let p = 0; p < 8; p++) containers.push(sim.addPod('cap', `p${p}`, ['c']).container('c'));
  for (const c of containers) for (let i = 0; i < 20; i++) sim.write(c, 'stdout', `${c.pod.name} ${i}`);
  const out = new CollectingOutput();
  const { source } = build();
  const running = startSource(source, out);
  let maxOpen = 0; // log files only (a scan briefly holds directory descriptors), minus the 8 the runtime holds
  const sampler = setInterval(() => (maxOpen = Math.max(maxOpen, openFilesUnder(logDirectory).filter((p) => p.endsWith('.log')).length - 8)), 2);
  await waitFor(() => out.events.length >= 160, 'first round');
  for (const c of containers) sim.write(c, 'stdout', `${c.pod.name} late`);
  await waitFor(() => out.events.length >= 168, 'late lines of parked files', 5000);
  clearInterval(sampler);
  await running.stop();
  sim.stop();
  assert.ok(maxOpen <= 3, `at most 3 open, saw ${maxOpen}`);
  assertExactlyOnceInOrder(out, sim);
});

test('past max_open_files, quiet parked files stay closed through idle polls; a write reopens one', async () => {
  const { sim, build, logDirectory } = tailerSetup({ max_open_files: 3 });
  const containers = [];
  for (let p = 0; p < 8; p++) containers.push(sim.addPod('quiet', `p${p}`, ['c']).container('c'));
  for (const c of containers) sim.write(c, 'stdout', `${c.pod.name} first`);
  sim.stop(); // the runtime closes its files: every .log descriptor left under the tree is the source's
  const out = new CollectingOutput();
  const { source } = build({ idlePollMs: 20 });
  const running = startSource(source, out);
  await waitFor(() => out.events.length >= 8, 'first lines');
  // Sample what is open across many idle polls: an unchanged parked file is not reopened (which
  // would park another), so the same files stay open and the others stay closed.
  const seenOpen = new Set<string>();
  for (let i = 0; i < 150; i++) {
    for (const path of openFilesUnder(logDirectory)) if (path.endsWith('.log')) seenOpen.add(path);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const quiet = containers.find((c) => !seenOpen.has(c.currentPath))!;
  sim.write(quiet, 'stdout', `${quiet.pod.name} late`);
  await waitFor(() => out.events.length >= 9, 'the late line of a parked file');
  await running.stop();
  sim.stop();
  assert.ok(seenOpen.size <= 3, `files open across idle polls: ${[...seenOpen].join(', ')}`);
  assertExactlyOnceInOrder(out, sim);
});

test('a copytruncate copy named like a rotation (0.log.<stamp>) is not shipped again: it resumes at the offset its original reached', async () => {
  const { copyFileSync, readFileSync, truncateSync, writeFileSync } = await import('node:fs');
  const { sim, build } = tailerSetup();
  const pod = sim.addPod('ns', 'logrotate', ['truncated-at-once', 'truncated-later', 'copy-found-late']);
  const out = new CollectingOutput();
  const { source, metrics } = build();
  const running = startSource(source, out);
  for (const c of pod.containers.values()) for (let i = 0; i < 30; i++) sim.write(c, 'stdout', `${c.name} first ${i}`);
  await waitFor(() => out.events.length >= 90, 'the first lines');
  const copytruncate = (c: SimContainer, truncate: boolean): void => {
    for (let i = 0; i < 5; i++) sim.write(c, 'stdout', `${c.name} copied ${i}`); // in the copy only, unless read first
    copyFileSync(c.currentPath, `${c.currentPath}.20260101-000000`);
    if (truncate) truncateCurrent(c);
  };
  const truncateCurrent = (c: SimContainer): void => {
    truncateSync(c.currentPath, 0); // the runtime writes with O_APPEND: on at the new end
    c.size = 0;
  };
  const atOnce = pod.container('truncated-at-once');
  const later = pod.container('truncated-later');
  copytruncate(atOnce, true);
  copytruncate(later, false); // the copy is found and read while the original still holds the bytes
  await waitFor(() => out.events.length >= 100, 'the copied lines');
  await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more may come
  truncateCurrent(later);
  // The truncation seen before the copy (the copy's directory event comes late).
  const late = pod.container('copy-found-late');
  for (let i = 0; i < 5; i++) sim.write(late, 'stdout', `${late.name} copied ${i}`);
  const copied = readFileSync(late.currentPath);
  truncateCurrent(late);
  let truncations = 0; // the three originals' truncations noticed (the counter is read asynchronously)
  const counting = setInterval(() => void errorCount(metrics, 'file_truncated').then((n) => (truncations = n)), 10);
  await waitFor(() => truncations >= 3, 'the truncations noticed').finally(() => clearInterval(counting));
  writeFileSync(`${late.currentPath}.20260101-000000`, copied);
  for (const c of [atOnce, later, late]) for (let i = 0; i < 3; i++) sim.write(c, 'stdout', `${c.name} after ${i}`);
  await waitFor(() => out.events.length >= 114, 'the lines after the truncation');
  await new Promise((resolve) => setTimeout(resolve, 200));
  await running.stop();
  sim.stop();
  assertExactlyOnceInOrder(out, sim);
});

test('a copytruncate copy read while its original is parked (max_open_files): the original reopens past what the copy shipped', async () => {
  const { copyFileSync, truncateSync } = await import('node:fs');
  const { sim, build } = tailerSetup({ max_open_files: 1 });
  const c = sim.addPod('ns', 'logrotate', ['c']).container('c');
  const out = new CollectingOutput();
  const running = startSource(build().source, out);
  for (let i = 0; i < 30; i++) sim.write(c, 'stdout', `first ${i}`);
  await waitFor(() => out.events.length >= 30, 'the first lines');
  for (let i = 0; i < 5; i++) sim.write(c, 'stdout', `copied ${i}`);
  copyFileSync(c.currentPath, `${c.currentPath}.20260101-000000`); // read first (lower rank): the original is parked for it
  await waitFor(() => out.events.length >= 35, 'the copied lines');
  await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more may come
  truncateSync(c.currentPath, 0);
  c.size = 0;
  for (let i = 0; i < 3; i++) sim.write(c, 'stdout', `after ${i}`);
  await waitFor(() => out.events.length >= 38, 'the lines after the truncation');
  await new Promise((resolve) => setTimeout(resolve, 200));
  await running.stop();
  sim.stop();
  assertExactlyOnceInOrder(out, sim);
});


test('fs events that never come (a filesystem that sends none): writes are still read, by the safety poll, and new pods by the rescan', async () => {
  const { EventEmitter } = await import('node:events');
  const { sim, build } = tailerSetup();
  // Every directory "watched", no event ever delivered: only the polls can find the writes.
  const silentWatch = (() => Object.assign(new EventEmitter(), { close: () => {}, ref() { return this; }, unref() { return this; } })) as unknown as typeof import('node:fs').watch;
  const first = sim.addPod('ns', 'quiet', ['c']).container('c');
  sim.write(first, 'stdout', 'before start');
  const out = new CollectingOutput();
  const { source } = build({ idlePollMs: 20, safetyPollMs: 200, watch: silentWatch });
  const running = startSource(source, out);
  await waitFor(() => out.events.length >= 1, 'the line written before start');
  for (let i = 0; i < 3; i++) {
    sim.write(first, 'stdout', `written ${i}`);
    await waitFor(() => out.events.length >= 2 + i, `write ${i}, found without an fs event`);
  }
  const later = sim.addPod('ns', 'later', ['c']).container('c');
  sim.write(later, 'stdout', 'a pod created meanwhile');
  await waitFor(() => out.events.length >= 5, 'the new pod, found by the rescan');
  sim.write(later, 'stdout', 'and written again');
  await waitFor(() => out.events.length >= 6, 'its next write');
  await running.stop();
  sim.stop();
  assertExactlyOnceInOrder(out, sim);
});
