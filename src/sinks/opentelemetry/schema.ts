import { z } from 'zod';
import { authSchema, batchSchema, compressionSchema, endpointUrl, requestSchema, tlsSchema } from '../shared/schemas.js';

export const opentelemetrySinkSchema = z
  .strictObject({
    endpoint: endpointUrl(
      'Base URL of an OTLP/HTTP receiver (`http://otel-collector:4318`); `/v1/logs` is appended (OTEL_EXPORTER_OTLP_ENDPOINT semantics). Set exactly one of endpoint and uri.',
    ).optional(),
    uri: endpointUrl('Full URL logs are POSTed to (`http://collector:4318/v1/logs`), as Vector\'s `protocol.uri` and OTEL_EXPORTER_OTLP_LOGS_ENDPOINT; instead of `endpoint` (exactly one of the two).').optional(),
    encoding: z
      .strictObject({
        codec: z
          .enum(['protobuf', 'json'])
          .default('protobuf')
          .describe('protobuf: `application/x-protobuf` (the OTLP default); json: `application/json`, the OTLP/JSON mapping (camelCase keys, int64 as strings, trace/span ids as hex, enums as numbers).'),
      })
      .prefault({})
      .describe('How OTLP requests are serialized.'),
    compression: compressionSchema,
    auth: authSchema.optional().describe('Credentials sent with every request (selected by strategy); unset: none.'),
    tls: tlsSchema.optional().describe('TLS settings for connections to the destination (https only); unset: system CA roots, no client certificate.'),
    batch: batchSchema({ maxEvents: 1000, maxBytes: 1_000_000, timeoutSecs: 1 }).describe('When a batch is flushed: whichever limit is reached first.'),
    request: requestSchema.describe('Concurrency, timeout, retry and rate limit of requests to the destination.'),
  })
  .refine((config) => (config.endpoint === undefined) !== (config.uri === undefined), {
    message: 'set exactly one of endpoint (base URL, /v1/logs appended) or uri (full URL)',
  });
export type OpentelemetrySinkConfig = z.infer<typeof opentelemetrySinkSchema>;

/** Where the logs go. */
export function logsUrl(config: Pick<OpentelemetrySinkConfig, 'endpoint' | 'uri'>): string {
  return config.uri ?? `${config.endpoint!.replace(/\/+$/, '')}/v1/logs`;
}
