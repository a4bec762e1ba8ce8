import type { ComponentMetrics } from '../../core/metrics.js';
import { MetricsRegistry } from '../../core/metrics.js';

/** What the metadata client measures. Label values are fixed strings (verb, resource, reason). */
export class MetadataMetrics {
  private readonly requests;
  private readonly restarts;
  private readonly relists;
  private readonly stale;
  private readonly cacheSize;
  private readonly held;
  private readonly withoutMetadata;
  private readonly labels;

  constructor(metrics: ComponentMetrics = new MetricsRegistry().forComponent('source', 'kubernetes_metadata', 'kubernetes_logs')) {
    this.labels = metrics.labels;
    this.requests = metrics.counter('sluice_kubernetes_api_requests_total', 'Requests to the Kubernetes API (or kubelet), by verb, resource and outcome.', ['verb', 'resource', 'code']);
    this.restarts = metrics.counter('sluice_kubernetes_watch_restarts_total', 'List/watch restarts after an error, a dropped stream or 410 Gone.', ['resource', 'reason']);
    this.relists = metrics.counter('sluice_kubernetes_relists_total', 'Full lists after the first (410 Gone, a failed list retried): each one costs the API server a full LIST.', ['resource']);
    this.stale = metrics.gauge(
      'sluice_kubernetes_metadata_stale',
      '1 while the cache may miss changes: before the first list, and from a failed list or watch (error, 410, silence, timeout) until a watch is open again; 0 while a watch follows the API server.',
      ['resource'],
    );
    this.held = metrics.counter('sluice_kubernetes_events_held_total', 'Events held while waiting for their pod\'s metadata (pod_metadata_wait_ms).').labels(metrics.labels);
    this.withoutMetadata = metrics
      .counter('sluice_kubernetes_events_without_metadata_total', 'Events shipped with path metadata only: their pod was not known within pod_metadata_wait_ms.')
      .labels(metrics.labels);
    this.cacheSize = metrics.gauge('sluice_kubernetes_metadata_cache_size', 'Objects in the metadata cache (pods_deleted: kept for delay_deletion_ms).', ['resource']);
  }

  request(verb: string, resource: string, code: string): void {
    this.requests.inc({ ...this.labels, verb, resource, code });
  }

  restart(resource: string, reason: string): void {
    this.restarts.inc({ ...this.labels, resource, reason });
  }

  relist(resource: string): void {
    this.relists.inc({ ...this.labels, resource });
  }

  setStale(resource: string, stale: boolean): void {
    this.stale.set({ ...this.labels, resource }, stale ? 1 : 0);
  }

  /** For the log source: events it held for metadata. */
  eventsHeld(count: number): void {
    this.held.inc(count);
  }

  /** For the log source: events it shipped without pod metadata. */
  eventsWithoutMetadata(count: number): void {
    this.withoutMetadata.inc(count);
  }

  setCacheSize(resource: string, size: number): void {
    this.cacheSize.set({ ...this.labels, resource }, size);
  }
}
