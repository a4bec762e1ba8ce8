import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { LogEvent } from '../../core/event.js';
import { registerSource } from '../../core/registry.js';
import { generateLine, type DemoFormat } from './lines.js';

export const demoLogsSchema = z.strictObject({
  format: z
    .enum(['json', 'syslog', 'apache_common', 'shuffle'])
    .default('json')
    .describe('Shape of the generated messages: json (a JSON object), syslog (RFC 5424 lines), apache_common (access log lines), shuffle (random picks from lines).'),
  lines: z.array(z.string()).min(1).optional().describe('For format "shuffle": the lines to pick from.'),
  interval_secs: z.number().min(0).default(1).describe('Pause between batches; 0 = as fast as the sinks take them.'),
  batch_size: z.number().int().positive().default(1).describe('Events per batch.'),
  count: z.number().int().positive().optional().describe('Stop after this many events (default: run until shutdown).'),
});

registerSource({
  type: 'demo_logs',
  description: 'Generates fake log lines, for demos and benchmarks.',
  schema: demoLogsSchema.refine((c) => c.format !== 'shuffle' || c.lines !== undefined, {
    message: 'format "shuffle" needs lines',
    path: ['lines'],
  }),
  build(config, ctx) {
    const host = hostname();
    return {
      async run({ out, shutdown }) {
        let produced = 0;
        const limit = config.count ?? Infinity;
        while (!shutdown.aborted && produced < limit) {
          const size = Math.min(config.batch_size, limit - produced);
          const events: LogEvent[] = [];
          for (let i = 0; i < size; i++) {
            const message = generateLine(config.format as DemoFormat, produced + i, config.lines);
            events.push(new LogEvent({ message, timestamp: new Date().toISOString(), host, service: 'demo', source_type: 'demo_logs' }));
          }
          produced += size;
          ctx.metrics.receivedEvents.inc(size);
          const wait = out.send(events);
          if (wait) await wait;
          if (config.interval_secs > 0 && produced < limit) {
            await sleep(config.interval_secs * 1000, undefined, { signal: shutdown }).catch(() => undefined);
          } else if (produced % 10_000 < size) {
            await new Promise((resolve) => setImmediate(resolve)); // let timers and I/O run
          }
        }
      },
    };
  },
});
