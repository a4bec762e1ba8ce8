import { z } from 'zod';
import { LogEvent } from '../../core/event.js';
import { registerTransform } from '../../core/registry.js';
import { compileCondition, conditionSchema } from '../shared/condition.js';

const UNMATCHED = '_unmatched';

export const routeSchema = z.strictObject({
  route: z
    .record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'route names may use letters, digits, "_" and "-"'), conditionSchema)
    .refine((routes) => Object.keys(routes).length > 0, 'needs at least one route')
    .refine((routes) => !(UNMATCHED in routes), `"${UNMATCHED}" is reserved`)
    .describe('Named conditions (CEL strings, or `{ type = "vrl", source = "..." }` tables); consume a route as `<id>.<name>`, and what matched none as `<id>._unmatched`.'),
});

registerTransform({
  type: 'route',
  description: 'Sends each event to every named output whose CEL condition it matches (`<id>.<name>`); the rest to `<id>._unmatched`.',
  schema: routeSchema,
  mutatesEvents: false,
  outputs: (config) => [...Object.keys(config.route), UNMATCHED],
  build(config, ctx) {
    const routes = Object.entries(config.route).map(([name, condition]) => ({
      name,
      matches: compileCondition(condition, () => ctx.metrics.error('condition_failed')),
    }));
    return {
      process(events, emit) {
        const byRoute = routes.map(() => [] as LogEvent[]);
        const unmatched: LogEvent[] = [];
        for (const event of events) {
          let first: number | undefined;
          for (let r = 0; r < routes.length; r++) {
            if (!routes[r]!.matches(event.fields, event.metadata)) continue;
            if (first === undefined) {
              first = r;
              byRoute[r]!.push(event);
            } else {
              // One more delivery of the same event: its own copy, the same finalizer.
              event.finalizer?.retain();
              byRoute[r]!.push(new LogEvent(event.fields, event.finalizer));
            }
          }
          if (first === undefined) unmatched.push(event);
        }
        routes.forEach((route, r) => byRoute[r]!.length > 0 && emit(route.name, byRoute[r]!));
        if (unmatched.length > 0) emit(UNMATCHED, unmatched);
      },
    };
  },
});
