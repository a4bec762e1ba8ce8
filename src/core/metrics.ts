import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { VERSION } from '../version.js';

/**
 * Prometheus metrics. One Registry per running agent (tests run several in one process).
 * Label values are component ids and fixed reasons: never pod names, paths or other values that
 * grow with pod churn.
 */
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor(options: { processMetrics?: boolean } = {}) {
    // Event-loop lag sampled every second, not every 10 ms (the default): an idle agent on every
    // node should not wake 100 times a second to measure itself.
    // Unprefixed (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`): the names stock
    // Node.js dashboards and alerts query.
    if (options.processMetrics) {
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
      this.gauge('sluice_build_info', 'Always 1; the labels name the running build.', ['version', 'node_version']).set(
        { version: VERSION, node_version: process.version },
        1,
      );
    }
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Counter<L>;
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Gauge<L>;
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets?: number[]): Histogram<L> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Histogram<L>;
    return new Histogram({ name, help, labelNames, registers: [this.registry], ...(buckets ? { buckets } : {}) });
  }

  /**
   * A counter whose per-label-set children are plain numbers, handed to prom-client at scrape
   * time. A prom-client child re-hashes its labels on every `inc`; the component counters are
   * incremented on every read round and batch (measured ~160 KiB/s of garbage on an idle node).
   */
  tally<L extends string>(name: string, help: string, labels: Record<L, string>, options: { zeroSeries?: boolean } = {}): Tally {
    let entries = this.tallies.get(name);
    if (entries === undefined) {
      const tallied: TallyEntry[] = (entries = []);
      this.tallies.set(name, entries);
      new Counter({
        name,
        help,
        labelNames: Object.keys(labels),
        registers: [this.registry],
        collect() {
          for (const entry of tallied) {
            const delta = entry.tally.value - entry.reported;
            // inc(0) the first time, so a component that has counted nothing yet shows a 0 series
            // (unless it is one that never counts: no series until it does).
            if (delta > 0 || (!entry.exported && entry.zeroSeries)) {
              this.inc(entry.labels, delta);
              entry.exported = true;
            }
            entry.reported = entry.tally.value;
          }
        },
      });
    }
    const tally = new Tally();
    entries.push({ labels, tally, reported: 0, exported: false, zeroSeries: options.zeroSeries ?? true });
    return tally;
  }

  private readonly tallies = new Map<string, TallyEntry[]>();

  /**
   * A gauge whose value for `labels` is asked of `sample` at scrape time (never updated on the
   * hot path). Several components may share the name; the returned function stops sampling.
   */
  sampledGauge<L extends string>(name: string, help: string, labels: Record<L, string>, sample: () => number | Promise<number>): () => void {
    let samplers = this.samplers.get(name);
    if (samplers === undefined) {
      const list: Sampler[] = (samplers = []);
      this.samplers.set(name, list);
      new Gauge({
        name,
        help,
        labelNames: Object.keys(labels),
        registers: [this.registry],
        async collect() {
          this.reset();
          const values = await Promise.all(list.map((s) => s.sample()));
          list.forEach((s, i) => this.set(s.labels, values[i]!));
        },
      });
    }
    const sampler: Sampler = { labels, sample };
    samplers.push(sampler);
    return () => {
      const list = this.samplers.get(name);
      if (list?.includes(sampler)) list.splice(list.indexOf(sampler), 1);
    };
  }

  private readonly samplers = new Map<string, Sampler[]>();

  forComponent(kind: string, id: string, type: string): ComponentMetrics {
    return new ComponentMetrics(this, { component_kind: kind, component_id: id, component_type: type });
  }
}

/** A monotonically increasing count kept as a number (see `MetricsRegistry.tally`). */
export class Tally {
  value = 0;

  inc(count = 1): void {
    this.value += count;
  }
}

interface Sampler {
  labels: Record<string, string>;
  sample: () => number | Promise<number>;
}

interface TallyEntry {
  labels: Record<string, string>;
  tally: Tally;
  /** What prom-client has been given so far. */
  reported: number;
  exported: boolean;
  /** Show a 0 series before anything is counted. */
  zeroSeries: boolean;
}

type ComponentLabels = { component_kind: string; component_id: string; component_type: string };
const COMPONENT_LABELS = ['component_kind', 'component_id', 'component_type'] as const;

/** The metrics every component has, with its labels bound once (no per-event label lookups). */
export class ComponentMetrics {
  readonly receivedEvents: Tally;
  readonly sentEvents: Tally;
  readonly sentBytes: Tally;
  readonly receivedBytes: Tally;
  readonly labels: ComponentLabels;
  /** Totals over every reason, kept as numbers for `GET /components`. */
  errorCount = 0;
  discardedCount = 0;

  constructor(
    readonly root: MetricsRegistry,
    labels: ComponentLabels,
  ) {
    this.labels = labels;
    this.receivedEvents = root.tally('sluice_component_received_events_total', 'Events received by the component.', labels);
    this.sentEvents = root.tally('sluice_component_sent_events_total', 'Events sent on by the component (for sinks: accepted by the destination).', labels);
    // Bytes cross the process boundary in sources (in) and sinks (out) only: a transform's, a
    // source's sent or a sink's received bytes would be a series stuck at 0.
    this.receivedBytes = root.tally('sluice_component_received_bytes_total', 'Bytes read by the component from outside.', labels, {
      zeroSeries: labels.component_kind === 'source',
    });
    this.sentBytes = root.tally('sluice_component_sent_bytes_total', 'Bytes written by the component to outside.', labels, {
      zeroSeries: labels.component_kind === 'sink',
    });
  }

  /** Count an error; `reason` is a fixed string such as "malformed_line" or "http_5xx". */
  error(reason: string, count = 1): void {
    this.errorCount += count;
    this.root
      .counter('sluice_component_errors_total', 'Errors by component and reason.', [...COMPONENT_LABELS, 'reason'])
      .inc({ ...this.labels, reason }, count);
  }

  /** Count a discarded event; `reason` is fixed ("filtered", "rejected", "buffer_full", ...). */
  discarded(reason: string, count = 1): void {
    this.discardedCount += count;
    this.root
      .counter('sluice_component_discarded_events_total', 'Events discarded, by component and reason.', [...COMPONENT_LABELS, 'reason'])
      .inc({ ...this.labels, reason }, count);
  }

  /** A component-specific counter carrying the component labels plus `extra` label names. */
  counter<L extends string>(name: string, help: string, extra: readonly L[] = []) {
    return this.root.counter(name, help, [...COMPONENT_LABELS, ...extra]);
  }

  gauge<L extends string>(name: string, help: string, extra: readonly L[] = []) {
    return this.root.gauge(name, help, [...COMPONENT_LABELS, ...extra]);
  }

  histogram<L extends string>(name: string, help: string, extra: readonly L[] = [], buckets?: number[]) {
    return this.root.histogram(name, help, [...COMPONENT_LABELS, ...extra], buckets);
  }

  /** See `MetricsRegistry.sampledGauge`; labelled with this component. */
  sampledGauge(name: string, help: string, sample: () => number | Promise<number>): () => void {
    return this.root.sampledGauge(name, help, this.labels, sample);
  }
}
