import type { Logger } from 'pino';
import type { ComponentContext, Sink } from '../component.js';
import type { AgentConfig } from '../config/load.js';
import type { MetricsRegistry } from '../metrics.js';

export const DEFAULT_HEALTHCHECK_TIMEOUT_MS = 10_000;

/** Run a sink's healthcheck; a check that does not answer within `timeoutMs` fails. */
export async function healthcheckWithin(sink: Sink, timeoutMs: number): Promise<void> {
  if (!sink.healthcheck) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sink.healthcheck(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SinkHealth {
  readonly id: string;
  readonly file: string;
  /** `none`: the sink has no healthcheck; `disabled`: `healthcheck.enabled = false`. */
  readonly status: 'passed' | 'failed' | 'none' | 'disabled';
  /** Why the sink could not be built or its healthcheck failed. */
  readonly error?: string;
}

/**
 * The healthcheck of every sink (unless disabled), as the agent runs it at start, without
 * starting anything else: each sink is built (no buffers, no sources) and checked in parallel.
 * For `sluice validate --healthchecks`.
 */
export async function checkSinkHealth(
  config: AgentConfig,
  options: { logger: Logger; metrics: MetricsRegistry; timeoutMs?: number },
): Promise<SinkHealth[]> {
  const sinks = config.components.filter((c) => c.kind === 'sink');
  return Promise.all(
    sinks.map(async (component): Promise<SinkHealth> => {
      if (!component.healthcheck) return { id: component.id, file: component.file, status: 'disabled' };
      const ctx: ComponentContext = {
        id: component.id,
        logger: options.logger.child({ component_kind: component.kind, component_id: component.id, component_type: component.type }),
        metrics: options.metrics.forComponent(component.kind, component.id, component.type),
        dataDir: config.dataDir,
      };
      try {
        const sink = component.definition.build(component.options as never, ctx) as Sink;
        if (!sink.healthcheck) return { id: component.id, file: component.file, status: 'none' };
        await healthcheckWithin(sink, options.timeoutMs ?? DEFAULT_HEALTHCHECK_TIMEOUT_MS);
        return { id: component.id, file: component.file, status: 'passed' };
      } catch (error) {
        return { id: component.id, file: component.file, status: 'failed', error: (error as Error).message };
      }
    }),
  );
}
