import { z } from 'zod';
import { batchSchema, requestSchema, tlsSchema } from '../shared/schemas.js';
import { parseAddress } from './protocol.js';

const addressSchema = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const parsed = parseAddress(value);
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: `address "${value}": ${parsed}` });
  });

/** Option names follow Vector's `vector` sink; `address` may also be a list, and names are re-resolved. */
export const sluiceSinkSchema = z.strictObject({
  address: z
    .union([addressSchema, z.array(addressSchema).min(1)])
    .describe(
      'Aggregator(s) to send to: `host:port`, `http://host:port` or `https://host:port`, or a list of them. A DNS name resolving to several addresses (a headless Service) is one endpoint per address, re-resolved every `dns_refresh_secs`. Batches are balanced over the healthy endpoints; one that fails is taken out and retried with backoff.',
    ),
  compression: z
    .union([z.boolean(), z.enum(['none', 'gzip'])])
    .default(false)
    .describe('gzip request bodies (`true` as in Vector, or "gzip"). zstd is not offered: Node 20 has no zstd in zlib.'),
  tls: tlsSchema
    .safeExtend({
      enabled: z.boolean().default(true).describe('Use TLS for addresses without a scheme (`https://` always does, `http://` never). Default true once a tls block is present.'),
    })
    .optional()
    .describe('TLS to the aggregators (h2 with ALPN); crt_file + key_file for mutual TLS. Unset: plain HTTP/2 unless an address is https://.'),
  batch: batchSchema({ maxEvents: 1000, maxBytes: 4_000_000, timeoutSecs: 1 }).describe(
    'When a batch is sent: whichever limit is reached first. Keep max_bytes below the aggregator source\'s max_body_bytes.',
  ),
  request: requestSchema.describe('Concurrency, timeout, retry and rate limit of requests. A failed request is first tried on another healthy endpoint, then retried with backoff.'),
  dns_refresh_secs: z.number().positive().default(30).describe('How often host names in `address` are resolved again (pods of a headless Service come and go); also at once when no endpoint is healthy.'),
});
export type SluiceSinkConfig = z.infer<typeof sluiceSinkSchema>;

/** The address option as a list. */
export function addressList(config: Pick<SluiceSinkConfig, 'address'>): string[] {
  return typeof config.address === 'string' ? [config.address] : config.address;
}

export function usesGzip(config: Pick<SluiceSinkConfig, 'compression'>): boolean {
  return config.compression === true || config.compression === 'gzip';
}
