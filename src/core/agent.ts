import type { Logger } from 'pino';
import { ApiListenError, ApiServer } from './api.js';
import { LiveRoutes } from './api-live.js';
import { loadConfig, type ConfigSources } from './config/load.js';
import { lockDataDir } from './data-dir-lock.js';
import { holdProcessOpen } from './lifecycle.js';
import { MetricsRegistry } from './metrics.js';
import { Readiness } from './readiness.js';
import { TapHub } from './tap.js';
import { planTopology } from './topology/plan.js';
import { Topology } from './topology/runtime.js';

/** Process exit codes (documented in the README). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  config: 78,
  shutdownTimeout: 124,
} as const;

export interface AgentOptions {
  config: ConfigSources;
  logger: Logger;
  gracefulShutdownLimitSecs: number;
  requireHealthy: boolean;
  /** Called when the process should end right now (second signal, shutdown limit). */
  exitNow?: (code: number) => void;
}

/** Load, start, run until the sources end or a signal arrives, drain, and return the exit code. */
export async function runAgent(options: AgentOptions): Promise<number> {
  // An agent runs until told to stop, whether or not its components hold the event loop open.
  const hold = holdProcessOpen(options.logger);
  try {
    return await run(options);
  } finally {
    hold.release();
  }
}

async function run(options: AgentOptions): Promise<number> {
  const { logger } = options;
  const exitNow = options.exitNow ?? ((code: number) => process.exit(code));
  const config = loadConfig(options.config);
  const plan = planTopology(config);
  for (const warning of plan.warnings) logger.warn(warning);
  const dataDirLock = await lockDataDir(config.dataDir, logger);
  if (!dataDirLock) return ExitCode.failed;

  const metrics = new MetricsRegistry({ processMetrics: true });
  const readiness = new Readiness();
  const api = config.api.enabled ? new ApiServer(metrics, logger, readiness) : undefined;
  if (api) {
    try {
      await api.listen(config.api.address);
    } catch (error) {
      dataDirLock.release();
      // A busy or forbidden port is an operator's mistake: say which address and why, no stack.
      if (!(error instanceof ApiListenError)) throw error;
      logger.error({ address: error.address, code: error.code }, error.message);
      return ExitCode.failed;
    }
  }

  let topology: Topology | undefined;
  // Live view: without an API nobody can tap, and the Fanouts get no hub to check.
  const tap = api ? new TapHub(metrics) : undefined;
  if (api && tap) api.live = new LiveRoutes({ hub: tap, tapFromNetwork: config.api.tapFromNetwork, components: () => topology?.componentStats() ?? [] });
  let shuttingDown = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal: exiting now without draining');
      exitNow(128 + (signal === 'SIGINT' ? 2 : 15));
      return;
    }
    shuttingDown = true;
    logger.info({ signal, limit_secs: options.gracefulShutdownLimitSecs }, 'signal received: draining');
    if (api) api.phase = 'draining';
    const deadline = setTimeout(() => {
      logger.error({ limit_secs: options.gracefulShutdownLimitSecs }, 'graceful shutdown limit reached: exiting with events in flight (they are re-read on restart)');
      exitNow(ExitCode.shutdownTimeout);
    }, options.gracefulShutdownLimitSecs * 1000);
    deadline.unref();
    void topology?.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    topology = await Topology.start({ config, plan, logger, metrics, readiness, requireHealthy: options.requireHealthy, tap });
    registerBufferGauge(metrics, topology);
    if (shuttingDown) void topology.stop();
    else if (api) api.phase = 'running';
    logger.info({ components: plan.components.size, files: config.files }, 'sluice started');
    await topology.done;
    if (api) api.phase = 'stopped';
    if (topology.failure) {
      logger.error({ err: topology.failure.message }, 'stopped after a failure');
      return ExitCode.failed;
    }
    logger.info('stopped cleanly');
    return ExitCode.ok;
  } catch (error) {
    logger.error({ err: (error as Error).message }, 'startup failed');
    return ExitCode.failed;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await api?.close();
    dataDirLock.release();
  }
}

function registerBufferGauge(metrics: MetricsRegistry, topology: Topology): void {
  const labels = ['component_kind', 'component_id', 'component_type'] as const;
  const depth = metrics.gauge('sluice_component_buffer_events', 'Events waiting in the buffer in front of a component.', labels);
  const capacity = metrics.gauge('sluice_component_buffer_max_events', 'Capacity in events of the buffer in front of a component.', labels);
  // Sampled at scrape time: no per-event gauge updates on the hot path.
  const sample = (gauge: typeof depth, value: (c: ReturnType<Topology['componentStats']>[number]) => number | undefined) => (): void => {
    for (const c of topology.componentStats()) {
      const v = value(c);
      if (v !== undefined) gauge.set({ component_kind: c.kind, component_id: c.id, component_type: c.type }, v);
    }
  };
  (depth as unknown as { collect?: () => void }).collect = sample(depth, (c) => c.buffer_events);
  (capacity as unknown as { collect?: () => void }).collect = sample(capacity, (c) => c.buffer_max_events);
}
