import type { ComponentContext } from '../core/component.js';
import type { PodLogPath } from './pod-log-path.js';

/**
 * Where the `kubernetes` object of each event comes from. The kubernetes_logs source asks once
 * per file (the object is frozen and shared by every event of the file) and again for the files
 * of a pod when the provider reports a change for that pod UID.
 *
 * The default reads the path only. The API-side store (pod cache keyed by UID) implements the
 * same interface and is plugged in with `usePodMetadataProvider` before sources are built.
 */
export interface PodMetadataProvider {
  /** Called when the source starts running (e.g. list and watch pods); the source reads files meanwhile. */
  start?(): Promise<void>;
  /** Called when the source closes. */
  stop?(): Promise<void>;
  /**
   * A bounded wait for a pod the provider does not know yet (its file appeared before the watch
   * reported it). The file is not opened before the promise settles; then `isExcluded` and
   * `kubernetesFields` are asked. Return undefined when there is nothing to wait for.
   */
  waitForPod?(pod: PodLogPath): Promise<void> | undefined;
  /**
   * Fields for events of this file. `undefined` = not known yet: events carry the path-only
   * fields until `onChange` reports the pod, then the new object is used from the next line on.
   */
  kubernetesFields(pod: PodLogPath): Readonly<Record<string, unknown>> | undefined;
  /** True when the container must not be read (exclude annotation, namespace label, ...). Asked before opening a file. */
  isExcluded(pod: PodLogPath): boolean;
  /** Calls `listener(podUid)` when a pod's metadata changes; returns the unsubscribe function. */
  onChange(listener: (podUid: string) => void): () => void;
}

/** The fields the path gives, frozen; built once per file. */
export function pathKubernetesFields(pod: PodLogPath): Readonly<Record<string, unknown>> {
  return Object.freeze({
    pod_namespace: pod.podNamespace,
    pod_name: pod.podName,
    pod_uid: pod.podUid,
    container_name: pod.containerName,
  });
}

/** No API server: enrich from the path alone, exclude nothing. */
export class PathOnlyMetadataProvider implements PodMetadataProvider {
  kubernetesFields(pod: PodLogPath): Readonly<Record<string, unknown>> {
    return pathKubernetesFields(pod);
  }

  isExcluded(): boolean {
    return false;
  }

  onChange(): () => void {
    return () => {};
  }
}

export interface PodMetadataProviderContext {
  /** The kubernetes_logs component id (one provider per source instance). */
  readonly componentId: string;
  /** The source's validated options (the API side reads its own keys from them). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Logger, metrics and data dir of the source. */
  readonly ctx: ComponentContext;
}

export type PodMetadataProviderFactory = (context: PodMetadataProviderContext) => PodMetadataProvider;

let providerFactory: PodMetadataProviderFactory = () => new PathOnlyMetadataProvider();

/** Replaces the provider every kubernetes_logs source built from now on uses. */
export function usePodMetadataProvider(factory: PodMetadataProviderFactory): void {
  providerFactory = factory;
}

export function createPodMetadataProvider(context: PodMetadataProviderContext): PodMetadataProvider {
  return providerFactory(context);
}
