import { z } from 'zod';
import type { Logger } from 'pino';
import { ackAll } from '../event.js';
import type { ComponentMetrics } from '../metrics.js';
import { MemoryBuffer } from './memory.js';
import type { EventBuffer } from './types.js';

/** The `buffer` table of a sink. */
export const bufferOptionsSchema = z
  .strictObject({
    type: z.enum(['memory']).default('memory'),
    max_events: z.number().int().positive().default(500).describe('Events held in memory before when_full applies.'),
    when_full: z.enum(['block', 'drop_newest']).default('block'),
  })
  .default({ type: 'memory', max_events: 500, when_full: 'block' });
export type BufferOptions = z.infer<typeof bufferOptionsSchema>;

export interface BufferContext {
  dataDir: string;
  sinkId: string;
  metrics: ComponentMetrics;
  logger: Logger;
}

export async function createBuffer(options: BufferOptions, ctx: BufferContext): Promise<EventBuffer> {
  return new MemoryBuffer({
    maxEvents: options.max_events,
    whenFull: options.when_full,
    onDrop: (events) => {
      ctx.metrics.discarded('buffer_full', events.length);
      ackAll(events, 'rejected');
    },
  });
}
