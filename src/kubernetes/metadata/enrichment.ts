import { parsePath, type FieldPath, type Fields } from '../../core/event.js';
import type { KubernetesMetadataOptions } from './options.js';
import type { PodInfo } from './pod-info.js';

type FieldOptions = Pick<KubernetesMetadataOptions, 'pod_annotation_fields' | 'namespace_annotation_fields' | 'node_annotation_fields' | 'extra_pod_fields'>;

/** The fields a log file's path gives (`<ns>_<pod>_<uid>/<container>`), for events without pod metadata. */
export interface PathMetadata {
  readonly namespace: string;
  readonly podName: string;
  readonly uid: string;
  readonly container: string;
}

type Extractor = (pod: PodInfo, container: string) => unknown;

const POD_FIELDS: Record<keyof KubernetesMetadataOptions['pod_annotation_fields'], Extractor> = {
  pod_name: (p) => p.name,
  pod_namespace: (p) => p.namespace,
  pod_uid: (p) => p.uid,
  pod_ip: (p) => p.ip,
  pod_ips: (p) => p.ips,
  pod_labels: (p) => p.labels,
  pod_annotations: (p) => p.annotations,
  pod_node_name: (p) => p.nodeName,
  pod_owner: (p) => p.owner,
  container_name: (_p, c) => c,
  container_id: (p, c) => p.containers.get(c)?.id,
  container_image: (p, c) => p.containers.get(c)?.image,
  container_image_id: (p, c) => p.containers.get(c)?.imageId,
  workload: (p) => p.workload,
};

function toPath(path: string): FieldPath | undefined {
  return path === '' ? undefined : parsePath(path.replace(/^\./, ''));
}

/** Read `spec.containers.0.name`-style paths from the raw object (numeric segments index arrays). */
function readDotted(object: unknown, path: readonly string[]): unknown {
  let node = object;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

function setIn(tree: Fields, path: FieldPath, value: unknown): void {
  let node = tree;
  for (let i = 0; i < path.length - 1; i++) {
    const next = node[path[i]!];
    node = (next && typeof next === 'object' && !Array.isArray(next) ? next : (node[path[i]!] = {})) as Fields;
  }
  node[path[path.length - 1]!] = value;
}

function freezeTree(tree: Fields): Readonly<Fields> {
  for (const value of Object.values(tree)) if (value && typeof value === 'object' && !Object.isFrozen(value)) freezeTree(value as Fields);
  return Object.freeze(tree);
}

/**
 * Turns pod metadata into the fields to attach to a container's events: a frozen tree of
 * top-level fields (by default just `{ kubernetes: {...} }`) that the source assigns onto each
 * event's fields (`Object.assign(event.fields, tree)`: shared, never copied per event).
 * Computed once per pod version and container, cached on the PodInfo (a changed pod is a new
 * PodInfo, so the cache invalidates itself). Vector's field names; each renamable or disabled.
 */
export class KubernetesFieldsBuilder {
  private readonly fields: { path: FieldPath; extract: Extractor }[] = [];
  private readonly pathOnly: { path: FieldPath; from: keyof PathMetadata }[] = [];
  private readonly cache = new WeakMap<PodInfo, Map<string, Readonly<Fields>>>();

  constructor(options: FieldOptions) {
    for (const [name, extract] of Object.entries(POD_FIELDS) as [keyof typeof POD_FIELDS, Extractor][]) {
      const path = toPath(options.pod_annotation_fields[name]);
      if (path) this.fields.push({ path, extract });
    }
    const namespaceLabels = toPath(options.namespace_annotation_fields.namespace_labels);
    if (namespaceLabels) this.fields.push({ path: namespaceLabels, extract: (p) => p.namespaceLabels });
    const nodeLabels = toPath(options.node_annotation_fields.node_labels);
    if (nodeLabels) this.fields.push({ path: nodeLabels, extract: (p) => p.nodeLabels });
    for (const [target, source] of Object.entries(options.extra_pod_fields)) {
      const path = toPath(target);
      const sourcePath = source.split('.');
      if (path) this.fields.push({ path, extract: (p) => readDotted(p.raw, sourcePath) });
    }
    const fromPath: [keyof KubernetesMetadataOptions['pod_annotation_fields'], keyof PathMetadata][] = [
      ['pod_namespace', 'namespace'],
      ['pod_name', 'podName'],
      ['pod_uid', 'uid'],
      ['container_name', 'container'],
    ];
    for (const [name, from] of fromPath) {
      const path = toPath(options.pod_annotation_fields[name]);
      if (path) this.pathOnly.push({ path, from });
    }
  }

  /** The fields for `container` of `pod` (frozen, cached). */
  forContainer(pod: PodInfo, container: string): Readonly<Fields> {
    let byContainer = this.cache.get(pod);
    if (!byContainer) this.cache.set(pod, (byContainer = new Map()));
    let tree = byContainer.get(container);
    if (!tree) {
      const built: Fields = {};
      for (const { path, extract } of this.fields) {
        const value = extract(pod, container);
        if (value !== undefined) setIn(built, path, value);
      }
      tree = freezeTree(built);
      byContainer.set(container, tree);
    }
    return tree;
  }

  /** The fields the log path alone gives, for a file whose pod metadata is not (yet) known. */
  fromPath(metadata: PathMetadata): Readonly<Fields> {
    const built: Fields = {};
    for (const { path, from } of this.pathOnly) setIn(built, path, metadata[from]);
    return freezeTree(built);
  }
}
