import { readdirSync, readlinkSync } from 'node:fs';
import { pino } from 'pino';
import type { ComponentContext, EventOutput, Source } from '../src/core/component.js';
import type { LogEvent } from '../src/core/event.js';
import { MetricsRegistry } from '../src/core/metrics.js';

/**
 * Drives a source directly (no topology): an output that collects events and acknowledges
 * them at once, in reverse order, or when the test says; and can block like a full queue.
 */
export class CollectingOutput implements EventOutput {
  readonly events: LogEvent[] = [];
  readonly held: LogEvent[][] = [];
  batches = 0;
  private gate: { promise: Promise<void>; open: () => void } | undefined;

  constructor(public ackMode: 'immediate' | 'hold' = 'immediate') {}

  send(events: LogEvent[]): Promise<void> | undefined {
    this.batches++;
    for (const event of events) this.events.push(event);
    if (this.ackMode === 'immediate') for (const event of events) event.ack();
    else this.held.push(events);
    return this.gate?.promise;
  }

  /** The next sends return a promise that resolves on `unblock` (a full downstream queue). */
  block(): void {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
  }

  unblock(): void {
    const gate = this.gate;
    this.gate = undefined;
    gate?.open();
  }

  /** Acknowledges every held event, batches in reverse order (acks arrive out of order). */
  ackHeldReversed(): void {
    for (const batch of this.held.splice(0).reverse()) for (const event of [...batch].reverse()) event.ack();
  }

  messages(filter?: (event: LogEvent) => boolean): string[] {
    return this.events.filter((e) => !filter || filter(e)).map((e) => e.fields.message as string);
  }
}

export interface RunningSource {
  stop(): Promise<void>;
}

/** Starts `source.run`; `stop` aborts it, waits for run to return, then calls `close`. */
export function startSource(source: Source, out: EventOutput): RunningSource {
  const controller = new AbortController();
  const running = source.run({ out, shutdown: controller.signal });
  return {
    async stop() {
      controller.abort();
      await running;
      await source.close?.();
    },
  };
}

export function testContext(dataDir: string, id = 'logs', type = 'kubernetes_logs'): { ctx: ComponentContext; metrics: MetricsRegistry } {
  const metrics = new MetricsRegistry();
  const ctx: ComponentContext = {
    id,
    // SLUICE_TEST_DEBUG_LOG=<file>: the component's debug log, to investigate a failing test.
    logger: process.env.SLUICE_TEST_DEBUG_LOG ? pino({ level: 'debug' }, pino.destination(process.env.SLUICE_TEST_DEBUG_LOG)) : pino({ level: 'silent' }),
    metrics: metrics.forComponent('source', id, type),
    dataDir,
  };
  return { ctx, metrics };
}

export async function errorCount(metrics: MetricsRegistry, reason: string): Promise<number> {
  const metric = metrics.registry.getSingleMetric('sluice_component_errors_total');
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => v.labels.reason === reason).reduce((sum, v) => sum + v.value, 0);
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Paths this process holds open under `dir` (from /proc/self/fd; " (deleted)" marks unlinked files). */
export function openFilesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) found.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return found;
}
