import type { KubeObject } from '../../kubernetes/metadata/kube-types.js';

/** An `events.k8s.io/v1` Event, the fields read here (raw JSON: timestamps are strings). */
export interface KubeEvent extends KubeObject {
  metadata: KubeObject['metadata'] & { creationTimestamp?: string };
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string } | null;
  reportingController?: string;
  reportingInstance?: string;
  action?: string;
  reason?: string;
  note?: string;
  type?: string;
  regarding?: { kind?: string; namespace?: string; name?: string; uid?: string; [key: string]: unknown };
  deprecatedCount?: number;
  deprecatedLastTimestamp?: string | null;
}

/** `series.count`, else `deprecatedCount`, else 1. */
export function eventCount(event: KubeEvent): number {
  return event.series?.count ?? event.deprecatedCount ?? 1;
}

/** `series.lastObservedTime`, else `eventTime`, else `deprecatedLastTimestamp`, else `creationTimestamp`. */
export function eventTimestamp(event: KubeEvent): string | undefined {
  return event.series?.lastObservedTime || event.eventTime || event.deprecatedLastTimestamp || event.metadata.creationTimestamp || undefined;
}

/** Copy the keys whose value is present (not undefined, null or ""): a field the Event lacks is left out. */
function present<T extends Record<string, unknown>>(entries: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entries)) if (value !== undefined && value !== null && value !== '') out[key] = value;
  return out as Partial<T>;
}

/** The sluice event fields of one Event change. */
export function eventFields(event: KubeEvent): Record<string, unknown> {
  const regarding = event.regarding ? present({ kind: event.regarding.kind, namespace: event.regarding.namespace, name: event.regarding.name, uid: event.regarding.uid }) : {};
  const kubernetesEvent = present({
    name: event.metadata.name,
    namespace: event.metadata.namespace,
    uid: event.metadata.uid,
    reason: event.reason,
    type: event.type,
    action: event.action,
    count: eventCount(event),
    reporting_controller: event.reportingController,
    reporting_instance: event.reportingInstance,
    regarding: Object.keys(regarding).length > 0 ? regarding : undefined,
  });
  return present({ message: event.note, timestamp: eventTimestamp(event), kubernetes_event: kubernetesEvent, source_type: 'kubernetes_events' });
}
