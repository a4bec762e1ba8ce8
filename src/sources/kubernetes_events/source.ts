import type { ComponentContext, EventOutput, Source, SourceRunContext } from '../../core/component.js';
import { LogEvent } from '../../core/event.js';
import { Finalizer } from '../../core/finalizer.js';
import { ApiClient } from '../../kubernetes/metadata/api-client.js';
import type { BackoffOptions } from '../../kubernetes/metadata/backoff.js';
import { inClusterCredentials, kubeconfigCredentials, SERVICE_ACCOUNT_DIR, type ApiCredentials } from '../../kubernetes/metadata/credentials.js';
import { ListWatch } from '../../kubernetes/metadata/list-watch.js';
import { MetadataMetrics } from '../../kubernetes/metadata/metrics.js';
import { AckedProgress, compareResourceVersions } from './acked-progress.js';
import { ChangeFilter, DEFAULT_CHANGE_MEMORY_TTL_MS } from './change-filter.js';
import { leaseIdentity, leaseNamespace, type KubernetesEventsConfig } from './config.js';
import { eventFields, eventTimestamp, type KubeEvent } from './event-mapping.js';
import { LeaderElector, type Lease } from './leader-election.js';

/**
 * The Lease annotation holding the progress: JSON `{ "<namespace>": "<resourceVersion>" }`
 * ("*" for the cluster-wide watch), the resourceVersion up to which every change was acknowledged
 * by the sinks (or skipped).
 */
export const PROGRESS_ANNOTATION = 'sluice.dev/events-resource-version';
const ALL_NAMESPACES = '*';

export interface KubernetesEventsInternals {
  env?: NodeJS.ProcessEnv;
  serviceAccountDir?: string;
  backoff?: BackoffOptions;
  /** Renewal (and progress write) period; default min(2 s, lease duration / 3). */
  retryPeriodMs?: number;
  changeMemoryTtlMs?: number;
}

/** One list+watch (cluster-wide, or one namespace) during one leadership term. */
class EventStream {
  readonly filter: ChangeFilter;
  readonly progress: AckedProgress;
  /** No progress recorded: the first list applies `initial_lookback_secs`. */
  private fresh: boolean;
  readonly watch: ListWatch<KubeEvent>;

  constructor(
    readonly key: string,
    /** The recorded progress this term started from: changes at or before it were handled. */
    private readonly floor: string | undefined,
    private readonly source: KubernetesEventsSource,
    client: ApiClient,
    path: string,
    config: KubernetesEventsConfig,
    metrics: MetadataMetrics,
    ctx: ComponentContext,
    internals: KubernetesEventsInternals,
  ) {
    this.filter = new ChangeFilter(internals.changeMemoryTtlMs ?? DEFAULT_CHANGE_MEMORY_TTL_MS);
    this.progress = new AckedProgress(floor);
    this.fresh = floor === undefined;
    this.watch = new ListWatch<KubeEvent>(
      client,
      {
        resource: 'events',
        path,
        ...(config.field_selector ? { fieldSelector: config.field_selector } : {}),
        ...(config.label_selector ? { labelSelector: config.label_selector } : {}),
        ...(floor !== undefined ? { initialResourceVersion: floor } : {}),
        ...(internals.backoff ? { backoff: internals.backoff } : {}),
      },
      { replace: (items, rv) => this.relisted(items, rv ?? ''), apply: (type, event) => this.changed(type, event) },
      metrics,
      ctx.logger,
    );
  }

  /** Not at or before the recorded progress (a replayed change); incomparable versions count as new. */
  private afterFloor(rv: string | undefined): boolean {
    if (this.floor === undefined || rv === undefined) return true;
    if (rv === this.floor) return false;
    const order = compareResourceVersions(rv, this.floor);
    return order === undefined || order > 0;
  }

  private relisted(items: KubeEvent[], listRv: string): void {
    let emit = this.filter.replace(items).filter((item) => this.afterFloor(item.metadata.resourceVersion));
    if (this.fresh) {
      const cutoff = Date.now() - this.source.lookbackMs;
      emit = emit.filter((item) => {
        const at = Date.parse(eventTimestamp(item) ?? '');
        return Number.isFinite(at) && at >= cutoff;
      });
      this.fresh = false;
    }
    this.source.emit(emit, this.progress.track(listRv));
  }

  private changed(type: 'ADDED' | 'MODIFIED' | 'DELETED', event: KubeEvent): void {
    const rv = event.metadata.resourceVersion ?? '';
    const emit = this.filter.admit(type, event) && this.afterFloor(rv);
    if (emit) this.source.emit([event], this.progress.track(rv));
    else this.progress.skip(rv);
  }
}

