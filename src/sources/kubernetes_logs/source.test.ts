import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { LogEvent } from '../../core/event.js';
import { KubeletSim, type SimContainer, type Stream } from '../../../test/kubelet-sim.js';
import { CollectingOutput, errorCount, openFilesUnder, startSource, testContext, waitFor } from '../../../test/source-driver.js';
import { kubernetesLogsSchema, type KubernetesLogsConfig } from './config.js';
import { KubernetesLogsSource } from './source.js';

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-k8s-logs-'));
  tempDirs.push(dir);
  return dir;
}

function setup(options: Partial<KubernetesLogsConfig> = {}, format: 'cri' | 'docker' = 'cri', simOptions: Partial<ConstructorParameters<typeof KubeletSim>[0]> = {}) {
  const dir = tempDir();
  const logDirectory = join(dir, 'pods');
  const dataDir = join(dir, 'data');
  const sim = new KubeletSim({ root: logDirectory, format, ...simOptions });
  const config = kubernetesLogsSchema.parse({ log_directory: logDirectory, glob_minimum_cooldown_ms: 200, ...options });
  const build = () => {
    const { ctx, metrics } = testContext(dataDir);
    return { source: new KubernetesLogsSource(config, ctx), metrics };
  };
  return { dir, logDirectory, dataDir, sim, config, build };
}

function ofContainer(container: SimContainer, stream: Stream) {
  return (event: LogEvent) => {
    const k = event.fields.kubernetes as Record<string, string>;
    return k.pod_uid === container.pod.uid && k.container_name === container.name && event.fields.stream === stream;
  };
}

/** Every message written appears exactly once, in order, per container stream. */
function assertExactlyOnceInOrder(out: CollectingOutput, sim: KubeletSim): void {
  for (const pod of sim.pods) {
    for (const container of pod.containers.values()) {
      for (const stream of ['stdout', 'stderr'] as const) {
        assert.deepEqual(out.messages(ofContainer(container, stream)), container.written[stream], `${container.dir} ${stream}`);
      }
    }
  }
}

