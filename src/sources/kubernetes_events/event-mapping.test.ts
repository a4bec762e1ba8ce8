import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AckedProgress, compareResourceVersions } from './acked-progress.js';
import { ChangeFilter } from './change-filter.js';
import { eventFields, type KubeEvent } from './event-mapping.js';

function kubeEvent(overrides: Partial<KubeEvent> = {}, metadata: Partial<KubeEvent['metadata']> = {}): KubeEvent {
  return {
    metadata: { name: 'web-1.17a', namespace: 'team-a', uid: 'uid-1', resourceVersion: '200', creationTimestamp: '2026-12-01T10:00:00Z', ...metadata },
    eventTime: '2026-12-01T10:00:01.123456Z',
    reportingController: 'kubelet',
    reportingInstance: 'node-a',
    action: 'Pulling',
    reason: 'Pulling',
    type: 'Normal',
    note: 'Pulling image "nginx"',
    regarding: { apiVersion: 'v1', kind: 'Pod', namespace: 'team-a', name: 'web-1', uid: 'pod-1', fieldPath: 'spec.containers{web}' },
    ...overrides,
  };
}

describe('kubernetes_events: Event -> sluice event', () => {
  it('maps every field; message = note; count 1 without a series', () => {
    assert.deepEqual(eventFields(kubeEvent()), {
      message: 'Pulling image "nginx"',
      timestamp: '2026-12-01T10:00:01.123456Z',
      source_type: 'kubernetes_events',
      kubernetes_event: {
        name: 'web-1.17a',
        namespace: 'team-a',
        uid: 'uid-1',
        reason: 'Pulling',
        type: 'Normal',
        action: 'Pulling',
        count: 1,
        reporting_controller: 'kubelet',
        reporting_instance: 'node-a',
        regarding: { kind: 'Pod', namespace: 'team-a', name: 'web-1', uid: 'pod-1' },
      },
    });
  });

  it('timestamp: series.lastObservedTime, else eventTime, else deprecatedLastTimestamp, else creationTimestamp; count: series, else deprecatedCount', () => {
    const series = kubeEvent({ series: { count: 7, lastObservedTime: '2026-12-01T10:05:00.000000Z' }, deprecatedCount: 3 });
    assert.equal(eventFields(series).timestamp, '2026-12-01T10:05:00.000000Z');
    assert.equal((eventFields(series).kubernetes_event as { count: number }).count, 7);
    const legacy = kubeEvent({ eventTime: null, deprecatedLastTimestamp: '2026-12-01T09:00:00Z', deprecatedCount: 3 });
    assert.equal(eventFields(legacy).timestamp, '2026-12-01T09:00:00Z');
    assert.equal((eventFields(legacy).kubernetes_event as { count: number }).count, 3);
    assert.equal(eventFields(kubeEvent({ eventTime: null })).timestamp, '2026-12-01T10:00:00Z');
  });

  it('leaves out the fields the Event lacks (no nulls, no empty objects)', () => {
    const sparse: KubeEvent = { metadata: { name: 'bare', uid: 'uid-2' }, eventTime: null, regarding: { kind: 'Node', name: 'node-a' } };
    const fields = eventFields(sparse);
    assert.deepEqual(fields, {
      source_type: 'kubernetes_events',
      kubernetes_event: { name: 'bare', uid: 'uid-2', count: 1, regarding: { kind: 'Node', name: 'node-a' } },
    });
    assert.ok(!('message' in fields) && !('timestamp' in fields));
    const noRegarding = eventFields({ metadata: { name: 'x', uid: 'u' }, note: 'n' });
    assert.ok(!('regarding' in (noRegarding.kubernetes_event as object)));
  });
});

describe('kubernetes_events: change dedup', () => {
  it('ADDED emits; MODIFIED only when count or note changed; DELETED never', () => {
    const filter = new ChangeFilter();
    assert.equal(filter.admit('ADDED', kubeEvent()), true);
    assert.equal(filter.admit('MODIFIED', kubeEvent({}, { resourceVersion: '201' })), false, 'neither count nor note changed');
    assert.equal(filter.admit('MODIFIED', kubeEvent({ series: { count: 2, lastObservedTime: '2026-12-01T10:01:00Z' } })), true, 'count changed');
    assert.equal(filter.admit('MODIFIED', kubeEvent({ series: { count: 2, lastObservedTime: '2026-12-01T10:02:00Z' } })), false, 'only the time changed');
    assert.equal(filter.admit('MODIFIED', kubeEvent({ series: { count: 2, lastObservedTime: '2026-12-01T10:02:00Z' }, note: 'other' })), true, 'note changed');
    assert.equal(filter.admit('DELETED', kubeEvent()), false);
    assert.equal(filter.size, 0, 'a DELETED forgets the uid');
    assert.equal(filter.admit('MODIFIED', kubeEvent()), true, 'a change of an unknown uid is emitted');
  });

  it('a relist emits only what changed since last seen (never one per relist) and forgets what is gone', () => {
    const filter = new ChangeFilter();
    const a = kubeEvent({}, { uid: 'a' });
    const b = kubeEvent({}, { uid: 'b' });
    assert.deepEqual(filter.replace([a, b]).map((e) => e.metadata.uid), ['a', 'b']);
    assert.deepEqual(filter.replace([a, b]), []);
    const b2 = kubeEvent({ deprecatedCount: 5 }, { uid: 'b' });
    assert.deepEqual(filter.replace([b2]).map((e) => e.metadata.uid), ['b']);
    assert.equal(filter.size, 1, 'a, absent from the relist, was forgotten');
  });

  it('is bounded: entries idle past the TTL expire', () => {
    let now = 1_000_000;
    const filter = new ChangeFilter(10_000, () => now);
    for (let i = 0; i < 100; i++) filter.admit('ADDED', kubeEvent({}, { uid: `old-${i}` }));
    now += 5_000;
    filter.admit('ADDED', kubeEvent({}, { uid: 'young' }));
    assert.equal(filter.size, 101);
    now += 6_000; // old-* idle 11 s > TTL, young 6 s
    filter.admit('ADDED', kubeEvent({}, { uid: 'newest' }));
    assert.equal(filter.size, 2);
    assert.equal(filter.admit('MODIFIED', kubeEvent({}, { uid: 'young' })), false, 'young is still remembered');
  });
});

describe('kubernetes_events: acknowledged progress', () => {
  it('moves only over the acknowledged prefix, in watch order; skipped changes do not hold it', () => {
    const progress = new AckedProgress('100');
    const first = progress.track('101');
    progress.skip('102');
    const third = progress.track('103');
    assert.equal(progress.resourceVersion, '100');
    third();
    assert.equal(progress.resourceVersion, '100', '101 still in flight');
    first();
    assert.equal(progress.resourceVersion, '103');
    first();
    assert.equal(progress.resourceVersion, '103');
    assert.equal(progress.pending, 0);
  });

  it('compares resourceVersions as revisions, and only when both are numbers', () => {
    assert.equal(compareResourceVersions('99', '100'), -1);
    assert.equal(compareResourceVersions('12345678901234567890', '12345678901234567889'), 1);
    assert.equal(compareResourceVersions('7', '7'), 0);
    assert.equal(compareResourceVersions('a7', '7'), undefined);
  });
});
