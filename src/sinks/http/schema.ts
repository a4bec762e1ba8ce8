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
    .prefault({}),
  compression: compressionSchema,
  auth: authSchema.optional(),
  tls: tlsSchema.optional(),
  batch: batchSchema({ maxEvents: 1000, maxBytes: 10_000_000, timeoutSecs: 1 }),
  request: requestSchema,
});
export type HttpSinkConfig = z.infer<typeof httpSinkSchema>;
