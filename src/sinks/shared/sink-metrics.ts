import type { ComponentMetrics } from '../../core/metrics.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The metrics every network sink keeps, bound to the component's labels once. */
export class SinkMetrics {
  private readonly latency;
  private readonly retries;
  private readonly inFlight;
  private readonly concurrencyLimit;

  constructor(readonly component: ComponentMetrics) {
    const labels = component.labels;
    this.latency = component
      .histogram('sluice_sink_request_duration_seconds', 'Time of one request attempt to the destination, by HTTP status (or transport error).', ['status'], LATENCY_BUCKETS);
    this.retries = component.counter('sluice_sink_retries_total', 'Request attempts retried, by reason.', ['reason']);
    this.inFlight = component.gauge('sluice_sink_requests_in_flight', 'Requests (with their retries) in flight.').labels(labels);
    this.concurrencyLimit = component.gauge('sluice_sink_concurrency_limit', 'Current request concurrency limit.').labels(labels);
  }

  /** `status` is the HTTP code ("200", "503") or a transport reason ("network", "timeout"). */
  observeLatency(seconds: number, status: string): void {
    let child = this.latencyByStatus.get(status);
    if (child === undefined) this.latencyByStatus.set(status, (child = this.latency.labels({ ...this.component.labels, status })));
    child.observe(seconds);
  }

  /** Children bound once per status: a few per sink, no label hashing per request. */
  private readonly latencyByStatus = new Map<string, { observe(value: number): void }>();

  retried(reason: string): void {
    this.retries.inc({ ...this.component.labels, reason });
  }

  delivered(events: number, bytes: number): void {
    this.component.sentEvents.inc(events);
    if (bytes > 0) this.component.sentBytes.inc(bytes);
  }

  rejected(reason: string, events: number): void {
    this.component.error(reason);
    this.component.discarded(reason, events);
  }

  setInFlight(requests: number, limit: number): void {
    this.inFlight.set(requests);
    this.concurrencyLimit.set(limit);
  }
}
