import { z } from 'zod';
import { ackAll } from '../../core/event.js';
import { registerSink } from '../../core/registry.js';

export const blackholeSchema = z.strictObject({
  print_interval_secs: z.number().min(0).default(0).describe('Log the count every N seconds (0 = never).'),
});

registerSink({
  type: 'blackhole',
  description: 'Accepts and counts events, then discards them (for benchmarks).',
  schema: blackholeSchema,
  build(config, ctx) {
    return {
      async run(input) {
        let total = 0;
        const timer =
          config.print_interval_secs > 0
            ? setInterval(() => ctx.logger.info({ events: total }, 'blackhole received'), config.print_interval_secs * 1000)
            : undefined;
        try {
          for await (const batch of input) {
            total += batch.length;
            ctx.metrics.sentEvents.inc(batch.length);
            ackAll(batch);
          }
        } finally {
          clearInterval(timer);
          ctx.logger.info({ events: total }, 'blackhole total');
        }
      },
    };
  },
});
