// Test helpers for the sluice sink/source pair: a receiver run in-process with a fake downstream,
// a sink run over a hand-fed event stream, and a free port.
import type { EventStream } from '../src/core/component.js';
import { LogEvent } from '../src/core/event.js';
import { Finalizer, type FinalizerOutcome } from '../src/core/finalizer.js';
import { MetricsRegistry } from '../src/core/metrics.js';
import { sluiceSinkSchema } from '../src/sinks/sluice/schema.js';
import { SluiceSink } from '../src/sinks/sluice/sink.js';
import type { Resolver } from '../src/sinks/sluice/endpoints.js';
import { sluiceSourceSchema } from '../src/sources/sluice/schema.js';
import { SluiceSource } from '../src/sources/sluice/receiver.js';
import { freePort, silentLogger } from './harness.js';

export { freePort };


export interface Receiver {
  source: SluiceSource;
  port: number;
  metrics: MetricsRegistry;
  /** What reached the downstream, in order. */
  events: LogEvent[];
  /** 'ack' acks at once, 'reject' rejects, 'hold' keeps events until `release()`. */
  mode: 'ack' | 'reject' | 'hold';
  release(status?: 'delivered' | 'rejected'): void;
  /** Downstream full: `send` returns a promise until `unblock()`. */
  block(): void;
  unblock(): void;
  /** Shut down like the topology does: abort, then close once drained. */
  stop(): Promise<void>;
}

export async function startReceiver(options: Record<string, unknown> = {}): Promise<Receiver> {
  const metrics = new MetricsRegistry();
  const source = new SluiceSource(sluiceSourceSchema.parse({ address: '127.0.0.1:0', ...options }), {
    id: 'agg',
    logger: silentLogger,
    metrics: metrics.forComponent('source', 'agg', 'sluice'),
    dataDir: '',
  });
  const shutdown = new AbortController();
  let unblock: (() => void) | undefined;
  let blocked: Promise<void> | undefined;
  const receiver: Receiver = {
    source,
    port: 0,
    metrics,
    events: [],
    mode: 'ack',
    release(status = 'delivered') {
      for (const event of receiver.events) event.ack(status);
    },
    block() {
      blocked = new Promise<void>((resolve) => (unblock = resolve));
    },
    unblock() {
      blocked = undefined;
      unblock?.();
    },
    async stop() {
      shutdown.abort();
      await running;
      await source.close();
    },
  };
  const running = source.run({
    shutdown: shutdown.signal,
    out: {
      send(events) {
        receiver.events.push(...events);
        if (receiver.mode !== 'hold') for (const event of events) event.ack(receiver.mode === 'ack' ? 'delivered' : 'rejected');
        return blocked;
      },
    },
  });
  while (source.port === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  receiver.port = source.port;
  return receiver;
}

/** Numbered events in batches of `batchSize`, one Finalizer per batch, outcomes recorded. */
export function numberedEvents(count: number, batchSize: number, outcomes: FinalizerOutcome[], extra: Record<string, unknown> = {}): LogEvent[][] {
  const batches: LogEvent[][] = [];
  for (let n = 0; n < count; n += batchSize) {
    const size = Math.min(batchSize, count - n);
    const finalizer = new Finalizer(size, (outcome) => outcomes.push(outcome));
    batches.push(Array.from({ length: size }, (_, i) => new LogEvent({ message: `event ${n + i}`, seq: n + i, ...extra }, finalizer)));
  }
  return batches;
}

export async function* streamOf(batches: LogEvent[][], pauseMs = 0): EventStream {
  for (const batch of batches) {
    yield batch;
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

export function makeSink(options: Record<string, unknown>, resolver?: Resolver): { sink: SluiceSink; metrics: MetricsRegistry } {
  const metrics = new MetricsRegistry();
  const config = sluiceSinkSchema.parse({ request: { retry_initial_backoff_secs: 0.05, retry_max_duration_secs: 0.2, timeout_secs: 5 }, ...options });
  const sink = new SluiceSink(config, { id: 'up', logger: silentLogger, metrics: metrics.forComponent('sink', 'up', 'sluice'), dataDir: '' }, resolver);
  return { sink, metrics };
}
