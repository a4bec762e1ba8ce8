import { z } from 'zod';
import { readableFile } from '../../core/config/environment.js';
import { secretString } from '../../sinks/shared/schemas.js';

/** Option names follow Vector's `vector` source. */
export const sluiceSourceSchema = z.strictObject({
  address: z
    .string()
    .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'host:port, e.g. "0.0.0.0:6000" or "[::]:6000"')
    .default('0.0.0.0:6000')
    .describe('Where the HTTP/2 receiver listens (`host:port`; port 0 picks a free one, logged). Agents send with the `sluice` sink.'),
  tls: z
    .strictObject({
      enabled: z.boolean().default(true).describe('false: plain HTTP/2 (h2c) although the block is present.'),
      crt_file: readableFile().optional().describe('PEM server certificate (chain); required when enabled.'),
      key_file: readableFile().optional().describe('PEM private key of crt_file; required when enabled.'),
      key_pass: secretString('Passphrase of key_file.').optional(),
      ca_file: readableFile().optional().describe('PEM CA certificates: set, every agent must present a client certificate signed by one of them (mutual TLS).'),
      verify_certificate: z.boolean().default(true).describe('With ca_file: refuse agents without a valid client certificate. false: ask for one but accept any (tests only).'),
    })
    .refine((tls) => !tls.enabled || (tls.crt_file !== undefined && tls.key_file !== undefined), {
      message: 'tls.crt_file and tls.key_file are required when tls is enabled',
      path: ['crt_file'],
    })
    .optional()
    .describe('Serve h2 over TLS (and with ca_file require client certificates); unset: plain HTTP/2 (h2c).'),
  keepalive: z
    .strictObject({
      max_connection_age_secs: z
        .number()
        .positive()
        .default(300)
        .describe('An agent connection older than this is asked to reconnect (HTTP/2 GOAWAY after its in-flight batches), so agents spread over aggregators added behind a Service.'),
      max_connection_age_jitter_factor: z.number().min(0).max(1).default(0.1).describe('Each connection\'s age limit varies by up to this fraction, so connections opened together do not all close together.'),
    })
    .prefault({})
    .describe('Connection lifetime (Vector\'s keepalive options).'),
  max_body_bytes: z
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024)
    .describe('Largest batch accepted, before and after gzip decompression (413 beyond). Keep the agents\' batch.max_bytes below it.'),
  body_timeout_secs: z
    .number()
    .positive()
    .default(30)
    .describe('Time limit for reading one batch\'s body: an agent that stalls mid-body gets 408 and its stream reset (it sends the batch again), instead of holding the request, and shutdown, forever.'),
});
export type SluiceSourceConfig = z.infer<typeof sluiceSourceSchema>;
