import type { Logger } from 'pino';
import { ApiListenError, ApiServer } from './api.js';
import { LiveRoutes } from './api-live.js';
import { diffConfigs, isEmptyDiff } from './config/diff.js';
import { ConfigError } from './config/errors.js';
import { watchConfig } from './config/watch.js';
import { loadConfigAndComponents, type AgentConfig, type ConfigSources } from './config/load.js';
import { lockDataDir } from './data-dir-lock.js';
import { holdProcessOpen } from './lifecycle.js';
import { MetricsRegistry } from './metrics.js';
import { Readiness } from './readiness.js';
import { TapHub } from './tap.js';
import { planTopology, type TopologyPlan } from './topology/plan.js';
import { ExitCode } from './exit-code.js';
import { StartAbortedError, Topology } from './topology/runtime.js';

export { ExitCode } from './exit-code.js';

export interface AgentOptions {
  config: ConfigSources;
  logger: Logger;
  gracefulShutdownLimitSecs: number;
  requireHealthy: boolean;
  /** Reload when a config file changes (`--watch-config`), as on SIGHUP. */
  watchConfig?: boolean;
  /** Called when the process should end right now (second signal, shutdown limit). */
  exitNow?: (code: number) => void;
}

/** Load, start, run until the sources end or a signal arrives, drain, and return the exit code. */
export async function runAgent(options: AgentOptions): Promise<number> {
  // An agent runs until told to stop, whether or not its components hold the event loop open.
  const hold = holdProcessOpen(options.logger);
  // From the first moment: Node's default for SIGHUP ends the process (exit 129, no drain).
  let earlyHangup = false;
  const onEarlyHangup = (): void => {
    earlyHangup = true;
  };
  process.on('SIGHUP', onEarlyHangup);
  try {
    return await run(options, () => {
      process.off('SIGHUP', onEarlyHangup);
      return earlyHangup;
    });
  } finally {
    process.off('SIGHUP', onEarlyHangup);
    hold.release();
  }
}

