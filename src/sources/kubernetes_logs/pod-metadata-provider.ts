import type { Fields } from '../../core/event.js';
import type { PodLogPath } from './pod-log-path.js';

/**
 * Where the pod metadata of each event comes from. The kubernetes_logs source asks once per
 * file (the frozen tree is shared by every event of the file) and again for the files of a pod
 * when the provider reports a change for that pod UID.
 *
 * Implementations: `PathOnlyMetadataProvider` (no API server: what the path says) and
 * `ApiPodMetadataProvider` (the pod cache of `src/kubernetes/metadata`, keyed by UID).
 */
export interface PodMetadataProvider {
  /** Called when the source starts running (e.g. list and watch pods); the source reads files meanwhile. */
  start?(): Promise<void>;
  /** Called when the source closes. */
  stop?(): Promise<void>;
  /**
   * A bounded wait for a pod the provider does not know yet (its file appeared before the watch
   * reported it). The file is not opened before the promise settles; then `isExcluded` and
   * `eventFields` are asked. Return undefined when there is nothing to wait for.
   */
  waitForPod?(pod: PodLogPath): Promise<void> | undefined;
  /**
   * Top-level fields for events of this file, frozen (by default `{ kubernetes: {...} }`).
   * `undefined` = not known: events carry the path-only fields until `onChange` reports the pod,
   * then the new tree is used from the next line on.
   */
  eventFields(pod: PodLogPath): Readonly<Fields> | undefined;
  /** True when the container must not be read (exclude annotation, namespace label, ...). Asked before opening a file. */
  isExcluded(pod: PodLogPath): boolean;
  /** Calls `listener(podUid)` when a pod's metadata changes; returns the unsubscribe function. */
  onChange(listener: (podUid: string) => void): () => void;
  /** True when the provider has metadata for the pod (false: events ship with path fields only). */
  knowsPod?(pod: PodLogPath): boolean;
  /** The pod's annotations (per-pod parser and multiline settings), undefined when not known. */
  annotations?(pod: PodLogPath): Readonly<Record<string, string>> | undefined;
  /** Counts events the source held for metadata, and events shipped without it. */
  countEvents?(counts: { held: number; withoutMetadata: number }): void;
}

/** The fields the path gives, frozen; built once per file. */
export function pathEventFields(pod: PodLogPath): Readonly<Fields> {
  return Object.freeze({
    kubernetes: Object.freeze({
      pod_namespace: pod.podNamespace,
      pod_name: pod.podName,
      pod_uid: pod.podUid,
      container_name: pod.containerName,
    }),
  });
}

/**
 * No API server: enrich from the path alone. The only exclusion is sluice's own pod
 * (`SLUICE_POD_NAME` / `SLUICE_POD_NAMESPACE` from the downward API): shipping its own logs
 * would feed back on itself.
 */
export class PathOnlyMetadataProvider implements PodMetadataProvider {
  private readonly selfName: string | undefined;
  private readonly selfNamespace: string | undefined;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.selfName = env.SLUICE_POD_NAME || undefined;
    this.selfNamespace = env.SLUICE_POD_NAMESPACE || undefined;
  }

  eventFields(pod: PodLogPath): Readonly<Fields> {
    return pathEventFields(pod);
  }

  isExcluded(pod: PodLogPath): boolean {
    return pod.podName === this.selfName && pod.podNamespace === this.selfNamespace;
  }

  onChange(): () => void {
    return () => {};
  }
}
