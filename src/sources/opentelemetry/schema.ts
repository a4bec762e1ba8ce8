import { z } from 'zod';

export const opentelemetrySourceSchema = z.strictObject({
  address: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'host:port, e.g. "0.0.0.0:4318"')
    .default('0.0.0.0:4318')
    .describe('Where the OTLP/HTTP receiver listens (`host:port`; 4318 is the OTLP/HTTP port). Logs are POSTed to `/v1/logs`.'),
  max_body_bytes: z
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024)
    .describe('Largest request body accepted, before and after gzip decompression (413 beyond).'),
});
export type OpentelemetrySourceConfig = z.infer<typeof opentelemetrySourceSchema>;