test('ships CRI and Docker lines with path metadata, merging partials per stream', async () => {
  for (const format of ['cri', 'docker'] as const) {
    const { sim, build } = setup({}, format);
    const pod = sim.addPod('shop', 'web-1', ['nginx', 'sidecar']);
    const nginx = pod.container('nginx');
    sim.write(nginx, 'stdout', 'hello');
    sim.write(nginx, 'stderr', 'oops');
    sim.write(nginx, 'stdout', 'x'.repeat(40_000) + 'é'.repeat(10_000)); // three 16 KiB partials, split inside é
    sim.write(pod.container('sidecar'), 'stdout', 'side');
    const out = new CollectingOutput();
    const { source } = build();
    const running = startSource(source, out);
    await waitFor(() => out.events.length >= 4, 'four events');
    await running.stop();
    sim.stop();
    assertExactlyOnceInOrder(out, sim);
    const hello = out.events.find((e) => e.fields.message === 'hello')!;
    assert.equal(hello.fields.source_type, 'kubernetes_logs');
    assert.equal(hello.fields.file, nginx.currentPath);
    assert.match(hello.fields.timestamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.deepEqual(hello.fields.kubernetes, { pod_namespace: 'shop', pod_name: 'web-1', pod_uid: pod.uid, container_name: 'nginx' });
    assert.ok(Object.isFrozen(hello.fields.kubernetes));
    const oops = out.events.find((e) => e.fields.message === 'oops')!;
    assert.equal(oops.fields.kubernetes, hello.fields.kubernetes, 'one object per file, shared');
  }
});

test('interleaved partial stdout and stderr lines merge independently', async () => {
  const { sim, build } = setup();
  const pod = sim.addPod('ns', 'p', ['c']);
  const c = pod.container('c');
  const ts = '2024-01-01T00:00:00.000000001Z';
  sim.append(c, `${ts} stdout P out-1 \n${ts} stderr P err-1 \n${ts} stdout P out-2 \n${ts} stderr F err-2\n${ts} stdout F out-3\n`);
  const out = new CollectingOutput();
  const { source } = build();
  const running = startSource(source, out);
  await waitFor(() => out.events.length >= 2, 'two merged events');
  await running.stop();
  sim.stop();
  assert.deepEqual(
    out.events.map((e) => [e.fields.stream, e.fields.message]),
    [
      ['stderr', 'err-1 err-2'],
      ['stdout', 'out-1 out-2 out-3'],
    ],
  );
});

test('auto_partial_merge = false ships each partial as its own event', async () => {
  const { sim, build } = setup({ auto_partial_merge: false });
  const c = sim.addPod('ns', 'p', ['c']).container('c');
  sim.write(c, 'stdout', 'y'.repeat(40_000));
  const out = new CollectingOutput();
  const { source } = build();
  const running = startSource(source, out);
  await waitFor(() => out.events.length >= 3, 'three partials');
  await running.stop();
  sim.stop();
  assert.deepEqual(out.events.map((e) => (e.fields.message as string).length), [16384, 16384, 40_000 - 32768]);
});

test('deleted pods: lines read to the end, files closed within the bound', async () => {
  const { sim, build, logDirectory } = setup({}, 'cri', { rotateAtBytes: 2000 });
  const pod = sim.addPod('ns', 'doomed', ['c']);
  const c = pod.container('c');
  for (let i = 0; i < 100; i++) sim.write(c, 'stdout', `doomed ${i}`);
  const out = new CollectingOutput();
  out.block();
  const { source } = build();
  const running = startSource(source, out);
  await waitFor(() => out.events.length > 0, 'reading started');
  sim.deletePod(pod); // deleted while the source is behind
  out.unblock();
  await waitFor(() => out.events.length >= 100, 'every line of the deleted pod');
  await waitFor(() => openFilesUnder(logDirectory).length === 0, 'deleted files closed', 3000);
  await running.stop();
  assertExactlyOnceInOrder(out, sim);
});

test('a pod that writes a few lines and is gone within 250 ms has every line shipped', async () => {
  // No periodic scan to help: only fs events can find it in time.
  const { sim, build } = setup({ glob_minimum_cooldown_ms: 600_000 });
  const out = new CollectingOutput();
  const { source } = build();
  const running = startSource(source, out);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const pods = [];
  for (let n = 0; n < 5; n++) {
    const pod = sim.addPod('jobs', `job-${n}`, ['main']);
    for (let i = 0; i < 3; i++) sim.write(pod.container('main'), 'stdout', `job ${n} line ${i}`);
    pods.push(pod);
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
  for (const pod of pods) sim.deletePod(pod);
  await waitFor(() => out.events.length >= 15, 'lines of short-lived pods');
  await running.stop();
  assertExactlyOnceInOrder(out, sim);
});

test('malformed lines, invalid UTF-8 and a 10 MiB line: shipped or cut per rule, counted, file keeps going', async () => {
  const { sim, build, logDirectory } = setup({ max_line_bytes: 64 * 1024 });
  const c = sim.addPod('ns', 'bad', ['c']).container('c');
  const ts = '2024-01-01T00:00:00.000000001Z';
  sim.append(c, 'this is not a container log line\n');
  sim.append(c, Buffer.concat([Buffer.from(`${ts} stdout F bad \xff`, 'latin1'), Buffer.from([0xc3, 0x28]), Buffer.from(' end\n')]));
  sim.append(c, `${ts} stdout F ${'m'.repeat(10 * 1024 * 1024)}\n`); // one physical 10 MiB line
  sim.append(c, `${ts} stdout F after\n`);
  const out = new CollectingOutput();
  const { source, metrics } = build();
  const running = startSource(source, out);
  await waitFor(() => out.messages().includes('after'), 'line after the long one');
  await running.stop();
  sim.stop();
  const messages = out.messages();
  assert.equal(messages.length, 4);
  assert.equal(messages[0], 'this is not a container log line');
  assert.equal(out.events[0]!.fields.stream, undefined);
  assert.equal(messages[1], 'bad \ufffd\ufffd( end');
  assert.equal(messages[2], 'm'.repeat(64 * 1024 - ts.length - ' stdout F '.length));
  assert.equal(messages[3], 'after');
  assert.equal(await errorCount(metrics, 'malformed_line'), 1);
  assert.equal(await errorCount(metrics, 'invalid_utf8'), 1);
  assert.equal(await errorCount(metrics, 'line_too_long'), 1);
  assert.ok(logDirectory);
});

test('a CRI or Docker line whose timestamp is not RFC 3339 is shipped raw and counted as malformed', async () => {
  const { sim, build } = setup();
  const c = sim.addPod('ns', 'stamps', ['c']).container('c');
  const lines = ['2024-01-01T00:00:00+0100 stdout F no colon', '{"log":"x\\n","stream":"stdout","time":"qwerty"}'];
  sim.append(c, `${lines.join('\n')}\n2024-01-01T00:00:00.5+01:00 stdout F good\n`);
  const out = new CollectingOutput();
  const { source, metrics } = build();
  const running = startSource(source, out);
  await waitFor(() => out.messages().includes('good'), 'the line after the bad stamps');
  await running.stop();
  sim.stop();
  assert.deepEqual(out.messages(), [...lines, 'good']);
  for (const event of out.events.slice(0, 2)) {
    assert.equal(event.fields.stream, undefined);
    assert.match(event.fields.timestamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/, 'read time, not the bad stamp');
  }
  assert.equal(out.events[2]!.fields.timestamp, '2024-01-01T00:00:00.5+01:00');
  assert.equal(await errorCount(metrics, 'malformed_line'), 2);
});

test('a 10 MiB message split into partials is bounded by max_merged_line_bytes', async () => {
  const { sim, build } = setup({ max_merged_line_bytes: 1024 * 1024 });
  const c = sim.addPod('ns', 'big', ['c']).container('c');
  const big = 'q'.repeat(10 * 1024 * 1024);
  c.written.stdout.push(big); // written below through the sim's encoder
  sim.append(c, sim.encode('stdout', big));
  sim.write(c, 'stdout', 'next');
  const out = new CollectingOutput();
  const { source, metrics } = build();
  const running = startSource(source, out);
  await waitFor(() => out.messages().includes('next'), 'line after the big one');
  await running.stop();
  sim.stop();
  const pieces = out.messages().slice(0, -1);
  assert.equal(pieces.join(''), big, 'nothing lost, in order');
  assert.ok(pieces.length >= 10 && pieces.every((p) => p.length <= 1024 * 1024));
  assert.equal(await errorCount(metrics, 'merged_line_too_long'), pieces.length - 1);
});

test('read_from = end and ignore_older_secs apply to files without a checkpoint', async () => {
  const { sim, build } = setup({ read_from: 'end', ignore_older_secs: 3600 });
  const c = sim.addPod('ns', 'p', ['c']).container('c');
  sim.write(c, 'stdout', 'old news');
  const stale = sim.addPod('ns', 'stale', ['c']).container('c');
  sim.write(stale, 'stdout', 'ancient');
  const { utimesSync } = await import('node:fs');
  const dayAgo = Date.now() / 1000 - 86_400;
  utimesSync(stale.currentPath, dayAgo, dayAgo);
  const out = new CollectingOutput();
  const { source } = build();
  const running = startSource(source, out);
  await new Promise((resolve) => setTimeout(resolve, 200));
  sim.write(c, 'stdout', 'fresh');
  const later = sim.addPod('ns', 'later', ['c']).container('c'); // found after startup: from its start
  sim.write(later, 'stdout', 'new pod');
  await waitFor(() => out.events.length >= 2, 'new lines');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await running.stop();
  sim.stop();
  assert.deepEqual(out.messages().sort(), ['fresh', 'new pod']);
});

/** One partial record and its final part, in the sim's format. */
function splitRecord(format: 'cri' | 'docker', n: number, part: 1 | 2): string {
  const ts = `2024-01-01T00:00:0${n}.00000000${part}Z`;
  if (format === 'cri') return part === 1 ? `${ts} stdout P split-${n} part-1 \n` : `${ts} stdout F part-2\n`;
  return part === 1 ? `{"log":"split-${n} part-1 ","stream":"stdout","time":"${ts}"}\n` : `{"log":"part-2\\n","stream":"stdout","time":"${ts}"}\n`;
}

test('a partial line cut by a rotation (CRI P / Docker without \\n at the end of the rotated file) merges with its end in the next file', async () => {
  for (const format of ['cri', 'docker'] as const) {
    const { sim, build } = setup({}, format);
    const c = sim.addPod('ns', 'rot', ['c']).container('c');
    sim.write(c, 'stdout', 'before');
    const out = new CollectingOutput();
    const running = startSource(build().source, out);
    await waitFor(() => out.events.length >= 1, 'the first line');
    sim.append(c, splitRecord(format, 1, 1));
    await new Promise((resolve) => setTimeout(resolve, 150)); // read while still the current file (or not: either way)
    sim.rotate(c); // kubelet renames; the runtime goes on in a new 0.log
    sim.append(c, splitRecord(format, 1, 2));
    sim.write(c, 'stdout', 'after');
    await waitFor(() => out.messages().includes('after'), 'the line after');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await running.stop();
    sim.stop();
    assert.deepEqual(out.messages(), ['before', 'split-1 part-1 part-2', 'after'], format);
    assert.equal(out.events[1]!.fields.timestamp, '2024-01-01T00:00:01.000000001Z', 'the first fragment\'s timestamp');
  }
});

test('a merge across a rotation survives a restart: the rotated file\'s checkpoint waits for the merged event', async () => {
  for (const format of ['cri', 'docker'] as const) {
    const { sim, build } = setup({}, format);
    const c = sim.addPod('ns', 'rot', ['c']).container('c');
    sim.write(c, 'stdout', 'before');
    sim.append(c, splitRecord(format, 1, 1));
    sim.rotate(c);
    sim.append(c, splitRecord(format, 1, 2));
    // First run: everything read, the merged event never acknowledged (lost downstream).
    const out1 = new CollectingOutput('hold');
    let running = startSource(build().source, out1);
    await waitFor(() => out1.events.length >= 2, 'first run');
    for (const event of out1.events.filter((e) => e.fields.message === 'before')) event.ack();
    await running.stop();
    assert.deepEqual(out1.messages(), ['before', 'split-1 part-1 part-2'], format);
    // While stopped: a second split across a second rotation.
    sim.append(c, splitRecord(format, 2, 1));
    sim.rotate(c);
    sim.append(c, splitRecord(format, 2, 2));
    const out2 = new CollectingOutput();
    running = startSource(build().source, out2);
    await waitFor(() => out2.events.length >= 2, 'second run');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await running.stop();
    sim.stop();
    assert.deepEqual(out2.messages(), ['split-1 part-1 part-2', 'split-2 part-1 part-2'], format);
  }
});

test('legacy /var/log/containers links: each file is read once', async () => {
  const { sim, dir, logDirectory, dataDir } = setup();
  const legacy = join(dir, 'containers');
  const { mkdirSync, symlinkSync } = await import('node:fs');
  mkdirSync(legacy);
  const c = sim.addPod('ns', 'web', ['nginx']).container('nginx');
  symlinkSync(c.currentPath, join(legacy, `web_ns_nginx-${'b'.repeat(64)}.log`));
  for (let i = 0; i < 10; i++) sim.write(c, 'stdout', `once ${i}`);
  const out = new CollectingOutput();
  const config = kubernetesLogsSchema.parse({ log_directory: logDirectory, use_legacy_container_links: true, legacy_container_links_directory: legacy });
  const running = startSource(new KubernetesLogsSource(config, testContext(dataDir).ctx), out);
  await waitFor(() => out.events.length >= 10, 'lines');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await running.stop();
  sim.stop();
  assertExactlyOnceInOrder(out, sim);
  assert.equal(out.events[0]!.fields.file, c.currentPath);
});

test('the checkpoint never passes the start of an unfinished merge', async () => {
  const { sim, build } = setup();
  const c = sim.addPod('ns', 'p', ['c']).container('c');
  const ts = '2024-01-01T00:00:00.000000001Z';
  sim.append(c, `${ts} stdout F done\n${ts} stdout P first half \n`);
  const out1 = new CollectingOutput();
  let running = startSource(build().source, out1);
  await waitFor(() => out1.events.length >= 1, 'the complete line');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await running.stop(); // the partial was read, never emitted: it must be read again
  sim.append(c, `${ts} stdout F second half\n`);
  const out2 = new CollectingOutput();
  running = startSource(build().source, out2);
  await waitFor(() => out2.events.length >= 1, 'the merged line');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await running.stop();
  sim.stop();
  assert.deepEqual(out1.messages(), ['done']);
  assert.deepEqual(out2.messages(), ['first half second half']);
});

test('a metadata provider supplies fields, excludes containers, and updates files on change', async () => {
  const { sim, config, dataDir } = setup();
  const pod = sim.addPod('ns', 'p', ['app', 'istio-proxy']);
  sim.write(pod.container('app'), 'stdout', 'before');
  sim.write(pod.container('istio-proxy'), 'stdout', 'excluded');
  let listener: ((uid: string) => void) | undefined;
  let version = 1;
  const provider = {
    eventFields: (p: { podUid: string; containerName: string }) =>
      Object.freeze({ kubernetes: Object.freeze({ pod_uid: p.podUid, container_name: p.containerName, version }), ...(version > 1 ? { team: 'web' } : {}) }),
    isExcluded: (p: { containerName: string }) => p.containerName === 'istio-proxy',
    onChange: (cb: (uid: string) => void) => {
      listener = cb;
      return () => (listener = undefined);
    },
  };
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, testContext(dataDir).ctx, provider), out);
  await waitFor(() => out.events.length >= 1, 'first line');
  version = 2;
  listener!(pod.uid);
  sim.write(pod.container('app'), 'stdout', 'after');
  await waitFor(() => out.events.length >= 2, 'second line');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await running.stop();
  sim.stop();
  assert.deepEqual(out.messages(), ['before', 'after']);
  assert.deepEqual(out.events.map((e) => (e.fields.kubernetes as { version: number }).version), [1, 2]);
  assert.deepEqual(out.events.map((e) => e.fields.team), [undefined, 'web'], 'top-level fields besides kubernetes');
  assert.equal(listener, undefined, 'unsubscribed on close');
});

