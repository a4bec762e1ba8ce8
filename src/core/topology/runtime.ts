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

/** A start waiting for healthy sinks (`--require-healthy`) was told to stop. */
export class StartAbortedError extends Error {
  constructor(readonly unhealthy: string[]) {
    super(`stopped before starting: still waiting for healthy sinks (${unhealthy.join(', ')})`);
  }
}

/** 1 s, 2 s, 4 s, ... capped at 30 s. */
export function healthcheckRetryDelayMs(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

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
  /**
   * With `requireHealthy`: instead of failing, retry the failing healthchecks (with backoff) and
   * start nothing until all pass, so `/started` stays 503 and a startupProbe sees it. Used when the
   * API is on (someone can see the 503); without it the start fails as Vector's does.
   */
  waitUntilHealthy?: boolean;
  /** Aborts a start that is waiting for healthy sinks (a shutdown signal). */
  startAbort?: AbortSignal;
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
  /** The outputs feeding `input`: it closes once the last of them finishes. */
  producers: Set<Fanout>;
  /** During a reload: a producer finishing does not close the input (another takes its place). */
  pinned: boolean;
  run?: Promise<void>;
  /** A source's own stop (a reload replacing it); the agent's shutdown aborts it too. */
  stop?: AbortController;
  /** A sink whose run threw: its buffer will not finish on its own. */
  sinkFailed?: boolean;
}

/** What a reload did, for its log line. */
export interface ReconfigureResult {
  /** Built anew: the changed and added components, and transforms whose consumers changed. */
  rebuilt: string[];
  removed: string[];
  /** Sources whose output was held while their consumers were swapped (their files stay open). */
  paused: string[];
}

/** Builds components from a plan, wires bounded buffers between them, runs and drains them. */
export class Topology {
  state: TopologyState = 'starting';
  /** Set when a component failed in a way that should make the process exit non-zero. */
  failure: Error | undefined;
  private readonly built = new Map<string, Built>();
  private readonly shutdownController = new AbortController();
  /** Every run (and reload in progress); `done` waits for all of them, including ones added later. */
  private readonly runs: Promise<void>[] = [];
  private finished: Promise<void> | undefined;

  private constructor(private options: TopologyOptions) {}

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

  /** After `done`: the sinks' buffers have persisted their state (a disk buffer reopened by a reload). */
  async buffersSettled(): Promise<void> {
    await buffersSettled([...this.built.values()]);
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
    for (const { config: component } of this.options.plan.components.values()) {
      const built = this.instantiate(component);
      await this.createInput(built);
      this.built.set(component.id, built);
    }
    this.wire(this.options.plan);
  }

  private instantiate(component: ComponentConfig): Built {
    const { config, logger, metrics } = this.options;
    const componentLogger = logger.child({ component_kind: component.kind, component_id: component.id, component_type: component.type });
    const componentMetrics = metrics.forComponent(component.kind, component.id, component.type);
    const ctx: ComponentContext = {
      id: component.id,
      logger: componentLogger,
      metrics: componentMetrics,
      dataDir: config.dataDir,
      downstream: () => reachableFrom(this.options.plan, component.id),
    };
    let instance: Source | Transform | Sink;
    try {
      instance = component.definition.build(component.options as never, ctx) as Source | Transform | Sink;
    } catch (error) {
      throw new Error(`${component.file}: ${component.kind}s.${component.id}: ${(error as Error).message}`);
    }
    return { config: component, metrics: componentMetrics, logger: componentLogger, instance, outputs: new Map(), producers: new Set(), pinned: false };
  }

  private async createInput(built: Built): Promise<void> {
    const component = built.config;
    if (component.kind === 'transform') {
      built.input = new MemoryBuffer({ maxEvents: this.options.transformBufferEvents ?? 1000, whenFull: 'block' });
    } else if (component.kind === 'sink') {
      built.input = await createBuffer(component.buffer!, {
        dataDir: this.options.config.dataDir,
        sinkId: component.id,
        metrics: built.metrics,
        logger: built.logger,
        readiness: this.options.readiness,
      });
    }
  }

