import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createTestPki } from '../../../test/fakes/tls.js';
import { FakeApiServer } from '../../../test/k8s/fake-apiserver.js';
import { eventually } from '../../../test/k8s/eventually.js';
import { pod } from '../../../test/k8s/fixtures.js';
import { cleanUpAfterEach, metricValue, startStore } from '../../../test/k8s/store-setup.js';

cleanUpAfterEach();

describe('metadata_source = "kubelet"', () => {
  it('reads this node\'s pods from kubelet /pods, polls early for an unknown pod, and never watches pods on the API server', async () => {
    const { server, store } = await startStore({
      server: { kubeletNodeName: 'node-a' },
      options: (s) => ({ metadata_source: 'kubelet', kubelet_endpoint: s.url, kubelet_poll_interval_ms: 60_000 }),
      seed: (s) => {
        s.upsert('pods', pod({ name: 'web-0', uid: 'uid-web-0', owner: { kind: 'StatefulSet', name: 'web' }, labels: { app: 'web' } }));
        s.upsert('pods', pod({ name: 'far', uid: 'uid-far', node: 'node-b' }));
      },
    });
    assert.deepEqual(store.getPod('uid-web-0')?.workload, { kind: 'StatefulSet', name: 'web' });
    assert.equal(store.getPod('uid-far'), undefined);
    assert.equal(store.getPod('uid-web-0')?.nodeLabels.zone, 'z1', 'node labels still come from the API watch');

    server.upsert('pods', pod({ name: 'new', uid: 'uid-new' }));
    const found = await store.waitForPod('uid-new', 3000); // long before the 60 s poll interval
    assert.equal(found?.name, 'new');

    server.remove('pods', 'web-0', 'default');
    await store.waitForPod('uid-trigger-a-poll', 1500);
    await eventually(() => assert.equal(store.isDeleted('uid-web-0'), true), 3000);
    assert.equal(server.requestCount('watch', 'pods') + server.requestCount('list', 'pods'), 0);
    assert.ok(server.requestCount('list', 'kubelet_pods') >= 2);
  });

  it('verifies the kubelet certificate: another CA is refused unless kubelet_ca_file names it or kubelet_tls_verify = false', async () => {
    const pki = createTestPki();
    after(() => pki.cleanup());
    // A kubelet with its own serving certificate (signed by a CA the API server's kubeconfig does not name).
    const kubelet = await FakeApiServer.start({ kubeletNodeName: 'node-a', tls: { certPem: pki.serverCert, keyPem: pki.serverKey, caPem: pki.ca.toString() } });
    after(() => kubelet.close());
    kubelet.upsert('pods', pod({ name: 'from-kubelet', uid: 'uid-k' }));
    const kubeletMode = { metadata_source: 'kubelet', kubelet_endpoint: kubelet.url, kubelet_poll_interval_ms: 60_000 };

    await assert.rejects(startStore({ options: kubeletMode }), /initial sync/);
    assert.equal(kubelet.requestCount('list', 'kubelet_pods'), 0, 'no request got past the TLS handshake');
    for (const tls of [{ kubelet_ca_file: pki.caFile }, { kubelet_tls_verify: false }]) {
      const { store } = await startStore({ options: { ...kubeletMode, ...tls } });
      assert.equal(store.getPod('uid-k')?.name, 'from-kubelet', JSON.stringify(tls));
    }
  });

  it('reports kubelet_pods stale while polls fail, and fresh again after one succeeds', async () => {
    const { server, store, registry } = await startStore({
      server: { kubeletNodeName: 'node-a' },
      options: (s) => ({ metadata_source: 'kubelet', kubelet_endpoint: s.url, kubelet_poll_interval_ms: 60_000 }),
      seed: (s) => s.upsert('pods', pod({ name: 'a', uid: 'uid-a' })),
    });
    assert.equal(await metricValue(registry, 'sluice_kubernetes_metadata_stale', { resource: 'kubelet_pods' }), 0);
    server.failRequests(500);
    await store.waitForPod('uid-trigger-a-poll', 1500);
    await eventually(async () => assert.equal(await metricValue(registry, 'sluice_kubernetes_metadata_stale', { resource: 'kubelet_pods' }), 1));
    assert.equal(store.getPod('uid-a')?.name, 'a', 'cache kept');
    server.stopFailing();
    server.upsert('pods', pod({ name: 'b', uid: 'uid-b' }));
    assert.ok(await store.waitForPod('uid-b', 5000));
    assert.equal(await metricValue(registry, 'sluice_kubernetes_metadata_stale', { resource: 'kubelet_pods' }), 0);
  });
});
