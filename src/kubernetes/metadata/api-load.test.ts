import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { FakeApiServer } from '../../../test/k8s/fake-apiserver.js';
import { delay, eventually } from '../../../test/k8s/eventually.js';
import { pod } from '../../../test/k8s/fixtures.js';
import { cleanUpAfterEach, startStore } from '../../../test/k8s/store-setup.js';

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
});
