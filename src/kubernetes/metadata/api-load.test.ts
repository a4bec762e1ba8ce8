import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { FakeApiServer } from '../../../test/k8s/fake-apiserver.js';
import { delay, eventually } from '../../../test/k8s/eventually.js';
import { pod } from '../../../test/k8s/fixtures.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer as Server } from '../../../test/k8s/fake-apiserver.js';
import { namespace, node } from '../../../test/k8s/fixtures.js';
import { writeKubeconfig } from '../../../test/k8s/kubeconfig.js';
import { cleanUpAfterEach, startStore } from '../../../test/k8s/store-setup.js';
import { createPodMetadataStore, kubernetesMetadataOptionsSchema, type PodMetadataStore } from './index.js';

cleanUpAfterEach();

const CONTAINERS = ['app', 'proxy', 'log-shipper'];

function seedPods(server: FakeApiServer, count: number): void {
  for (let i = 0; i < count; i++) {
    server.upsert('pods', pod({ name: `p-${i}`, uid: `uid-${i}-0`, containers: CONTAINERS, labels: { version: '0' } }));
    server.upsert('pods', pod({ name: `other-${i}`, uid: `other-${i}`, node: 'node-b', containers: CONTAINERS }));
  }
}

/**
 * Churn for `rounds` rounds: each round relabels a tenth of the pods, re-creates a twentieth
 * under the same name with a new UID, and adds a pod to another node. Returns the expected
 * live state (name -> { uid, version }).
 */
async function churn(server: FakeApiServer, count: number, rounds: number): Promise<Map<string, { uid: string; version: string }>> {
  const state = new Map<string, { uid: string; version: string }>();
  for (let i = 0; i < count; i++) state.set(`p-${i}`, { uid: `uid-${i}-0`, version: '0' });
  for (let round = 1; round <= rounds; round++) {
    for (let i = round % 10; i < count; i += 10) {
      const version = String(round);
      server.update('pods', `p-${i}`, 'default', (p) => (p.metadata.labels = { version }));
      state.get(`p-${i}`)!.version = version;
    }
    for (let i = round % 20; i < count; i += 20) {
      const uid = `uid-${i}-${round}`;
      server.remove('pods', `p-${i}`, 'default');
      server.upsert('pods', pod({ name: `p-${i}`, uid, containers: CONTAINERS, labels: { version: `r${round}` } }));
      state.set(`p-${i}`, { uid, version: `r${round}` });
    }
    server.upsert('pods', pod({ name: `elsewhere-${round}`, node: 'node-b' }));
    await delay(50);
  }
  return state;
}

async function measure(t: TestContext, count: number) {
  const { server, store } = await startStore({ seed: (s) => seedPods(s, count) });
  await eventually(() => assert.equal(server.activeWatches(), 3));
  const startup = server.requestCounts();
  server.resetRequestCounts();
  const expected = await churn(server, count, 20);
  await eventually(() => {
    for (const [name, { uid, version }] of expected) {
      const info = store.getPod(uid);
      assert.equal(info?.name, name);
      assert.equal(info?.labels.version, version);
      assert.equal(info?.containers.size, CONTAINERS.length);
    }
  }, 10_000);
  await delay(500); // bookmarks keep flowing; no request is needed for them
  const duringChurn = server.requestCounts();
  t.diagnostic(`${count} pods x ${CONTAINERS.length} containers: startup requests ${JSON.stringify(startup)}; during 20 rounds of churn ${JSON.stringify(duringChurn)}; cached pods ${store.size}`);
  return { startup, duringChurn };
}

describe('API load', () => {
  it('stays at one list+watch per resource, whatever the number of pods and the churn', async (t) => {
    const small = await measure(t, 20);
    const large = await measure(t, 200);
    assert.deepEqual(large.startup, { 'list namespaces': 1, 'list nodes': 1, 'list pods': 1, 'watch namespaces': 1, 'watch nodes': 1, 'watch pods': 1 });
    assert.deepEqual(small.startup, large.startup, 'independent of the number of pods');
    assert.deepEqual(large.duringChurn, {}, 'churn flows through the open watches: no request at all');
    assert.deepEqual(small.duringChurn, large.duringChurn);
  });

  it('agents restarted together list from the watch cache, each after its start-up jitter', async () => {
    const server = await Server.start({ bookmarkIntervalMs: 200, watchCache: true });
    const dir = mkdtempSync(join(tmpdir(), 'sluice-jitter-'));
    const stores: PodMetadataStore[] = [];
    try {
      const agents = 8;
      server.upsert('namespaces', namespace('default'));
      for (let n = 0; n < agents; n++) {
        server.upsert('nodes', node(`node-${n}`));
        for (let p = 0; p < 3; p++) server.upsert('pods', pod({ name: `p-${n}-${p}`, node: `node-${n}` }));
      }
      const kubeconfig = writeKubeconfig(dir, { server: server.url, caPem: server.caPem, token: 'test-token' });
      const firstList = new Map<string, number>();
      server.onRequest = (verb, resource, url) => {
        const agent = /node-\d+/.exec(url.searchParams.get('fieldSelector') ?? '')?.[0];
        if (verb === 'list' && resource === 'nodes' && agent && !firstList.has(agent)) firstList.set(agent, Date.now());
      };
      for (let n = 0; n < agents; n++) {
        const options = kubernetesMetadataOptionsSchema.parse({ kube_config_file: kubeconfig, self_node_name: `node-${n}`, api_list_jitter_ms: 800 });
        stores.push(await createPodMetadataStore(options, { env: {}, random: () => n / agents }));
      }
      const startedAt = Date.now();
      const synced = await Promise.all(stores.map((store) => store.start(5000)));
      assert.deepEqual(synced, stores.map(() => true));
      for (let n = 0; n < agents; n++) {
        const waited = firstList.get(`node-${n}`)! - startedAt;
        assert.ok(waited >= (800 * n) / agents - 5, `node-${n} listed ${waited} ms after start, before its jitter of ${(800 * n) / agents} ms`);
        assert.equal(stores[n]!.size, 3);
      }
      const stats = server.listStats();
      assert.deepEqual([stats.listsFromCache, stats.listsFromEtcd], [agents * 3, 0], 'every start-up list served from the watch cache');
      // Its node by name, the namespace, its pods through the node index: never the cluster's pods.
      assert.equal(stats.objectsScanned, agents * (1 + 1 + 3), 'each agent\'s lists touched its node, the namespace and its own pods only');

      // A jitter longer than the sync timeout: start() gives up in time, nothing was asked yet.
      await eventually(() => assert.equal(server.activeWatches(), agents * 3));
      server.resetRequestCounts();
      const late = await createPodMetadataStore(
        kubernetesMetadataOptionsSchema.parse({ kube_config_file: kubeconfig, self_node_name: 'node-0', api_list_jitter_ms: 60_000 }),
        { env: {}, random: () => 0.99 },
      );
      stores.push(late);
      assert.equal(await late.start(300), false);
      assert.deepEqual(server.requestCounts(), {});
    } finally {
      server.onRequest = undefined;
      for (const store of stores) await store.stop();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
