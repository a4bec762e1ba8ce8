// The log tree is written by pods: what a pod puts there (links, FIFOs, names) must not make the
// agent read other files, loop, block, or stop serving the other pods.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KubeletSim } from '../../../test/kubelet-sim.js';
import { openFilesSoftLimit } from '../../tailer/fd-limit.js';
import { CollectingOutput, errorCount, startSource, testContext, waitFor } from '../../../test/source-driver.js';
import { kubernetesLogsSchema, type KubernetesLogsConfig } from './config.js';
import { KubernetesLogsSource } from './source.js';

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function setup(options: Partial<KubernetesLogsConfig> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-trust-'));
  tempDirs.push(dir);
  const logDirectory = join(dir, 'pods');
  const sim = new KubeletSim({ root: logDirectory, format: 'cri' });
  const config = kubernetesLogsSchema.parse({ log_directory: logDirectory, glob_minimum_cooldown_ms: 100, ...options });
  const { ctx: silent, metrics } = testContext(join(dir, 'data'));
  // The source's warnings, kept to be checked.
  const warnings: Array<Record<string, unknown>> = [];
  const ctx = { ...silent, logger: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) }) };
  return { dir, logDirectory, sim, config, ctx, metrics, warnings };
}

/** A container directory made by hand (the pod controls what is in it). */
function containerDir(logDirectory: string, pod: string): string {
  const path = join(logDirectory, `ns_${pod}_uid-${pod}`, 'c');
  mkdirSync(path, { recursive: true });
  return path;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForErrors(metrics: ReturnType<typeof testContext>['metrics'], reason: string, count: number): Promise<void> {
  for (let i = 0; (await errorCount(metrics, reason)) < count; i++) {
    if (i > 500) throw new Error(`timed out waiting for ${count} ${reason}, got ${await errorCount(metrics, reason)}`);
    await sleep(20);
  }
}

test('a 0.log linked to a secret outside log_directory is not shipped; counted and reported once', async () => {
  const { dir, logDirectory, sim, config, ctx, metrics, warnings } = setup();
  const secret = join(dir, 'shadow');
  writeFileSync(secret, '2024-01-01T00:00:00.000000000Z stdout F root:$6$secret-hash\n');
  symlinkSync(secret, join(containerDir(logDirectory, 'evil'), '0.log'));
  const good = sim.addPod('ns', 'good', ['c']).container('c');
  sim.write(good, 'stdout', 'hello');
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, ctx), out);
  await waitFor(() => out.events.length >= 1, 'the good line');
  await sleep(400); // several rescans (100 ms): the link is listed again by each
  await running.stop();
  sim.stop();
  assert.deepEqual(out.messages(), ['hello']);
  assert.equal(await errorCount(metrics, 'link_outside_root'), 1);
  assert.deepEqual(
    warnings.map((w) => [w.reason, w.path]),
    [['link_outside_root', join(logDirectory, 'ns_evil_uid-evil', 'c', '0.log')]],
  );
});

test('a link to /proc/self/status named like a rotated file ships nothing and is not read again and again', async () => {
  const { logDirectory, sim, config, ctx, metrics } = setup();
  const good = sim.addPod('ns', 'good', ['c']).container('c');
  symlinkSync('/proc/self/status', join(good.dir, '0.log.20240101-000000'));
  sim.write(good, 'stdout', 'hello');
  const evil = containerDir(logDirectory, 'evil');
  symlinkSync('/proc/self/status', join(evil, '0.log.20240101-000000'));
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, ctx), out);
  await waitFor(() => out.events.length >= 1, 'the good line');
  await sleep(400);
  sim.write(good, 'stdout', 'after'); // the current file, after the "rotated" one, still reads
  await waitFor(() => out.events.length >= 2, 'the later line');
  await running.stop();
  sim.stop();
  assert.deepEqual(out.messages(), ['hello', 'after']);
  assert.equal(await errorCount(metrics, 'link_outside_root'), 2, 'each link reported once, not per rescan');
  assert.equal(await errorCount(metrics, 'malformed_line'), 0);
});

