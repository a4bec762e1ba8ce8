import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ComponentMetrics } from '../../core/metrics.js';
import type { BackoffOptions } from './backoff.js';
import { inClusterCredentials, kubeconfigCredentials, SERVICE_ACCOUNT_DIR } from './credentials.js';
import { resolveKubeletEndpoint, resolveNodeName, resolveSelfPod, type KubernetesMetadataOptions } from './options.js';
import { PodMetadataStore } from './store.js';

export { KubernetesFieldsBuilder, type PathMetadata } from './enrichment.js';
export {
  kubernetesMetadataOptionsShape,
  kubernetesMetadataOptionsSchema,
  DEFAULT_POD_METADATA_WAIT_MS,
  DEFAULT_WATCH_BOOKMARK_INTERVAL_MS,
  type KubernetesMetadataOptions,
} from './options.js';
export type { PodInfo, ContainerInfo, ExclusionReason } from './pod-info.js';
export { EXCLUDE_ANNOTATION, EXCLUDE_CONTAINERS_ANNOTATION } from './pod-info.js';
export { PodMetadataStore, type PodChange, type PodMetadataStoreOptions } from './store.js';
export type { Workload } from './workload.js';
export type { MetadataMetrics } from './metrics.js';

export interface MetadataRuntime {
  readonly metrics?: ComponentMetrics;
  readonly logger?: Logger;
  readonly env?: NodeJS.ProcessEnv;
  /** Where the service account is mounted (tests point it at a temp dir). */
  readonly serviceAccountDir?: string;
  readonly backoff?: BackoffOptions;
  /** Random source of the list jitter (tests). */
  readonly random?: () => number;
}

/** Build the store from the source's options: credentials (kubeconfig or in-cluster), node, self pod. */
export async function createPodMetadataStore(options: KubernetesMetadataOptions, runtime: MetadataRuntime = {}): Promise<PodMetadataStore> {
  const env = runtime.env ?? process.env;
  const credentials = options.kube_config_file
    ? await kubeconfigCredentials(options.kube_config_file)
    : inClusterCredentials(runtime.serviceAccountDir ?? SERVICE_ACCOUNT_DIR, env);
  const self = resolveSelfPod(env);
  return new PodMetadataStore({
    credentials,
    nodeName: resolveNodeName(options, env),
    extraLabelSelector: options.extra_label_selector,
    extraFieldSelector: options.extra_field_selector,
    extraNamespaceLabelSelector: options.extra_namespace_label_selector,
    delayDeletionMs: options.delay_deletion_ms,
    watchBookmarkIntervalMs: options.watch_bookmark_interval_ms,
    requestTimeoutMs: options.api_request_timeout_ms,
    listJitterMs: options.api_list_jitter_ms,
    metadataSource: options.metadata_source,
    ...(options.metadata_source === 'kubelet'
      ? {
          kubelet: {
            url: resolveKubeletEndpoint(options, env),
            pollIntervalMs: options.kubelet_poll_interval_ms,
            tls: { ...(options.kubelet_ca_file ? { ca: readFileSync(options.kubelet_ca_file) } : {}), ...(options.kubelet_tls_verify ? {} : { rejectUnauthorized: false }) },
          },
        }
      : {}),
    ...(self ? { self } : {}),
    ...(runtime.backoff ? { backoff: runtime.backoff } : {}),
    ...(runtime.random ? { random: runtime.random } : {}),
    ...(runtime.metrics ? { metrics: runtime.metrics } : {}),
    ...(runtime.logger ? { logger: runtime.logger } : {}),
  });
}
