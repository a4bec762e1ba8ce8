import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { FakeApiServer } from '../../../test/k8s/fake-apiserver.js';
import { delay, eventually } from '../../../test/k8s/eventually.js';
import { pod } from '../../../test/k8s/fixtures.js';
import { ApiClient } from './api-client.js';
import type { ApiCredentials } from './credentials.js';
import type { Pod } from './kube-types.js';
import { MetricsRegistry } from '../../core/metrics.js';
import { metricValue } from '../../../test/k8s/store-setup.js';
import { ListWatch, type ListWatchOptions } from './list-watch.js';
import { MetadataMetrics } from './metrics.js';

describe('ListWatch', () => {
  let server: FakeApiServer;
  let client: ApiClient;
  let bigSeen = '';

  before(async () => {
    server = await FakeApiServer.start({ bookmarkIntervalMs: 100 });
    const credentials: ApiCredentials = { server: server.url, tls: { ca: server.caPem }, authorization: async () => 'Bearer test-token', invalidate: () => {} };
    client = new ApiClient(credentials, new MetadataMetrics());
  });
  const started: ListWatch<Pod>[] = [];
  afterEach(async () => {
    // Stopped here too, so a failed assertion cannot leave a watch loop running (node --test would hang).
    for (const watch of started.splice(0)) await watch.stop();
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  function start(pageSize: number, options: Partial<ListWatchOptions> = {}) {
    const registry = new MetricsRegistry();
    const lists: string[][] = [];
    const applied: string[] = [];
    const onApply = (p: Pod) => {
      if (p.metadata.annotations?.big) bigSeen = p.metadata.annotations.big;
    };
    const watch = new ListWatch<Pod>(
      client,
      { resource: 'pods', path: '/api/v1/pods', fieldSelector: 'spec.nodeName=node-a', pageSize, backoff: { initialMs: 20, maxMs: 100 }, ...options },
      { replace: (items) => lists.push(items.map((p) => p.metadata.name).sort()), apply: (type, p) => {
          onApply(p);
          applied.push(`${type} ${p.metadata.name}`);
        },
      },
      new MetadataMetrics(registry.forComponent('source', 'k8s', 'kubernetes_logs')),
      pino({ enabled: false }),
    );
    watch.start();
    started.push(watch);
    return { watch, lists, applied, registry };
  }

  it('lists in pages, then watches from the list\'s resourceVersion with bookmarks', async () => {
    for (let i = 0; i < 5; i++) server.upsert('pods', pod({ name: `page-${i}` }));
    server.upsert('pods', pod({ name: 'other-node', node: 'node-b' }));
    server.resetRequestCounts();
    const { watch, lists, applied } = start(2);
    await watch.firstListDone;
    assert.deepEqual(lists, [['page-0', 'page-1', 'page-2', 'page-3', 'page-4']]);
    assert.equal(server.requestCount('list', 'pods'), 3, 'three pages of two');
    server.upsert('pods', pod({ name: 'page-5' }));
    await eventually(() => assert.deepEqual(applied, ['ADDED page-5']));
    // A large object with multi-byte characters spans several chunks; no character may break.
    const big = 'é€😀'.repeat(40_000);
    server.update('pods', 'page-5', 'default', (p) => (p.metadata.annotations = { big }));
    await eventually(() => assert.equal(applied.length, 2));
    assert.equal(bigSeen, big);
    applied.pop();
    // Bookmarks advance the resourceVersion while nothing of ours changes: a resumed watch is not 410.
    server.upsert('namespaces', { metadata: { name: 'unrelated' } });
    server.bumpResourceVersion(5);
    server.sendBookmarks();
    await new Promise((r) => setTimeout(r, 50));
    server.compact();
    server.endWatches();
    server.upsert('pods', pod({ name: 'page-6' }));
    await eventually(() => assert.deepEqual(applied, ['ADDED page-5', 'ADDED page-6']));
    assert.equal(lists.length, 1, 'resumed from the bookmark, no relist');
    await watch.stop();
    for (let i = 0; i <= 6; i++) server.remove('pods', `page-${i}`);
    server.remove('pods', 'other-node');
  });

  it('starts the list over when its continue token expires between pages', async () => {
    for (let i = 0; i < 4; i++) server.upsert('pods', pod({ name: `exp-${i}` }));
    let expired = false;
    server.onRequest = (verb, _resource, url) => {
      if (verb === 'list' && url.searchParams.has('continue') && !expired) {
        expired = true;
        server.upsert('pods', pod({ name: 'exp-late' }));
        server.compact();
      }
    };
    const { watch, lists } = start(2);
    await eventually(() => assert.deepEqual(lists, [['exp-0', 'exp-1', 'exp-2', 'exp-3', 'exp-late']]));
    server.onRequest = undefined;
    await watch.stop();
  });

  it('restarts a watch silent for two bookmark intervals from its resourceVersion, and sees what came after', async () => {
    server.upsert('pods', pod({ name: 'before-hang' }));
    const { watch, lists, applied, registry } = start(500, { bookmarkIntervalMs: 500 }); // the server sends one every 100 ms
    await watch.firstListDone;
    await eventually(() => assert.equal(server.activeWatches('pods'), 1));
    server.resetRequestCounts();
    server.hangWatches(); // open, but nothing more arrives: a half-open connection
    server.upsert('pods', pod({ name: 'after-hang' }));
    await eventually(() => assert.deepEqual(applied, ['ADDED after-hang']));
    assert.equal(await metricValue(registry, 'sluice_kubernetes_watch_restarts_total', { resource: 'pods', reason: 'silent' }), 1);
    assert.equal(server.requestCount('watch', 'pods'), 1, 'one new watch');
    assert.equal(server.requestCount('list', 'pods'), 0, 'resumed from the resourceVersion, no relist');
    assert.equal(lists.length, 1);
    await watch.stop();
    server.remove('pods', 'before-hang');
    server.remove('pods', 'after-hang');
  });

  it('relists at once after a 410 that follows a watch open a bookmark interval (the backoff starts over)', async () => {
    server.upsert('pods', pod({ name: 'sound' }));
    // A minute-long first delay: a relist that waited for it would never come within eventually().
    const { watch, lists, registry } = start(500, { bookmarkIntervalMs: 300, backoff: { initialMs: 60_000, maxMs: 60_000 } });
    await watch.firstListDone;
    await eventually(() => assert.equal(server.activeWatches('pods'), 1));
    await delay(400); // open longer than one bookmark interval: a sound watch
    server.hangWatches(); // the watch misses the next change ...
    server.upsert('pods', pod({ name: 'while-compacted' }));
    server.compact();
    server.endWatches(); // ... and resumes from a resourceVersion now gone: 410
    await eventually(() => assert.equal(lists.length, 2));
    assert.ok(lists[1]!.includes('while-compacted'));
    assert.equal(await metricValue(registry, 'sluice_kubernetes_relists_total', { resource: 'pods' }), 1);
    await watch.stop();
    server.remove('pods', 'sound');
    server.remove('pods', 'while-compacted');
  });

  it('initialResourceVersion: resumes with a watch from it (no list), relists only on 410, and the relist is not older than it (never rv=0)', async () => {
    server.upsert('pods', pod({ name: 'recorded' }));
    const from = server.resourceVersion;
    server.upsert('pods', pod({ name: 'after-recorded' }));
    server.resetRequestCounts();
    const listRvs: string[] = [];
    server.onRequest = (verb, _resource, url) => {
      if (verb === 'list') listRvs.push(`${url.searchParams.get('resourceVersion')} ${url.searchParams.get('resourceVersionMatch')}`);
    };
    const { watch, lists, applied } = start(500, { initialResourceVersion: from });
    await watch.firstListDone; // settled at once: there is no first list to wait for
    await eventually(() => assert.deepEqual(applied, ['ADDED after-recorded']));
    assert.equal(server.requestCount('list', 'pods'), 0);
    assert.deepEqual(lists, []);
    await watch.stop();
    server.compact();
    const resumed = start(500, { initialResourceVersion: from });
    await eventually(() => assert.equal(resumed.lists.length, 1));
    assert.ok(resumed.lists[0]!.includes('recorded') && resumed.lists[0]!.includes('after-recorded'));
    assert.deepEqual(listRvs, [`${from} NotOlderThan`], 'one list after the 410, not older than the recorded version');
    server.onRequest = undefined;
    await resumed.watch.stop();
    server.remove('pods', 'recorded');
    server.remove('pods', 'after-recorded');
  });

  it('after a watch 410, relists from the watch cache (not older than what it had), and waits a jittered moment first', async () => {
    server.upsert('pods', pod({ name: 'cached' }));
    const listParams: string[] = [];
    const listedAt: number[] = [];
    server.onRequest = (verb, _resource, url) => {
      if (verb !== 'list') return;
      listParams.push(`${url.searchParams.get('resourceVersion')} ${url.searchParams.get('resourceVersionMatch')}`);
      listedAt.push(Date.now());
    };
    const { watch, lists } = start(500, { bookmarkIntervalMs: 100, relistJitterMs: 400, random: () => 0.75 });
    await watch.firstListDone;
    await eventually(() => assert.equal(server.activeWatches('pods'), 1));
    await delay(300); // a sound watch: the relist would otherwise go out at once
    const had = server.resourceVersion; // bookmarks carried the watch here
    await eventually(() => assert.ok(watch['resourceVersion'] === had));
    server.hangWatches(); // the watch misses the next change, then the history is compacted past it
    server.upsert('pods', pod({ name: 'missed' }));
    server.compact();
    const expiredAt = Date.now();
    server.endWatches();
    await eventually(() => assert.equal(lists.length, 2));
    assert.deepEqual(listParams, ['0 null', `${had} NotOlderThan`]);
    assert.ok(listedAt[1]! - expiredAt >= 290, `the relist waited its jitter (0.75 x 400 ms), not ${listedAt[1]! - expiredAt} ms`);
    assert.ok(lists[1]!.includes('missed'));
    server.onRequest = undefined;
    await watch.stop();
    server.remove('pods', 'cached');
    server.remove('pods', 'missed');
  });
});

describe('ListWatch against a watch cache', () => {
  let server: FakeApiServer;
  let client: ApiClient;
  before(async () => {
    server = await FakeApiServer.start({ bookmarkIntervalMs: 100, watchCache: true });
    const credentials: ApiCredentials = { server: server.url, tls: { ca: server.caPem }, authorization: async () => 'Bearer test-token', invalidate: () => {} };
    client = new ApiClient(credentials, new MetadataMetrics());
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it('lists from the cache at start and after a 410; when the cache cannot serve the version, one consistent list', async () => {
    for (let i = 0; i < 5; i++) server.upsert('pods', pod({ name: `here-${i}` }));
    for (let i = 0; i < 50; i++) server.upsert('pods', pod({ name: `there-${i}`, node: 'node-b' }));
    const lists: string[][] = [];
    const watch = new ListWatch<Pod>(
      client,
      { resource: 'pods', path: '/api/v1/pods', fieldSelector: 'spec.nodeName=node-a', pageSize: 2, bookmarkIntervalMs: 100, backoff: { initialMs: 20, maxMs: 100 } },
      { replace: (items) => lists.push(items.map((p) => p.metadata.name).sort()), apply: () => {} },
      new MetadataMetrics(),
      pino({ enabled: false }),
    );
    try {
      watch.start();
      await watch.firstListDone;
      assert.equal(lists[0]!.length, 5);
      let stats = server.listStats();
      assert.deepEqual([stats.listsFromCache, stats.listsFromEtcd, stats.objectsScanned], [1, 0, 5], 'one cached list through the node index, no etcd read');
      await eventually(() => assert.equal(server.activeWatches('pods'), 1));
      await delay(200);
      server.hangWatches();
      server.upsert('pods', pod({ name: 'late' }));
      server.compact();
      server.endWatches();
      await eventually(() => assert.equal(lists.length, 2));
      assert.ok(lists[1]!.includes('late'));
      stats = server.listStats();
      assert.deepEqual([stats.listsFromCache, stats.listsFromEtcd], [2, 0], 'the relist came from the cache too');

      await eventually(() => assert.equal(server.activeWatches('pods'), 1));
      await delay(200);
      server.setWatchCacheLagging(true); // a restarted server whose cache is behind the client
      server.hangWatches();
      server.upsert('pods', pod({ name: 'later' }));
      server.compact();
      server.endWatches();
      await eventually(() => assert.equal(lists.length, 3));
      stats = server.listStats();
      assert.deepEqual([stats.listsFromCache, stats.listsFromEtcd], [2, 1], 'refused by the cache (504 too large), then one consistent list');
      assert.equal(stats.objectsScanned, 5 + 6 + 57, 'the etcd read scanned every pod of the cluster');
      assert.equal(lists[2]!.length, 7);
    } finally {
      server.setWatchCacheLagging(false);
      await watch.stop();
    }
  });
});
