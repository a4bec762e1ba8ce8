import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { eventually } from './eventually.js';
import { FakeApiServer } from './fake-apiserver.js';
import { event, namespace, node, pod } from './fixtures.js';

interface WatchLine {
  type: string;
  object: { metadata: { name?: string; resourceVersion?: string }; code?: number; reason?: string };
}

describe('FakeApiServer', () => {
  let server: FakeApiServer;
  let agent: Agent;

  before(async () => {
    server = await FakeApiServer.start({ bookmarkIntervalMs: 50 });
    agent = new Agent({ connect: { ca: server.caPem } });
  });
  after(async () => {
    await server.close();
    await agent.close();
  });

  async function get(path: string, token = 'test-token') {
    const res = await request(`${server.url}${path}`, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> };
  }

  /** Collect watch lines until `until` says stop (or the stream ends). */
  async function watch(path: string, until: (lines: WatchLine[]) => boolean = () => false): Promise<WatchLine[]> {
    const controller = new AbortController();
    const res = await request(`${server.url}${path}`, { dispatcher: agent, headers: { authorization: 'Bearer test-token' }, signal: controller.signal });
    assert.equal(res.statusCode, 200);
    const lines: WatchLine[] = [];
    let buffered = '';
    try {
      for await (const chunk of res.body) {
        buffered += chunk.toString();
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buffered.slice(0, newline)));
          buffered = buffered.slice(newline + 1);
        }
        if (until(lines)) {
          controller.abort();
          break;
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
    return lines;
  }

  it('serves TLS that only its own CA verifies', async () => {
    const stranger = new Agent();
    await assert.rejects(request(`${server.url}/api/v1/pods`, { dispatcher: stranger }), /certificate/);
    await stranger.close();
  });

  it('answers 401 to a wrong or missing token, and honours token rotation', async () => {
    assert.equal((await get('/api/v1/pods', 'wrong')).status, 401);
    assert.equal((await get('/api/v1/pods')).status, 200);
    server.setAcceptedTokens('new-token');
    assert.equal((await get('/api/v1/pods')).status, 401);
    assert.equal((await get('/api/v1/pods', 'new-token')).status, 200);
    server.setAcceptedTokens('test-token');
  });

  it('lists with field and label selectors, and gets a node by name', async () => {
    server.upsert('namespaces', namespace('team-a'));
    server.upsert('nodes', node('node-a', { zone: 'z1' }));
    server.upsert('pods', pod({ name: 'web-1', namespace: 'team-a', node: 'node-a', labels: { app: 'web', tier: 'front' } }));
    server.upsert('pods', pod({ name: 'web-2', namespace: 'team-a', node: 'node-b', labels: { app: 'web' } }));
    server.upsert('pods', pod({ name: 'db-1', namespace: 'team-a', node: 'node-a', labels: { app: 'db' } }));
    const names = async (query: string) => (await get(`/api/v1/pods?${query}`)).body.items.map((p: any) => p.metadata.name).sort();
    assert.deepEqual(await names('fieldSelector=spec.nodeName%3Dnode-a'), ['db-1', 'web-1']);
    assert.deepEqual(await names('fieldSelector=metadata.name%3Dweb-2'), ['web-2']);
    assert.deepEqual(await names('labelSelector=app%3Dweb'), ['web-1', 'web-2']);
    assert.deepEqual(await names('labelSelector=app!%3Dweb'), ['db-1']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('app in (db, cache)')}`), ['db-1']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('app notin (db)')}`), ['web-1', 'web-2']);
    assert.deepEqual(await names('labelSelector=tier'), ['web-1']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('!tier,app=web')}`), ['web-2']);
    assert.equal((await get('/api/v1/pods?fieldSelector=spec.bogus%3Dx')).status, 400);
    const fetched = await get('/api/v1/nodes/node-a');
    assert.equal(fetched.body.metadata.labels.zone, 'z1');
    assert.equal((await get('/api/v1/nodes/nope')).status, 404);
  });

  it('chunks lists with limit/continue from one snapshot, and 410s an expired continue token', async () => {
    for (let i = 0; i < 5; i++) server.upsert('pods', pod({ name: `chunk-${i}`, namespace: 'chunks' }));
    const first = await get('/api/v1/namespaces/chunks/pods?limit=2');
    assert.equal(first.body.items.length, 2);
    assert.equal(first.body.metadata.remainingItemCount, 3);
    server.upsert('pods', pod({ name: 'chunk-late', namespace: 'chunks' })); // not in the snapshot
    const second = await get(`/api/v1/namespaces/chunks/pods?limit=2&continue=${encodeURIComponent(first.body.metadata.continue)}`);
    const third = await get(`/api/v1/namespaces/chunks/pods?limit=2&continue=${encodeURIComponent(second.body.metadata.continue)}`);
    assert.equal(third.body.metadata.continue, undefined);
    const all = [...first.body.items, ...second.body.items, ...third.body.items].map((p: any) => p.metadata.name);
    assert.deepEqual(all, ['chunk-0', 'chunk-1', 'chunk-2', 'chunk-3', 'chunk-4']);
    assert.equal(first.body.metadata.resourceVersion, third.body.metadata.resourceVersion);

    const again = await get('/api/v1/namespaces/chunks/pods?limit=2');
    server.upsert('pods', pod({ name: 'chunk-later', namespace: 'chunks' }));
    server.compact(); // compaction passes the snapshot's resourceVersion
    const expired = await get(`/api/v1/namespaces/chunks/pods?limit=2&continue=${encodeURIComponent(again.body.metadata.continue)}`);
    assert.equal(expired.status, 410);
    assert.equal(expired.body.reason, 'Expired');
  });

  it('streams watch events after the given resourceVersion, with selector transitions and bookmarks', async () => {
    server.upsert('pods', pod({ name: 'w-1', namespace: 'watch', labels: { app: 'x' } }));
    const start = (await get('/api/v1/namespaces/watch/pods')).body.metadata.resourceVersion;
    const linesPromise = watch(
      `/api/v1/pods?watch=true&resourceVersion=${start}&labelSelector=app%3Dx&allowWatchBookmarks=true`,
      (lines) => lines.filter((l) => l.type !== 'BOOKMARK').length >= 4 && lines.at(-1)?.type === 'BOOKMARK',
    );
    await new Promise((r) => setTimeout(r, 30));
    server.upsert('pods', pod({ name: 'w-2', namespace: 'watch', labels: { app: 'x' } }));
    server.update('pods', 'w-1', 'watch', (p) => (p.metadata.annotations = { touched: 'yes' }));
    server.update('pods', 'w-2', 'watch', (p) => (p.metadata.labels = { app: 'y' })); // leaves the selector
    server.upsert('pods', pod({ name: 'w-3', namespace: 'watch', labels: { app: 'other' } })); // never matches
    server.remove('pods', 'w-1', 'watch');
    const lines = await linesPromise;
    const events = lines.filter((l) => l.type !== 'BOOKMARK').map((l) => `${l.type} ${l.object.metadata.name}`);
    assert.deepEqual(events, ['ADDED w-2', 'MODIFIED w-1', 'DELETED w-2', 'DELETED w-1']);
    assert.equal(lines.at(-1)!.object.metadata.resourceVersion, server.resourceVersion);
  });

  it('replays retained history to a watch that resumes, and ends watches at timeoutSeconds', async () => {
    const from = server.resourceVersion;
    server.upsert('pods', pod({ name: 'r-1', namespace: 'replay' }));
    const lines = await watch(`/api/v1/namespaces/replay/pods?watch=1&resourceVersion=${from}&timeoutSeconds=1`);
    assert.deepEqual(lines.map((l) => `${l.type} ${l.object.metadata.name}`), ['ADDED r-1']);
  });

  it('sends a 410 ERROR event to a watch from a compacted resourceVersion', async () => {
    const old = server.resourceVersion;
    server.upsert('pods', pod({ name: 'gone-1', namespace: 'gone' }));
    server.compact();
    const lines = await watch(`/api/v1/pods?watch=true&resourceVersion=${old}`);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.type, 'ERROR');
    assert.equal(lines[0]!.object.code, 410);
  });

  it('injects failures, counts requests by verb and resource, serves kubelet /pods', async () => {
    server.resetRequestCounts();
    server.failRequests(500, 2);
    assert.equal((await get('/api/v1/nodes')).status, 500);
    assert.equal((await get('/api/v1/nodes')).status, 500);
    assert.equal((await get('/api/v1/nodes')).status, 200);
    assert.equal(server.requestCount('list', 'nodes'), 3);
    assert.equal(server.requestCount(), 3);
    const kubelet = await get('/pods');
    assert.ok(kubelet.body.items.length > 0);
    assert.equal(server.requestCount('list', 'kubelet_pods'), 1);
  });

  /** A watch whose lines accumulate in `lines` until `close()`. */
  async function openWatch(path: string) {
    const lines: WatchLine[] = [];
    const controller = new AbortController();
    const res = await request(`${server.url}${path}`, { dispatcher: agent, headers: { authorization: 'Bearer test-token' }, signal: controller.signal });
    const reading = (async () => {
      for await (const chunk of res.body) for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    })().catch(() => {});
    return { lines, status: res.statusCode, close: () => (controller.abort(), reading) };
  }

  it('hangs open watches (connection kept, nothing written) and, in hang_watches mode, new ones', async () => {
    const open = await openWatch(`/api/v1/namespaces?watch=true&allowWatchBookmarks=true&resourceVersion=${server.resourceVersion}`);
    await eventually(() => assert.ok(open.lines.some((l) => l.type === 'BOOKMARK'), 'bookmarks flow at first'));
    server.hangWatches();
    const seen = open.lines.length;
    server.upsert('namespaces', namespace('hung-1'));
    server.sendBookmarks();
    await new Promise((r) => setTimeout(r, 200)); // four bookmark intervals
    assert.equal(open.lines.length, seen, 'nothing after the hang');
    assert.equal(server.activeWatches('namespaces'), 1, 'still open');
    await open.close();

    server.setMode('hang_watches');
    const fresh = await openWatch(`/api/v1/namespaces?watch=true&allowWatchBookmarks=true`);
    server.upsert('namespaces', namespace('hung-2'));
    await new Promise((r) => setTimeout(r, 200));
    server.setMode('normal');
    assert.equal(fresh.status, 200);
    assert.deepEqual(fresh.lines, [], 'headers only: no synthetic ADDED, no event, no bookmark');
    await fresh.close();
  });

  it('sends no bookmarks when bookmarkIntervalMs is 0', async () => {
    const quiet = await FakeApiServer.start({ bookmarkIntervalMs: 0 });
    const quietAgent = new Agent({ connect: { ca: quiet.caPem } });
    const res = await request(`${quiet.url}/api/v1/nodes?watch=true&allowWatchBookmarks=true&timeoutSeconds=1`, { dispatcher: quietAgent, headers: { authorization: 'Bearer test-token' } });
    assert.equal(await res.body.text(), '', 'a whole second, then the timeout: no bookmark');
    await quiet.close();
    await quietAgent.close();
  });

  it('gone_watches: every watch gets a 410 ERROR event while lists still work', async () => {
    server.setMode('gone_watches');
    const rv = (await get('/api/v1/pods')).body.metadata.resourceVersion;
    const lines = await watch(`/api/v1/pods?watch=true&resourceVersion=${rv}`);
    server.setMode('normal');
    assert.deepEqual(lines.map((l) => [l.type, l.object.code]), [['ERROR', 410]]);
  });

  it('no_response and no_handshake: the connection is accepted and nothing ever comes back', async () => {
    server.setMode('no_response');
    await assert.rejects(request(`${server.url}/api/v1/nodes`, { dispatcher: agent, headers: { authorization: 'Bearer test-token' }, headersTimeout: 300 }), { code: 'UND_ERR_HEADERS_TIMEOUT' });
    server.setMode('no_handshake');
    const fresh = new Agent({ connect: { ca: server.caPem, timeout: 300 } });
    await assert.rejects(request(`${server.url}/api/v1/nodes`, { dispatcher: fresh, headers: { authorization: 'Bearer test-token' } }), { code: 'UND_ERR_CONNECT_TIMEOUT' });
    await fresh.close();
    server.setMode('normal');
    // no_handshake cut the shared agent's pooled connections: start the later tests on fresh ones.
    await agent.destroy();
    agent = new Agent({ connect: { ca: server.caPem } });
    assert.equal((await get('/api/v1/nodes')).status, 200);
  });

  it('drops watches abruptly, and refuses connections while stopped', async () => {
    const watching = watch('/api/v1/nodes?watch=true');
    watching.catch(() => {}); // rejected by the drop below; awaited there
    await eventually(() => assert.equal(server.activeWatches('nodes'), 1));
    server.dropWatches();
    await assert.rejects(watching);
    await server.stop();
    await assert.rejects(get('/api/v1/nodes'), (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED');
    await server.start();
    assert.equal((await get('/api/v1/nodes')).status, 200);
  });

  it('serves events.k8s.io/v1 Events: list cluster-wide and per namespace, field and label selectors, watch', async () => {
    server.upsert('events', event({ name: 'e-1', namespace: 'team-a', reason: 'Pulled', labels: { tier: 'x' } }));
    server.upsert('events', event({ name: 'e-2', namespace: 'team-b', reason: 'Killing', type: 'Warning' }));
    const names = async (path: string) => (await get(path)).body.items.map((e: any) => e.metadata.name).sort();
    const all = await get('/apis/events.k8s.io/v1/events');
    assert.equal(all.status, 200);
    assert.equal(all.body.apiVersion, 'events.k8s.io/v1');
    assert.equal(all.body.kind, 'EventList');
    assert.deepEqual(await names('/apis/events.k8s.io/v1/events'), ['e-1', 'e-2']);
    assert.deepEqual(await names('/apis/events.k8s.io/v1/namespaces/team-b/events'), ['e-2']);
    assert.deepEqual(await names('/apis/events.k8s.io/v1/events?fieldSelector=type%3DWarning'), ['e-2']);
    assert.deepEqual(await names('/apis/events.k8s.io/v1/events?fieldSelector=regarding.kind%3DPod,reason!%3DKilling'), ['e-1']);
    assert.deepEqual(await names('/apis/events.k8s.io/v1/events?labelSelector=tier%3Dx'), ['e-1']);
    assert.equal((await get('/apis/events.k8s.io/v1/events?fieldSelector=spec.nodeName%3Dx')).status, 400);
    const from = server.resourceVersion;
    const watching = watch(`/apis/events.k8s.io/v1/namespaces/team-a/events?watch=true&resourceVersion=${from}`, (lines) => lines.length >= 2);
    await new Promise((r) => setTimeout(r, 50));
    server.update('events', 'e-2', 'team-b', (e) => void (e.note = 'elsewhere'));
    server.update('events', 'e-1', 'team-a', (e) => void (e.series = { count: 2, lastObservedTime: new Date().toISOString() }));
    server.remove('events', 'e-1', 'team-a');
    const lines = await watching;
    assert.deepEqual(lines.map((l) => [l.type, l.object.metadata.name]), [['MODIFIED', 'e-1'], ['DELETED', 'e-1']]);
  });

  it('watches of a bookmarkless resource get no bookmark even when asked', async () => {
    const quiet = await FakeApiServer.start({ bookmarkIntervalMs: 20, bookmarklessResources: ['events'] });
    const quietAgent = new Agent({ connect: { ca: quiet.caPem } });
    try {
      const open = async (path: string) => {
        const controller = new AbortController();
        const res = await request(`${quiet.url}${path}`, { dispatcher: quietAgent, headers: { authorization: 'Bearer test-token' }, signal: controller.signal });
        const chunks: string[] = [];
        const reading = (async () => {
          for await (const chunk of res.body) chunks.push(chunk.toString());
        })().catch(() => undefined);
        return { chunks, stop: async () => (controller.abort(), await reading) };
      };
      const events = await open(`/apis/events.k8s.io/v1/events?watch=true&allowWatchBookmarks=true&resourceVersion=${quiet.resourceVersion}`);
      const pods = await open(`/api/v1/pods?watch=true&allowWatchBookmarks=true&resourceVersion=${quiet.resourceVersion}`);
      await eventually(() => assert.ok(pods.chunks.join('').includes('BOOKMARK')));
      await events.stop();
      await pods.stop();
      assert.equal(events.chunks.join(''), '');
    } finally {
      await quietAgent.close();
      await quiet.close();
    }
  });

  it('serves coordination.k8s.io/v1 Leases: create, get, update with resourceVersion conflicts (409), namespace must exist', async () => {
    const write = async (method: 'POST' | 'PUT', path: string, body: unknown) => {
      const res = await request(`${server.url}${path}`, {
        method,
        dispatcher: agent,
        headers: { authorization: 'Bearer test-token', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> };
    };
    const lease = (holder: string, resourceVersion?: string) => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'lock', ...(resourceVersion ? { resourceVersion } : {}) },
      spec: { holderIdentity: holder, leaseDurationSeconds: 15 },
    });
    const collection = '/apis/coordination.k8s.io/v1/namespaces/leases-ns/leases';
    assert.equal((await write('POST', collection, lease('a'))).status, 404); // no such namespace
    server.upsert('namespaces', namespace('leases-ns'));
    const created = await write('POST', collection, lease('a'));
    assert.equal(created.status, 201);
    assert.equal(created.body.apiVersion, 'coordination.k8s.io/v1');
    assert.equal(created.body.spec.holderIdentity, 'a');
    const again = await write('POST', collection, lease('b'));
    assert.deepEqual([again.status, again.body.reason], [409, 'AlreadyExists']);
    const fetched = await get(`${collection}/lock`);
    assert.equal(fetched.body.metadata.resourceVersion, created.body.metadata.resourceVersion);
    const updated = await write('PUT', `${collection}/lock`, lease('b', created.body.metadata.resourceVersion));
    assert.equal(updated.status, 200);
    assert.equal(updated.body.spec.holderIdentity, 'b');
    assert.equal(updated.body.metadata.uid, created.body.metadata.uid);
    assert.notEqual(updated.body.metadata.resourceVersion, created.body.metadata.resourceVersion);
    const stale = await write('PUT', `${collection}/lock`, lease('c', created.body.metadata.resourceVersion));
    assert.deepEqual([stale.status, stale.body.reason], [409, 'Conflict']);
    assert.equal(server.get('leases', 'lock', 'leases-ns')?.spec && (server.get('leases', 'lock', 'leases-ns')!.spec as any).holderIdentity, 'b');
    assert.equal((await write('PUT', `${collection}/missing`, { ...lease('a'), metadata: { name: 'missing' } })).status, 404);
    assert.equal((await get(`${collection}/missing`)).status, 404);
    assert.equal((await write('POST', '/apis/events.k8s.io/v1/namespaces/leases-ns/events', lease('a'))).status, 405);
  });
});
