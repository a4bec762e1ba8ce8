import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeApiServer } from '../../../test/k8s/fake-apiserver.js';
import { namespace, node, pod } from '../../../test/k8s/fixtures.js';
import { writeKubeconfig } from '../../../test/k8s/kubeconfig.js';
import { KubeletSim } from '../../../test/kubelet-sim.js';

/**
 * The kubernetes_logs source with API metadata, end to end through the sluice process: kubelet
 * simulator writing the log tree, fake API server, `node dist/src/cli.js --config <json>`, `file`
 * sink. One agent serves every scenario (each uses its own pods).
 */
const CLI = join(import.meta.dirname, '..', '..', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'sluice-k8s-e2e-'));
const outputPath = join(dir, 'out', 'events.ndjson');
const POD_METADATA_WAIT_MS = 3000;
/** The agent's idea of the bookmark interval (the fake sends one every 500 ms): silent for 2 s = dead. */
const WATCH_BOOKMARK_INTERVAL_MS = 1000;

type Kubernetes = Record<string, unknown> & { pod_labels?: Record<string, string> };
interface ShippedEvent {
  message: string;
  kubernetes: Kubernetes;
}

let server: FakeApiServer;
let sim: KubeletSim;
let agent: ChildProcess;
let agentStderr = '';
let agentExit: Promise<number | null>;
let metricsUrl: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function shipped(): ShippedEvent[] {
  if (!existsSync(outputPath)) return [];
  const text = readFileSync(outputPath, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete.split('\n').filter(Boolean).map((line) => JSON.parse(line) as ShippedEvent);
}

function shippedMessage(message: string): ShippedEvent[] {
  return shipped().filter((e) => e.message === message);
}

async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent stderr:\n${agentStderr.slice(-3000)}`);
    await sleep(50);
  }
}

const one = (message: string) => eventually(() => shippedMessage(message)[0], `"${message}" shipped`);

before(async () => {
  server = await FakeApiServer.start({ bookmarkIntervalMs: 500 });
  server.upsert('nodes', node('node-a'));
  server.upsert('namespaces', namespace('shop'));
  server.upsert('namespaces', namespace('quiet', { 'sluice.dev/exclude': 'true' }));
  sim = new KubeletSim({ root: join(dir, 'pods'), format: 'cri' });
  const config = {
    data_dir: join(dir, 'data'),
    api: { enabled: true, address: '127.0.0.1:0' },
    sources: {
      k8s: {
        type: 'kubernetes_logs',
        log_directory: join(dir, 'pods'),
        kube_config_file: writeKubeconfig(dir, { server: server.url, caPem: server.caPem, token: 'test-token' }),
        self_node_name: 'node-a',
        pod_metadata_wait_ms: POD_METADATA_WAIT_MS,
        watch_bookmark_interval_ms: WATCH_BOOKMARK_INTERVAL_MS,
        delay_deletion_ms: 30_000,
        glob_minimum_cooldown_ms: 1000,
      },
    },
    sinks: { out: { type: 'file', inputs: ['k8s'], path: outputPath } },
  };
  const configPath = join(dir, 'sluice.json');
  writeFileSync(configPath, JSON.stringify(config));
  agent = spawn(process.execPath, [CLI, '--config', configPath, '--graceful-shutdown-limit-secs', '5'], { stdio: ['ignore', 'ignore', 'pipe'] });
  agent.stderr!.on('data', (chunk: Buffer) => (agentStderr += chunk.toString()));
  agentExit = new Promise((resolve) => agent.on('exit', (code) => resolve(code)));
  await eventually(() => (agentStderr.includes('sluice started') ? true : undefined), 'the agent to start');
  const port = /"address":"127\.0\.0\.1:(\d+)"/.exec(agentStderr)![1];
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
});

/** Sum of a Prometheus counter's samples whose labels include every `labels` pair. */
async function counter(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

after(async () => {
  if (agent.exitCode === null) {
    agent.kill('SIGTERM');
    await agentExit;
  }
  sim?.stop();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubernetes_logs with the Kubernetes API, through the sluice process', () => {
  it('exclude annotation flips both ways on a running pod; lines written while excluded are never shipped', async () => {
    server.upsert('pods', pod({ name: 'flip', namespace: 'shop', uid: 'u-flip', labels: { app: 'flip' } }));
    const flip = sim.addPod('shop', 'flip', ['app'], 'u-flip').container('app');
    sim.write(flip, 'stdout', 'flip 1');
    assert.deepEqual((await one('flip 1')).kubernetes.pod_labels, { app: 'flip' });

    server.update('pods', 'flip', 'shop', (o) => {
      o.metadata.annotations = { 'sluice.dev/exclude': 'true' };
    });
    await sleep(600);
    sim.write(flip, 'stdout', 'flip 2 (excluded)');
    await sleep(600);
    server.update('pods', 'flip', 'shop', (o) => {
      o.metadata.annotations = {};
      o.metadata.labels = { app: 'flip', phase: 'back' };
    });
    await sleep(600);
    sim.write(flip, 'stdout', 'flip 3');
    assert.deepEqual((await one('flip 3')).kubernetes.pod_labels, { app: 'flip', phase: 'back' });
    assert.equal(shippedMessage('flip 2 (excluded)').length, 0);
    assert.equal(shippedMessage('flip 1').length, 1);
  });

  it('a namespace labelled sluice.dev/exclude is not read; its pods are once the label goes', async () => {
    server.upsert('pods', pod({ name: 'hush', namespace: 'quiet', uid: 'u-hush' }));
    const hush = sim.addPod('quiet', 'hush', ['app'], 'u-hush').container('app');
    sim.write(hush, 'stdout', 'hush 1 (excluded)');
    // A witness in another namespace, written after: once it is shipped, hush had its chance.
    server.upsert('pods', pod({ name: 'witness', namespace: 'shop', uid: 'u-witness' }));
    const witness = sim.addPod('shop', 'witness', ['app'], 'u-witness').container('app');
    await sleep(300);
    sim.write(witness, 'stdout', 'witness 1');
    await one('witness 1');
    await sleep(500);
    assert.equal(shippedMessage('hush 1 (excluded)').length, 0);
    server.update('namespaces', 'quiet', undefined, (o) => {
      o.metadata.labels = { 'kubernetes.io/metadata.name': 'quiet' };
    });
    await sleep(600);
    sim.write(hush, 'stdout', 'hush 2');
    assert.equal((await one('hush 2')).kubernetes.pod_namespace, 'quiet');
    assert.equal(shippedMessage('hush 1 (excluded)').length, 0, 'resumes at the end: the excluded line stays unshipped');
  });

  it('a pod created after its log file appeared: held up to pod_metadata_wait_ms, then enriched', async () => {
    const late = sim.addPod('shop', 'late', ['app'], 'u-late').container('app');
    sim.write(late, 'stdout', 'late 1');
    await sleep(800);
    assert.equal(shippedMessage('late 1').length, 0, 'held while the pod is unknown');
    server.upsert('pods', pod({ name: 'late', namespace: 'shop', uid: 'u-late', labels: { app: 'late' } }));
    assert.deepEqual((await one('late 1')).kubernetes.pod_labels, { app: 'late' });
    assert.ok((await counter('sluice_kubernetes_events_held_total')) >= 1, 'held events counted');
  });

  it('a pod deleted while its lines are still being read: its last lines are still enriched (delay_deletion_ms)', async () => {
    server.upsert('pods', pod({ name: 'gone', namespace: 'shop', uid: 'u-gone', labels: { app: 'gone' } }));
    const gone = sim.addPod('shop', 'gone', ['app'], 'u-gone').container('app');
    sim.write(gone, 'stdout', 'gone 1');
    await one('gone 1');
    server.remove('pods', 'gone', 'shop');
    await sleep(500);
    sim.write(gone, 'stdout', 'gone 2 (after deletion)');
    assert.deepEqual((await one('gone 2 (after deletion)')).kubernetes.pod_labels, { app: 'gone' });
  });

  it('a StatefulSet pod re-created under the same name with a new UID never gets the old metadata', async () => {
    const owner = { kind: 'StatefulSet', name: 'db' };
    server.upsert('pods', pod({ name: 'db-0', namespace: 'shop', uid: 'u-db-old', labels: { generation: 'old' }, owner }));
    const old = sim.addPod('shop', 'db-0', ['app'], 'u-db-old').container('app');
    sim.write(old, 'stdout', 'db old 1');
    assert.deepEqual((await one('db old 1')).kubernetes.pod_labels, { generation: 'old' });
    server.remove('pods', 'db-0', 'shop');
    // The new pod's log file appears before the API reports it: same name, new UID.
    const fresh = sim.addPod('shop', 'db-0', ['app'], 'u-db-new').container('app');
    sim.write(fresh, 'stdout', 'db new 1');
    await sleep(500);
    server.upsert('pods', pod({ name: 'db-0', namespace: 'shop', uid: 'u-db-new', labels: { generation: 'new' }, owner }));
    sim.write(fresh, 'stdout', 'db new 2');
    const first = await one('db new 1');
    const second = await one('db new 2');
    for (const event of [first, second]) {
      assert.equal(event.kubernetes.pod_uid, 'u-db-new');
      assert.deepEqual(event.kubernetes.pod_labels, { generation: 'new' });
    }
  });

  it('410 Gone mid-watch: the cache re-lists and a change made meanwhile reaches the next lines', async () => {
    server.upsert('pods', pod({ name: 'relist', namespace: 'shop', uid: 'u-relist', labels: { v: '1' } }));
    const relist = sim.addPod('shop', 'relist', ['app'], 'u-relist').container('app');
    sim.write(relist, 'stdout', 'relist 1');
    assert.deepEqual((await one('relist 1')).kubernetes.pod_labels, { v: '1' });
    server.dropWatches();
    server.update('pods', 'relist', 'shop', (o) => {
      o.metadata.labels = { v: '2' };
    });
    const expiredBefore = await counter('sluice_kubernetes_watch_restarts_total', { resource: 'pods', reason: 'expired' });
    server.compact(); // the watch resumes from a resourceVersion that is gone: 410, then a fresh list
    const enriched = await eventually(() => {
      sim.write(relist, 'stdout', 'relist tick');
      return shippedMessage('relist tick').find((e) => e.kubernetes.pod_labels?.v === '2');
    }, 'a line with the label changed during the 410');
    assert.equal(enriched.kubernetes.pod_uid, 'u-relist');
    assert.ok((await counter('sluice_kubernetes_watch_restarts_total', { resource: 'pods', reason: 'expired' })) > expiredBefore, 'the pod watch got 410 Gone');
  });

  it('a hung watch (open, silent) is replaced; a pod created meanwhile gets full metadata on its first line', async () => {
    const silentBefore = await counter('sluice_kubernetes_watch_restarts_total', { resource: 'pods', reason: 'silent' });
    server.hangWatches();
    server.upsert('pods', pod({ name: 'after-hang', namespace: 'shop', uid: 'u-after-hang', labels: { app: 'after-hang' } }));
    // Two bookmark intervals of silence, then a new watch from the last resourceVersion replays the pod.
    await eventually(
      async () => ((await counter('sluice_kubernetes_watch_restarts_total', { resource: 'pods', reason: 'silent' })) > silentBefore ? true : undefined),
      'the silent pod watch restarted',
    );
    const fresh = sim.addPod('shop', 'after-hang', ['app'], 'u-after-hang').container('app');
    sim.write(fresh, 'stdout', 'after-hang 1');
    const first = await one('after-hang 1');
    assert.deepEqual(first.kubernetes.pod_labels, { app: 'after-hang' });
    assert.equal(first.kubernetes.pod_uid, 'u-after-hang');
  });

  it('API server down and back: events keep flowing with cached metadata; a pod added while it was down is enriched after it returns', async () => {
    server.upsert('pods', pod({ name: 'steady', namespace: 'shop', uid: 'u-steady', labels: { app: 'steady' } }));
    const steady = sim.addPod('shop', 'steady', ['app'], 'u-steady').container('app');
    sim.write(steady, 'stdout', 'steady 1');
    await one('steady 1');
    await server.stop();
    sim.write(steady, 'stdout', 'steady 2 (api down)');
    assert.deepEqual((await one('steady 2 (api down)')).kubernetes.pod_labels, { app: 'steady' }, 'cached metadata while the API is down');
    server.upsert('pods', pod({ name: 'newcomer', namespace: 'shop', uid: 'u-newcomer', labels: { app: 'newcomer' } }));
    const newcomer = sim.addPod('shop', 'newcomer', ['app'], 'u-newcomer').container('app');
    sim.write(newcomer, 'stdout', 'newcomer 1 (api down)');
    await sleep(1500);
    await server.start();
    const enriched = await eventually(() => {
      sim.write(newcomer, 'stdout', 'newcomer tick');
      return shippedMessage('newcomer tick').find((e) => e.kubernetes.pod_labels !== undefined);
    }, 'a newcomer line enriched after the API returned', 15_000);
    assert.deepEqual(enriched.kubernetes.pod_labels, { app: 'newcomer' });
    // The line written while down ships too (after the bounded wait: path fields, or the API's if it returned first).
    assert.equal((await one('newcomer 1 (api down)')).kubernetes.pod_name, 'newcomer');
  });

  it('drains and exits 0 on SIGTERM; nothing excluded ever reached the output', async () => {
    agent.kill('SIGTERM');
    assert.equal(await agentExit, 0, agentStderr.slice(-2000));
    const messages = shipped().map((e) => e.message);
    assert.ok(!messages.some((m) => m.includes('(excluded)')), JSON.stringify(messages));
  });
});
