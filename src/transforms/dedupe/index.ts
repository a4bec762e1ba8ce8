import { z } from 'zod';
import type { ComponentContext, Transform } from '../../core/component.js';
import { parsePath, type LogEvent } from '../../core/event.js';
import { registerTransform } from '../../core/registry.js';
import { fingerprintIgnoring, fingerprintOf, LruSet } from './fingerprint.js';

const fieldPath = z.string().superRefine((path, ctx) => {
  try {
    parsePath(path);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

export const dedupeSchema = z.strictObject({
  fields: z
    .strictObject({
      match: z.array(fieldPath).min(1).optional().describe('Events are duplicates when these fields are all equal (a missing field equals only a missing field).'),
      ignore: z.array(fieldPath).optional().describe('Events are duplicates when all their fields are equal except these (a path also ignores everything under it).'),
    })
    .refine((fields) => (fields.match === undefined) !== (fields.ignore === undefined), 'set one of fields.match and fields.ignore, not both')
    .default({ match: ['timestamp', 'host', 'message'] })
    .describe('Which fields make two events the same: `match` (default `["timestamp", "host", "message"]`) or `ignore`, not both.'),
  cache: z
    .strictObject({
      num_events: z.number().int().positive().default(5000).describe('Events remembered to compare against (least recently seen forgotten first); bounds the memory used.'),
    })
    .default({ num_events: 5000 })
    .describe('The cache of recently seen events.'),
});

export type DedupeConfig = z.infer<typeof dedupeSchema>;

export function createDedupe(config: DedupeConfig, ctx: ComponentContext): Transform {
  const seen = new LruSet(config.cache.num_events);
  let fingerprint: (event: LogEvent) => string;
  if (config.fields.match !== undefined) {
    const paths = config.fields.match.map(parsePath);
    fingerprint = (event) => fingerprintOf(event.fields, paths);
  } else {
    const paths = (config.fields.ignore ?? []).map(parsePath);
    fingerprint = (event) => fingerprintIgnoring(event.fields, paths);
  }
  return {
    process(events, emit) {
      const kept: LogEvent[] = [];
      let dropped = 0;
      for (const event of events) {
        if (seen.touch(fingerprint(event))) {
          event.ack('delivered'); // a duplicate dropped on purpose: finished, not failed
          dropped++;
        } else kept.push(event);
      }
      if (dropped > 0) ctx.metrics.discarded('duplicate', dropped);
      if (kept.length > 0) emit(undefined, kept);
    },
  };
}

registerTransform({
  type: 'dedupe',
  description: 'Drops (and acknowledges) events equal to one among the last cache.num_events seen, compared on fields.match or all but fields.ignore.',
  schema: dedupeSchema,
  mutatesEvents: false,
  build: createDedupe,
});
