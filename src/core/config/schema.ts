import { z } from 'zod';
import { bufferOptionsSchema } from '../buffers/options.js';

/** Options of the agent itself (top level of a config file, besides the component tables). */
export const globalOptionsSchema = z.strictObject({
  data_dir: z.string().min(1).optional().describe('Where checkpoints and disk buffers live (default /var/lib/sluice).'),
  api: z
    .strictObject({
      enabled: z.boolean().optional(),
      address: z
        .string()
        .regex(/^[^:]*:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/, 'expected host:port')
        .optional(),
      tap_from_network: z
        .boolean()
        .optional()
        .describe('Serve `sluice tap` (live events, i.e. log data) to clients that are not on the loopback address (default false: they get 403).'),
    })
    .optional(),
});

export const componentIdPattern = /^[A-Za-z0-9_-]+$/;

const componentTable = z.record(z.string(), z.unknown());

/** One file's top level: global options plus the component tables. */
export const fileSchema = globalOptionsSchema.extend({
  sources: componentTable.optional(),
  transforms: componentTable.optional(),
  sinks: componentTable.optional(),
});

/** Keys every transform/sink has, owned by the core rather than the component. */
export const inputsSchema = z.array(z.string().min(1)).min(1, 'needs at least one input');
export const sinkCoreSchema = z.strictObject({
  buffer: bufferOptionsSchema,
  healthcheck: z.strictObject({ enabled: z.boolean().default(true) }).default({ enabled: true }),
});

export const DEFAULT_DATA_DIR = '/var/lib/sluice';
export const DEFAULT_API_ADDRESS = '0.0.0.0:8686';
