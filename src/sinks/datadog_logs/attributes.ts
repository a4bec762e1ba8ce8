import type { Fields } from '../../core/event.js';

type Kubernetes = {
  pod_namespace?: unknown;
  pod_name?: unknown;
  container_name?: unknown;
  container_image?: unknown;
  pod_node_name?: unknown;
  pod_labels?: Record<string, unknown>;
};

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** `image_name`, `short_image`, `image_tag` of `registry/path/name:tag` (a digest is not a tag). */
function imageTags(image: string): string[] {
  const at = image.indexOf('@');
  const withoutDigest = at >= 0 ? image.slice(0, at) : image;
  const colon = withoutDigest.lastIndexOf(':');
  const slash = withoutDigest.lastIndexOf('/');
  const name = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  const tag = colon > slash ? withoutDigest.slice(colon + 1) : 'latest';
  return [`image_name:${name}`, `short_image:${name.slice(name.lastIndexOf('/') + 1)}`, `image_tag:${tag}`];
}

/**
 * Datadog's reserved attributes for one event, from its fields and Kubernetes metadata, with the
 * tag names the Datadog Agent uses for Kubernetes (`kube_namespace`, `pod_name`,
 * `kube_container_name`, `kube_app_name`, `image_name`, `short_image`, `image_tag`) and the
 * unified service tags (`tags.datadoghq.com/{service,env,version}` pod labels). A reserved
 * attribute already present on the event wins; existing `ddtags` are kept and extended.
 */
export function reservedAttributes(fields: Fields): Record<string, string | number> {
  const k8s = (fields.kubernetes ?? {}) as Kubernetes;
  const labels = (k8s.pod_labels ?? {}) as Record<string, unknown>;
  const out: Record<string, string | number> = {};

  const source = str(fields.ddsource) ?? str(k8s.container_name) ?? 'kubernetes';
  out.ddsource = source;
  const service = str(fields.service) ?? str(labels['tags.datadoghq.com/service']) ?? str(labels['app.kubernetes.io/name']) ?? str(labels.app);
  if (service) out.service = service;
  const hostname = str(fields.hostname) ?? str(k8s.pod_node_name) ?? str(fields.host);
  if (hostname) out.hostname = hostname;
  const status = str(fields.status) ?? str(fields.level) ?? str(fields.severity) ?? (fields.stream === 'stderr' ? 'error' : fields.stream === 'stdout' ? 'info' : undefined);
  if (status) out.status = status;

  const tags: string[] = [];
  const existing = str(fields.ddtags);
  if (existing) tags.push(existing);
  const namespace = str(k8s.pod_namespace);
  if (namespace) tags.push(`kube_namespace:${namespace}`);
  const pod = str(k8s.pod_name);
  if (pod) tags.push(`pod_name:${pod}`);
  const container = str(k8s.container_name);
  if (container) tags.push(`kube_container_name:${container}`);
  const app = str(labels['app.kubernetes.io/name']);
  if (app) tags.push(`kube_app_name:${app}`);
  const image = str(k8s.container_image);
  if (image) tags.push(...imageTags(image));
  const env = str(labels['tags.datadoghq.com/env']);
  if (env) tags.push(`env:${env}`);
  const version = str(labels['tags.datadoghq.com/version']);
  if (version) tags.push(`version:${version}`);
  if (tags.length > 0) out.ddtags = tags.join(',');
  return out;
}

/** Milliseconds since the epoch of an RFC 3339 string (or a number of ms); undefined if invalid. */
export function epochMillis(value: unknown): number | undefined {
  const ms = typeof value === 'string' ? Date.parse(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}
