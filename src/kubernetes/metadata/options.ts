import { z } from 'zod';
import { readableFile } from '../../core/config/environment.js';
import { parsePath } from '../../core/event.js';

/** A field path for an output field (`kubernetes.pod_name`, Vector's `.kubernetes.pod_name` too); "" disables the field. */
const fieldPath = z.string().refine((path) => {
  if (path === '') return true;
  try {
    parsePath(path.replace(/^\./, ''));
    return true;
  } catch {
    return false;
  }
}, 'an event field path such as "kubernetes.pod_name" (or "" to leave the field out)');

const podFieldDefaults = {
  pod_name: 'kubernetes.pod_name',
  pod_namespace: 'kubernetes.pod_namespace',
  pod_uid: 'kubernetes.pod_uid',
  pod_ip: 'kubernetes.pod_ip',
  pod_ips: 'kubernetes.pod_ips',
  pod_labels: 'kubernetes.pod_labels',
  pod_annotations: 'kubernetes.pod_annotations',
  pod_node_name: 'kubernetes.pod_node_name',
  pod_owner: 'kubernetes.pod_owner',
  container_name: 'kubernetes.container_name',
  container_id: 'kubernetes.container_id',
  container_image: 'kubernetes.container_image',
  container_image_id: 'kubernetes.container_image_id',
  /** sluice's addition: `{ kind, name }` of the owning Deployment/StatefulSet/DaemonSet/CronJob/Job. */
  workload: 'kubernetes.workload',
} as const;

/** What each metadata field holds, for its description in the reference. */
const fieldMeaning: Record<string, string> = {
  pod_name: 'the pod\'s name',
  pod_namespace: 'the pod\'s namespace',
  pod_uid: 'the pod\'s UID',
  pod_ip: 'the pod\'s primary IP (`status.podIP`)',
  pod_ips: 'all the pod\'s IPs (`status.podIPs`, dual-stack)',
  pod_labels: 'the pod\'s labels (an object)',
  pod_annotations: 'the pod\'s annotations (an object)',
  pod_node_name: 'the node the pod runs on',
  pod_owner: 'the pod\'s controlling owner, as `<Kind>/<name>` (e.g. `ReplicaSet/web-5d8f`)',
  container_name: 'the container\'s name',
  container_id: 'the container\'s runtime ID (`containerd://...`)',
  container_image: 'the container\'s image as in the pod spec',
  container_image_id: 'the image digest the runtime resolved (`status.containerStatuses[].imageID`)',
  workload: 'sluice\'s addition: `{ kind, name }` of the owning Deployment/StatefulSet/DaemonSet/CronJob/Job',
  namespace_labels: 'the namespace\'s labels (an object)',
  node_labels: 'the node\'s labels (an object)',
};

