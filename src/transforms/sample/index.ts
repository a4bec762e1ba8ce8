import { z } from 'zod';
import type { ComponentContext, Transform } from '../../core/component.js';
import { parsePath, type LogEvent } from '../../core/event.js';
import { registerTransform } from '../../core/registry.js';
import { compileCondition, conditionSchema } from '../shared/condition.js';

export const sampleSchema = z.strictObject({
  rate: z.number().int().positive().describe('Keep 1 event in `rate` (1 keeps all). Without `key_field`, every rate-th event is kept, starting with the first.'),
  key_field: z
    .string()
    .min(1)
    .superRefine((path, ctx) => {
      try {
        parsePath(path);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    })
    .optional()
    .describe('Field path (`trace_id`, `kubernetes.pod_uid`) whose value is hashed: events with the same value are kept or dropped together (1 value in `rate` is kept, the same one on every run and every agent). Events without the field fall back to counting.'),
  exclude: conditionSchema.optional().describe('Condition (as `filter`: a CEL string, or `{ type = "vrl", source }` as Vector\'s): events for which it is true are all kept, without the rate field, and do not advance the count.'),
  sample_rate_key: z.string().default('sample_rate').describe('Field set on each kept event to the rate as a string ("10"), so counts can be scaled back up. Empty: add nothing.'),
});

export type SampleConfig = z.infer<typeof sampleSchema>;

/** FNV-1a over the string's UTF-16 code units: stable across runs and hosts, cheap per event. */
export function keyHash(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function createSample(config: SampleConfig, ctx: ComponentContext): Transform {
  const keyPath = config.key_field === undefined ? undefined : parsePath(config.key_field);
  const ratePath = config.sample_rate_key === '' ? undefined : parsePath(config.sample_rate_key);
  const rateText = String(config.rate);
  const excluded = config.exclude === undefined ? undefined : compileCondition(config.exclude, () => ctx.metrics.error('condition_failed'));
  let count = 0;
  return {
    process(events, emit) {
      const kept: LogEvent[] = [];
      let dropped = 0;
      for (const event of events) {
        if (excluded?.(event.fields, event.metadata)) {
          kept.push(event);
          continue;
        }
        const value = keyPath === undefined ? undefined : event.get(keyPath);
        const num = value === undefined || value === null ? count : keyHash(typeof value === 'string' ? value : JSON.stringify(value));
        count = (count + 1) % config.rate;
        if (num % config.rate === 0) {
          if (ratePath !== undefined) event.set(ratePath, rateText);
          kept.push(event);
        } else {
          event.ack('delivered'); // dropped on purpose: finished, not failed
          dropped++;
        }
      }
      if (dropped > 0) ctx.metrics.discarded('sampled_out', dropped);
      if (kept.length > 0) emit(undefined, kept);
    },
  };
}

registerTransform({
  type: 'sample',
  description: 'Keeps 1 event in `rate` (per key_field value when set); the others are dropped and acknowledged.',
  schema: sampleSchema,
  mutatesEvents: true,
  build: createSample,
});