test('a pod excluded after its files were opened stops being read', async () => {
  const { sim, config, dataDir, logDirectory } = setup();
  const pod = sim.addPod('ns', 'p', ['app']);
  sim.write(pod.container('app'), 'stdout', 'before');
  let excluded = false;
  let listener: ((uid: string) => void) | undefined;
  const provider = {
    eventFields: () => undefined,
    isExcluded: () => excluded,
    onChange: (cb: (uid: string) => void) => ((listener = cb), () => (listener = undefined)),
  };
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, testContext(dataDir).ctx, provider), out);
  await waitFor(() => out.events.length >= 1, 'first line');
  excluded = true;
  listener!(pod.uid);
  await waitFor(() => openFilesUnder(logDirectory).filter((p) => p.endsWith('.log')).length === 1, 'file closed (only the runtime holds it)');
  sim.write(pod.container('app'), 'stdout', 'after');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await running.stop();
  sim.stop();
  assert.deepEqual(out.messages(), ['before']);
  assert.equal(listener, undefined, 'unsubscribed on close');
});

test('the sample tree in examples/pods reads as documented', async () => {
  const logDirectory = join(import.meta.dirname, '..', '..', '..', '..', 'examples', 'pods', 'log');
  const config = kubernetesLogsSchema.parse({ log_directory: logDirectory });
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, testContext(tempDir()).ctx), out);
  await waitFor(() => out.events.length >= 13, 'every sample event');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await running.stop();
  const messages = out.messages();
  assert.equal(messages.length, 13);
  assert.ok(messages.includes('{"level":"info","msg":"a long line the runtime split in two, merged back into one event"}'));
  assert.ok(messages.includes('processing order 1001 (docker split this line: no trailing newline)'));
  const namespaces = new Set(out.events.map((e) => (e.fields.kubernetes as { pod_namespace: string }).pod_namespace));
  assert.deepEqual([...namespaces].sort(), ['kube-system', 'shop']);
  // Rotated files come first in their container's sequence.
  const nginx = messages.filter((_, i) => (out.events[i]!.fields.kubernetes as { container_name: string }).container_name === 'nginx');
  assert.match(nginx[0]!, /healthz/);
});

