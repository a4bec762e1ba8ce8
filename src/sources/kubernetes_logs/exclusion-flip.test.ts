import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { MetricsRegistry } from '../../core/metrics.js';
import { FakeApiServer } from '../../../test/k8s/fake-apiserver.js';
import { namespace, node, pod } from '../../../test/k8s/fixtures.js';
import { writeKubeconfig } from '../../../test/k8s/kubeconfig.js';
import { KubeletSim, type SimContainer } from '../../../test/kubelet-sim.js';
import { CollectingOutput, startSource, testContext, waitFor } from '../../../test/source-driver.js';
import { kubernetesLogsSchema } from './config.js';
import { KubernetesLogsSource } from './source.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-k8s-flip-'));
const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
after(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function counterValue(metrics: MetricsRegistry, name: string): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

test('exclusion flips both ways on files already open (pod annotation, container list, namespace label); reading resumes at the end', async () => {
  const server = await FakeApiServer.start({ bookmarkIntervalMs: 200 });
  cleanups.push(() => server.close());
  server.upsert('nodes', node('node-a'));
  server.upsert('namespaces', namespace('shop'));
  server.upsert('namespaces', namespace('ops', {}, {}));
  server.upsert('pods', pod({ name: 'web', namespace: 'shop', uid: 'u-web', containers: ['nginx', 'sidecar'] }));
  server.upsert('pods', pod({ name: 'cron', namespace: 'ops', uid: 'u-cron' }));
  // Excluded before its file is ever read: un-excluding it must start at the file's end too.
  server.upsert('pods', pod({ name: 'muted', namespace: 'shop', uid: 'u-muted', annotations: { 'sluice.dev/exclude': 'true' } }));
  const sim = new KubeletSim({ root: join(dir, 'pods'), format: 'cri' });
  cleanups.push(() => sim.stop());
  const webPod = sim.addPod('shop', 'web', ['nginx', 'sidecar'], 'u-web');
  const nginx = webPod.container('nginx');
  const sidecar = webPod.container('sidecar');
  const cron = sim.addPod('ops', 'cron', ['app'], 'u-cron').container('app');
  const muted = sim.addPod('shop', 'muted', ['app'], 'u-muted').container('app');
  const everyone: Array<[string, SimContainer]> = [['nginx', nginx], ['sidecar', sidecar], ['cron', cron], ['muted', muted]];
  const writeAll = (phase: string) => {
    for (const [name, container] of everyone) sim.write(container, 'stdout', `${name} ${phase}`);
  };
  writeAll('before');

  const config = kubernetesLogsSchema.parse({
    log_directory: join(dir, 'pods'),
    kube_config_file: writeKubeconfig(dir, { server: server.url, caPem: server.caPem, token: 'test-token' }),
    self_node_name: 'node-a',
    pod_metadata_wait_ms: 1000,
    glob_minimum_cooldown_ms: 60_000, // resumption must not depend on the periodic rescan
  });
  const { ctx, metrics } = testContext(join(dir, 'data'));
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, ctx, undefined, { idlePollMs: 100 }), out);
  cleanups.push(() => running.stop());
  const messages = () => out.events.map((e) => e.fields.message as string);
  await waitFor(() => messages().length >= 3, 'first lines', 8000);

  // Exclude: the whole web pod's nginx via the container list, cron via its namespace's label.
  server.update('pods', 'web', 'shop', (o) => {
    o.metadata.annotations = { 'sluice.dev/exclude-containers': 'nginx' };
  });
  server.update('namespaces', 'ops', undefined, (o) => {
    o.metadata.labels = { ...o.metadata.labels, 'sluice.dev/exclude': 'true' };
  });
  await sleep(700);
  writeAll('while-excluded');
  await waitFor(() => messages().includes('sidecar while-excluded'), 'sidecar still read', 5000);
  await sleep(500);

  // Lift every exclusion.
  server.update('pods', 'web', 'shop', (o) => {
    o.metadata.annotations = {};
  });
  server.update('namespaces', 'ops', undefined, (o) => {
    o.metadata.labels = { 'kubernetes.io/metadata.name': 'ops' };
  });
  server.update('pods', 'muted', 'shop', (o) => {
    o.metadata.annotations = {};
  });
  await sleep(700);
  writeAll('after');
  await waitFor(() => ['nginx after', 'cron after', 'muted after', 'sidecar after'].every((m) => messages().includes(m)), 'lines after un-exclusion', 8000);
  await sleep(300);
  await running.stop();

  const got = messages();
  for (const excludedLine of ['nginx while-excluded', 'cron while-excluded', 'muted while-excluded', 'muted before']) {
    assert.ok(!got.includes(excludedLine), `${excludedLine} must not ship: ${JSON.stringify(got)}`);
  }
  for (const line of ['nginx before', 'sidecar before', 'cron before', 'sidecar while-excluded', 'nginx after', 'cron after', 'muted after']) {
    assert.equal(got.filter((m) => m === line).length, 1, `${line} exactly once: ${JSON.stringify(got)}`);
  }
  const mutedAfter = out.events.find((e) => e.fields.message === 'muted after')!;
  assert.equal((mutedAfter.fields.kubernetes as Record<string, unknown>).container_image, 'registry.example/app:1.0');
  assert.equal(await counterValue(metrics, 'sluice_kubernetes_events_without_metadata_total'), 0);
});

