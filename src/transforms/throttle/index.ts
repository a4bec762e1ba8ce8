import { z } from 'zod';
import type { Transform, ComponentContext } from '../../core/component.js';
import type { LogEvent } from '../../core/event.js';
import { registerTransform } from '../../core/registry.js';
import { FieldTemplate, templateProblem } from '../../core/template.js';
import { compileCondition, conditionSchema } from '../shared/condition.js';
import { KeyedRateLimiter } from './limiter.js';

export const throttleSchema = z.strictObject({
  threshold: z.number().int().positive().describe('Events allowed per key per window: the bucket holds this many, refilled evenly over `window_secs` (a burst of `threshold`, then one every window_secs/threshold seconds).'),
  window_secs: z.number().positive().describe('Length of the window, in seconds, over which `threshold` applies.'),
  key_field: z
    .string()
    .min(1)
    .superRefine((source, ctx) => {
      const problem = templateProblem(source);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .describe('Field template (`{{ kubernetes.pod_name }}`) naming the bucket of each event; each value is throttled on its own. Unset, or when a referenced field is missing, the event goes to the one shared bucket (as Vector).'),
  exclude: conditionSchema.optional().describe('Condition (as `filter`: a CEL string, or `{ type = "vrl", source }` as Vector\'s): events for which it is true pass unthrottled and use no bucket.'),
  max_keys: z
    .number()
    .int()
    .positive()
    .default(100_000)
    .describe('sluice only: most buckets kept at once. Beyond it the least recently used bucket is forgotten (its key starts afresh with a full bucket); idle buckets are also forgotten once refilled, at most one window after their last event.'),
});

export type ThrottleConfig = z.infer<typeof throttleSchema>;

/** The transform with an injectable clock (milliseconds), for tests. */
export function createThrottle(config: ThrottleConfig, ctx: ComponentContext, now: () => number = Date.now): Transform {
  const limiter = new KeyedRateLimiter({ threshold: config.threshold, windowMs: config.window_secs * 1000, maxKeys: config.max_keys });
  const key = config.key_field === undefined ? undefined : new FieldTemplate(config.key_field);
  const excluded = config.exclude === undefined ? undefined : compileCondition(config.exclude, () => ctx.metrics.error('condition_failed'));
  return {
    process(events, emit) {
      const time = now();
      const kept: LogEvent[] = [];
      let dropped = 0;
      for (const event of events) {
        if (excluded?.(event.fields, event.metadata)) {
          kept.push(event);
          continue;
        }
        let bucket: string | undefined;
        if (key !== undefined) {
          let missing = false;
          const rendered = key.render(event.fields, () => (missing = true));
          bucket = missing ? undefined : rendered;
        }
        if (limiter.allow(bucket, time)) kept.push(event);
        else {
          event.ack('delivered'); // dropped on purpose: finished, not failed; never holds the source back
          dropped++;
        }
      }
      if (dropped > 0) ctx.metrics.discarded('throttled', dropped);
      if (kept.length > 0) emit(undefined, kept);
    },
  };
}

registerTransform({
  type: 'throttle',
  description: 'Rate-limits events per key (threshold per window_secs); the excess is dropped and acknowledged.',
  schema: throttleSchema,
  mutatesEvents: false,
  build: (config, ctx) => createThrottle(config, ctx),
});