test('a partial line never completed is shipped after a quiet period', async () => {
  const { sim, config, dataDir } = setup({}, 'docker');
  const c = sim.addPod('ns', 'p', ['c']).container('c');
  sim.append(c, '{"log":"done\\n","stream":"stdout","time":"2024-01-01T00:00:00.000000001Z"}\n');
  sim.append(c, '{"log":"exiting without a newline","stream":"stdout","time":"2024-01-01T00:00:00.000000002Z"}\n');
  const out = new CollectingOutput();
  const source = new KubernetesLogsSource(config, testContext(dataDir).ctx, undefined, { idlePollMs: 50, rotatedQuietMs: 300 });
  const running = startSource(source, out);
  await waitFor(() => out.events.length >= 2, 'the unterminated line', 3000);
  await running.stop();
  sim.stop();
  assert.deepEqual(out.messages(), ['done', 'exiting without a newline']);
});

test('files of pods the provider does not know yet wait for it (bounded), then are read or skipped', async () => {
  const { sim, config, dataDir } = setup();
  const known = sim.addPod('ns', 'late', ['c']);
  const excluded = sim.addPod('ns', 'skipped', ['c']);
  sim.write(known.container('c'), 'stdout', 'hello');
  sim.write(excluded.container('c'), 'stdout', 'must not ship');
  const pods = new Map<string, Readonly<Record<string, unknown>>>();
  let started = false;
  let stopped = false;
  const provider = {
    start: async () => void (started = true),
    stop: async () => void (stopped = true),
    waitForPod: (p: { podUid: string }) =>
      pods.has(p.podUid)
        ? undefined
        : new Promise<void>((resolve) =>
            setTimeout(() => {
              pods.set(known.uid, Object.freeze({ pod_name: 'late', labels: { app: 'web' } }));
              pods.set(excluded.uid, Object.freeze({ excluded: true }));
              resolve();
            }, 200),
          ),
    eventFields: (p: { podUid: string }) => {
      const kubernetes = pods.get(p.podUid);
      return kubernetes && { kubernetes };
    },
    isExcluded: (p: { podUid: string }) => pods.get(p.podUid)?.excluded === true,
    onChange: () => () => {},
  };
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, testContext(dataDir).ctx, provider), out);
  await waitFor(() => out.events.length >= 1, 'the line of the known pod');
  await new Promise((resolve) => setTimeout(resolve, 200));
  await running.stop();
  sim.stop();
  assert.deepEqual(out.messages(), ['hello']);
  assert.deepEqual(out.events[0]!.fields.kubernetes, { pod_name: 'late', labels: { app: 'web' } });
  assert.ok(started && stopped);
});

