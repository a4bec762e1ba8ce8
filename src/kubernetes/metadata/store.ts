import { pino, type Logger } from 'pino';
import type { ComponentMetrics } from '../../core/metrics.js';
import { ApiClient } from './api-client.js';
import { sleep, type BackoffOptions } from './backoff.js';
import type { ApiCredentials } from './credentials.js';
import type { KubeObject, Pod } from './kube-types.js';
import { KubeletPodPoller } from './kubelet-pods.js';
import { ListWatch, type ListWatchHandler } from './list-watch.js';
import { MetadataMetrics } from './metrics.js';
import { buildPodInfo, type NamespaceInfo, type PodContext, type PodInfo } from './pod-info.js';

export interface PodChange {
  /** added/updated: new metadata; deleted: the pod is gone (entry kept); expired: entry dropped. */
  readonly type: 'added' | 'updated' | 'deleted' | 'expired';
  readonly uid: string;
  readonly pod: PodInfo;
  readonly previous: PodInfo | undefined;
}

export interface PodMetadataStoreOptions {
  readonly credentials: ApiCredentials;
  readonly nodeName: string;
  readonly extraLabelSelector?: string;
  readonly extraFieldSelector?: string;
  readonly extraNamespaceLabelSelector?: string;
  /** How long a deleted pod's metadata stays (its last lines are read after deletion). */
  readonly delayDeletionMs?: number;
  /** `kubelet`: pods from the kubelet's `/pods` (namespaces and the node still come from the API). */
  readonly metadataSource?: 'kubernetes_api' | 'kubelet';
  readonly kubelet?: { readonly url: string; readonly pollIntervalMs: number; readonly tls?: ApiCredentials['tls'] };
  /** sluice's own pod, excluded by default (undefined: not running in a pod). */
  readonly self?: { readonly name: string; readonly namespace: string };
  readonly backoff?: BackoffOptions;
  readonly watchTimeoutSeconds?: () => number;
  /** The API server's bookmark interval; a watch silent for twice this long is restarted. */
  readonly watchBookmarkIntervalMs?: number;
  /** Connect and response-header timeout of every request (default 30 s). */
  readonly requestTimeoutMs?: number;
  /**
   * The first lists wait a random time in [0, this) (and so does a relist that would go out at
   * once after a 410): agents restarted together spread their lists over the window. Default 0.
   */
  readonly listJitterMs?: number;
  /** Random source of the jitter (tests). */
  readonly random?: () => number;
  readonly metrics?: ComponentMetrics;
  readonly logger?: Logger;
}

interface PodEntry {
  info: PodInfo;
  resourceVersion: string | undefined;
  deletedAt: number | undefined;
  expiry: NodeJS.Timeout | undefined;
}

interface Feed {
  start(): void;
  stop(): Promise<void>;
  readonly firstListDone: Promise<void>;
  readonly synced: boolean;
}

