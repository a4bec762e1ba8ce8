import { z } from 'zod';
import type { ComponentContext, Transform } from '../../core/component.js';
import { parsePath, type LogEvent } from '../../core/event.js';
import { registerTransform } from '../../core/registry.js';
import { LogBudget } from '../../core/log-budget.js';
import { compileCondition, conditionSchema } from '../shared/condition.js';
import { MERGE_STRATEGIES, type MergeStrategy } from './mergers.js';
import { REDUCE_EXAMPLES } from './examples.js';
import { pathKey, Reducer, type FlushReason } from './reducer.js';

const fieldPath = z.string().min(1).superRefine((path, ctx) => {
  try {
    parsePath(path);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

export const reduceSchema = z
  .strictObject({
    group_by: z.array(fieldPath).default([]).describe('Fields whose values make a group: events with equal values (a missing field is its own value) are reduced together. Empty: one group for all events.'),
    merge_strategies: z
      .record(fieldPath, z.enum(MERGE_STRATEGIES))
      .default({})
      .describe(
        'How a field\'s values are merged, by field path: array, concat (strings joined by a space, arrays appended), concat_newline, concat_raw (no separator), discard (the first), retain (the last non-null), sum, max, min, flat_unique (distinct values, arrays and objects flattened one level), longest_array, shortest_array. Other fields: numbers are summed, the top-level `timestamp` (and timestamps) keep the first and add `<field>_end` with the last, anything else keeps the first. Objects are merged field by field, except shared metadata objects (frozen, such as `kubernetes`), which keep the first unless a strategy names a field inside.',
      ),
    starts_when: conditionSchema
      .optional()
      .describe(
        'Condition: an event for which it is true ends the group before it and starts a new one. `{ type = "vrl", source = "..." }` is VRL as Vector\'s; a plain string is CEL (as `filter`; Vector reads a plain string as VRL). Not with ends_when.',
      ),
    ends_when: conditionSchema
      .optional()
      .describe('Condition (VRL table or CEL string, as starts_when): an event for which it is true is the last of its group, which is then emitted. Not with starts_when.'),
    expire_after_ms: z.number().int().min(1).default(30_000).describe('A group that took no event for this long is emitted.'),
    flush_period_ms: z.number().int().min(10).default(1000).describe('How often groups are checked for expire_after_ms and end_every_period_ms.'),
    end_every_period_ms: z.number().int().min(1).optional().describe('A group this old (since its first event) is emitted, however busy.'),
    max_events: z.number().int().min(1).optional().describe('A group that reaches this many events is emitted.'),
    max_bytes: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('A group is emitted before an event would take it over this size (approximate in-memory bytes); a single event over it is a group of one.'),
    max_groups: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe('sluice only: most groups held at once; a new group beyond it first emits the group that has waited longest (counted: sluice_reduce_flushed_events_total{reason="max_groups"}, and logged).'),
    max_total_bytes: z
      .number()
      .int()
      .min(1024)
      .default(256 * 1024 * 1024)
      .describe('sluice only: most bytes (approximate) held over all groups; beyond it the groups that waited longest are emitted (counted as reason="max_total_bytes", and logged).'),
  })
  .superRefine((config, ctx) => {
    if (config.starts_when !== undefined && config.ends_when !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'only one of starts_when and ends_when can be set (as Vector)', path: ['ends_when'] });
    }
  });

export type ReduceConfig = z.infer<typeof reduceSchema>;

/** The transform with an injectable clock (milliseconds), for tests. */
export function createReduce(config: ReduceConfig, ctx: ComponentContext, now: () => number = Date.now): Transform {
  const conditionFailed = () => ctx.metrics.error('condition_failed');
  const strategies = new Map<string, { path: readonly string[]; strategy: MergeStrategy }>();
  for (const [field, strategy] of Object.entries(config.merge_strategies)) {
    const path = parsePath(field);
    strategies.set(pathKey(path), { path, strategy });
  }
  const flushedEvents = ctx.metrics.counter('sluice_reduce_flushed_events_total', 'Events merged into reduced events, by what ended their group.', ['reason']);
  const limitLogs = new LogBudget(5);
  const mergeLogs = new LogBudget(5);
  const reducer = new Reducer({
    groupBy: config.group_by.map(parsePath),
    strategies,
    startsWhen: config.starts_when === undefined ? undefined : compileCondition(config.starts_when, conditionFailed),
    endsWhen: config.ends_when === undefined ? undefined : compileCondition(config.ends_when, conditionFailed),
    expireAfterMs: config.expire_after_ms,
    endEveryPeriodMs: config.end_every_period_ms,
    maxEvents: config.max_events,
    maxBytes: config.max_bytes,
    maxGroups: config.max_groups,
    maxTotalBytes: config.max_total_bytes,
    mergeFailed(path, message) {
      ctx.metrics.error('merge_failed');
      const suppressed = mergeLogs.take();
      if (suppressed !== undefined) ctx.logger.warn({ field: path.join('.'), suppressed }, `reduce: a value left out of the merge: ${message}`);
    },
    flushed(reason: FlushReason, events: number) {
      flushedEvents.inc({ ...ctx.metrics.labels, reason }, events);
      if (reason !== 'max_groups' && reason !== 'max_total_bytes') return;
      ctx.metrics.error(reason === 'max_groups' ? 'reduce_max_groups' : 'reduce_max_total_bytes');
      const suppressed = limitLogs.take();
      if (suppressed !== undefined) {
        ctx.logger.warn(
          { reason, max_groups: config.max_groups, max_total_bytes: config.max_total_bytes, suppressed },
          'reduce: a group was emitted early to stay within its memory bounds',
        );
      }
    },
  });
  const groupsGauge = ctx.metrics.gauge('sluice_reduce_groups', 'Groups the reduce transform holds.').labels(ctx.metrics.labels);
  const emitted = (out: LogEvent[], emit: (output: string | undefined, events: LogEvent[]) => void): void => {
    groupsGauge.set(reducer.size);
    if (out.length > 0) emit(undefined, out);
  };
  return {
    flushPeriodMs: config.flush_period_ms,
    process(events, emit) {
      const time = now();
      const out: LogEvent[] = [];
      for (const event of events) reducer.add(event, time, out);
      emitted(out, emit);
    },
    flush(emit, final) {
      const out: LogEvent[] = [];
      if (final) reducer.flushAll(out);
      else reducer.flushDue(now(), out);
      emitted(out, emit);
    },
  };
}

registerTransform({
  type: 'reduce',
  description: 'Merges the events of a group (group_by) into one until starts_when / ends_when, a limit or expire_after_ms ends it; the merged event acknowledges all its parts.',
  schema: reduceSchema,
  examples: REDUCE_EXAMPLES,
  // Groups keep references to their events' values (arrays, objects): each branch gets its own copy.
  mutatesEvents: true,
  build: (config, ctx) => createReduce(config, ctx),
});