test('a new file reusing a checkpointed inode is read from its start (the head hash tells them apart)', async () => {
  const { sim, build } = setup();
  const c = sim.addPod('ns', 'reuse', ['c']).container('c');
  for (let i = 0; i < 50; i++) sim.write(c, 'stdout', `old ${i}`);
  const out1 = new CollectingOutput();
  let running = startSource(build().source, out1);
  await waitFor(() => out1.events.length >= 50, 'old lines');
  await running.stop();
  const { statSync, truncateSync } = await import('node:fs');
  const oldInode = statSync(c.currentPath).ino;
  sim.stop();
  // Other bytes under the checkpointed inode, as when the filesystem gives a deleted file's inode
  // to a new one (made deterministic: whether a filesystem reuses an inode at once is its choice).
  truncateSync(c.currentPath, 0);
  c.size = 0;
  c.written.stdout.length = 0;
  for (let i = 0; i < 200; i++) sim.write(c, 'stdout', `new ${i}`); // longer than the old checkpoint
  assert.equal(statSync(c.currentPath).ino, oldInode);
  const out2 = new CollectingOutput();
  running = startSource(build().source, out2);
  await waitFor(() => out2.events.length >= 200, 'new lines');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await running.stop();
  sim.stop();
  assert.deepEqual(out2.messages(), c.written.stdout);
});

