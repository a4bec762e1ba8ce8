import { z } from 'zod';
import { encodingSchema } from '../shared/encoding.js';
import { authSchema, batchSchema, compressionSchema, requestSchema, templatedUrl, tlsSchema } from '../shared/schemas.js';

export const httpSinkSchema = z.strictObject({
  uri: templatedUrl()
    .refine((uri) => !/^[a-z][a-z0-9+.-]*:\/\/[^/@{}]*@/i.test(uri), 'credentials in the URI are not allowed: use auth (its password/token are kept secret)')
    .describe('Where to send batches. May hold field templates (`https://h/{{ kubernetes.pod_namespace }}`): batches are then partitioned by the rendered URI.'),
  method: z.enum(['post', 'put', 'patch']).default('post').describe('HTTP method.'),
  headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers (merged with request.headers).'),
  encoding: encodingSchema
    .extend({
      codec: z
        .enum(['json', 'ndjson', 'text'])
        .default('json')
        .describe('json: the batch as one JSON array; ndjson: one JSON object per line; text: the message fields, one per line.'),
    })
    .prefault({})
    .describe('Which fields of each event are sent and how a batch becomes a request body.'),
  compression: compressionSchema,
  auth: authSchema.optional().describe('Credentials sent with every request (selected by strategy); unset: none.'),
  tls: tlsSchema.optional().describe('TLS settings for connections to the destination (https only); unset: system CA roots, no client certificate.'),
  batch: batchSchema({ maxEvents: 1000, maxBytes: 10_000_000, timeoutSecs: 1 }).describe('When a batch is flushed: whichever limit is reached first.'),
  request: requestSchema.describe('Concurrency, timeout, retry and rate limit of requests to the destination.'),
});
export type HttpSinkConfig = z.infer<typeof httpSinkSchema>;
