import type { ComponentContext } from '../../core/component.js';
import type { Fields } from '../../core/event.js';
import { RunTimeErrors } from '../../core/run-time-errors.js';
import type { KubernetesFieldsBuilder, KubernetesMetadataOptions, PodMetadataStore } from '../../kubernetes/metadata/index.js';
import type { PodMetadataProvider } from './pod-metadata-provider.js';
import type { PodLogPath } from './pod-log-path.js';

/**
 * Pod metadata from the Kubernetes API (or kubelet): the UID-keyed cache of
 * `src/kubernetes/metadata`, behind the source's `PodMetadataProvider` hook. The store is built
 * and started when the source runs; until it knows a pod, that pod's new files wait at most
 * `pod_metadata_wait_ms`, then ship with what the path says (and upgrade when the pod arrives).
 */
export class ApiPodMetadataProvider implements PodMetadataProvider {
  private store: PodMetadataStore | undefined;
  private readonly storeReady: Promise<PodMetadataStore | undefined>;
  private resolveStore!: (store: PodMetadataStore | undefined) => void;
  private fields: KubernetesFieldsBuilder | undefined;
  private readonly listeners = new Set<(podUid: string) => void>();
  /** The store's first listing of namespaces, the node and pods (true when done in time). */
  private firstSync: Promise<boolean> = Promise.resolve(false);

  constructor(
    private readonly options: KubernetesMetadataOptions,
    private readonly ctx: ComponentContext,
  ) {
    this.storeReady = new Promise((resolve) => (this.resolveStore = resolve));
  }

  async start(): Promise<void> {
    let store: PodMetadataStore;
    try {
      // Loaded here, not at import: the Kubernetes client costs ~0.6 s of CPU to load.
      const metadata = await import('../../kubernetes/metadata/index.js');
      this.fields = new metadata.KubernetesFieldsBuilder(this.options);
      store = await metadata.createPodMetadataStore(this.options, { metrics: this.ctx.metrics, logger: this.ctx.logger });
    } catch (error) {
      this.resolveStore(undefined);
      new RunTimeErrors(this.ctx.metrics, this.ctx.logger).report(
        'pod_metadata_unavailable',
        { err: error },
        'no pod metadata from the Kubernetes API: shipping what log paths say',
        { level: 'error' },
      );
      return;
    }
    this.store = store;
    store.onChange(({ uid }) => {
      for (const listener of this.listeners) listener(uid);
    });
    this.firstSync = store.start();
    this.resolveStore(store);
    const synced = await this.firstSync;
    if (!synced) this.ctx.logger.warn('pod metadata not synced yet; events of unknown pods wait pod_metadata_wait_ms, then ship with path fields');
  }

  async stop(): Promise<void> {
    this.resolveStore(undefined);
    await this.store?.stop();
  }

  waitForPod(pod: PodLogPath): Promise<void> | undefined {
    if (this.store?.getPod(pod.podUid) !== undefined) return undefined;
    const waitMs = this.options.pod_metadata_wait_ms;
    const deadline = Date.now() + waitMs;
    return this.storeReady.then(async (store) => {
      if (store === undefined) return;
      // At startup, first the cache's initial listing (bounded by the store), so exclusions
      // are known before any file opens; then the pod's own bounded wait.
      if (!(await this.firstSync)) return;
      await store.waitForPod(pod.podUid, Math.max(0, deadline - Date.now()));
    });
  }

  eventFields(pod: PodLogPath): Readonly<Fields> | undefined {
    const fields = this.fields;
    if (fields === undefined) return undefined; // not started: the source uses the path fields
    const info = this.store?.getPod(pod.podUid);
    if (info !== undefined) return fields.forContainer(info, pod.containerName);
    return fields.fromPath({ namespace: pod.podNamespace, podName: pod.podName, uid: pod.podUid, container: pod.containerName });
  }

  isExcluded(pod: PodLogPath): boolean {
    return this.store?.isExcluded(pod.podUid, pod.containerName) === true;
  }

  annotations(pod: PodLogPath): Readonly<Record<string, string>> | undefined {
    return this.store?.getPod(pod.podUid)?.annotations;
  }

  knowsPod(pod: PodLogPath): boolean {
    return this.store?.getPod(pod.podUid) !== undefined;
  }

  countEvents({ held, withoutMetadata }: { held: number; withoutMetadata: number }): void {
    if (held > 0) this.store?.metrics.eventsHeld(held);
    if (withoutMetadata > 0) this.store?.metrics.eventsWithoutMetadata(withoutMetadata);
  }

  onChange(listener: (podUid: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