test('a file still written under its rotated name until the runtime reopens: read to its end, then the new one', async () => {
  const { sim, build } = setup();
  const c = sim.addPod('ns', 'slowreopen', ['c']).container('c');
  const out = new CollectingOutput();
  const running = startSource(build().source, out);
  for (let i = 0; i < 20; i++) sim.write(c, 'stdout', `first ${i}`);
  await waitFor(() => out.events.length >= 20, 'first lines');
  sim.rotate(c, false); // kubelet renamed; the runtime still writes to the renamed file
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (let i = 0; i < 20; i++) sim.write(c, 'stdout', `late ${i}`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  sim.reopen(c);
  for (let i = 0; i < 20; i++) sim.write(c, 'stdout', `second ${i}`);
  await waitFor(() => out.events.length >= 60, 'all lines');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await running.stop();
  sim.stop();
  assertExactlyOnceInOrder(out, sim);
});

test('shutdown is not held up by a downstream that stays full', async () => {
  const { sim, build } = setup();
  const c = sim.addPod('ns', 'p', ['c']).container('c');
  for (let i = 0; i < 10; i++) sim.write(c, 'stdout', `line ${i}`);
  const out = new CollectingOutput();
  out.block(); // never unblocked
  const running = startSource(build().source, out);
  await waitFor(() => out.events.length > 0, 'first batch');
  await running.stop();
  sim.stop();
});

test('Docker format: long lines split into partials, rotation and gzip: every message once, merged, in order', async () => {
  const { sim, build } = setup({ max_read_bytes: 8192 }, 'docker', { rotateAtBytes: 64 * 1024, maxFiles: 30, compress: true, partialBytes: 4096 });
  const c = sim.addPod('ns', 'big', ['c']).container('c');
  const out = new CollectingOutput();
  const running = startSource(build().source, out);
  await new Promise((resolve) => setTimeout(resolve, 100));
  for (let i = 0; i < 300; i++) {
    sim.write(c, i % 3 === 0 ? 'stderr' : 'stdout', `${i}:` + 'ü'.repeat((i * 37) % 5000));
    // A rotation every ~20 ms (kubelet: at most every 10 s); a rotated file lives ~30 rotations.
    if (i % 2 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await waitFor(() => out.events.length >= 300, 'all messages', 15_000).catch((error: Error) => {
    const got = new Set(out.messages().map((m) => m.split(':')[0]));
    const missing = Array.from({ length: 300 }, (_, i) => String(i)).filter((i) => !got.has(i));
    throw new Error(`${error.message}: missing ${missing.join(',')}`);
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  await running.stop();
  sim.stop();
  assertExactlyOnceInOrder(out, sim);
});

test('a checkpoint with a negative offset is dropped and counted: its file is read per read_from, not stalled', async () => {
  const { sim, build, dataDir } = setup();
  const c = sim.addPod('ns', 'p', ['c']).container('c');
  for (let i = 0; i < 10; i++) sim.write(c, 'stdout', `line ${i}`);
  const out1 = new CollectingOutput();
  let running = startSource(build().source, out1);
  await waitFor(() => out1.events.length >= 10, 'first pass');
  await running.stop();
  const { readFileSync, writeFileSync } = await import('node:fs');
  const path = join(dataDir, 'logs', 'checkpoints.json');
  const file = JSON.parse(readFileSync(path, 'utf8')) as { checkpoints: Record<string, { offset: number }> };
  const records = Object.values(file.checkpoints);
  assert.equal(records.length, 1);
  records[0]!.offset = -5;
  writeFileSync(path, JSON.stringify(file));
  sim.write(c, 'stdout', 'after the restart');
  const out2 = new CollectingOutput();
  const second = build();
  running = startSource(second.source, out2);
  await waitFor(() => out2.events.length >= 11, 'the whole file again (read_from = beginning)');
  await running.stop();
  sim.stop();
  assert.deepEqual(out2.messages(), c.written.stdout);
  const metric = await second.metrics.registry.getSingleMetric('sluice_checkpoint_records_invalid_total')!.get();
  assert.deepEqual(metric.values.map((v) => [v.labels.component_id, v.value]), [['logs', 1]]);
});

test('a per-source data_dir holds the checkpoints instead of the global one', async () => {
  const own = tempDir();
  const { sim, build, dataDir } = setup({ data_dir: own });
  const c = sim.addPod('ns', 'p', ['c']).container('c');
  sim.write(c, 'stdout', 'one');
  const out = new CollectingOutput();
  const running = startSource(build().source, out);
  await waitFor(() => out.events.length >= 1, 'the line');
  await running.stop();
  sim.stop();
  const { existsSync } = await import('node:fs');
  assert.ok(existsSync(join(own, 'logs', 'checkpoints.json')), 'checkpoints under the source data_dir');
  assert.ok(!existsSync(join(dataDir, 'logs', 'checkpoints.json')), 'none under the global data_dir');
});