  /**
   * Point every output (one Fanout per producer and output) at the buffers of its consumers in
   * `plan`, reusing the Fanouts that exist, and recount each consumer's live producers.
   */
  private wire(plan: TopologyPlan): void {
    const consumersOf = consumersByOutput(plan);
    for (const b of this.built.values()) b.producers.clear();
    for (const planned of plan.components.values()) {
      if (planned.config.kind === 'sink') continue;
      const producer = this.built.get(planned.config.id)!;
      for (const output of [undefined, ...planned.namedOutputs]) {
        const key = outputKey(planned.config.id, output);
        let fanout = producer.outputs.get(output);
        if (!fanout) {
          fanout = new Fanout([], (n) => producer.metrics.sentEvents.inc(n));
          producer.outputs.set(output, fanout);
        }
        const f = fanout;
        const ids = consumersOf.get(key) ?? [];
        const targets: FanoutTarget[] = ids.map((id) => {
          const consumer = this.built.get(id)!;
          if (!f.isFinished) consumer.producers.add(f);
          const mutates = consumer.config.kind === 'transform' && (consumer.config.definition as TransformDefinition).mutatesEvents;
          return { buffer: consumer.input!, mutates, producerDone: () => this.producerFinished(consumer, f) };
        });
        const hub = this.options.tap;
        f.retarget(targets, hub && { hub, producer: planned.config.id, output, consumers: ids });
      }
    }
  }

  private producerFinished(consumer: Built, fanout: Fanout): void {
    if (!consumer.producers.delete(fanout)) return;
    if (consumer.producers.size === 0 && !consumer.pinned) consumer.input!.close();
  }

  private async runHealthchecks(): Promise<void> {
    const requireHealthy = this.options.requireHealthy ?? false;
    if (!requireHealthy || !this.options.waitUntilHealthy) {
      await this.runHealthchecksOf([...this.built.values()], requireHealthy);
      return;
    }
    let failing = await this.runHealthchecksOf([...this.built.values()], false);
    for (let attempt = 0; failing.length > 0; attempt++) {
      const ids = failing.map((b) => b.config.id);
      this.options.readiness?.set('require-healthy', `waiting for healthy sinks (--require-healthy): ${ids.join(', ')}`);
      const delayMs = healthcheckRetryDelayMs(attempt);
      this.options.logger.warn({ sinks: ids, retry_in_ms: delayMs }, 'not starting: --require-healthy and a sink healthcheck failed; retrying');
      await abortableSleep(delayMs, this.options.startAbort);
      if (this.options.startAbort?.aborted) throw new StartAbortedError(ids);
      failing = await this.runHealthchecksOf(failing, false);
    }
    this.options.readiness?.clear('require-healthy');
  }

  /** Runs the sinks' healthchecks in parallel; returns the sinks that failed. */
  private async runHealthchecksOf(components: Built[], requireHealthy: boolean): Promise<Built[]> {
    const timeoutMs = this.options.healthcheckTimeoutMs ?? DEFAULT_HEALTHCHECK_TIMEOUT_MS;
    const failed: Built[] = [];
    const checks = components
      .filter((b) => b.config.kind === 'sink' && b.config.healthcheck && (b.instance as Sink).healthcheck)
      .map(async (b) => {
        const healthy = b.metrics.gauge('sluice_component_healthy', 'A sink whose last healthcheck passed: 1, failed: 0 (sinks with a healthcheck only).');
        try {
          await healthcheckWithin(b.instance as Sink, timeoutMs);
          healthy.set(b.metrics.labels, 1);
          b.logger.info('healthcheck passed');
        } catch (error) {
          healthy.set(b.metrics.labels, 0);
          failed.push(b);
          b.metrics.error('healthcheck_failed');
          b.logger.error({ err: (error as Error).message }, 'healthcheck failed');
          if (requireHealthy) throw new Error(`sink "${b.config.id}" healthcheck failed: ${(error as Error).message}`);
        }
      });
    await Promise.all(checks);
    return failed;
  }

  private launch(): void {
    for (const b of this.built.values()) this.startRun(b);
    this.finished = (async () => {
      // Runs may be added while waiting (a reload): wait until no new one appeared.
      for (let seen = -1; seen !== this.runs.length; ) {
        seen = this.runs.length;
        await Promise.all(this.runs);
      }
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
    })();
  }

  private startRun(b: Built): void {
    const kind = b.config.kind;
    b.run = kind === 'sink' ? this.runSink(b) : kind === 'transform' ? this.runTransform(b) : this.runSource(b);
    this.runs.push(b.run);
  }

