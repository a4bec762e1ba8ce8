import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { LogEvent } from '../../core/event.js';
import { registerSource } from '../../core/registry.js';

export const stdinSchema = z.strictObject({
  max_line_bytes: z.number().int().positive().default(102_400).describe('Longer lines are truncated (and counted).'),
  batch_size: z.number().int().positive().default(256).describe('Lines gathered into one batch when input is fast.'),
});

registerSource({
  type: 'stdin',
  description: 'Reads lines from standard input until it closes.',
  schema: stdinSchema,
  build(config, ctx) {
    const host = hostname();
    return {
      async run({ out, shutdown }) {
        const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
        const stop = (): void => lines.close();
        shutdown.addEventListener('abort', stop, { once: true });
        let batch: LogEvent[] = [];
        const flush = async (): Promise<void> => {
          if (batch.length === 0) return;
          const events = batch;
          batch = [];
          ctx.metrics.receivedEvents.inc(events.length);
          const wait = out.send(events);
          if (wait) await wait;
        };
        let flushTimer: NodeJS.Timeout | undefined;
        try {
          for await (let line of lines) {
            if (Buffer.byteLength(line) > config.max_line_bytes) {
              line = Buffer.from(line).subarray(0, config.max_line_bytes).toString();
              ctx.metrics.error('line_truncated');
            }
            batch.push(new LogEvent({ message: line, timestamp: new Date().toISOString(), host, source_type: 'stdin' }));
            if (batch.length >= config.batch_size) await flush();
            else if (!flushTimer) flushTimer = setTimeout(() => ((flushTimer = undefined), void flush()), 10);
          }
        } finally {
          clearTimeout(flushTimer);
          shutdown.removeEventListener('abort', stop);
          await flush();
          process.stdin.pause();
        }
      },
    };
  },
});