async function run(options: AgentOptions, takeEarlyHangup: () => boolean): Promise<number> {
  const { logger } = options;
  const exitNow = options.exitNow ?? ((code: number) => process.exit(code));
  let config = await loadConfigAndComponents(options.config);
  let plan = planTopology(config);
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
  const startAbort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal: exiting now without draining');
      exitNow(128 + (signal === 'SIGINT' ? 2 : 15));
      return;
    }
    shuttingDown = true;
    logger.info({ signal, limit_secs: options.gracefulShutdownLimitSecs }, 'signal received: draining');
    if (api) api.phase = 'draining';
    startAbort.abort();
    const deadline = setTimeout(() => {
      logger.error({ limit_secs: options.gracefulShutdownLimitSecs }, 'graceful shutdown limit reached: exiting with events in flight (they are re-read on restart)');
      exitNow(ExitCode.shutdownTimeout);
    }, options.gracefulShutdownLimitSecs * 1000);
    deadline.unref();
    void topology?.stop();
  };

  const startTopology = (next: AgentConfig, nextPlan: TopologyPlan): Promise<Topology> =>
    Topology.start({
      config: next,
      plan: nextPlan,
      logger,
      metrics,
      readiness,
      requireHealthy: options.requireHealthy,
      // With an API a probe can see `/started` stay 503: wait for the sinks rather than exit.
      waitUntilHealthy: api !== undefined,
      startAbort: startAbort.signal,
      tap,
    });

  // Reloads run one after the other; a swap is the stop of the running topology and the start of the next.
  const reloads = metrics.counter('sluice_config_reloads_total', 'Config reloads (SIGHUP, --watch-config), by result.', ['result']);
  for (const result of ['ok', 'rejected', 'failed']) reloads.inc({ result }, 0);
  let reloadChain: Promise<void> = Promise.resolve();
  let swap: Promise<void> = Promise.resolve();
  let reloadBeforeStart: string | undefined;
  const requestReload = (trigger: string): void => {
    if (shuttingDown) {
      logger.info({ trigger }, 'config reload ignored: shutting down');
      return;
    }
    if (!topology) {
      reloadBeforeStart = trigger; // still starting: reload once it runs
      return;
    }
    // A failed swap is reported by the run loop (it awaits `swap`), not as an unhandled rejection here.
    reloadChain = reloadChain.then(() => reload(trigger)).catch(() => undefined);
  };
  const reload = async (trigger: string): Promise<void> => {
    if (shuttingDown || !topology || topology.state !== 'running') return;
    logger.info({ trigger, files: options.config }, 'reloading config');
    let next: AgentConfig;
    let nextPlan: TopologyPlan;
    try {
      next = await loadConfigAndComponents(options.config);
      nextPlan = planTopology(next);
    } catch (error) {
      if (!(error instanceof ConfigError)) {
        reloads.inc({ result: 'failed' });
        logger.error({ trigger, err: (error as Error).message }, 'config reload failed: the running config stays');
        return;
      }
      reloads.inc({ result: 'rejected' });
      for (const problem of error.problems) logger.error({ trigger, problem }, `config reload rejected: ${problem}`);
      logger.error({ trigger, problems: error.problems.length }, 'config reload rejected: the running config stays');
      return;
    }
    const diff = diffConfigs(config, next);
    if (diff.restartOnly.length > 0) {
      reloads.inc({ result: 'rejected' });
      for (const key of diff.restartOnly) logger.error({ trigger, key }, `config reload rejected: ${key} changed; it takes effect only on restart`);
      logger.error({ trigger }, 'config reload rejected: the running config stays');
      return;
    }
    if (isEmptyDiff(diff)) {
      reloads.inc({ result: 'ok' });
      logger.info({ trigger, rebuilt: [], unchanged: diff.unchanged }, 'config reloaded: unchanged, nothing rebuilt');
      return;
    }
    for (const warning of nextPlan.warnings) logger.warn(warning);
    const old = topology;
    const summary = `changed: ${diff.changed.join(', ') || 'none'}; added: ${diff.added.join(', ') || 'none'}; removed: ${diff.removed.join(', ') || 'none'}`;
    // Swap the changed components in place; the others keep running (a kubernetes_logs source
    // keeps its files open); sources feeding replaced components have their outputs held meanwhile.
    swap = (async () => {
      try {
        const result = await old.reconfigure(next, nextPlan, diff);
        config = next;
        plan = nextPlan;
        reloads.inc({ result: 'ok' });
        const kept = [...nextPlan.components.keys()].filter((id) => !result.rebuilt.includes(id));
        logger.info(
          { trigger, rebuilt: result.rebuilt, removed: result.removed, kept, paused: result.paused },
          `config reloaded: rebuilt ${result.rebuilt.length} component(s) in place (${summary}); kept running: ${kept.join(', ') || 'none'}`,
        );
      } catch (error) {
        reloads.inc({ result: 'failed' });
        if (old.state === 'running') {
          // Refused before anything stopped (a component that cannot be built).
          logger.error({ trigger, err: (error as Error).message }, 'config reload failed: the running config stays');
          return;
        }
        logger.error({ trigger, err: (error as Error).message }, 'config reload failed while swapping components; restarting the previous config');
        await old.done;
        if (shuttingDown) return;
        await old.buffersSettled();
        old.failure = undefined;
        topology = await startTopology(config, plan);
      }
    })();
    await swap;
  };
  const onHangup = (): void => requestReload('SIGHUP');
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // SIGHUP reloads the config; by default Node would end the process (exit 129, no drain).
  process.on('SIGHUP', onHangup);
  if (takeEarlyHangup()) requestReload('SIGHUP');
  const watcher = options.watchConfig ? watchConfig(options.config, logger, () => requestReload('config file changed')) : undefined;

  try {
    topology = await startTopology(config, plan);
    registerBufferGauge(metrics, () => topology);
    if (shuttingDown) void topology.stop();
    else if (api) api.phase = 'running';
    logger.info({ components: plan.components.size, files: config.files }, 'sluice started');
    if (reloadBeforeStart !== undefined) requestReload(reloadBeforeStart);
    for (;;) {
      const running: Topology = topology;
      await running.done;
      // Stopped for a reload: go on with the topology that replaced it.
      try {
        await swap;
      } catch (error) {
        logger.error({ err: (error as Error).message }, 'config reload failed: the previous config did not start again either');
        return ExitCode.failed;
      }
      if (topology === running) break;
      if (shuttingDown) void topology.stop();
    }
    if (api) api.phase = 'stopped';
    if (topology.failure) {
      logger.error({ err: topology.failure.message }, 'stopped after a failure');
      return ExitCode.failed;
    }
    logger.info('stopped cleanly');
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof StartAbortedError) {
      logger.warn({ unhealthy: error.unhealthy }, error.message);
      return ExitCode.ok;
    }
    logger.error({ err: (error as Error).message }, 'startup failed');
    return ExitCode.failed;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('SIGHUP', onHangup);
    watcher?.close();
    await api?.close();
    dataDirLock.release();
  }
}

function registerBufferGauge(metrics: MetricsRegistry, current: () => Topology | undefined): void {
  const labels = ['component_kind', 'component_id', 'component_type'] as const;
  const depth = metrics.gauge('sluice_component_buffer_events', 'Events waiting in the buffer in front of a component.', labels);
  const capacity = metrics.gauge('sluice_component_buffer_max_events', 'Capacity in events of the buffer in front of a component.', labels);
  // Sampled at scrape time (of the topology running now: a reload replaces it): no per-event gauge updates on the hot path.
  const sample = (gauge: typeof depth, value: (c: ReturnType<Topology['componentStats']>[number]) => number | undefined) => (): void => {
    for (const c of current()?.componentStats() ?? []) {
      const v = value(c);
      if (v !== undefined) gauge.set({ component_kind: c.kind, component_id: c.id, component_type: c.type }, v);
    }
  };
  (depth as unknown as { collect?: () => void }).collect = sample(depth, (c) => c.buffer_events);
  (capacity as unknown as { collect?: () => void }).collect = sample(capacity, (c) => c.buffer_max_events);
}
