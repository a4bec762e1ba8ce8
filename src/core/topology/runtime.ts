import type { Logger } from 'pino';
import type { Sink, Source, Transform, TransformDefinition, ComponentContext, EventStream } from '../component.js';
import { createBuffer } from '../buffers/options.js';
import { MemoryBuffer } from '../buffers/memory.js';
import type { EventBuffer } from '../buffers/types.js';
import type { AgentConfig, ComponentConfig } from '../config/load.js';
import { ackAll, type LogEvent } from '../event.js';
import type { ComponentMetrics, MetricsRegistry } from '../metrics.js';
import type { Readiness } from '../readiness.js';
import type { TapHub } from '../tap.js';
import { Fanout, type FanoutTarget } from './fanout.js';
import { DEFAULT_HEALTHCHECK_TIMEOUT_MS, healthcheckWithin } from './healthcheck.js';
import type { TopologyPlan } from './plan.js';

export type TopologyState = 'starting' | 'running' | 'draining' | 'stopped';

export interface TopologyOptions {
  config: AgentConfig;
  plan: TopologyPlan;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Where stuck components say so (`/ready`). */
  readiness?: Readiness;
  /** Fail startup when a sink healthcheck fails (`--require-healthy`). */
  requireHealthy?: boolean;
  healthcheckTimeoutMs?: number;
  /** Capacity of the queue in front of each transform. */
  transformBufferEvents?: number;
  /** Live taps (`sluice tap`) the outputs of sources and transforms report to. */
  tap?: TapHub;
}

/** One component's counters since start, for `GET /components` (`sluice top`). */
export interface ComponentStats {
  id: string;
  kind: string;
  type: string;
  received_events: number;
  sent_events: number;
  received_bytes: number;
  sent_bytes: number;
  errors: number;
  discarded_events: number;
  /** Events waiting in the queue in front of the component (transforms, sinks), and its capacity when counted in events. */
  buffer_events?: number;
  buffer_max_events?: number;
}

interface Built {
  config: ComponentConfig;
  metrics: ComponentMetrics;
  logger: Logger;
  instance: Source | Transform | Sink;
  input?: EventBuffer;
  outputs: Map<string | undefined, Fanout>;
}

/** Builds components from a plan, wires bounded buffers between them, runs and drains them. */
export class Topology {
  state: TopologyState = 'starting';
  /** Set when a component failed in a way that should make the process exit non-zero. */
  failure: Error | undefined;
  private readonly built = new Map<string, Built>();
  private readonly shutdownController = new AbortController();
  private readonly runs: Promise<void>[] = [];
  private finished: Promise<void> | undefined;

  private constructor(private readonly options: TopologyOptions) {}

  static async start(options: TopologyOptions): Promise<Topology> {
    const topology = new Topology(options);
    await topology.build();
    await topology.runHealthchecks();
    topology.launch();
    topology.state = 'running';
    return topology;
  }

  /** Resolves once every component has finished (sources ended or shutdown drained). */
  get done(): Promise<void> {
    return this.finished!;
  }

  /** Stop the sources and let in-flight events drain into the sinks. */
  async stop(): Promise<void> {
    if (this.state === 'running' || this.state === 'starting') {
      this.state = 'draining';
      this.options.logger.info('shutting down: sources stop, in-flight events drain to the sinks');
      this.shutdownController.abort();
    }
    await this.finished;
  }

  bufferSizes(): Array<{ id: string; kind: string; type: string; size: number }> {
    return [...this.built.values()]
      .filter((b) => b.input)
      .map((b) => ({ id: b.config.id, kind: b.config.kind, type: b.config.type, size: b.input!.size }));
  }

  componentStats(): ComponentStats[] {
    return [...this.built.values()].map((b) => {
      const m = b.metrics;
      const stats: ComponentStats = {
        id: b.config.id,
        kind: b.config.kind,
        type: b.config.type,
        received_events: m.receivedEvents.value,
        sent_events: m.sentEvents.value,
        received_bytes: m.receivedBytes.value,
        sent_bytes: m.sentBytes.value,
        errors: m.errorCount,
        discarded_events: m.discardedCount,
      };
      if (b.input) {
        stats.buffer_events = b.input.size;
        if (b.input.maxEvents !== undefined) stats.buffer_max_events = b.input.maxEvents;
      }
      return stats;
    });
  }

  private async build(): Promise<void> {
    const { config, plan, logger, metrics } = this.options;
    for (const { config: component } of plan.components.values()) {
      const componentLogger = logger.child({ component_kind: component.kind, component_id: component.id, component_type: component.type });
      const componentMetrics = metrics.forComponent(component.kind, component.id, component.type);
      const ctx: ComponentContext = { id: component.id, logger: componentLogger, metrics: componentMetrics, dataDir: config.dataDir };
      let instance: Source | Transform | Sink;
      try {
        instance = component.definition.build(component.options as never, ctx) as Source | Transform | Sink;
      } catch (error) {
        throw new Error(`${component.file}: ${component.kind}s.${component.id}: ${(error as Error).message}`);
      }
      const built: Built = { config: component, metrics: componentMetrics, logger: componentLogger, instance, outputs: new Map() };
      if (component.kind === 'transform') {
        built.input = new MemoryBuffer({ maxEvents: this.options.transformBufferEvents ?? 1000, whenFull: 'block' });
      } else if (component.kind === 'sink') {
        built.input = await createBuffer(component.buffer!, {
          dataDir: config.dataDir,
          sinkId: component.id,
          metrics: componentMetrics,
          logger: componentLogger,
          readiness: this.options.readiness,
        });
      }
      this.built.set(component.id, built);
    }
    this.wire();
  }

