import { z } from 'zod';
import { bufferOptionsSchema } from '../buffers/options.js';

export const ALWAYS_ACKNOWLEDGES = 'sluice always acknowledges end to end; remove acknowledgements.enabled = false';

/** Vector's `acknowledgements.enabled` (top level, sources, sinks): sluice always acknowledges, so only true is accepted. */
export const acknowledgementsSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .refine((enabled) => enabled, ALWAYS_ACKNOWLEDGES)
      .optional()
      .describe('Accepted for Vector configs: true only. sluice always acknowledges end to end (a checkpoint moves only once every sink has the data); false is a config error.'),
  })
  .describe('End-to-end acknowledgements, as Vector names them: always on in sluice.');

/** Options of the agent itself (top level of a config file, besides the component tables). */
export const globalOptionsSchema = z.strictObject({
  acknowledgements: acknowledgementsSchema.optional(),
  data_dir: z.string().min(1).optional().describe('Where checkpoints and disk buffers live (default /var/lib/sluice).'),
  api: z
    .strictObject({
      enabled: z.boolean().optional().describe('Serve the HTTP API (health and readiness probes, /metrics, tap and top) on api.address (default false).'),
      address: z
        .string()
        .regex(/^[^:]*:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/, 'expected host:port')
        .optional()
        .describe('host:port the API listens on (default 0.0.0.0:8686; port 0 picks a free port, logged at start).'),
      tap_from_network: z
        .boolean()
        .optional()
        .describe('Serve `sluice tap` (live events, i.e. log data) to clients that are not on the loopback address (default false: they get 403).'),
    })
    .optional()
    .describe('The agent\'s HTTP API: probes, Prometheus metrics, `sluice tap` and `sluice top`.'),
});

export const componentIdPattern = /^[A-Za-z0-9_-]+$/;

const componentTable = z.record(z.string(), z.unknown());

/** One file's top level: global options plus the component tables. */
export const fileSchema = globalOptionsSchema.extend({
  sources: componentTable.optional(),
  transforms: componentTable.optional(),
  sinks: componentTable.optional(),
  /** `[[tests]]` for `sluice test`; their shape is checked in tests-schema.ts. */
  tests: z.array(z.unknown()).optional(),
});

/** Keys every transform/sink has, owned by the core rather than the component. */
export const inputsSchema = z
  .array(z.string().min(1))
  .min(1, 'needs at least one input')
  .describe('IDs of the components this one reads from (sources or transforms; a route transform\'s output as `<id>.<route>`). At least one.');
export const sinkCoreSchema = z.strictObject({
  buffer: bufferOptionsSchema.describe('The queue in front of the sink: where events wait while the sink is slow or down, and what happens when it is full.'),
  healthcheck: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe('Check at startup that the destination answers (a failure is logged; with --require-healthy nothing starts until it passes); false: skip the check.'),
    })
    .default({ enabled: true })
    .describe('The startup check of the sink\'s destination.'),
});

export const DEFAULT_DATA_DIR = '/var/lib/sluice';
export const DEFAULT_API_ADDRESS = '0.0.0.0:8686';
