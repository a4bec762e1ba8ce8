/**
 * sluice's `kubernetes.*` fields (the kubernetes_logs source's default names, Vector's) and the
 * OpenTelemetry semantic-convention resource attributes they become. The sink maps one way, the
 * opentelemetry source the other, so sink -> source gives back the same fields.
 */
export const K8S_SCALARS: ReadonlyArray<readonly [field: string, attribute: string]> = [
  ['pod_name', 'k8s.pod.name'],
  ['pod_namespace', 'k8s.namespace.name'],
  ['pod_uid', 'k8s.pod.uid'],
  ['pod_ip', 'k8s.pod.ip'],
  ['pod_node_name', 'k8s.node.name'],
  ['container_name', 'k8s.container.name'],
  // `registry/app@sha256:...`: what semconv calls a repo digest.
  ['container_image_id', 'container.image.repo_digests'],
];

/** Label/annotation maps: one attribute per key, under a prefix (semconv `k8s.pod.label.<key>`). */
export const K8S_MAPS: ReadonlyArray<readonly [field: string, prefix: string]> = [
  ['pod_labels', 'k8s.pod.label.'],
  ['pod_annotations', 'k8s.pod.annotation.'],
  ['namespace_labels', 'k8s.namespace.label.'],
  ['node_labels', 'k8s.node.label.'],
];

/** `kubernetes.workload.kind` -> the semconv attribute holding its name. */
export const WORKLOAD_ATTRIBUTES: Readonly<Record<string, string>> = {
  Deployment: 'k8s.deployment.name',
  StatefulSet: 'k8s.statefulset.name',
  DaemonSet: 'k8s.daemonset.name',
  ReplicaSet: 'k8s.replicaset.name',
  Job: 'k8s.job.name',
  CronJob: 'k8s.cronjob.name',
};

/** Any other `kubernetes.<field>` travels as the resource attribute `kubernetes.<field>`, verbatim. */
export const OTHER_K8S_PREFIX = 'kubernetes.';

/** Log severity words -> OTLP SeverityNumber (the first of each range). */
export function severityNumberOf(text: string): number {
  switch (text.toLowerCase()) {
    case 'trace':
    case 'trc':
      return 1;
    case 'debug':
    case 'dbg':
      return 5;
    case 'info':
    case 'inf':
    case 'information':
      return 9;
    case 'notice':
      return 10;
    case 'warn':
    case 'warning':
    case 'wrn':
      return 13;
    case 'error':
    case 'err':
      return 17;
    case 'crit':
    case 'critical':
    case 'alert':
    case 'emerg':
    case 'emergency':
    case 'fatal':
    case 'panic':
      return 21;
    default:
      return 0;
  }
}

const SEVERITY_NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** OTLP SeverityNumber -> a level word, for records that carry a number without a text. */
export function severityTextOf(number: number): string | undefined {
  return number >= 1 && number <= 24 ? SEVERITY_NAMES[Math.floor((number - 1) / 4)] : undefined;
}

/** Split `registry:5000/app:1.2` into name and tag (a digest reference `app@sha256:..` keeps its digest in the name). */
export function splitImage(image: string): { name: string; tag: string | undefined } {
  const at = image.indexOf('@');
  if (at >= 0) return { name: image, tag: undefined };
  const colon = image.lastIndexOf(':');
  if (colon > image.lastIndexOf('/')) return { name: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { name: image, tag: undefined };
}
