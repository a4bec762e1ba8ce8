import { LogEvent } from '../../core/event.js';
import { registerTransform } from '../../core/registry.js';
import type { RunContext } from './function.js';
import { NO_METADATA } from './program.js';
import { parseZone } from './stdlib/zones.js';
import { REMAP_EXAMPLES } from './examples.js';
import { buildProgram, remapSchema } from './schema.js';
import type { Obj } from './value.js';

export const DROPPED_OUTPUT = 'dropped';

registerTransform({
  type: 'remap',
  description: 'Runs a Vector Remap Language (VRL) program on each event: parse, reshape, enrich, drop (abort).',
  schema: remapSchema,
  examples: REMAP_EXAMPLES,
  mutatesEvents: true,
  outputs: (config) => (config.reroute_dropped ? [DROPPED_OUTPUT] : []),
  build(config, ctx) {
    const program = buildProgram(config);
    const runContext: RunContext = {
      log: (level, message) => {
        const logger = ctx.logger as unknown as Record<string, (o: object, m: string) => void>;
        (logger[level] ?? logger.info!).call(ctx.logger, { vrl: true }, message);
      },
      env: process.env,
      ...(config.timezone !== undefined ? { timezone: parseZone(config.timezone) } : {}),
    };
    // The original event is needed only when a run that can fail or abort after writing to the
    // event passes the event on (drop_* false) or reroutes it: a failure before any write (the
    // common case: a typed read of `.message` is checked where the program starts) leaves the
    // fields as they came. Keeping it costs an undo note per write and shared copies (~0.4 µs per
    // event for W1's typical program).
    const keepOriginal =
      (program.errorsAfterWrite && (!config.drop_on_error || config.reroute_dropped)) ||
      (program.abortsAfterWrite && (!config.drop_on_abort || config.reroute_dropped));
    return {
      process(events, emit) {
        const out: LogEvent[] = [];
        const dropped: LogEvent[] = [];
        let discarded = 0;
        for (const event of events) {
          const outcome = program.run(event.fields, runContext, event.metadata, keepOriginal);
          if (outcome.kind === 'ok') {
            const results = outcome.events;
            if (results.length === 0) {
              event.ack('delivered');
              continue;
            }
            event.fields = results[0]!;
            if (outcome.meta !== NO_METADATA) event.metadata = outcome.meta;
            out.push(event);
            for (let i = 1; i < results.length; i++) {
              event.finalizer?.retain();
              const split = new LogEvent(results[i]!, event.finalizer);
              split.metadata = event.metadata;
              out.push(split);
            }
            continue;
          }
          ctx.metrics.error(outcome.kind === 'abort' ? 'vrl_abort' : 'vrl_error');
          const drop = outcome.kind === 'abort' ? config.drop_on_abort : config.drop_on_error;
          if (outcome.kind === 'error') ctx.logger.warn({ err: outcome.message }, drop ? 'VRL program failed; event dropped' : 'VRL program failed; event passed on unchanged');
          if (outcome.original !== undefined) event.fields = outcome.original;
          else if (Object.isFrozen(event.fields)) event.fields = { ...event.fields }; // a read of `.` shared it: writable again for what follows
          if (!drop) {
            out.push(event);
          } else if (config.reroute_dropped) {
            const metadata = event.fields.metadata;
            event.fields = {
              ...event.fields,
              metadata: {
                ...(metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata) ? (metadata as Obj) : {}),
                dropped: { reason: outcome.kind, message: outcome.message, component_id: ctx.id, component_type: 'remap', component_kind: 'transform' },
              },
            };
            dropped.push(event);
          } else {
            event.ack('delivered'); // dropped on purpose: finished, not failed
            discarded++;
          }
        }
        if (discarded > 0) ctx.metrics.discarded('vrl_dropped', discarded);
        if (out.length > 0) emit(undefined, out);
        if (dropped.length > 0) emit(DROPPED_OUTPUT, dropped);
      },
    };
  },
});
