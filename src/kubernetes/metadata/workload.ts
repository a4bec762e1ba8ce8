import type { Pod } from './kube-types.js';

export interface Workload {
  readonly kind: string;
  readonly name: string;
}

/** Minutes since the epoch of 2010-01-01: no CronJob was scheduled before Kubernetes existed. */
const EARLIEST_SCHEDULE_MINUTES = Date.UTC(2010, 0, 1) / 60_000;
const CRONJOB_NAME_LABEL = 'batch.kubernetes.io/cronjob-name';

/**
 * The workload that owns a pod, from the pod alone (no API call per pod):
 * - ReplicaSet `<deploy>-<hash>` with pod label `pod-template-hash=<hash>` -> Deployment `<deploy>`
 *   (the Deployment controller names its ReplicaSets so); other ReplicaSets stay ReplicaSets.
 * - Job -> CronJob when the pod carries `batch.kubernetes.io/cronjob-name` (set by some tooling and
 *   newer clusters), else when the Job is named `<cronjob>-<n>` where n is a scheduled time in
 *   minutes since the epoch (the CronJob controller's naming) between 2010 and a year from now.
 *   A hand-made Job with such a suffix would be misread as a CronJob's: accepted for the rule's
 *   zero cost; the time window keeps short numeric suffixes (`migrate-2`) out.
 * - StatefulSet, DaemonSet, Job, ReplicationController and any other controller: the owner itself.
 * - No controller owner (a bare pod): undefined.
 */
export function resolveWorkload(pod: Pod, now = Date.now()): Workload | undefined {
  const owners = pod.metadata.ownerReferences ?? [];
  const owner = owners.find((o) => o.controller) ?? owners[0];
  if (!owner) return undefined;
  const labels = pod.metadata.labels ?? {};
  if (owner.kind === 'ReplicaSet') {
    const hash = labels['pod-template-hash'];
    if (hash && owner.name.endsWith(`-${hash}`)) return { kind: 'Deployment', name: owner.name.slice(0, -(hash.length + 1)) };
    return { kind: 'ReplicaSet', name: owner.name };
  }
  if (owner.kind === 'Job') {
    const cronJob = labels[CRONJOB_NAME_LABEL];
    if (cronJob) return { kind: 'CronJob', name: cronJob };
    const match = /^(.+)-(\d+)$/.exec(owner.name);
    if (match) {
      const minutes = Number(match[2]);
      if (minutes >= EARLIEST_SCHEDULE_MINUTES && minutes <= now / 60_000 + 525_600) return { kind: 'CronJob', name: match[1]! };
    }
    return { kind: 'Job', name: owner.name };
  }
  return { kind: owner.kind, name: owner.name };
}