  /** Create one Fanout per (producer, output) feeding the buffers of every consumer of it. */
  private wire(): void {
    const targetsOf = new Map<string, FanoutTarget[]>();
    const consumersOf = new Map<string, string[]>();
    for (const planned of this.options.plan.components.values()) {
      const consumer = this.built.get(planned.config.id)!;
      let producers = planned.inputs.length;
      const producerDone = (): void => {
        if (--producers === 0) consumer.input!.close();
      };
      const mutates = planned.config.kind === 'transform' && (planned.config.definition as TransformDefinition).mutatesEvents;
      for (const edge of planned.inputs) {
        const key = `${edge.upstream}\u0000${edge.output ?? ''}`;
        const list = targetsOf.get(key) ?? [];
        list.push({ buffer: consumer.input!, mutates, producerDone });
        targetsOf.set(key, list);
        consumersOf.set(key, [...(consumersOf.get(key) ?? []), planned.config.id]);
      }
    }
    for (const planned of this.options.plan.components.values()) {
      if (planned.config.kind === 'sink') continue;
      const producer = this.built.get(planned.config.id)!;
      for (const output of [undefined, ...planned.namedOutputs]) {
        const key = `${planned.config.id}\u0000${output ?? ''}`;
        const targets = targetsOf.get(key) ?? [];
        const hub = this.options.tap;
        const tap = hub && { hub, producer: planned.config.id, output, consumers: consumersOf.get(key) ?? [] };
        producer.outputs.set(output, new Fanout(targets, (n) => producer.metrics.sentEvents.inc(n), tap));
      }
    }
  }

  private async runHealthchecks(): Promise<void> {
    const timeoutMs = this.options.healthcheckTimeoutMs ?? DEFAULT_HEALTHCHECK_TIMEOUT_MS;
    const checks = [...this.built.values()]
      .filter((b) => b.config.kind === 'sink' && b.config.healthcheck && (b.instance as Sink).healthcheck)
      .map(async (b) => {
        try {
          await healthcheckWithin(b.instance as Sink, timeoutMs);
          b.logger.info('healthcheck passed');
        } catch (error) {
          b.metrics.error('healthcheck_failed');
          b.logger.error({ err: (error as Error).message }, 'healthcheck failed');
          if (this.options.requireHealthy) throw new Error(`sink "${b.config.id}" healthcheck failed: ${(error as Error).message}`);
        }
      });
    await Promise.all(checks);
  }

  private launch(): void {
    const sinkRuns: Promise<void>[] = [];
    for (const b of this.built.values()) {
      if (b.config.kind === 'sink') sinkRuns.push(this.runSink(b));
      else if (b.config.kind === 'transform') this.runs.push(this.runTransform(b));
    }
    const sourceRuns: Promise<void>[] = [];
    for (const b of this.built.values()) if (b.config.kind === 'source') sourceRuns.push(this.runSource(b));
    this.finished = Promise.all([...sourceRuns, ...this.runs, ...sinkRuns]).then(async () => {
      // Every acknowledgement that will come has come: let sources persist their final state.
      for (const b of this.built.values()) {
        if (b.config.kind !== 'source') continue;
        try {
          await (b.instance as Source).close?.();
        } catch (error) {
          b.logger.error({ err: (error as Error).message }, 'close failed');
        }
      }
      this.state = 'stopped';
    });
  }

  private async runSource(b: Built): Promise<void> {
    const out = b.outputs.get(undefined)!;
    try {
      await (b.instance as Source).run({ out, shutdown: this.shutdownController.signal });
    } catch (error) {
      this.fail(b, error as Error);
    } finally {
      out.finish();
    }
  }

  private async runTransform(b: Built): Promise<void> {
    const transform = b.instance as Transform;
    const pending: Promise<void>[] = [];
    const emit = (output: string | undefined, events: LogEvent[]): void => {
      const fanout = b.outputs.get(output);
      if (!fanout) throw new Error(`transform emitted on unknown output "${output}"`);
      const wait = fanout.send(events);
      if (wait) pending.push(wait);
    };
    try {
      for await (const batch of b.input!) {
        b.metrics.receivedEvents.inc(batch.length);
        try {
          transform.process(batch, emit);
        } catch (error) {
          // A transform bug must not stall the sources: finish the batch and count it.
          b.metrics.error('transform_failed');
          b.logger.error({ err: (error as Error).message }, 'transform failed on a batch; its events are dropped');
          ackAll(batch, 'rejected');
        }
        if (pending.length > 0) await Promise.all(pending.splice(0));
      }
    } finally {
      for (const fanout of b.outputs.values()) fanout.finish();
    }
  }

  private async runSink(b: Built): Promise<void> {
    const input = countReceived(b.input!, b.metrics);
    try {
      await (b.instance as Sink).run(input);
    } catch (error) {
      this.fail(b, error as Error);
      // Unacknowledged events are read again after a restart; drain so producers are not blocked.
      for await (const batch of b.input!) void batch;
    }
  }

  private fail(b: Built, error: Error): void {
    b.metrics.error('component_failed');
    b.logger.error({ err: error.message, stack: error.stack }, 'component failed; shutting down');
    this.failure ??= new Error(`${b.config.kind} "${b.config.id}" failed: ${error.message}`);
    if (this.state === 'running') void this.stop();
  }
}

async function* countReceived(input: EventStream, metrics: ComponentMetrics): EventStream {
  for await (const batch of input) {
    metrics.receivedEvents.inc(batch.length);
    yield batch;
  }
}