  /**
   * Apply a new config of the same sources: rebuild the changed, added and removed transforms and
   * sinks (and the transforms between them and the sources, whose consumers change), leaving every
   * other component running untouched. The outputs of the sources feeding them are held meanwhile;
   * a replaced component first drains what it holds into its consumers (sinks: to the destination,
   * so every in-flight event is acknowledged once), then its successor takes its place.
   */
  async reconfigure(config: AgentConfig, plan: TopologyPlan, change: { changed: readonly string[]; added: readonly string[]; removed: readonly string[] }): Promise<ReconfigureResult> {
    if (this.state !== 'running') throw new Error(`cannot reconfigure a topology that is ${this.state}`);
    const oldPlan = this.options.plan;
    const sourceIds = (p: TopologyPlan) => [...p.components.values()].filter((c) => c.config.kind === 'source').map((c) => c.config.id);

    // Which components go (replaced) and which are built (fresh). A changed or removed source is
    // stopped, and everything downstream of it is replaced too: once those have drained, every
    // event it emitted is acknowledged, so the checkpoints it persists on close are final and its
    // successor resumes from them. A kept transform whose consumers change is rebuilt too: holding
    // its output could stall a replaced component draining into it.
    const replaced = new Set([...change.changed, ...change.removed]);
    const fresh = new Set([...change.changed, ...change.added]);
    const downstream = (id: string): void => {
      for (const planned of oldPlan.components.values()) {
        const cid = planned.config.id;
        if (replaced.has(cid) || !planned.inputs.some((edge) => edge.upstream === id)) continue;
        replaced.add(cid);
        if (plan.components.has(cid)) fresh.add(cid);
        downstream(cid);
      }
    };
    for (const id of [...replaced]) if (oldPlan.components.get(id)?.config.kind === 'source') downstream(id);
    const before = consumersByOutput(oldPlan);
    const after = consumersByOutput(plan);
    const outputsChange = (id: string): boolean => {
      const planned = plan.components.get(id)!;
      return [undefined, ...planned.namedOutputs].some((output) => {
        const key = outputKey(id, output);
        const was = before.get(key) ?? [];
        const will = after.get(key) ?? [];
        return was.join() !== will.join() || will.some((c) => fresh.has(c)) || was.some((c) => replaced.has(c));
      });
    };
    for (let grew = true; grew; ) {
      grew = false;
      for (const planned of plan.components.values()) {
        const id = planned.config.id;
        if (planned.config.kind !== 'transform' || fresh.has(id) || !oldPlan.components.has(id)) continue;
        if (outputsChange(id)) {
          replaced.add(id);
          fresh.add(id);
          grew = true;
        }
      }
    }
    const paused = sourceIds(plan).filter((id) => !replaced.has(id) && oldPlan.components.has(id) && outputsChange(id));
    const stopping = [...replaced].filter((id) => oldPlan.components.get(id)?.config.kind === 'source');

    // Build the new instances first: a component that cannot be built fails the reload before
    // anything stopped. (Buffers come later: a sink's disk buffer is the old one's, once drained.)
    const nextOptions: TopologyOptions = { ...this.options, config, plan };
    const previousOptions = this.options;
    this.options = nextOptions;
    // Sources are built after their predecessors closed: they read the checkpoints when built.
    const isSource = (id: string) => plan.components.get(id)!.config.kind === 'source';
    let built: Built[];
    try {
      built = [...fresh].filter((id) => !isSource(id)).map((id) => this.instantiate(plan.components.get(id)!.config));
    } catch (error) {
      this.options = previousOptions;
      throw error;
    }

    let finish!: () => void;
    this.runs.push(new Promise<void>((resolve) => (finish = resolve)));
    try {
      const kept = [...this.built.values()].filter((b) => !replaced.has(b.config.id));
      for (const b of kept) b.pinned = true;
      for (const id of paused) for (const fanout of this.built.get(id)!.outputs.values()) fanout.pause();
      // Detach the replaced components from the kept producers (held now), then let them drain.
      const leaving = [...replaced].map((id) => this.built.get(id)!);
      const leavingBuffers = new Set(leaving.map((b) => b.input));
      for (const b of kept) {
        for (const fanout of b.outputs.values()) {
          if (!fanout.consumers.some((t) => leavingBuffers.has(t.buffer))) continue;
          fanout.retarget(fanout.consumers.filter((t) => !leavingBuffers.has(t.buffer)));
          for (const gone of leaving) this.producerFinished(gone, fanout);
        }
      }
      for (const gone of leaving) if (gone.input && gone.producers.size === 0) gone.input.close();
      for (const id of stopping) this.built.get(id)!.stop?.abort();
      await Promise.all(leaving.map((b) => b.run));
      await buffersSettled(leaving);
      for (const gone of leaving) {
        if (gone.config.kind !== 'source') continue;
        try {
          await (gone.instance as Source).close?.();
        } catch (error) {
          gone.logger.error({ err: (error as Error).message }, 'close failed');
        }
      }
      for (const gone of leaving) this.built.delete(gone.config.id);
      for (const id of fresh) if (isSource(id)) built.push(this.instantiate(plan.components.get(id)!.config));

      for (const b of built) {
        await this.createInput(b);
        this.built.set(b.config.id, b);
      }
      this.wire(plan);
      // Not fatal here even with --require-healthy: the old sinks are gone; a failing one is logged.
      await this.runHealthchecksOf(built, false);
      for (const b of built) this.startRun(b);
      for (const id of paused) for (const fanout of this.built.get(id)!.outputs.values()) fanout.resume();
      for (const b of this.built.values()) {
        b.pinned = false;
        if (b.input && b.producers.size === 0) b.input.close();
      }
      return { rebuilt: built.map((b) => b.config.id), removed: change.removed.slice(), paused };
    } catch (error) {
      // Half-swapped: stop. What the held outputs carry was never acknowledged, so dropping it
      // loses nothing: the checkpoints stay before it and the next start reads it again.
      this.failure ??= new Error(`reload failed: ${(error as Error).message}`);
      for (const id of paused) for (const fanout of this.built.get(id)?.outputs.values() ?? []) fanout.resume({ discard: true });
      for (const b of this.built.values()) {
        b.pinned = false;
        if (b.input && b.producers.size === 0) b.input.close();
      }
      void this.stop();
      throw error;
    } finally {
      finish();
    }
  }