test('a FIFO swapped in for a log file never blocks: other pods go on, the source stops promptly', { timeout: 60_000 }, async () => {
  const { logDirectory, sim, config, ctx, metrics } = setup();
  const victim = sim.addPod('ns', 'victim', ['c']);
  const other = sim.addPod('ns', 'other', ['c']).container('c');
  sim.write(victim.container('c'), 'stdout', 'never read');
  sim.write(other, 'stdout', 'first');
  // The victim's file is found, then waits for its pod's metadata; meanwhile it becomes a FIFO.
  let admitVictim!: () => void;
  const gate = new Promise<void>((resolve) => (admitVictim = resolve));
  const provider = {
    waitForPod: (pod: { podUid: string }) => (pod.podUid === victim.uid ? gate : undefined),
    eventFields: () => undefined,
    isExcluded: () => false,
    onChange: () => () => {},
  };
  execFileSync('mkfifo', [join(containerDir(logDirectory, 'fifo'), '0.log')]); // and one from the start
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, ctx, provider), out);
  await waitFor(() => out.events.length >= 1, 'the first line of the other pod');
  const path = victim.container('c').currentPath;
  unlinkSync(path);
  execFileSync('mkfifo', [path]);
  admitVictim();
  // Both FIFOs reported by discovery, and the victim's refused when opened.
  await waitForErrors(metrics, 'not_regular_file', 3);
  sim.write(other, 'stdout', 'second');
  await waitFor(() => out.events.length >= 2, 'the other pod still read');
  await running.stop(); // returns: no thread or loop is stuck on the FIFO
  sim.stop();
  assert.deepEqual(out.messages(), ['first', 'second']);
});

/** Takes every free descriptor of this process (a real EMFILE for the next open); undefined when the limit is too high to fill. */
function exhaustDescriptors(): number[] | undefined {
  if ((openFilesSoftLimit() ?? Infinity) > 200_000) return undefined;
  const held: number[] = [];
  for (;;) {
    try {
      held.push(openSync('/dev/null', 'r'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EMFILE') return held;
      throw error;
    }
  }
}

test('EMFILE when opening is retried with backoff, not taken as the end of the file', async (t) => {
  // No rescan meanwhile: a file given up for good would be found again only by one.
  const { sim, config, ctx, metrics, warnings } = setup({ glob_minimum_cooldown_ms: 60_000 });
  const c = sim.addPod('ns', 'busy', ['c']);
  sim.write(c.container('c'), 'stdout', 'one');
  sim.write(c.container('c'), 'stdout', 'two');
  let admit!: () => void;
  const gate = new Promise<void>((resolve) => (admit = resolve));
  let found = false;
  const provider = { waitForPod: () => ((found = true), gate), eventFields: () => undefined, isExcluded: () => false, onChange: () => () => {} };
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, ctx, provider), out);
  await waitFor(() => found, 'the file found, waiting for its pod (not opened yet)');
  const held = exhaustDescriptors();
  if (held === undefined) {
    await running.stop();
    return t.skip('RLIMIT_NOFILE too high to exhaust in a test');
  }
  admit();
  // Out of descriptors: counted, whether as "retry later" or (before) as a failed open for good.
  while ((await errorCount(metrics, 'too_many_open_files')) + (await errorCount(metrics, 'open_failed')) === 0) await sleep(10);
  for (const fd of held) closeSync(fd);
  await waitFor(() => out.events.length >= 2, 'the lines, once descriptors are back').catch((error: Error) => {
    throw new Error(`${error.message}; warnings: ${JSON.stringify(warnings)}`);
  });
  await running.stop();
  sim.stop();
  assert.deepEqual(out.messages(), ['one', 'two']);
  assert.equal(await errorCount(metrics, 'open_failed'), 0);
  assert.ok((await errorCount(metrics, 'too_many_open_files')) >= 1);
  assert.equal(warnings.filter((w) => w.code === 'EMFILE').length, 1, 'logged once, however many retries failed');
});

