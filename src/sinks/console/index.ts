import { z } from 'zod';
import { ackAll } from '../../core/event.js';
import { registerSink } from '../../core/registry.js';
import { EventEncoder, encodingSchema } from '../shared/encoding.js';

export const consoleSchema = z.strictObject({
  target: z.enum(['stdout', 'stderr']).default('stdout').describe('The stream events are written to, one line each.'),
  encoding: encodingSchema.default({ codec: 'json' }).describe('Which fields of each event are shipped and how they are serialized.'),
});

registerSink({
  type: 'console',
  description: 'Prints events to stdout or stderr, one per line (json or text).',
  schema: consoleSchema,
  build(config, ctx) {
    const encoder = new EventEncoder(config.encoding);
    const stream = config.target === 'stdout' ? process.stdout : process.stderr;
    return {
      async run(input) {
        // A closed pipe (`sluice | head`) surfaces through the write callback; without a listener
        // the stream's 'error' event would crash the process instead of failing this sink.
        const ignore = (): void => undefined;
        stream.on('error', ignore);
        for await (const batch of input) {
          let text = '';
          for (const event of batch) text += encoder.encode(event) + '\n';
          // One write per batch; ack once the stream has taken it.
          await new Promise<void>((resolve, reject) => stream.write(text, (error) => (error ? reject(error) : resolve())));
          ctx.metrics.sentEvents.inc(batch.length);
          ctx.metrics.sentBytes.inc(Buffer.byteLength(text));
          ackAll(batch);
        }
      },
    };
  },
});