  private async runSource(b: Built): Promise<void> {
    const out = b.outputs.get(undefined)!;
    const stop = (b.stop = new AbortController());
    const shutdown = this.shutdownController.signal;
    const onShutdown = (): void => stop.abort();
    if (shutdown.aborted) stop.abort();
    else shutdown.addEventListener('abort', onShutdown, { once: true });
    try {
      await (b.instance as Source).run({ out, shutdown: stop.signal });
    } catch (error) {
      this.fail(b, error as Error);
    } finally {
      shutdown.removeEventListener('abort', onShutdown);
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
    const flush = (final: boolean): void => {
      try {
        transform.flush?.(emit, final);
      } catch (error) {
        b.metrics.error('transform_failed');
        b.logger.error({ err: (error as Error).message }, 'transform failed to flush held events');
      }
    };
    const flushTimer = transform.flush && transform.flushPeriodMs ? setInterval(() => flush(false), transform.flushPeriodMs) : undefined;
    flushTimer?.unref();
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
      clearInterval(flushTimer);
      flush(true); // the input ended: what the transform holds goes on before its outputs finish
      if (pending.length > 0) await Promise.all(pending.splice(0));
    } finally {
      clearInterval(flushTimer);
      for (const fanout of b.outputs.values()) fanout.finish();
    }
  }

  private async runSink(b: Built): Promise<void> {
    const input = countReceived(b.input!, b.metrics);
    try {
      await (b.instance as Sink).run(input);
    } catch (error) {
      b.sinkFailed = true;
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

function outputKey(id: string, output: string | undefined): string {
  return `${id}\u0000${output ?? ''}`;
}

/** For each (producer, output): the ids of its consumers, in plan order. */
const reachableCache = new WeakMap<TopologyPlan, Map<string, ReadonlySet<string>>>();

/** Every component that events of `id` reach in `plan` (through any output), cached per plan. */
function reachableFrom(plan: TopologyPlan, id: string): ReadonlySet<string> {
  let perPlan = reachableCache.get(plan);
  if (!perPlan) reachableCache.set(plan, (perPlan = new Map()));
  const cached = perPlan.get(id);
  if (cached) return cached;
  const reached = new Set<string>();
  const pending = [id];
  while (pending.length > 0) {
    const upstream = pending.pop()!;
    for (const planned of plan.components.values()) {
      const consumer = planned.config.id;
      if (reached.has(consumer) || !planned.inputs.some((edge) => edge.upstream === upstream)) continue;
      reached.add(consumer);
      pending.push(consumer);
    }
  }
  perPlan.set(id, reached);
  return reached;
}

function consumersByOutput(plan: TopologyPlan): Map<string, string[]> {
  const consumers = new Map<string, string[]>();
  for (const planned of plan.components.values()) {
    for (const edge of planned.inputs) {
      const key = outputKey(edge.upstream, edge.output);
      consumers.set(key, [...(consumers.get(key) ?? []), planned.config.id]);
    }
  }
  return consumers;
}

async function buffersSettled(components: Built[]): Promise<void> {
  await Promise.all(
    components
      .filter((b) => b.config.kind === 'sink' && !b.sinkFailed)
      .map((b) => (b.input as Partial<{ whenFinished: () => Promise<void> }>).whenFinished?.()),
  );
}
