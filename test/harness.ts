// Test helpers: run a topology in-process from a config object, with test-only components.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import '../src/components.js';
import { loadConfig } from '../src/core/config/load.js';
import { LogEvent } from '../src/core/event.js';
import { Finalizer, type FinalizerOutcome } from '../src/core/finalizer.js';
import { MetricsRegistry } from '../src/core/metrics.js';
import { registerSink, registerSource } from '../src/core/registry.js';
import { planTopology } from '../src/core/topology/plan.js';
import { Topology, type TopologyOptions } from '../src/core/topology/runtime.js';

export const silentLogger = pino({ level: 'silent' });

export function tempDir(prefix = 'sluice-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** What the `test_collect` sink with a given `name` received, and how it acks. */
export class Collector {
  readonly events: LogEvent[] = [];
  /** 'ack' acks at once; 'reject' rejects; 'hold' keeps events unacked until release(). */
  mode: 'ack' | 'reject' | 'hold' = 'ack';
  private waiters: Array<() => void> = [];

  get messages(): unknown[] {
    return this.events.map((e) => e.fields.message);
  }

  releaseAll(status: 'delivered' | 'rejected' = 'delivered'): void {
    for (const event of this.events) event.ack(status);
  }

  receive(batch: LogEvent[]): void {
    this.events.push(...batch);
    if (this.mode === 'ack') for (const e of batch) e.ack('delivered');
    if (this.mode === 'reject') for (const e of batch) e.ack('rejected');
    for (const wake of this.waiters.splice(0)) wake();
  }

  async waitFor(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} events, got ${this.events.length}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}

export const collectors = new Map<string, Collector>();

export function collector(name: string): Collector {
  let c = collectors.get(name);
  if (!c) collectors.set(name, (c = new Collector()));
  return c;
}

registerSink({
  type: 'test_collect',
  description: 'Test only: keeps events in memory.',
  schema: z.strictObject({ name: z.string(), never_complete: z.boolean().default(false) }),
  build(config) {
    return {
      async run(input) {
        if (config.never_complete) {
          // Takes one batch and then never asks for more: a sink stuck on a dead destination.
          for await (const batch of input) {
            collector(config.name).receive(batch);
            await new Promise(() => undefined);
          }
        }
        for await (const batch of input) collector(config.name).receive(batch);
      },
    };
  },
});

/** Test source: emits `count` events in batches, one Finalizer per batch; records outcomes. */
export const sourceOutcomes = new Map<string, FinalizerOutcome[]>();

registerSource({
  type: 'test_counter',
  description: 'Test only: emits numbered events with finalizers.',
  schema: z.strictObject({ count: z.number().int().positive(), batch_size: z.number().int().positive().default(10), extra: z.record(z.string(), z.unknown()).default({}) }),
  build(config, ctx) {
    const outcomes: FinalizerOutcome[] = [];
    sourceOutcomes.set(ctx.id, outcomes);
    return {
      async run({ out, shutdown }) {
        for (let n = 0; n < config.count && !shutdown.aborted; n += config.batch_size) {
          const size = Math.min(config.batch_size, config.count - n);
          const finalizer = new Finalizer(size, (outcome) => outcomes.push(outcome));
          const events = Array.from({ length: size }, (_, i) => new LogEvent({ message: `event ${n + i}`, seq: n + i, ...config.extra }, finalizer));
          const wait = out.send(events);
          if (wait) await wait;
        }
      },
    };
  },
});

export interface RunningTopology {
  topology: Topology;
  metrics: MetricsRegistry;
  /** Stop (drain) and delete the temp dir. */
  stop(): Promise<void>;
  /** Wait until every source ended by itself and everything drained. */
  finished(): Promise<void>;
  dir: string;
}

/** Start a topology from a config object (written to a temp JSON file, loaded like any config). */
export async function startTopology(
  config: Record<string, unknown> | ((dir: string) => Record<string, unknown>),
  extra: Partial<Pick<TopologyOptions, 'tap' | 'logger'>> = {},
): Promise<RunningTopology> {
  const dir = tempDir();
  const file = join(dir.path, 'sluice.json');
  const body = typeof config === 'function' ? config(dir.path) : config;
  writeFileSync(file, JSON.stringify({ data_dir: join(dir.path, 'data'), ...body }));
  const agentConfig = loadConfig({ files: [file] });
  const plan = planTopology(agentConfig);
  const metrics = new MetricsRegistry();
  const topology = await Topology.start({ config: agentConfig, plan, logger: silentLogger, metrics, ...extra });
  return {
    topology,
    metrics,
    dir: dir.path,
    async stop() {
      await topology.stop();
      dir.cleanup();
    },
    async finished() {
      await topology.done;
    },
  };
}

export async function waitUntil(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A port free on `host` now (for a server a test starts and must find again after a restart). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
