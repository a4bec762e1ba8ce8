import pino from 'pino';
import type { ComponentContext, EventStream } from '../../src/core/component.js';
import { LogEvent, type Fields } from '../../src/core/event.js';
import { Finalizer, type DeliveryStatus } from '../../src/core/finalizer.js';
import { MetricsRegistry } from '../../src/core/metrics.js';

/** A component context with a silent logger (or a capturing one) and a private metrics registry. */
export function sinkContext(id = 'out', type = 'test', logLines?: string[]): ComponentContext & { registry: MetricsRegistry } {
  const registry = new MetricsRegistry();
  const logger = logLines
    ? pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) })
    : pino({ level: 'silent' });
  return { id, logger, metrics: registry.forComponent('sink', id, type), dataDir: '/nonexistent', registry };
}

/** Records what each event's source was told: the statuses of every release, by event index. */
export class AckRecorder {
  readonly statuses: Array<DeliveryStatus | undefined> = [];
  private waiters: Array<() => void> = [];

  /** One event per fields object, each with its own Finalizer recording its status. */
  events(fieldsList: Fields[]): LogEvent[] {
    return fieldsList.map((fields) => {
      const index = this.statuses.length;
      this.statuses.push(undefined);
      return new LogEvent(fields, new Finalizer(1, ({ rejected }) => this.settle(index, rejected > 0 ? 'rejected' : 'delivered')));
    });
  }

  get settled(): number {
    return this.statuses.filter((s) => s !== undefined).length;
  }

  count(status: DeliveryStatus): number {
    return this.statuses.filter((s) => s === status).length;
  }

  async waitForSettled(count: number): Promise<void> {
    while (this.settled < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private settle(index: number, status: DeliveryStatus): void {
    if (this.statuses[index] !== undefined) throw new Error(`event ${index} acked twice`);
    this.statuses[index] = status;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** An input stream that yields the given batches, then waits for `end()` before finishing. */
export class ControlledStream implements EventStream {
  private readonly queue: LogEvent[][] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  push(events: LogEvent[]): void {
    this.queue.push(events);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LogEvent[]> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

export async function* streamOf(...batches: LogEvent[][]): EventStream {
  for (const batch of batches) yield batch;
}

/** The value of one counter series in a registry, matched by name and label subset. */
export async function metricValue(registry: MetricsRegistry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  let total = 0;
  for (const value of values) {
    const valueLabels = value.labels as Record<string, string | number>;
    if (Object.entries(labels).every(([k, v]) => String(valueLabels[k]) === v)) total += value.value;
  }
  return total;
}
