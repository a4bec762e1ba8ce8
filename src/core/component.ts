import type { Logger } from 'pino';
import type { z } from 'zod';
import type { LogEvent } from './event.js';
import type { ComponentMetrics } from './metrics.js';

export type ComponentKind = 'source' | 'transform' | 'sink';

/** What every component gets when it is built. */
export interface ComponentContext {
  /** The component id from the config (`[sinks.out]` -> `out`). */
  readonly id: string;
  readonly logger: Logger;
  readonly metrics: ComponentMetrics;
  /** Global `data_dir`; components keep their state under `<data_dir>/<id>/`. */
  readonly dataDir: string;
  /**
   * Ids of the components this one's events reach, directly or through transforms, in the
   * running topology (follows reloads). For a source that must not see what its own pipeline does.
   */
  readonly downstream?: () => ReadonlySet<string>;
}

/**
 * Where a source or transform sends events. Returns a promise only when a downstream queue is
 * full: awaiting it is how backpressure reaches the source.
 */
export interface EventOutput {
  send(events: LogEvent[]): Promise<void> | undefined;
}

export interface SourceRunContext {
  readonly out: EventOutput;
  /** Aborted when the agent shuts down: stop reading, return from run(). */
  readonly shutdown: AbortSignal;
}

export interface Source {
  /** Produce events until `shutdown` is aborted (or the input ends), then resolve. */
  run(ctx: SourceRunContext): Promise<void>;
  /**
   * Called once every sink has drained (all acknowledgements that will come have come):
   * the place to persist final state such as checkpoints.
   */
  close?(): Promise<void>;
}

export interface Transform {
  /**
   * Synchronous per batch. Emit on the default output with `emit(undefined, events)` or on a
   * named one (`route`). An event that is dropped must be acked (`event.ack()`), or its source
   * waits for it forever.
   */
  process(events: LogEvent[], emit: (output: string | undefined, events: LogEvent[]) => void): void;
  /**
   * For transforms that hold events across batches (reduce): called every `flushPeriodMs` with
   * `final` false (emit what is due), and once with `final` true when the input ends (emit all).
   */
  flush?(emit: (output: string | undefined, events: LogEvent[]) => void, final: boolean): void;
  readonly flushPeriodMs?: number;
}

/** The batches a sink consumes; ends when every upstream component has shut down and drained. */
export type EventStream = AsyncIterable<LogEvent[]>;

export interface Sink {
  /** Checked once at startup when `healthcheck.enabled` (default true). Throw to report failure. */
  healthcheck?(): Promise<void>;
  /**
   * Consume until the stream ends, flush, resolve. Every event must be acked exactly once:
   * 'delivered' once durably accepted, 'rejected' once rejected for good.
   */
  run(input: EventStream): Promise<void>;
}

/** A config block for the reference (docs/reference/): validated against the schema by a test. */
export interface ComponentExample {
  readonly title: string;
  readonly description?: string;
  /** The component's table as in a config file (`[transforms.app_logs]`, `type`, `inputs`, options). */
  readonly toml: string;
}

export interface ComponentDefinition<Schema extends z.ZodType = z.ZodType, Built = unknown> {
  readonly kind: ComponentKind;
  readonly type: string;
  readonly description: string;
  /** Typical configurations, shown first on the component's reference page. */
  readonly examples?: readonly ComponentExample[];
  /** Options besides `type` and `inputs` (and, for sinks, `buffer`/`healthcheck`, which the core owns). */
  readonly schema: Schema;
  build(config: z.infer<Schema>, ctx: ComponentContext): Built;
}

export interface SourceDefinition<S extends z.ZodType = z.ZodType> extends ComponentDefinition<S, Source> {
  readonly kind: 'source';
}

export interface TransformDefinition<S extends z.ZodType = z.ZodType> extends ComponentDefinition<S, Transform> {
  readonly kind: 'transform';
  /** Named outputs besides the default one, addressed as `<id>.<output>` in `inputs`. */
  outputs?(config: z.infer<S>): string[];
  /** Whether the transform changes events in place: fan-out then hands it a copy. */
  readonly mutatesEvents: boolean;
}

export interface SinkDefinition<S extends z.ZodType = z.ZodType> extends ComponentDefinition<S, Sink> {
  readonly kind: 'sink';
}

export type AnyDefinition = SourceDefinition | TransformDefinition | SinkDefinition;
