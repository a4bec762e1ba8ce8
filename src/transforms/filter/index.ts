import { z } from 'zod';
import { registerTransform } from '../../core/registry.js';
import type { LogEvent } from '../../core/event.js';
import { compileCondition, conditionSchema } from '../shared/condition.js';

export const filterSchema = z.strictObject({
  condition: conditionSchema.describe('Condition: a CEL string, or `{ type = "vrl", source = "..." }` (VRL, as Vector\'s); events for which it is true pass, the others are dropped.'),
});

registerTransform({
  type: 'filter',
  description: 'Keeps the events that match a CEL condition and drops the rest.',
  schema: filterSchema,
  mutatesEvents: false,
  build(config, ctx) {
    const matches = compileCondition(config.condition, () => ctx.metrics.error('condition_failed'));
    return {
      process(events, emit) {
        const kept: LogEvent[] = [];
        let dropped = 0;
        for (const event of events) {
          if (matches(event.fields, event.metadata)) kept.push(event);
          else {
            event.ack('delivered'); // dropped on purpose: finished, not failed
            dropped++;
          }
        }
        if (dropped > 0) ctx.metrics.discarded('filtered', dropped);
        if (kept.length > 0) emit(undefined, kept);
      },
    };
  },
});
