import { z } from 'zod';
import { encodingSchema } from '../shared/encoding.js';
import { endpointUrl, requestSchema, secretString, tlsSchema } from '../shared/schemas.js';

/** Datadog's per-request limits (logs intake API v2). */
export const MAX_ENTRIES = 1000;
export const MAX_PAYLOAD_BYTES = 5_000_000;
export const MAX_ENTRY_BYTES = 1_000_000;

export const datadogLogsSinkSchema = z.strictObject({
  default_api_key: secretString('Datadog API key, sent as the `DD-API-KEY` header.'),
  site: z
    .string()
    .regex(/^[a-z0-9.-]+$/, 'a Datadog site like "datadoghq.com", "datadoghq.eu" or "us3.datadoghq.com"')
    .default('datadoghq.com')
    .describe('Datadog site: logs go to https://http-intake.logs.<site>/api/v2/logs, the key is validated on https://api.<site>.'),
  endpoint: endpointUrl('Base URL replacing the site (a proxy, or a test server); `/api/v2/logs` and `/api/v1/validate` are appended.').optional(),
  compression: z.enum(['none', 'gzip']).default('gzip').describe('gzip (default, as Datadog recommends) or none.'),
  encoding: encodingSchema
    .extend({ codec: z.literal('json').default('json').describe('Datadog takes JSON entries only.') })
    .prefault({})
    .describe('Which fields of each event are sent (the entry is always JSON).'),
  tls: tlsSchema.optional().describe('TLS settings for connections to the destination (https only); unset: system CA roots, no client certificate.'),
  batch: z
    .strictObject({
      max_events: z.number().int().positive().max(MAX_ENTRIES).default(MAX_ENTRIES).describe('Entries per request (Datadog accepts at most 1000).'),
      max_bytes: z
        .number()
        .int()
        .positive()
        .max(MAX_PAYLOAD_BYTES)
        .default(4_250_000)
        .describe('Uncompressed bytes per request (Datadog accepts at most 5 MB).'),
      timeout_secs: z.number().positive().default(5).describe('Flush a batch this long after its first event.'),
    })
    .prefault({})
    .describe('When a batch is flushed: whichever limit is reached first.'),
  request: requestSchema.describe('Concurrency, timeout, retry and rate limit of requests to the destination.'),
});
export type DatadogLogsSinkConfig = z.infer<typeof datadogLogsSinkSchema>;
