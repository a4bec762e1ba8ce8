import type { KubeObject } from './selectors.js';

export interface PodSpecInput {
  name: string;
  namespace?: string;
  uid?: string;
  node?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  containers?: string[];
  owner?: { kind: string; name: string };
  ip?: string;
  priorityClassName?: string;
}

/** A Pod as the API server returns it, with container statuses (ids, image ids) filled in. */
export function pod(input: PodSpecInput): KubeObject {
  const containers = input.containers ?? ['app'];
  const ip = input.ip ?? '10.0.0.1';
  return {
    metadata: {
      name: input.name,
      namespace: input.namespace ?? 'default',
      ...(input.uid ? { uid: input.uid } : {}),
      labels: input.labels ?? {},
      annotations: input.annotations ?? {},
      ...(input.owner
        ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: input.owner.kind, name: input.owner.name, uid: `owner-${input.owner.name}`, controller: true }] }
        : {}),
    },
    spec: {
      nodeName: input.node ?? 'node-a',
      ...(input.priorityClassName ? { priorityClassName: input.priorityClassName } : {}),
      containers: containers.map((name) => ({ name, image: `registry.example/${name}:1.0` })),
    },
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      containerStatuses: containers.map((name) => ({
        name,
        image: `registry.example/${name}:1.0`,
        imageID: `registry.example/${name}@sha256:${'ab'.repeat(32)}`,
        containerID: `containerd://${name}-${input.name}`,
        ready: true,
        restartCount: 0,
      })),
    },
  };
}

export function namespace(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): KubeObject {
  return { metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels }, annotations } };
}

export function node(name: string, labels: Record<string, string> = {}): KubeObject {
  return { metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } } };
}

export interface EventInput {
  name: string;
  namespace?: string;
  note?: string;
  reason?: string;
  type?: 'Normal' | 'Warning';
  count?: number;
  /** The pod (or other object) the Event is about. */
  regarding?: { kind: string; name: string; namespace?: string; uid?: string };
  eventTime?: string;
  labels?: Record<string, string>;
}

/** An events.k8s.io/v1 Event; `count` > 1 makes it a series (`series.count`, `series.lastObservedTime`). */
export function event(input: EventInput): KubeObject {
  const now = new Date().toISOString();
  return {
    metadata: { name: input.name, namespace: input.namespace ?? 'default', labels: input.labels ?? {} },
    eventTime: input.eventTime ?? now,
    reportingController: 'kubelet',
    reportingInstance: 'node-a',
    action: 'Pulling',
    reason: input.reason ?? 'Pulling',
    type: input.type ?? 'Normal',
    note: input.note ?? `event ${input.name}`,
    regarding: { apiVersion: 'v1', kind: 'Pod', namespace: input.namespace ?? 'default', name: 'web-1', uid: 'pod-uid-1', ...input.regarding },
    ...(input.count !== undefined && input.count > 1 ? { series: { count: input.count, lastObservedTime: now } } : {}),
  };
}