function fieldsObject<T extends Record<string, string>>(defaults: T, resource: string) {
  const shape = Object.fromEntries(
    Object.entries(defaults).map(([key, value]) => [
      key,
      fieldPath.default(value).describe(`Event field for ${fieldMeaning[key] ?? `the ${resource}'s ${key}`}; "" leaves it out.`),
    ]),
  ) as {
    [K in keyof T]: z.ZodDefault<typeof fieldPath>;
  };
  return z.strictObject(shape).prefault({} as never); // every key has a default
}

/**
 * How often kube-apiserver's watch cache sends a bookmark to a watch that asked for them
 * (`defaultBookmarkFrequency` in the apiserver's cacher: one minute, plus one 2 s before the watch's deadline).
 */
export const DEFAULT_WATCH_BOOKMARK_INTERVAL_MS = 60_000;

/** Default spread of the start-up lists (see `api_list_jitter_ms`). */
export const DEFAULT_API_LIST_JITTER_MS = 1000;

/** Default wait for the metadata of a pod not yet in the cache, before shipping with path metadata. */
export const DEFAULT_POD_METADATA_WAIT_MS = 1000;

/**
 * The metadata options of the `kubernetes_logs` source (Vector's names where Vector has them),
 * as a zod shape to spread into the source's strictObject schema.
 */
export const kubernetesMetadataOptionsShape = {
  kube_config_file: readableFile()
    .optional()
    .describe('A kubeconfig file to reach the API server with. Unset: in-cluster config (service account token and CA, KUBERNETES_SERVICE_HOST).'),
  self_node_name: z
    .string()
    .min(1)
    .optional()
    .describe('This node\'s name: only pods scheduled here are watched. Unset: the env var SLUICE_NODE_NAME (downward API `spec.nodeName`), else VECTOR_SELF_NODE_NAME (as a Vector pod spec sets it), read at start; an error when none is set.'),
  extra_label_selector: z
    .string()
    .default('')
    .meta({
      description: 'A label selector added to the pod watch (metadata_source = "kubernetes_api"): only matching pods are cached and enrich events. "" adds none.',
      examples: ['app=web,tier!=db'],
    }),
  extra_field_selector: z
    .string()
    .default('')
    .describe('A field selector added to the pod watch (metadata_source = "kubernetes_api"), beside the built-in `spec.nodeName=<this node>` (e.g. `metadata.namespace!=kube-system`). "" adds none.'),
  extra_namespace_label_selector: z
    .string()
    .default('')
    .describe('A label selector added to the namespace watch: only matching namespaces are cached (their labels enrich events). "" adds none.'),
  delay_deletion_ms: z
    .number()
    .int()
    .min(0)
    .default(60_000)
    .describe('How long (ms) a deleted pod stays in the metadata cache, so the last lines of its files, read after the deletion, are still enriched. 0: dropped at once.'),
  pod_metadata_wait_ms: z
    .number()
    .int()
    .min(0)
    .default(DEFAULT_POD_METADATA_WAIT_MS)
    .describe('How long (ms) events of a file whose pod is not in the cache are held waiting for its metadata, then shipped with what the path says (never stalled for good). 1 s covers a watch event\'s usual delay after kubelet starts a container. 0: never wait.'),
  watch_bookmark_interval_ms: z
    .number()
    .int()
    .min(50)
    .default(DEFAULT_WATCH_BOOKMARK_INTERVAL_MS)
    .describe('The API server\'s watch bookmark interval (ms). A watch silent for twice this long (no event, no bookmark) is taken for dead (a half-open connection, a stuck proxy): it is aborted and resumed from its last resourceVersion. Raise it for API servers without a watch cache (no bookmarks).'),
  api_request_timeout_ms: z
    .number()
    .int()
    .min(50)
    .default(30_000)
    .describe('Longest wait (ms) to connect (TCP and TLS), then for a response\'s headers, on every list, watch and kubelet poll; and the longest silence inside a list\'s body. Past it the request is abandoned and retried with backoff, so a server that accepts connections but never answers does not freeze the cache.'),
  api_list_jitter_ms: z
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(DEFAULT_API_LIST_JITTER_MS)
    .describe('At start the metadata lists wait a random time in [0, this) ms (so does a relist that would go out at once after the API server expired a watch). Agents restarted together (a DaemonSet rollout, an API server restart) then spread their lists over this window instead of arriving in one burst. Files of pods not yet known wait for the first lists (bounded by 10 s), so this adds at most this much to the first lines\' latency at start. 0: no jitter. Raise it with the number of nodes (one second per ~1,000 nodes keeps the lists under ~3,000/s).'),
  metadata_source: z
    .enum(['kubernetes_api', 'kubelet'])
    .default('kubernetes_api')
    .describe('Where pod metadata comes from: `kubernetes_api` (one watch per resource on the API server) or `kubelet` (poll this node\'s kubelet `/pods` every kubelet_poll_interval_ms, which spares the API server the pod watch; namespaces and the node still come from two API watches).'),
  kubelet_endpoint: z
    .string()
    .url()
    .optional()
    .describe('Kubelet base URL for metadata_source = "kubelet". Unset: `https://${SLUICE_NODE_IP}:10250` (downward API `status.hostIP`).'),
  kubelet_poll_interval_ms: z
    .number()
    .int()
    .min(100)
    .default(10_000)
    .describe('How often (ms) the kubelet\'s `/pods` is polled with metadata_source = "kubelet"; a pod started between two polls waits up to pod_metadata_wait_ms, then ships with path metadata.'),
  kubelet_ca_file: readableFile()
    .optional()
    .describe('CA of the kubelet\'s serving certificate. Unset: the API server\'s CA (fits clusters with `serverTLSBootstrap`).'),
  kubelet_tls_verify: z
    .boolean()
    .default(true)
    .describe('false: accept any kubelet certificate (kubelets with self-signed serving certs); the service account token is still sent only to this node\'s kubelet.'),
  pod_annotation_fields: fieldsObject(podFieldDefaults, 'pod').describe(
    'Where each piece of pod and container metadata is written in the event (field paths; "" leaves that field out).',
  ),
  namespace_annotation_fields: fieldsObject({ namespace_labels: 'kubernetes.namespace_labels' }, 'namespace').describe(
    'Where the pod\'s namespace metadata is written in the event (field paths; "" leaves it out).',
  ),
  node_annotation_fields: fieldsObject({ node_labels: 'kubernetes.node_labels' }, 'node').describe(
    'Where the node\'s metadata is written in the event (field paths; "" leaves it out).',
  ),
  extra_pod_fields: z
    .record(fieldPath, z.string().min(1))
    .default({})
    .meta({
      description: 'More pod fields to copy into each event: event field path -> dotted path in the Pod object. A path absent from the pod leaves the field unset.',
      examples: [{ 'kubernetes.priority': 'spec.priorityClassName' }],
    }),
};

export const kubernetesMetadataOptionsSchema = z.strictObject(kubernetesMetadataOptionsShape);
export type KubernetesMetadataOptions = z.infer<typeof kubernetesMetadataOptionsSchema>;

/** `self_node_name`, else SLUICE_NODE_NAME, else VECTOR_SELF_NODE_NAME (a Vector pod spec kept as is); a clear error when none is set. */
export function resolveNodeName(options: Pick<KubernetesMetadataOptions, 'self_node_name'>, env: NodeJS.ProcessEnv = process.env): string {
  const name = options.self_node_name ?? (env.SLUICE_NODE_NAME || env.VECTOR_SELF_NODE_NAME);
  if (!name) throw new Error('self_node_name is unset and so are SLUICE_NODE_NAME and VECTOR_SELF_NODE_NAME (set SLUICE_NODE_NAME from the downward API: spec.nodeName)');
  return name;
}

/** sluice's own pod from SLUICE_POD_NAME / SLUICE_POD_NAMESPACE, if set (downward API). */
export function resolveSelfPod(env: NodeJS.ProcessEnv = process.env): { name: string; namespace: string } | undefined {
  const name = env.SLUICE_POD_NAME;
  const namespace = env.SLUICE_POD_NAMESPACE;
  return name && namespace ? { name, namespace } : undefined;
}

export function resolveKubeletEndpoint(options: Pick<KubernetesMetadataOptions, 'kubelet_endpoint'>, env: NodeJS.ProcessEnv = process.env): string {
  if (options.kubelet_endpoint) return options.kubelet_endpoint;
  const ip = env.SLUICE_NODE_IP;
  if (!ip) throw new Error('metadata_source = "kubelet" needs kubelet_endpoint or SLUICE_NODE_IP (downward API: status.hostIP)');
  return `https://${ip.includes(':') ? `[${ip}]` : ip}:10250`;
}