function joinSelectors(...selectors: (string | undefined)[]): string | undefined {
  const parts = selectors.filter((s): s is string => !!s && s.trim() !== '');
  return parts.length > 0 ? parts.join(',') : undefined;
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ak = Object.keys(a);
  return ak.length === Object.keys(b).length && ak.every((k) => a[k] === b[k]);
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

/**
 * This node's pods, their namespaces and the node itself, kept current by exactly one list+watch
 * per resource (pods by `spec.nodeName`, namespaces, this node), keyed by pod UID (names are
 * reused: a StatefulSet pod re-created under its old name is a new entry).
 *
 * While the API server is unreachable the cache stays as it is (nothing is dropped because a
 * list failed); deleted pods stay `delayDeletionMs`. Every change that can alter enrichment or
 * exclusion is reported through `onChange`, so the log source can start or stop reading files.
 */
export class PodMetadataStore {
  private readonly pods = new Map<string, PodEntry>();
  private deletedPods = 0;
  private readonly namespaces = new Map<string, NamespaceInfo>();
  private nodeLabels: Readonly<Record<string, string>> = EMPTY;
  private readonly listeners = new Set<(change: PodChange) => void>();
  private readonly waiters = new Map<string, Set<(pod: PodInfo | undefined) => void>>();
  /** The metadata metrics; the log source counts held and unenriched events through it. */
  readonly metrics: MetadataMetrics;
  private readonly logger: Logger;
  private readonly apiClient: ApiClient;
  private readonly kubeletClient: ApiClient | undefined;
  private readonly namespaceFeed: Feed;
  private readonly nodeFeed: Feed;
  private readonly podFeed: Feed;
  private readonly kubeletPoller: KubeletPodPoller | undefined;
  private readonly delayDeletionMs: number;
  private started: Promise<boolean> | undefined;
  private readonly stopping = new AbortController();

  constructor(private readonly options: PodMetadataStoreOptions) {
    this.metrics = new MetadataMetrics(options.metrics);
    this.logger = options.logger ?? pino({ enabled: false });
    this.delayDeletionMs = options.delayDeletionMs ?? 60_000;
    this.apiClient = new ApiClient(options.credentials, this.metrics, options.credentials.server, options.requestTimeoutMs);
    const listWatch = <T extends KubeObject>(resource: string, path: string, handler: ListWatchHandler<T>, fieldSelector?: string, labelSelector?: string) =>
      new ListWatch<T>(
        this.apiClient,
        {
          resource,
          path,
          ...(fieldSelector ? { fieldSelector } : {}),
          ...(labelSelector ? { labelSelector } : {}),
          ...(options.backoff ? { backoff: options.backoff } : {}),
          ...(options.watchTimeoutSeconds ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
          ...(options.watchBookmarkIntervalMs ? { bookmarkIntervalMs: options.watchBookmarkIntervalMs } : {}),
          ...(options.listJitterMs ? { relistJitterMs: options.listJitterMs } : {}),
          ...(options.random ? { random: options.random } : {}),
        },
        handler,
        this.metrics,
        this.logger,
      );

    this.namespaceFeed = listWatch('namespaces', '/api/v1/namespaces', this.namespaceHandler(), undefined, joinSelectors(options.extraNamespaceLabelSelector));
    this.nodeFeed = listWatch('nodes', '/api/v1/nodes', this.nodeHandler(), `metadata.name=${options.nodeName}`);
    if (options.metadataSource === 'kubelet') {
      if (!options.kubelet) throw new Error('metadata_source = "kubelet" needs a kubelet endpoint');
      // The API server's token; its CA too unless kubelet_ca_file / kubelet_tls_verify say otherwise.
      this.kubeletClient = this.apiClient.withBaseUrl(options.kubelet.url, options.kubelet.tls);
      this.kubeletPoller = new KubeletPodPoller(this.kubeletClient, options.kubelet.pollIntervalMs, this.podHandler(), this.metrics, this.logger, options.backoff);
      this.podFeed = this.kubeletPoller;
    } else {
      this.podFeed = listWatch(
        'pods',
        '/api/v1/pods',
        this.podHandler(),
        joinSelectors(`spec.nodeName=${options.nodeName}`, options.extraFieldSelector),
        joinSelectors(options.extraLabelSelector),
      );
    }
  }

  /**
   * Start the watches. Namespaces and the node are listed first so that no pod is ever seen
   * without its namespace's exclusion. Resolves true once every first list succeeded, false when
   * `syncTimeoutMs` passed first (the watches keep trying in the background either way). The
   * start-up jitter (`listJitterMs`) is spent inside that time.
   */
  start(syncTimeoutMs = 10_000): Promise<boolean> {
    this.started ??= (async () => {
      const deadline = Date.now() + syncTimeoutMs;
      const signal = this.stopping.signal;
      const jitterMs = (this.options.listJitterMs ?? 0) * (this.options.random ?? Math.random)();
      const feeds = (async () => {
        if (jitterMs > 0) await sleep(jitterMs, signal);
        if (signal.aborted) return;
        this.namespaceFeed.start();
        this.nodeFeed.start();
        await this.within(Promise.all([this.namespaceFeed.firstListDone, this.nodeFeed.firstListDone]), deadline);
        if (signal.aborted) return;
        this.podFeed.start();
        await this.within(this.podFeed.firstListDone, deadline);
      })();
      // A jitter past the deadline: start() answers in time, the feeds start when it ends.
      await this.within(feeds, deadline);
      return this.synced;
    })();
    return this.started;
  }

  /** True once pods, namespaces and the node have each been listed successfully. */
  get synced(): boolean {
    return this.namespaceFeed.synced && this.nodeFeed.synced && this.podFeed.synced;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all([this.namespaceFeed.stop(), this.nodeFeed.stop(), this.podFeed.stop()]);
    for (const entry of this.pods.values()) clearTimeout(entry.expiry);
    for (const resolvers of this.waiters.values()) for (const resolve of resolvers) resolve(undefined);
    this.waiters.clear();
    await this.apiClient.close();
    await this.kubeletClient?.close();
  }

  /** The pod's metadata (deleted pods too, for `delayDeletionMs`); undefined if unknown. */
  getPod(uid: string): PodInfo | undefined {
    return this.pods.get(uid)?.info;
  }

  /** True while the pod is known to be deleted (its entry kept for late lines). */
  isDeleted(uid: string): boolean {
    return this.pods.get(uid)?.deletedAt !== undefined;
  }

  /** The pod's metadata as soon as it is known, or undefined after `timeoutMs`. */
  waitForPod(uid: string, timeoutMs: number): Promise<PodInfo | undefined> {
    const known = this.getPod(uid);
    if (known || this.stopping.signal.aborted || timeoutMs <= 0) return Promise.resolve(known);
    this.kubeletPoller?.pollSoon();
    return new Promise((resolve) => {
      let resolvers = this.waiters.get(uid);
      if (!resolvers) this.waiters.set(uid, (resolvers = new Set()));
      const done = (pod: PodInfo | undefined) => {
        clearTimeout(timer);
        resolvers!.delete(done);
        if (resolvers!.size === 0 && this.waiters.get(uid) === resolvers) this.waiters.delete(uid);
        resolve(pod);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      resolvers.add(done);
    });
  }

  /**
   * Whether the container's logs must not be read: true (excluded by pod or namespace annotation,
   * the container list, or being sluice's own pod), false, or undefined when the pod is unknown.
   */
  isExcluded(uid: string, container: string): boolean | undefined {
    const pod = this.getPod(uid);
    if (!pod) return undefined;
    return pod.excluded !== undefined || pod.excludedContainers.has(container);
  }

  /** Listen to changes; returns the unsubscribe function. */
  onChange(listener: (change: PodChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Number of cached pods, deleted ones included. */
  get size(): number {
    return this.pods.size;
  }

  // ---- feeds -----------------------------------------------------------------------------------

  private podHandler(): ListWatchHandler<Pod> {
    return {
      replace: (items) => {
        const present = new Set<string>();
        for (const pod of items) {
          present.add(pod.metadata.uid);
          this.upsertPod(pod);
        }
        // Only a successful list gets here: pods it no longer shows are gone.
        for (const [uid, entry] of this.pods) if (!present.has(uid) && entry.deletedAt === undefined) this.markDeleted(uid);
        this.updateSizes();
      },
      apply: (type, pod) => {
        if (type === 'DELETED') {
          // The final state rides on the 'deleted' change; no separate 'updated' for it.
          const entry = this.pods.get(pod.metadata.uid);
          if (entry) entry.info = buildPodInfo(pod, this.context(pod.metadata.namespace ?? ''));
          else this.upsertPod(pod);
          this.markDeleted(pod.metadata.uid);
        } else {
          this.upsertPod(pod);
        }
        this.updateSizes();
      },
    };
  }

  private namespaceHandler(): ListWatchHandler<KubeObject> {
    const set = (ns: KubeObject) => {
      const info: NamespaceInfo = Object.freeze({ labels: Object.freeze({ ...(ns.metadata.labels ?? {}) }), annotations: Object.freeze({ ...(ns.metadata.annotations ?? {}) }) });
      const previous = this.namespaces.get(ns.metadata.name);
      this.namespaces.set(ns.metadata.name, info);
      if (!previous || !sameRecord(previous.labels, info.labels) || !sameRecord(previous.annotations, info.annotations)) {
        this.recomputePods((pod) => pod.namespace === ns.metadata.name);
      }
    };
    return {
      replace: (items) => {
        for (const ns of items) set(ns);
        // Namespaces gone from the list are dropped; their pods keep the metadata they had.
        const names = new Set(items.map((ns) => ns.metadata.name));
        for (const name of [...this.namespaces.keys()]) if (!names.has(name)) this.namespaces.delete(name);
        this.metrics.setCacheSize('namespaces', this.namespaces.size);
      },
      apply: (type, ns) => {
        if (type === 'DELETED') this.namespaces.delete(ns.metadata.name);
        else set(ns);
        this.metrics.setCacheSize('namespaces', this.namespaces.size);
      },
    };
  }

  private nodeHandler(): ListWatchHandler<KubeObject> {
    const set = (labels: Record<string, string>) => {
      if (sameRecord(labels, this.nodeLabels)) return;
      this.nodeLabels = Object.freeze({ ...labels });
      this.recomputePods(() => true);
    };
    return {
      // A node missing from a list keeps its last labels: its pods still run until they are deleted.
      replace: (items) => {
        if (items[0]) set(items[0].metadata.labels ?? {});
        this.metrics.setCacheSize('nodes', items.length);
      },
      apply: (type, node) => {
        if (type !== 'DELETED') set(node.metadata.labels ?? {});
      },
    };
  }

  // ---- cache -----------------------------------------------------------------------------------

  private context(namespace: string): PodContext {
    return { namespace: this.namespaces.get(namespace), nodeLabels: this.nodeLabels, self: this.options.self };
  }

  private upsertPod(pod: Pod): void {
    const uid = pod.metadata.uid;
    const entry = this.pods.get(uid);
    const resourceVersion = pod.metadata.resourceVersion;
    if (entry && resourceVersion !== undefined && entry.resourceVersion === resourceVersion) return;
    const info = buildPodInfo(pod, this.context(pod.metadata.namespace ?? ''));
    if (entry) {
      if (entry.deletedAt !== undefined) {
        // Listed alive again (a list older than the deletion we saw): keep it.
        clearTimeout(entry.expiry);
        entry.deletedAt = undefined;
        entry.expiry = undefined;
        this.deletedPods--;
      }
      const previous = entry.info;
      entry.info = info;
      entry.resourceVersion = resourceVersion;
      this.emit({ type: 'updated', uid, pod: info, previous });
    } else {
      this.pods.set(uid, { info, resourceVersion, deletedAt: undefined, expiry: undefined });
      this.emit({ type: 'added', uid, pod: info, previous: undefined });
      const resolvers = this.waiters.get(uid);
      if (resolvers) for (const resolve of [...resolvers]) resolve(info);
    }
  }

  private markDeleted(uid: string): void {
    const entry = this.pods.get(uid);
    if (!entry || entry.deletedAt !== undefined) return;
    entry.deletedAt = Date.now();
    this.deletedPods++;
    entry.expiry = setTimeout(() => {
      if (this.pods.get(uid) !== entry) return;
      this.pods.delete(uid);
      this.deletedPods--;
      this.updateSizes();
      this.emit({ type: 'expired', uid, pod: entry.info, previous: undefined });
    }, this.delayDeletionMs);
    this.emit({ type: 'deleted', uid, pod: entry.info, previous: undefined });
  }

  private recomputePods(which: (pod: PodInfo) => boolean): void {
    for (const [uid, entry] of this.pods) {
      if (!which(entry.info)) continue;
      const previous = entry.info;
      entry.info = buildPodInfo(previous.raw, this.context(previous.namespace));
      this.emit({ type: 'updated', uid, pod: entry.info, previous });
    }
  }

  private updateSizes(): void {
    this.metrics.setCacheSize('pods', this.pods.size - this.deletedPods);
    this.metrics.setCacheSize('pods_deleted', this.deletedPods);
  }

  private emit(change: PodChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.error({ err: (error as Error).message }, 'pod metadata listener failed');
      }
    }
  }

  private async within(promise: Promise<unknown>, deadline: number): Promise<void> {
    const limit = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(Math.max(0, deadline - Date.now()))]);
    await Promise.race([promise, new Promise<void>((resolve) => limit.addEventListener('abort', () => resolve(), { once: true }))]);
  }
}
