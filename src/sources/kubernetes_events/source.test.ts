import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeApiServer } from '../../../test/k8s/fake-apiserver.js';
import { event, namespace } from '../../../test/k8s/fixtures.js';
import { writeKubeconfig } from '../../../test/k8s/kubeconfig.js';
import { CollectingOutput, startSource, testContext, waitFor } from '../../../test/source-driver.js';
import { kubernetesEventsSchema } from './config.js';
import type { Lease } from './leader-election.js';
import { KubernetesEventsSource, PROGRESS_ANNOTATION } from './source.js';

interface Shipped {
  message?: string;
  kubernetes_event: { name: string; namespace?: string; count: number };
}

describe('kubernetes_events source against the fake API server', () => {
  let server: FakeApiServer;
  let dir: string;
  let kubeconfig: string;

  before(async () => {
    server = await FakeApiServer.start({ bookmarklessResources: ['events'] });
    for (const ns of ['default', 'sluice', 'team-a', 'team-b']) server.upsert('namespaces', namespace(ns));
    dir = mkdtempSync(join(tmpdir(), 'sluice-events-'));
    kubeconfig = writeKubeconfig(dir, { server: server.url, caPem: server.caPem, token: 'test-token' });
  });
  const running: { stop(): Promise<void> }[] = [];
  after(async () => {
    for (const run of running) await run.stop().catch(() => undefined); // a failed test's source too
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function start(lease: string, options: Record<string, unknown> = {}) {
    const config = kubernetesEventsSchema.parse({
      kube_config_file: kubeconfig,
      leader_election: { lease_name: lease, lease_namespace: 'sluice', identity: 'test-replica', lease_duration_secs: 2 },
      ...options,
    });
    const source = new KubernetesEventsSource(config, testContext(dir, 'events', 'kubernetes_events').ctx, { retryPeriodMs: 100, backoff: { initialMs: 20, maxMs: 100 } });
    const out = new CollectingOutput();
    const source_ = startSource(source, out);
    let stopped: Promise<void> | undefined;
    const runningSource = { stop: () => (stopped ??= source_.stop()) };
    running.push(runningSource);
    const shipped = () => out.events.map((e) => e.fields as unknown as Shipped);
    const names = () => shipped().map((e) => `${e.kubernetes_event.name}#${e.kubernetes_event.count}`);
    return { out, running: runningSource, shipped, names };
  }

  const progressOf = (lease: string) => JSON.parse(server.get('leases', lease, 'sluice')?.metadata.annotations?.[PROGRESS_ANNOTATION] ?? '{}') as Record<string, string>;
  /** The recorded progress covers the change at `rv` (the list's resourceVersion may be later: Lease writes bump it). */
  const covers = (lease: string, key: string, rv: string | undefined) => Number(progressOf(lease)[key] ?? 0) >= Number(rv);
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

  it('first start: only Events younger than initial_lookback_secs; then one event per change of count or note', async () => {
    server.upsert('events', event({ name: 'old', namespace: 'team-a', eventTime: minutesAgo(10) }));
    server.upsert('events', event({ name: 'young', namespace: 'team-a', eventTime: minutesAgo(0.5) }));
    const run = start('lookback', { namespaces: ['team-a'] });
    await waitFor(() => run.names().length >= 1, 'the young Event');
    server.update('events', 'old', 'team-a', (e) => void (e.series = { count: 2, lastObservedTime: new Date().toISOString() }));
    server.update('events', 'young', 'team-a', (e) => void (e.reportingInstance = 'node-b')); // neither count nor note
    server.remove('events', 'young', 'team-a');
    server.update('events', 'old', 'team-a', (e) => void (e.note = 'pulled again'));
    server.upsert('events', event({ name: 'sentinel', namespace: 'team-a' }));
    await waitFor(() => run.names().includes('sentinel#1'), 'the sentinel');
    assert.deepEqual(run.names(), ['young#1', 'old#2', 'old#2', 'sentinel#1']);
    assert.deepEqual(run.shipped().map((e) => e.message), ['event young', 'event old', 'pulled again', 'event sentinel']);
    const last = server.get('events', 'sentinel', 'team-a')!.metadata.resourceVersion!;
    await waitFor(() => progressOf('lookback')['team-a'] === last, 'the progress recorded on the Lease');
    await run.running.stop();
    const released = server.get('leases', 'lookback', 'sluice')!.spec as Lease['spec'];
    assert.equal(released!.holderIdentity, '', 'released on stop');
  });

  it('a new leader resumes from the recorded progress: the changes made meanwhile, once; nothing older; no lookback', async () => {
    server.upsert('events', event({ name: 'before', namespace: 'team-b', eventTime: minutesAgo(0.1) }));
    const first = start('resume', { namespaces: ['team-b'] });
    await waitFor(() => first.names().includes('before#1'), 'first run');
    await waitFor(() => covers('resume', 'team-b', server.get('events', 'before', 'team-b')!.metadata.resourceVersion), 'progress');
    await first.running.stop();
    server.update('events', 'before', 'team-b', (e) => void (e.series = { count: 2, lastObservedTime: new Date().toISOString() }));
    server.upsert('events', event({ name: 'while-down', namespace: 'team-b', eventTime: minutesAgo(30) }));
    const lists = server.requestCount('list', 'events');
    const second = start('resume', { namespaces: ['team-b'] });
    await waitFor(() => second.names().length >= 2, 'the changes made meanwhile');
    server.upsert('events', event({ name: 'sentinel', namespace: 'team-b' }));
    await waitFor(() => second.names().includes('sentinel#1'), 'the sentinel');
    assert.deepEqual(second.names(), ['before#2', 'while-down#1', 'sentinel#1']);
    assert.equal(server.requestCount('list', 'events'), lists, 'resumed with a watch, no list');
    await second.running.stop();
  });

  it('resuming from progress the server compacted: relist (410), and only the changes after the recorded progress', async () => {
    server.upsert('events', event({ name: 'kept', eventTime: minutesAgo(0.1) }));
    const first = start('compacted', { namespaces: ['default'] });
    await waitFor(() => first.names().includes('kept#1'), 'first run');
    await waitFor(() => covers('compacted', 'default', server.get('events', 'kept')!.metadata.resourceVersion), 'progress');
    await first.running.stop();
    server.upsert('events', event({ name: 'after', eventTime: minutesAgo(30) }));
    server.update('events', 'kept', undefined, (e) => void (e.reason = 'Other')); // no count/note change, but newer rv: a relist cannot tell
    server.compact();
    const lists = server.requestCount('list', 'events');
    // With history compacted the watch from the recorded progress gets 410, so "kept" comes back
    // in the relist with a newer resourceVersion.
    const second = start('compacted', { namespaces: ['default'] });
    await waitFor(() => second.names().includes('after#1'), 'the change after the progress');
    server.upsert('events', event({ name: 'sentinel' }));
    await waitFor(() => second.names().includes('sentinel#1'), 'the sentinel');
    assert.ok(server.requestCount('list', 'events') > lists, 'relisted on 410');
    // "kept" is in the relist with a resourceVersion after the progress and unknown to this
    // replica: it is emitted again (at least once). Everything at or before the progress is not.
    assert.deepEqual(second.names().sort(), ['after#1', 'kept#1', 'sentinel#1']);
    server.upsert('events', event({ name: 'old-untouched', eventTime: minutesAgo(1) }));
    await second.running.stop();
  });

  it('namespaces: one watch each, nothing from other namespaces, progress recorded per namespace', async () => {
    const run = start('per-namespace', { namespaces: ['team-a', 'team-b'] });
    await waitFor(() => server.activeWatches('events') >= 2, 'two watches');
    server.upsert('events', event({ name: 'in-a', namespace: 'team-a' }));
    server.upsert('events', event({ name: 'elsewhere', namespace: 'default' }));
    server.upsert('events', event({ name: 'in-b', namespace: 'team-b' }));
    await waitFor(() => run.names().includes('in-a#1') && run.names().includes('in-b#1'), 'both namespaces');
    const a = server.get('events', 'in-a', 'team-a')!.metadata.resourceVersion;
    const b = server.get('events', 'in-b', 'team-b')!.metadata.resourceVersion;
    await waitFor(() => covers('per-namespace', 'team-a', a) && covers('per-namespace', 'team-b', b), 'progress per namespace');
    // Young Events of the earlier tests in team-a/team-b come too (lookback); none from elsewhere.
    assert.ok(!run.names().includes('elsewhere#1'));
    assert.deepEqual(run.shipped().map((e) => e.kubernetes_event.namespace).filter((ns) => ns !== 'team-a' && ns !== 'team-b'), []);
    await run.running.stop();
  });

  it('an API server answering 500 at first: the Lease requests are retried, the Event still comes', async () => {
    server.upsert('events', event({ name: 'during-500s', namespace: 'team-a' }));
    server.failRequests(500, 6);
    const run = start('flaky', { namespaces: ['team-a'] });
    await waitFor(() => run.names().includes('during-500s#1'), 'the Event, after the failures');
    server.stopFailing();
    assert.equal(server.get('leases', 'flaky', 'sluice')?.spec && (server.get('leases', 'flaky', 'sluice')!.spec as Lease['spec'])!.holderIdentity, 'test-replica');
    await run.running.stop();
  });

  it('cluster-wide by default, with field and label selectors; leader election off: emits without a Lease', async () => {
    // Whether the list or the watch sees them first, these are young Events: emitted either way.
    const run = start('unused', { leader_election: { enabled: false }, field_selector: 'type=Warning', label_selector: 'app=web' });
    server.upsert('events', event({ name: 'w1', namespace: 'team-a', type: 'Warning', labels: { app: 'web' } }));
    server.upsert('events', event({ name: 'n1', namespace: 'team-b', type: 'Normal', labels: { app: 'web' } }));
    server.upsert('events', event({ name: 'w2', namespace: 'team-b', type: 'Warning', labels: { app: 'db' } }));
    server.upsert('events', event({ name: 'w3', namespace: 'team-b', type: 'Warning', labels: { app: 'web' } }));
    await waitFor(() => run.names().includes('w3#1'), 'w3');
    assert.deepEqual(run.names(), ['w1#1', 'w3#1']);
    assert.equal(server.get('leases', 'unused', 'sluice'), undefined);
    await run.running.stop();
  });
});