test('metrics: events held for a late pod and events shipped without metadata are counted', async () => {
  const server = await FakeApiServer.start({ bookmarkIntervalMs: 200 });
  cleanups.push(() => server.close());
  server.upsert('nodes', node('node-a'));
  server.upsert('namespaces', namespace('shop'));
  const sim = new KubeletSim({ root: join(dir, 'pods-metrics'), format: 'cri' });
  cleanups.push(() => sim.stop());
  const late = sim.addPod('shop', 'late', ['app'], 'u-late').container('app');
  const ghost = sim.addPod('shop', 'ghost', ['app'], 'u-ghost').container('app');
  const config = kubernetesLogsSchema.parse({
    log_directory: join(dir, 'pods-metrics'),
    kube_config_file: writeKubeconfig(dir, { server: server.url, caPem: server.caPem, token: 'test-token' }, 'kubeconfig-metrics'),
    self_node_name: 'node-a',
    pod_metadata_wait_ms: 800,
  });
  const { ctx, metrics } = testContext(join(dir, 'data-metrics'));
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, ctx, undefined, { idlePollMs: 100 }), out);
  cleanups.push(() => running.stop());
  await sleep(300);
  for (let i = 0; i < 3; i++) sim.write(late, 'stdout', `late ${i}`);
  for (let i = 0; i < 2; i++) sim.write(ghost, 'stdout', `ghost ${i}`);
  await sleep(200);
  server.upsert('pods', pod({ name: 'late', namespace: 'shop', uid: 'u-late' }));
  await waitFor(() => out.events.length >= 5, 'five events', 8000);
  await sleep(300);
  await running.stop();
  assert.equal(await counterValue(metrics, 'sluice_kubernetes_events_held_total'), 5, 'both files waited: all their first lines were held');
  assert.equal(await counterValue(metrics, 'sluice_kubernetes_events_without_metadata_total'), 2, 'the ghost pod never arrived');
});

test('metrics: a batch holding the reads of several files counts each file by its own metadata', async () => {
  const server = await FakeApiServer.start({ bookmarkIntervalMs: 200 });
  cleanups.push(() => server.close());
  server.upsert('nodes', node('node-a'));
  server.upsert('namespaces', namespace('shop'));
  server.upsert('pods', pod({ name: 'known', namespace: 'shop', uid: 'u-known' }));
  const sim = new KubeletSim({ root: join(dir, 'pods-mixed'), format: 'cri' });
  cleanups.push(() => sim.stop());
  const known = sim.addPod('shop', 'known', ['app'], 'u-known').container('app');
  const late = sim.addPod('shop', 'late', ['app'], 'u-late').container('app');
  const config = kubernetesLogsSchema.parse({
    log_directory: join(dir, 'pods-mixed'),
    kube_config_file: writeKubeconfig(dir, { server: server.url, caPem: server.caPem, token: 'test-token' }, 'kubeconfig-mixed'),
    self_node_name: 'node-a',
    pod_metadata_wait_ms: 5000,
  });
  const { ctx, metrics } = testContext(join(dir, 'data-mixed'));
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, ctx, undefined, { idlePollMs: 100 }), out);
  cleanups.push(() => running.stop());
  sim.write(known, 'stdout', 'known 0');
  await waitFor(() => out.events.length >= 1, 'the known pod is read', 8000);
  const heldBefore = await counterValue(metrics, 'sluice_kubernetes_events_held_total'); // 1 if it waited for the start
  for (let i = 0; i < 3; i++) sim.write(late, 'stdout', `late ${i}`);
  await sleep(300);
  // A write to the known pod just before the late pod arrives: both files are read in one round.
  for (let i = 1; i < 3; i++) sim.write(known, 'stdout', `known ${i}`);
  server.upsert('pods', pod({ name: 'late', namespace: 'shop', uid: 'u-late' }));
  await waitFor(() => out.events.length >= 6, 'six events', 8000);
  await running.stop();
  assert.equal((await counterValue(metrics, 'sluice_kubernetes_events_held_total')) - heldBefore, 3, 'only the late pod waited');
  assert.equal(await counterValue(metrics, 'sluice_kubernetes_events_without_metadata_total'), 0);
});
