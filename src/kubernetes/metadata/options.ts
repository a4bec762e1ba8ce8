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

function fieldsObject<T extends Record<string, string>>(defaults: T) {
  const shape = Object.fromEntries(Object.entries(defaults).map(([key, value]) => [key, fieldPath.default(value)])) as {
    [K in keyof T]: z.ZodDefault<typeof fieldPath>;
  };
  return z.strictObject(shape).prefault({} as never); // every key has a default
}

/**
 * How often kube-apiserver's watch cache sends a bookmark to a watch that asked for them
 * (`defaultBookmarkFrequency` in the apiserver's cacher: one minute, plus one 2 s before the watch's deadline).
 */
export const DEFAULT_WATCH_BOOKMARK_INTERVAL_MS = 60_000;

/** Default wait for the metadata of a pod not yet in the cache, before shipping with path metadata. */
export const DEFAULT_POD_METADATA_WAIT_MS = 1000;

/**
 * The metadata options of the `kubernetes_logs` source (Vector's names where Vector has them),
 * as a zod shape to spread into the source's strictObject schema.
 */
export const kubernetesMetadataOptionsShape = {
  /** A kubeconfig file; unset: in-cluster (service account token + CA, KUBERNETES_SERVICE_HOST). */
  kube_config_file: readableFile().optional(),
  /** This node's name; unset: the env var SLUICE_NODE_NAME (downward API `spec.nodeName`), read at start. */
  self_node_name: z.string().min(1).optional(),
  extra_label_selector: z.string().default(''),
  extra_field_selector: z.string().default(''),
  extra_namespace_label_selector: z.string().default(''),
  delay_deletion_ms: z.number().int().min(0).default(60_000),
  /**
   * How long events of a file whose pod is not in the cache are held waiting for its metadata,
   * then shipped with what the path says (never stalled for good). 1 s covers a watch event's
   * usual delay after kubelet starts a container, without holding a new pod's first lines long.
   */
  pod_metadata_wait_ms: z.number().int().min(0).default(DEFAULT_POD_METADATA_WAIT_MS),
  /**
   * The API server's watch bookmark interval. A watch silent for twice this long (no event, no
   * bookmark) is taken for dead (a half-open connection, a stuck proxy): it is aborted and resumed
   * from its last resourceVersion. Raise it for API servers without a watch cache (no bookmarks).
   */
  watch_bookmark_interval_ms: z.number().int().min(50).default(DEFAULT_WATCH_BOOKMARK_INTERVAL_MS),
  /**
   * Longest wait to connect (TCP and TLS), then for a response's headers, on every list, watch and
   * kubelet poll; and the longest silence inside a list's body. A server that accepts connections
   * but never answers then costs one retry with backoff, not a frozen cache.
   */
  api_request_timeout_ms: z.number().int().min(50).default(30_000),
  /** `kubernetes_api` (one watch per resource) or `kubelet` (poll this node's kubelet `/pods`). */
  metadata_source: z.enum(['kubernetes_api', 'kubelet']).default('kubernetes_api'),
  /** Kubelet base URL; unset: `https://${SLUICE_NODE_IP}:10250` (downward API `status.hostIP`). */
  kubelet_endpoint: z.string().url().optional(),
  kubelet_poll_interval_ms: z.number().int().min(100).default(10_000),
  /** CA of the kubelet's serving certificate; unset: the API server's CA (fits `serverTLSBootstrap`). */
  kubelet_ca_file: readableFile().optional(),
  /** false: accept any kubelet certificate (kubelets with self-signed serving certs); the token still goes only to this node's kubelet. */
  kubelet_tls_verify: z.boolean().default(true),
  pod_annotation_fields: fieldsObject(podFieldDefaults),
  namespace_annotation_fields: fieldsObject({ namespace_labels: 'kubernetes.namespace_labels' }),
  node_annotation_fields: fieldsObject({ node_labels: 'kubernetes.node_labels' }),
  /** Event field path -> dotted path in the Pod object, e.g. `{ "kubernetes.priority" = "spec.priorityClassName" }`. */
  extra_pod_fields: z.record(fieldPath, z.string().min(1)).default({}),
};

export const kubernetesMetadataOptionsSchema = z.strictObject(kubernetesMetadataOptionsShape);
export type KubernetesMetadataOptions = z.infer<typeof kubernetesMetadataOptionsSchema>;

/** `self_node_name`, else SLUICE_NODE_NAME; a clear error when neither is set. */
export function resolveNodeName(options: Pick<KubernetesMetadataOptions, 'self_node_name'>, env: NodeJS.ProcessEnv = process.env): string {
  const name = options.self_node_name ?? env.SLUICE_NODE_NAME;
  if (!name) throw new Error('self_node_name is unset and so is SLUICE_NODE_NAME (set it from the downward API: spec.nodeName)');
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
