import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from './kube-types.js';
import { resolveWorkload } from './workload.js';

function podOwnedBy(kind: string | undefined, name: string, labels: Record<string, string> = {}): Pod {
  return {
    metadata: { name: 'p', uid: 'u', labels, ...(kind ? { ownerReferences: [{ kind, name, controller: true }] } : {}) },
  };
}

const NOW = Date.UTC(2026, 10, 24);
const scheduledMinutes = Math.floor(NOW / 60_000) - 5;

describe('resolveWorkload', () => {
  it('resolves a Deployment from its ReplicaSet when pod-template-hash matches the suffix', () => {
    assert.deepEqual(resolveWorkload(podOwnedBy('ReplicaSet', 'api-server-5f7c9d8b6', { 'pod-template-hash': '5f7c9d8b6' })), { kind: 'Deployment', name: 'api-server' });
    assert.deepEqual(resolveWorkload(podOwnedBy('ReplicaSet', 'hand-made-rs')), { kind: 'ReplicaSet', name: 'hand-made-rs' });
    assert.deepEqual(resolveWorkload(podOwnedBy('ReplicaSet', 'api-abc', { 'pod-template-hash': 'xyz' })), { kind: 'ReplicaSet', name: 'api-abc' });
  });

  it('resolves a CronJob from its Job by label or by a scheduled-time suffix, else keeps the Job', () => {
    assert.deepEqual(resolveWorkload(podOwnedBy('Job', `backup-${scheduledMinutes}`), NOW), { kind: 'CronJob', name: 'backup' });
    assert.deepEqual(resolveWorkload(podOwnedBy('Job', 'report-x', { 'batch.kubernetes.io/cronjob-name': 'report' }), NOW), { kind: 'CronJob', name: 'report' });
    assert.deepEqual(resolveWorkload(podOwnedBy('Job', 'migrate-2'), NOW), { kind: 'Job', name: 'migrate-2' });
    assert.deepEqual(resolveWorkload(podOwnedBy('Job', 'far-future-99999999999'), NOW), { kind: 'Job', name: 'far-future-99999999999' });
  });

  it('takes StatefulSet, DaemonSet and other controllers as they are; a bare pod has none', () => {
    assert.deepEqual(resolveWorkload(podOwnedBy('StatefulSet', 'db')), { kind: 'StatefulSet', name: 'db' });
    assert.deepEqual(resolveWorkload(podOwnedBy('DaemonSet', 'sluice')), { kind: 'DaemonSet', name: 'sluice' });
    assert.equal(resolveWorkload(podOwnedBy(undefined, '')), undefined);
  });
});
