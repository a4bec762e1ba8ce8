import { z } from 'zod';
import { secretString } from '../../sinks/shared/schemas.js';

/** Option names follow Vector's `http_server` source; `auth.strategy = "bearer"` is sluice's addition. */
export const httpServerSchema = z.strictObject({
  address: z
    .string()
    .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected host:port, e.g. "0.0.0.0:8080" or "[::]:8080"')
    .describe('Socket address to listen on, host:port. Port 0 picks a free port (the bound address is logged).'),
  path: z.string().startsWith('/').default('/').describe('URL path accepted; other paths get 404.'),
  strict_path: z.boolean().default(true).describe('false: accept every path starting with `path`.'),
  method: z.enum(['POST', 'PUT']).default('POST').describe('HTTP method accepted; others get 405.'),
  decoding: z
    .strictObject({
      codec: z
        .enum(['json', 'ndjson', 'bytes'])
        .default('bytes')
        .describe('json: one JSON value (an array is one event per element; a Kubernetes `kind: EventList` object is one event per item); ndjson: one JSON value per line; bytes: the whole body is one event`s message.'),
    })
    .prefault({})
    .describe('How request bodies are turned into events.'),
  auth: z
    .discriminatedUnion('strategy', [
      z.strictObject({ strategy: z.literal('basic').describe('basic: HTTP basic auth (username, password); bearer: `Authorization: Bearer <token>`.'), username: z.string().min(1).describe('Basic auth user name.'), password: secretString('Basic auth password.') }),
      z.strictObject({ strategy: z.literal('bearer'), token: secretString('Bearer token expected in the Authorization header.') }),
    ])
    .optional()
    .describe('Credentials every request must carry; missing or wrong ones get 401.'),
  tls: z
    .strictObject({
      enabled: z.boolean().default(true).describe('false: plain HTTP although the block is present.'),
      crt_file: z.string().optional().describe('PEM server certificate (chain); required when enabled.'),
      key_file: z.string().optional().describe('PEM private key of the server certificate; required when enabled.'),
      key_pass: secretString('Passphrase of key_file.').optional(),
      ca_file: z.string().optional().describe('PEM CA certificates: set, clients must present a certificate signed by one of them (mutual TLS).'),
    })
    .refine((tls) => !tls.enabled || (tls.crt_file !== undefined && tls.key_file !== undefined), {
      message: 'tls.crt_file and tls.key_file are required when tls is enabled',
      path: ['crt_file'],
    })
    .optional()
    .describe('Serve HTTPS (and optionally require client certificates); unset: plain HTTP.'),
  max_body_bytes: z.number().int().positive().default(10 * 1024 * 1024).describe('Larger bodies get 413; reading stops at the limit.'),
});
export type HttpServerConfig = z.infer<typeof httpServerSchema>;
