import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FakeApiServer } from '../../../test/k8s/fake-apiserver.js';
import { namespace, node, pod } from '../../../test/k8s/fixtures.js';
import { writeKubeconfig } from '../../../test/k8s/kubeconfig.js';
import { KubeletSim } from '../../../test/kubelet-sim.js';
import { CollectingOutput, startSource, testContext, waitFor } from '../../../test/source-driver.js';
import { kubernetesLogsSchema } from './config.js';
import { KubernetesLogsSource } from './source.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-k8s-api-'));
const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
after(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

test('with a Kubernetes API: events carry pod metadata, excluded pods are not read, unknown pods wait then ship with path fields', async () => {
  const server = await FakeApiServer.start();
  cleanups.push(() => server.close());
  server.upsert('nodes', node('node-a'));
  server.upsert('namespaces', namespace('shop', { team: 'payments' }));
  server.upsert('pods', pod({ name: 'web', namespace: 'shop', uid: 'u-web', labels: { app: 'web' }, containers: ['nginx'] }));
  server.upsert('pods', pod({ name: 'quiet', namespace: 'shop', uid: 'u-quiet', annotations: { 'sluice.dev/exclude': 'true' } }));
  const sim = new KubeletSim({ root: join(dir, 'pods'), format: 'cri' });
  const web = sim.addPod('shop', 'web', ['nginx'], 'u-web').container('nginx');
  const quiet = sim.addPod('shop', 'quiet', ['app'], 'u-quiet').container('app');
  const late = sim.addPod('shop', 'late', ['app'], 'u-late').container('app');
  const ghost = sim.addPod('shop', 'ghost', ['app'], 'u-ghost').container('app');
  sim.write(web, 'stdout', 'from web');
  sim.write(quiet, 'stdout', 'must not ship');
  sim.write(late, 'stdout', 'from late');
  sim.write(ghost, 'stdout', 'from ghost');
  cleanups.push(() => sim.stop());

  const config = kubernetesLogsSchema.parse({
    log_directory: join(dir, 'pods'),
    kube_config_file: writeKubeconfig(dir, { server: server.url, caPem: server.caPem, token: 'test-token' }),
    self_node_name: 'node-a',
    pod_metadata_wait_ms: 1500,
  });
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, testContext(join(dir, 'data')).ctx), out);
  cleanups.push(() => running.stop());
  await new Promise((resolve) => setTimeout(resolve, 300));
  // The late pod reaches the API after its log file appeared, within the wait.
  server.upsert('pods', pod({ name: 'late', namespace: 'shop', uid: 'u-late', labels: { app: 'late' } }));
  await waitFor(() => out.events.length >= 3, 'three events', 8000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await running.stop();

  const byMessage = new Map(out.events.map((e) => [e.fields.message as string, e.fields.kubernetes as Record<string, unknown>]));
  assert.deepEqual([...byMessage.keys()].sort(), ['from ghost', 'from late', 'from web']);
  const webFields = byMessage.get('from web')!;
  assert.equal(webFields.pod_name, 'web');
  assert.deepEqual(webFields.pod_labels, { app: 'web' });
  assert.equal(webFields.container_image, 'registry.example/nginx:1.0');
  assert.equal((webFields.namespace_labels as Record<string, string>).team, 'payments');
  assert.deepEqual(byMessage.get('from late')!.pod_labels, { app: 'late' });
  // Never known to the API: after the bounded wait, what the path says.
  assert.deepEqual(byMessage.get('from ghost'), { pod_namespace: 'shop', pod_name: 'ghost', pod_uid: 'u-ghost', container_name: 'app' });
});