/**
 * The `kubernetes_events` source: one list+watch of `events.k8s.io/v1` Events (cluster-wide or
 * per namespace), one sluice event per Event change. With leader election only the Lease holder
 * watches; it writes its acknowledged progress on the Lease with each renewal, and a new holder
 * resumes from there (relisting only on 410, skipping the changes recorded as handled).
 */
export class KubernetesEventsSource implements Source {
  private out: EventOutput | undefined;
  private client: ApiClient | undefined;
  private elector: LeaderElector | undefined;
  private streams: EventStream[] = [];
  private readonly metrics: MetadataMetrics;
  readonly lookbackMs: number;

  constructor(
    private readonly config: KubernetesEventsConfig,
    private readonly ctx: ComponentContext,
    private readonly internals: KubernetesEventsInternals = {},
  ) {
    this.metrics = new MetadataMetrics(ctx.metrics);
    this.lookbackMs = config.initial_lookback_secs * 1000;
  }

  async run({ out, shutdown }: SourceRunContext): Promise<void> {
    this.out = out;
    const env = this.internals.env ?? process.env;
    const credentials: ApiCredentials = this.config.kube_config_file
      ? await kubeconfigCredentials(this.config.kube_config_file)
      : inClusterCredentials(this.internals.serviceAccountDir ?? SERVICE_ACCOUNT_DIR, env);
    this.client = new ApiClient(credentials, this.metrics);
    const election = this.config.leader_election;
    if (election.enabled) {
      this.elector = new LeaderElector({
        client: this.client,
        namespace: leaseNamespace(this.config, env),
        name: election.lease_name,
        identity: leaseIdentity(this.config, env),
        leaseDurationMs: election.lease_duration_secs * 1000,
        ...(this.internals.retryPeriodMs !== undefined ? { retryPeriodMs: this.internals.retryPeriodMs } : {}),
        annotations: () => this.progressAnnotation(),
        onStartedLeading: (lease) => this.startStreams(recordedProgress(lease)),
        onStoppedLeading: () => void this.stopStreams(),
        logger: this.ctx.logger,
      });
      this.elector.start();
    } else {
      this.startStreams({});
    }
    await new Promise<void>((resolve) => (shutdown.aborted ? resolve() : shutdown.addEventListener('abort', () => resolve(), { once: true })));
    // No more changes; the Lease stays held (and progress written) until the sinks drained: close().
    await Promise.all(this.streams.map((stream) => stream.watch.stop()));
  }

  /** After every sink drained: release the Lease with the final progress. */
  async close(): Promise<void> {
    await this.elector?.stop();
    await Promise.all(this.streams.map((stream) => stream.watch.stop()));
    await this.client?.close();
  }

  emit(events: KubeEvent[], done: () => void): void {
    if (events.length === 0 || this.out === undefined) return done();
    const finalizer = new Finalizer(events.length, done);
    this.ctx.metrics.receivedEvents.inc(events.length);
    void this.out.send(events.map((event) => new LogEvent(eventFields(event), finalizer)));
  }

  private startStreams(progress: Record<string, string>): void {
    const namespaces = this.config.namespaces.length > 0 ? this.config.namespaces : [ALL_NAMESPACES];
    this.streams = namespaces.map((namespace) => {
      const path = namespace === ALL_NAMESPACES ? '/apis/events.k8s.io/v1/events' : `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`;
      return new EventStream(namespace, progress[namespace], this, this.client!, path, this.config, this.metrics, this.ctx, this.internals);
    });
    this.ctx.logger.info({ progress }, 'kubernetes_events: watching Events');
    for (const stream of this.streams) stream.watch.start();
  }

  private async stopStreams(): Promise<void> {
    const streams = this.streams;
    this.streams = [];
    await Promise.all(streams.map((stream) => stream.watch.stop()));
  }

  private progressAnnotation(): Record<string, string> {
    const progress: Record<string, string> = {};
    for (const stream of this.streams) {
      const rv = stream.progress.resourceVersion;
      if (rv !== undefined && rv !== '') progress[stream.key] = rv;
    }
    return Object.keys(progress).length > 0 ? { [PROGRESS_ANNOTATION]: JSON.stringify(progress) } : {};
  }
}

/** The progress recorded on the Lease; {} when there is none (or it cannot be read). */
export function recordedProgress(lease: Lease): Record<string, string> {
  const raw = lease.metadata.annotations?.[PROGRESS_ANNOTATION];
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return {};
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    return {};
  }
}
