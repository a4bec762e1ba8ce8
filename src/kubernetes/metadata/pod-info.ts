import type { ContainerSpec, ContainerStatus, Pod } from './kube-types.js';
import { resolveWorkload, type Workload } from './workload.js';

export const EXCLUDE_ANNOTATION = 'sluice.dev/exclude';
export const EXCLUDE_CONTAINERS_ANNOTATION = 'sluice.dev/exclude-containers';

export interface ContainerInfo {
  readonly name: string;
  readonly id: string | undefined;
  readonly image: string | undefined;
  readonly imageId: string | undefined;
}

export interface NamespaceInfo {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** Why a pod's files are not read; undefined when they are. */
export type ExclusionReason = 'pod_annotation' | 'namespace' | 'self';

/**
 * Everything enrichment and filtering need about one pod, computed once per pod version (and
 * again when its namespace or node changes), never per event. Frozen.
 */
export interface PodInfo {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly nodeName: string | undefined;
  readonly ip: string | undefined;
  readonly ips: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Vector's `pod_owner`: `<Kind>/<name>` of the controller owner. */
  readonly owner: string | undefined;
  readonly workload: Workload | undefined;
  readonly containers: ReadonlyMap<string, ContainerInfo>;
  readonly namespaceLabels: Readonly<Record<string, string>>;
  readonly nodeLabels: Readonly<Record<string, string>>;
  readonly excluded: ExclusionReason | undefined;
  readonly excludedContainers: ReadonlySet<string>;
  /** The Pod object as received (frozen), for `extra_pod_fields`. */
  readonly raw: Pod;
}

export interface PodContext {
  readonly namespace: NamespaceInfo | undefined;
  readonly nodeLabels: Readonly<Record<string, string>>;
  /** sluice's own pod, excluded by default. */
  readonly self: { readonly name: string; readonly namespace: string } | undefined;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function containerInfos(pod: Pod): Map<string, ContainerInfo> {
  const statuses = new Map<string, ContainerStatus>();
  for (const list of [pod.status?.containerStatuses, pod.status?.initContainerStatuses, pod.status?.ephemeralContainerStatuses]) {
    for (const s of list ?? []) statuses.set(s.name, s);
  }
  const infos = new Map<string, ContainerInfo>();
  const specs: ContainerSpec[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
  for (const spec of specs) {
    const status = statuses.get(spec.name);
    infos.set(spec.name, Object.freeze({ name: spec.name, id: status?.containerID || undefined, image: spec.image ?? status?.image, imageId: status?.imageID || undefined }));
  }
  return infos;
}

function exclusion(pod: Pod, context: PodContext): ExclusionReason | undefined {
  if (context.self && pod.metadata.name === context.self.name && pod.metadata.namespace === context.self.namespace) return 'self';
  if (pod.metadata.annotations?.[EXCLUDE_ANNOTATION] === 'true') return 'pod_annotation';
  const ns = context.namespace;
  if (ns && (ns.annotations[EXCLUDE_ANNOTATION] === 'true' || ns.labels[EXCLUDE_ANNOTATION] === 'true')) return 'namespace';
  return undefined;
}

export function buildPodInfo(pod: Pod, context: PodContext): PodInfo {
  const raw = deepFreeze(pod);
  const meta = raw.metadata;
  const owners = meta.ownerReferences ?? [];
  const owner = owners.find((o) => o.controller) ?? owners[0];
  const excludedContainers = new Set(
    (meta.annotations?.[EXCLUDE_CONTAINERS_ANNOTATION] ?? '').split(',').map((c) => c.trim()).filter((c) => c !== ''),
  );
  const ips = (raw.status?.podIPs ?? []).map((p) => p.ip);
  return Object.freeze({
    uid: meta.uid,
    name: meta.name,
    namespace: meta.namespace ?? '',
    nodeName: raw.spec?.nodeName,
    ip: raw.status?.podIP,
    ips: Object.freeze(ips.length > 0 ? ips : raw.status?.podIP ? [raw.status.podIP] : []),
    labels: meta.labels ?? EMPTY,
    annotations: meta.annotations ?? EMPTY,
    owner: owner ? `${owner.kind}/${owner.name}` : undefined,
    workload: ((w) => (w ? Object.freeze(w) : undefined))(resolveWorkload(raw)),
    containers: containerInfos(raw),
    namespaceLabels: context.namespace?.labels ?? EMPTY,
    nodeLabels: context.nodeLabels,
    excluded: exclusion(raw, context),
    excludedContainers,
    raw,
  });
}
