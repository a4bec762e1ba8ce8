import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { FakeApiServer } from '../../../test/k8s/fake-apiserver.js';
import { eventually } from '../../../test/k8s/eventually.js';
import { namespace } from '../../../test/k8s/fixtures.js';
import { ApiClient } from '../../kubernetes/metadata/api-client.js';
import type { ApiCredentials } from '../../kubernetes/metadata/credentials.js';
import { MetadataMetrics } from '../../kubernetes/metadata/metrics.js';
import { LeaderElector, type Lease } from './leader-election.js';

describe('LeaderElector against the fake API server', () => {
  let server: FakeApiServer;
  let client: ApiClient;
  const electors: LeaderElector[] = [];

  before(async () => {
    server = await FakeApiServer.start();
    server.upsert('namespaces', namespace('sluice'));
    const credentials: ApiCredentials = { server: server.url, tls: { ca: server.caPem }, authorization: async () => 'Bearer test-token', invalidate: () => {} };
    client = new ApiClient(credentials, new MetadataMetrics());
  });
  after(async () => {
    for (const elector of electors) await elector.stop();
    await client.close();
    await server.close();
  });

  function elector(identity: string, name: string, options: { leaseDurationMs?: number; progress?: () => string; namespace?: string; client?: ApiClient } = {}) {
    const log: string[] = [];
    const started: Lease[] = [];
    const e = new LeaderElector({
      client: options.client ?? client,
      namespace: options.namespace ?? 'sluice',
      name,
      identity,
      leaseDurationMs: options.leaseDurationMs ?? 1500,
      retryPeriodMs: 100,
      annotations: (): Record<string, string> => (options.progress ? { 'sluice.dev/events-resource-version': options.progress() } : {}),
      onStartedLeading: (lease) => {
        started.push(lease);
        log.push('started');
      },
      onStoppedLeading: () => log.push('stopped'),
      logger: pino({ enabled: false }),
    });
    electors.push(e);
    return { e, log, started };
  }

  const holder = (name: string) => (server.get('leases', name, 'sluice')?.spec as Lease['spec'])?.holderIdentity;

  it('two electors: exactly one wins, the other stays a standby; the winner\'s identity is the holderIdentity', async () => {
    const a = elector('replica-a', 'race');
    const b = elector('replica-b', 'race');
    a.e.start();
    b.e.start();
    await eventually(() => assert.ok(a.e.isLeader || b.e.isLeader));
    // Both saw no Lease at first and raced on create, or one created it and the other found it held.
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.notEqual(a.e.isLeader, b.e.isLeader, 'exactly one leader');
    const [winner, loser] = a.e.isLeader ? [a, b] : [b, a];
    assert.equal(holder('race'), a.e.isLeader ? 'replica-a' : 'replica-b');
    assert.deepEqual(winner.log, ['started']);
    assert.deepEqual(loser.log, []);
    await winner.e.stop();
    await loser.e.stop();
  });

  it('a write that loses the race (409 Conflict) means someone else won: no leadership', async () => {
    // The Lease is held and renewed by a real holder; a stale PUT from anyone else must fail.
    const a = elector('holder', 'conflict');
    a.e.start();
    await eventually(() => assert.ok(a.e.isLeader));
    const lease = server.get('leases', 'conflict', 'sluice')!;
    await eventually(() => assert.notEqual(server.get('leases', 'conflict', 'sluice')!.metadata.resourceVersion, lease.metadata.resourceVersion));
    const staleUpdate = client.write('PUT', '/apis/coordination.k8s.io/v1/namespaces/sluice/leases/conflict', { ...lease, spec: { ...(lease.spec as object), holderIdentity: 'intruder' } }, { verb: 'update', resource: 'leases', signal: AbortSignal.timeout(5000) });
    await assert.rejects(staleUpdate, { status: 409 });
    assert.equal(holder('conflict'), 'holder');
    // Someone forcing the Lease over (a newer write): the holder sees 409 on renewal, re-reads, steps down.
    server.update('leases', 'conflict', 'sluice', (l) => void ((l.spec as Record<string, unknown>).holderIdentity = 'usurper'));
    await eventually(() => assert.deepEqual(a.log, ['started', 'stopped']));
    assert.equal(a.e.isLeader, false);
    await a.e.stop();
    assert.equal(holder('conflict'), 'usurper', 'a stepped-down elector does not release a Lease it does not hold');
  });

  it('writes the annotations with each renewal; release on stop lets the standby take over at once, with the recorded progress', async () => {
    let progress = 1;
    const a = elector('first', 'handover', { leaseDurationMs: 60_000, progress: () => String(progress) });
    const b = elector('second', 'handover', { leaseDurationMs: 60_000 });
    a.e.start();
    await eventually(() => assert.ok(a.e.isLeader));
    b.e.start();
    progress = 42;
    await eventually(() => assert.equal(server.get('leases', 'handover', 'sluice')!.metadata.annotations?.['sluice.dev/events-resource-version'], '42'));
    progress = 43;
    await a.e.stop();
    const released = server.get('leases', 'handover', 'sluice')!;
    // With a 60 s lease the standby could only take over this fast because of the release.
    await eventually(() => assert.ok(b.e.isLeader), 3000);
    assert.equal((released.spec as Lease['spec'])!.leaseDurationSeconds, 1);
    assert.equal(b.started[0]!.metadata.annotations?.['sluice.dev/events-resource-version'], '43', 'the final progress is written on release');
    assert.equal(holder('handover'), 'second');
    assert.equal((server.get('leases', 'handover', 'sluice')!.spec as Lease['spec'])!.leaseTransitions, 1);
  });

  it('a holder cut off from the API server steps down; the standby takes over once the lease expires on its own clock', async () => {
    const own = new ApiClient({ server: server.url, tls: { ca: server.caPem }, authorization: async () => 'Bearer test-token', invalidate: () => {} }, new MetadataMetrics());
    const a = elector('dies', 'expiry', { leaseDurationMs: 1000, client: own });
    a.e.start();
    await eventually(() => assert.ok(a.e.isLeader));
    const b = elector('waits', 'expiry', { leaseDurationMs: 1000 });
    b.e.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(b.e.isLeader, false, 'a renewed lease is not taken');
    // Its connection pool is gone: renewals fail, nothing is released.
    await own.close();
    await eventually(() => assert.deepEqual(a.log, ['started', 'stopped']), 5000);
    await eventually(() => assert.ok(b.e.isLeader), 5000);
    assert.equal(holder('expiry'), 'waits');
  });

  it('a holder whose renewals hang (no answer at all) steps down by the renew deadline, not the client timeout', async () => {
    const a = elector('hung', 'hang', { leaseDurationMs: 900 });
    a.e.start();
    await eventually(() => assert.ok(a.e.isLeader));
    server.setMode('no_response');
    try {
      // The API client's own timeout is 30 s: only the renew deadline (600 ms) gets it here.
      await eventually(() => assert.deepEqual(a.log, ['started', 'stopped']), 5000);
    } finally {
      server.setMode('normal');
    }
    await a.e.stop();
  });

  it('a missing lease namespace is a clear error and no leadership', async () => {
    const logged: string[] = [];
    const e = new LeaderElector({
      client,
      namespace: 'nowhere',
      name: 'x',
      identity: 'me',
      leaseDurationMs: 1000,
      retryPeriodMs: 50,
      onStartedLeading: () => assert.fail('must not lead'),
      onStoppedLeading: () => {},
      logger: { warn: (o: { err?: string }) => logged.push(o.err ?? ''), info: () => {} } as unknown as import('pino').Logger,
    });
    electors.push(e);
    e.start();
    await eventually(() => assert.ok(logged.some((m) => m.includes('lease namespace "nowhere" does not exist'))));
    assert.equal(e.isLeader, false);
  });
});
