import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { delay, eventually } from '../../../test/k8s/eventually.js';
import { namespace, pod } from '../../../test/k8s/fixtures.js';
import { cleanUpAfterEach, metricValue, startStore } from '../../../test/k8s/store-setup.js';

cleanUpAfterEach();

/** The backoff startStore gives the store. */
const STORE_BACKOFF = { initialMs: 50, maxMs: 400 };

/**
 * The most attempts one list+watch can make in `windowMs` when every one fails: one at once, then
 * one after each backoff sleep, each at least d/2 (d doubling from initialMs to maxMs).
 */
function maxAttempts(windowMs: number, { initialMs, maxMs }: { initialMs: number; maxMs: number }): number {
  let attempts = 1;
  for (let failures = 0, slept = 0; ; failures++) {
    slept += Math.min(maxMs, initialMs * 2 ** failures) / 2;
    if (slept > windowMs) return attempts;
    attempts++;
  }
}

describe('PodMetadataStore against the fake API server', () => {
  it('lists and watches this node\'s pods, keyed by UID, with namespace and node metadata', async () => {
    const { server, store, registry } = await startStore({
      seed: (s) => {
        s.upsert('pods', pod({ name: 'web-7d4b9c8f5-abcde', namespace: 'shop', uid: 'uid-web', labels: { app: 'web', 'pod-template-hash': '7d4b9c8f5' }, owner: { kind: 'ReplicaSet', name: 'web-7d4b9c8f5' }, containers: ['app', 'sidecar'], ip: '10.1.2.3' }));
        s.upsert('pods', pod({ name: 'elsewhere', uid: 'uid-elsewhere', node: 'node-b' }));
      },
    });
    const web = store.getPod('uid-web');
    assert.ok(web);
    assert.equal(web.name, 'web-7d4b9c8f5-abcde');
    assert.equal(web.namespace, 'shop');
    assert.equal(web.ip, '10.1.2.3');
    assert.deepEqual(web.ips, ['10.1.2.3']);
    assert.equal(web.owner, 'ReplicaSet/web-7d4b9c8f5');
    assert.deepEqual(web.workload, { kind: 'Deployment', name: 'web' });
    assert.equal(web.namespaceLabels.team, 'payments');
    assert.equal(web.nodeLabels.zone, 'z1');
    assert.equal(web.containers.get('sidecar')?.id, 'containerd://sidecar-web-7d4b9c8f5-abcde');
    assert.ok(Object.isFrozen(web) && Object.isFrozen(web.labels));
    assert.equal(store.getPod('uid-elsewhere'), undefined, 'pods of other nodes are not watched');

    server.upsert('pods', pod({ name: 'late', uid: 'uid-late' }));
    assert.equal((await store.waitForPod('uid-late', 3000))?.name, 'late');
    assert.equal(await store.waitForPod('uid-never', 50), undefined);
    server.update('nodes', 'node-a', undefined, (n) => (n.metadata.labels = { ...n.metadata.labels, zone: 'z2' }));
    await eventually(() => assert.equal(store.getPod('uid-web')?.nodeLabels.zone, 'z2'));
    assert.equal(await metricValue(registry, 'sluice_kubernetes_metadata_cache_size', { resource: 'pods' }), 2);
    assert.equal(await metricValue(registry, 'sluice_kubernetes_metadata_cache_size', { resource: 'namespaces' }), 2);
    assert.equal(await metricValue(registry, 'sluice_kubernetes_api_requests_total', { verb: 'list', resource: 'pods', code: '200' }), 1);
  });

  it('narrows the watches with extra_label_selector, extra_field_selector and extra_namespace_label_selector', async () => {
    const { server, store } = await startStore({
      options: { extra_label_selector: 'app in (web,api)', extra_field_selector: 'metadata.namespace!=kube-system', extra_namespace_label_selector: 'team' },
      seed: (s) => {
        s.upsert('pods', pod({ name: 'web', uid: 'uid-web', labels: { app: 'web' } }));
        s.upsert('pods', pod({ name: 'batch', uid: 'uid-batch', labels: { app: 'batch' } }));
        s.upsert('pods', pod({ name: 'dns', namespace: 'kube-system', uid: 'uid-dns', labels: { app: 'api' } }));
        s.upsert('pods', pod({ name: 'shop-api', namespace: 'shop', uid: 'uid-shop', labels: { app: 'api' } }));
      },
    });
    assert.ok(store.getPod('uid-web'));
    assert.equal(store.getPod('uid-batch'), undefined);
    assert.equal(store.getPod('uid-dns'), undefined);
    assert.equal(store.getPod('uid-shop')?.namespaceLabels.team, 'payments');
    assert.deepEqual(store.getPod('uid-web')?.namespaceLabels, {}, 'namespace "default" has no team label: not watched');
    server.update('pods', 'batch', 'default', (p) => (p.metadata.labels = { app: 'web' }));
    assert.ok(await store.waitForPod('uid-batch', 3000), 'entering the selector is an ADDED');
  });

  it('keeps a deleted pod for delay_deletion_ms, then drops it', async () => {
    const { server, store, changes, registry } = await startStore({ options: { delay_deletion_ms: 300 }, seed: (s) => s.upsert('pods', pod({ name: 'short', uid: 'uid-short' })) });
    server.remove('pods', 'short', 'default');
    await eventually(() => assert.equal(store.isDeleted('uid-short'), true));
    assert.equal(store.getPod('uid-short')?.name, 'short', 'still there for late lines');
    assert.equal(await metricValue(registry, 'sluice_kubernetes_metadata_cache_size', { resource: 'pods_deleted' }), 1);
    await eventually(() => assert.equal(store.getPod('uid-short'), undefined));
    assert.equal(await metricValue(registry, 'sluice_kubernetes_metadata_cache_size', { resource: 'pods_deleted' }), 0);
    assert.equal(await metricValue(registry, 'sluice_kubernetes_metadata_cache_size', { resource: 'pods' }), 0);
    assert.deepEqual(changes.filter((c) => c.uid === 'uid-short').map((c) => c.type), ['added', 'deleted', 'expired']);
  });

  it('never gives a StatefulSet pod re-created under the same name the old pod\'s metadata', async () => {
    const { server, store } = await startStore({
      seed: (s) => s.upsert('pods', pod({ name: 'db-0', uid: 'uid-db-old', labels: { generation: 'old' }, owner: { kind: 'StatefulSet', name: 'db' } })),
    });
    assert.equal(store.getPod('uid-db-old')?.labels.generation, 'old');
    // Live: delete and re-create under the same name.
    server.remove('pods', 'db-0', 'default');
    server.upsert('pods', pod({ name: 'db-0', uid: 'uid-db-new', labels: { generation: 'new' }, owner: { kind: 'StatefulSet', name: 'db' } }));
    const fresh = await store.waitForPod('uid-db-new', 3000);
    assert.equal(fresh?.labels.generation, 'new');
    assert.deepEqual(fresh?.workload, { kind: 'StatefulSet', name: 'db' });
    assert.equal(store.getPod('uid-db-old')?.labels.generation, 'old');
    assert.equal(store.isDeleted('uid-db-old'), true);

    // While the watch is down and history is compacted: the relist shows only the newest pod.
    await server.stop();
    server.remove('pods', 'db-0', 'default');
    server.upsert('pods', pod({ name: 'db-0', uid: 'uid-db-newest', labels: { generation: 'newest' } }));
    server.compact();
    await server.start();
    assert.equal((await store.waitForPod('uid-db-newest', 5000))?.labels.generation, 'newest');
    await eventually(() => assert.equal(store.isDeleted('uid-db-new'), true));
    assert.equal(store.getPod('uid-db-new')?.labels.generation, 'new');
  });

  it('reports exclusion flips both ways: pod annotation, container list, namespace annotation and label', async () => {
    const { server, store, changes } = await startStore({ seed: (s) => s.upsert('pods', pod({ name: 'noisy', namespace: 'shop', uid: 'uid-noisy', containers: ['app', 'debug'] })) });
    assert.equal(store.isExcluded('uid-noisy', 'app'), false);
    assert.equal(store.isExcluded('uid-unknown', 'app'), undefined);

    server.update('pods', 'noisy', 'shop', (p) => (p.metadata.annotations = { 'sluice.dev/exclude': 'true' }));
    await eventually(() => assert.equal(store.isExcluded('uid-noisy', 'app'), true));
    assert.equal(store.getPod('uid-noisy')?.excluded, 'pod_annotation');
    server.update('pods', 'noisy', 'shop', (p) => (p.metadata.annotations = { 'sluice.dev/exclude-containers': 'debug, other' }));
    await eventually(() => assert.equal(store.isExcluded('uid-noisy', 'app'), false));
    assert.equal(store.isExcluded('uid-noisy', 'debug'), true);

    server.update('namespaces', 'shop', undefined, (ns) => (ns.metadata.annotations = { 'sluice.dev/exclude': 'true' }));
    await eventually(() => assert.equal(store.getPod('uid-noisy')?.excluded, 'namespace'));
    server.update('namespaces', 'shop', undefined, (ns) => (ns.metadata.annotations = {}));
    await eventually(() => assert.equal(store.isExcluded('uid-noisy', 'app'), false));
    server.update('namespaces', 'shop', undefined, (ns) => (ns.metadata.labels = { 'sluice.dev/exclude': 'true' }));
    await eventually(() => assert.equal(store.isExcluded('uid-noisy', 'app'), true));

    const flips = changes.filter((c) => c.type === 'updated' && c.uid === 'uid-noisy').map((c) => `${c.previous?.excluded ?? '-'}>${c.pod.excluded ?? '-'}`);
    assert.deepEqual(flips, ['->pod_annotation', 'pod_annotation>-', '->namespace', 'namespace>-', '->namespace']);
  });

  it('excludes its own pod by default (SLUICE_POD_NAME / SLUICE_POD_NAMESPACE)', async () => {
    const { store } = await startStore({
      env: { SLUICE_POD_NAME: 'sluice-x1', SLUICE_POD_NAMESPACE: 'observability' },
      seed: (s) => {
        s.upsert('namespaces', namespace('observability'));
        s.upsert('pods', pod({ name: 'sluice-x1', namespace: 'observability', uid: 'uid-self' }));
        s.upsert('pods', pod({ name: 'sluice-x2', namespace: 'observability', uid: 'uid-peer', node: 'node-a' }));
      },
    });
    assert.equal(store.getPod('uid-self')?.excluded, 'self');
    assert.equal(store.isExcluded('uid-peer', 'app'), false);
  });

  it('keeps the cache while the API server is down and catches up by itself when it returns', async () => {
    const { server, store, registry } = await startStore({ seed: (s) => s.upsert('pods', pod({ name: 'steady', uid: 'uid-steady' })) });
    await server.stop();
    await delay(600); // several failed reconnects
    assert.equal(store.getPod('uid-steady')?.name, 'steady');
    assert.equal(store.isDeleted('uid-steady'), false);
    server.update('pods', 'steady', 'default', (p) => (p.metadata.labels = { changed: 'while-down' }));
    server.upsert('pods', pod({ name: 'born-while-down', uid: 'uid-born' }));
    await server.start();
    await eventually(() => assert.equal(store.getPod('uid-steady')?.labels.changed, 'while-down'), 5000);
    assert.equal((await store.waitForPod('uid-born', 5000))?.name, 'born-while-down');
    assert.ok((await metricValue(registry, 'sluice_kubernetes_watch_restarts_total', { resource: 'pods', reason: 'connection' })) >= 1);
  });

  it('relists after 410 Gone mid-watch and loses nothing', async () => {
    const { server, store, registry } = await startStore({ seed: (s) => s.upsert('pods', pod({ name: 'a', uid: 'uid-a' })) });
    server.resetRequestCounts();
    server.dropWatches();
    // Changes the dropped watch never saw, then history compacted past its resourceVersion.
    server.upsert('pods', pod({ name: 'b', uid: 'uid-b' }));
    server.remove('pods', 'a', 'default');
    server.compact();
    await eventually(() => assert.ok(store.getPod('uid-b')), 5000);
    await eventually(() => assert.equal(store.isDeleted('uid-a'), true));
    assert.ok(server.requestCount('list', 'pods') >= 1, 'relisted');
    assert.ok((await metricValue(registry, 'sluice_kubernetes_watch_restarts_total', { resource: 'pods', reason: 'expired' })) >= 1);
    server.upsert('pods', pod({ name: 'c', uid: 'uid-c' }));
    assert.ok(await store.waitForPod('uid-c', 3000), 'watching again after the relist');
  });

  it('backs off on 500s instead of hammering, reports the cache stale meanwhile, and recovers', async () => {
    const { server, store, registry } = await startStore({ seed: (s) => s.upsert('pods', pod({ name: 'a', uid: 'uid-a' })) });
    await eventually(async () => assert.equal(await metricValue(registry, 'sluice_kubernetes_metadata_stale', { resource: 'pods' }), 0, 'live once watching'));
    server.failRequests(500);
    server.resetRequestCounts();
    const started = Date.now();
    server.dropWatches();
    await delay(2000);
    const during = server.requestCount();
    const elapsed = Date.now() - started;
    // Each of the three list+watches (pods, namespaces, the node) retries within its own backoff.
    assert.ok(during <= 3 * maxAttempts(elapsed, STORE_BACKOFF), `requests during ${elapsed} ms of 500s: ${during}`);
    assert.ok(during >= 3, 'it did retry');
    assert.equal(store.getPod('uid-a')?.name, 'a', 'cache kept');
    assert.ok((await metricValue(registry, 'sluice_kubernetes_watch_restarts_total', { reason: 'http_5xx' })) >= 3);
    assert.equal(await metricValue(registry, 'sluice_kubernetes_metadata_stale', { resource: 'pods' }), 1, 'stale while failing');
    server.stopFailing();
    server.upsert('pods', pod({ name: 'after', uid: 'uid-after' }));
    assert.ok(await store.waitForPod('uid-after', 5000));
    assert.equal(await metricValue(registry, 'sluice_kubernetes_metadata_stale', { resource: 'pods' }), 0, 'live again');
  });

  it('410 on every watch: relists back off too (a bounded number of LISTs), counted and reported stale; recovers', async () => {
    const { server, store, registry } = await startStore({ seed: (s) => s.upsert('pods', pod({ name: 'a', uid: 'uid-a' })) });
    const relistsBefore = await metricValue(registry, 'sluice_kubernetes_relists_total', { resource: 'pods' });
    server.setMode('gone_watches');
    server.resetRequestCounts();
    const started = Date.now();
    server.dropWatches(); // each resumed watch now gets 410: list, watch, 410, list ...
    await delay(2000);
    const lists = server.requestCount('list', 'pods');
    const elapsed = Date.now() - started;
    // Before: every list reset the backoff, so this was a LIST per 25-50 ms (~50 in 2 s).
    assert.ok(lists <= maxAttempts(elapsed, STORE_BACKOFF), `${lists} LISTs of pods in ${elapsed} ms`);
    assert.ok(lists >= 2, `it did relist: ${lists}`);
    const relists = (await metricValue(registry, 'sluice_kubernetes_relists_total', { resource: 'pods' })) - relistsBefore;
    assert.ok(relists >= lists && relists <= lists + 1, `relists_total ${relists} vs ${lists} LISTs (one may be on its way)`);
    assert.ok((await metricValue(registry, 'sluice_kubernetes_watch_restarts_total', { resource: 'pods', reason: 'expired' })) >= lists);
    await eventually(async () => assert.equal(await metricValue(registry, 'sluice_kubernetes_metadata_stale', { resource: 'pods' }), 1));
    assert.equal(store.getPod('uid-a')?.name, 'a', 'cache kept');
    server.setMode('normal');
    server.upsert('pods', pod({ name: 'after', uid: 'uid-after' }));
    assert.ok(await store.waitForPod('uid-after', 5000));
    await eventually(async () => assert.equal(await metricValue(registry, 'sluice_kubernetes_metadata_stale', { resource: 'pods' }), 0));
  });

  for (const mode of ['no_response', 'no_handshake'] as const) {
    it(`times out requests to a server that accepts and never answers (${mode}), retries, and recovers`, async () => {
      const { server, store, registry } = await startStore({ options: { api_request_timeout_ms: 200 }, seed: (s) => s.upsert('pods', pod({ name: 'a', uid: 'uid-a' })) });
      server.setMode(mode);
      server.dropWatches(); // the watches reconnect into the void
      await eventually(async () => assert.ok((await metricValue(registry, 'sluice_kubernetes_watch_restarts_total', { resource: 'pods', reason: 'timeout' })) >= 2, 'timed out twice'));
      assert.equal(store.getPod('uid-a')?.name, 'a', 'cache kept');
      server.setMode('normal');
      server.upsert('pods', pod({ name: 'after', uid: 'uid-after' }));
      assert.ok(await store.waitForPod('uid-after', 5000));
    });
  }
});
