// Runs the sluice CLI as a measured child and stops it once a sink has taken the expected events.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMeasured, type Measured } from './measure.js';
import { agentLaunch } from './product-node.js';

/** The CLI to run; BENCH_CLI points at another build (e.g. an older commit built in /tmp, the baseline of a before/after run). */
/** Added to every fixed agent API port of the benches, so that two checkouts can run them at once. */
export const benchPort = (port: number): number => port + Number(process.env.BENCH_PORT_OFFSET ?? 0);

export const CLI = process.env.BENCH_CLI ?? join(import.meta.dirname, '..', '..', 'src', 'cli.js');

export async function sinkSentEvents(port: number, sinkId: string): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const match = text.match(new RegExp(`sluice_component_sent_events_total\\{component_kind="sink",component_id="${sinkId}"[^}]*\\} (\\d+)`));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

export interface AgentRun extends Measured {
  /** Seconds from start until the sink had taken every expected event. */
  secondsToComplete: number;
  sent: number;
}

/**
 * Start sluice with `config` (an object written as JSON, api enabled on `port`), wait until sink
 * `sinkId` reports `expected` events sent (or `timeoutMs`), then SIGTERM and collect the figures.
 * Node runs with the product image's settings, then `nodeArgs`.
 */
export async function runAgentUntil(options: {
  dir: string;
  config: Record<string, unknown>;
  port: number;
  sinkId: string;
  expected: number;
  timeoutMs?: number;
  nodeArgs?: string[];
  /** Another build's CLI (a before/after comparison); default: this tree's. */
  cli?: string;
}): Promise<AgentRun> {
  if ((await fetch(`http://127.0.0.1:${options.port}/health`).catch(() => undefined)) !== undefined)
    throw new Error(`port ${options.port} already answers: a sluice from an earlier run is still running`);
  const configPath = join(options.dir, 'bench-config.json');
  writeFileSync(configPath, JSON.stringify({ ...options.config, api: { enabled: true, address: `127.0.0.1:${options.port}` } }));
  const { nodeArgs, env } = agentLaunch(options.nodeArgs);
  const running = startMeasured(process.execPath, [...nodeArgs, options.cli ?? CLI, '--config', configPath, '--log-level', 'warn'], { env });
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  let sent = 0;
  let completedAt = 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    sent = await sinkSentEvents(options.port, options.sinkId);
    if (sent >= options.expected) {
      completedAt = performance.now();
      break;
    }
    if (Date.now() > deadline || running.child.exitCode !== null) break;
  }
  running.stop();
  const measured = await running.result();
  const secondsToComplete = completedAt ? (completedAt - running.started) / 1000 : measured.wallSeconds;
  return { ...measured, secondsToComplete, sent };
}