test('max_open_files above RLIMIT_NOFILE is lowered with a warning (the CLI under ulimit -n 200)', { skip: process.platform !== 'linux' }, async () => {
  const { dir, logDirectory, sim } = setup();
  const c = sim.addPod('ns', 'p', ['c']).container('c');
  sim.write(c, 'stdout', 'hello');
  const configPath = join(dir, 'sluice.json');
  const output = join(dir, 'out.ndjson');
  writeFileSync(
    configPath,
    JSON.stringify({
      data_dir: join(dir, 'data'),
      sources: { k8s: { type: 'kubernetes_logs', log_directory: logDirectory, pod_metadata: 'path', max_open_files: 1024 } },
      sinks: { out: { type: 'file', inputs: ['k8s'], path: output } },
    }),
  );
  const agent = join(import.meta.dirname, '..', '..', 'cli.js');
  // `ulimit -n` sets the soft and the hard limit: Node cannot raise it back at startup.
  const child = spawn('sh', ['-c', 'ulimit -n 200 && exec "$0" "$@"', process.execPath, agent, '--config', configPath, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  try {
    await waitFor(() => logs.includes('max_open_files is above') && existsSync(output) && readFileSync(output, 'utf8').includes('hello'), 'the warning and the line');
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    sim.stop();
  }
  const warning = logs.split('\n').find((line) => line.includes('max_open_files is above'))!;
  assert.deepEqual(
    ((record) => [record.max_open_files, record.using, record.rlimit_nofile])(JSON.parse(warning) as Record<string, unknown>),
    [1024, 150, 200],
  );
});

test('max_watched_directories reached: logged and counted, the gauge shows it, later pods are still read (by the rescan)', async () => {
  const { sim, config, ctx, metrics, warnings } = setup({ max_watched_directories: 3 }); // the root and one pod
  const first = sim.addPod('ns', 'first', ['c']).container('c');
  sim.write(first, 'stdout', 'first');
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, ctx), out);
  await waitFor(() => out.events.length >= 1, 'the first pod');
  const later = [1, 2, 3].map((n) => sim.addPod('ns', `later${n}`, ['c']).container('c'));
  for (const c of later) sim.write(c, 'stdout', c.pod.name);
  await waitFor(() => out.events.length >= 4, 'the later pods, found by the rescan');
  await waitForErrors(metrics, 'watch_limit_reached', 6); // 3 pods x (pod + container directory), once each
  const gauge = metrics.registry.getSingleMetric('sluice_source_watched_directories')!;
  for (let i = 0; (await gauge.get()).values[0]?.value !== 3; i++) {
    if (i > 200) throw new Error(`watched directories: ${JSON.stringify((await gauge.get()).values)}`);
    await sleep(20);
  }
  await sleep(300); // more rescans: each directory is counted once, not per scan
  await running.stop();
  sim.stop();
  assert.deepEqual(out.messages().sort(), ['first', 'later1', 'later2', 'later3']);
  assert.equal(await errorCount(metrics, 'watch_limit_reached'), 6);
  assert.deepEqual(
    warnings.map((w) => [w.cause, w.max_watched_directories]),
    [['max_watched_directories', 3]],
    'logged once',
  );
});

test('the links kubelet makes are still followed: Docker json-file 0.log into docker_containers_directory, legacy links, a linked log_directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-trust-'));
  tempDirs.push(dir);
  const realPods = join(dir, 'real-pods');
  const logDirectory = join(dir, 'pods');
  mkdirSync(realPods);
  symlinkSync(realPods, logDirectory); // log_directory on another mount, reached through a link
  const docker = join(dir, 'docker', 'containers');
  const id = 'c'.repeat(64);
  mkdirSync(join(docker, id), { recursive: true });
  const jsonLog = join(docker, id, `${id}-json.log`);
  writeFileSync(jsonLog, '{"log":"from docker\\n","stream":"stdout","time":"2024-01-01T00:00:00.000000001Z"}\n');
  symlinkSync(jsonLog, join(containerDir(logDirectory, 'dockerpod'), '0.log'));
  const criLog = join(containerDir(logDirectory, 'cripod'), '0.log');
  writeFileSync(criLog, '2024-01-01T00:00:00.000000001Z stdout F from cri\n');
  const legacy = join(dir, 'containers');
  mkdirSync(legacy);
  symlinkSync(criLog, join(legacy, `cripod_ns_c-${'d'.repeat(64)}.log`));
  const config = kubernetesLogsSchema.parse({
    log_directory: logDirectory,
    docker_containers_directory: docker,
    use_legacy_container_links: true,
    legacy_container_links_directory: legacy,
    glob_minimum_cooldown_ms: 100,
  });
  const { ctx, metrics } = testContext(join(dir, 'data'));
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, ctx), out);
  await waitFor(() => out.events.length >= 2, 'both lines');
  await sleep(300);
  await running.stop();
  assert.deepEqual(out.messages().sort(), ['from cri', 'from docker']);
  assert.equal((await errorCount(metrics, 'link_outside_root')) + (await errorCount(metrics, 'not_regular_file')), 0);
});
