import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ConnectionOptions } from 'nats';
import { readableFile } from '../../core/config/environment.js';
import { secretString, tlsSchema, type TlsOptions } from '../shared/schemas.js';
import { tlsConnectOptions } from '../shared/tls.js';

/** Options shared by the nats sink and source: where the server is and how to log in. */

export const natsUrlSchema = z
  .string()
  .min(1)
  .refine(
    (value) =>
      value.split(',').every((one) => {
        try {
          const url = new URL(one.trim());
          return ['nats:', 'tls:'].includes(url.protocol) && url.hostname !== '' && url.username === '' && url.password === '';
        } catch {
          return false;
        }
      }),
    'expected nats://host:port or tls://host:port (comma-separated for a cluster), without credentials (use auth)',
  )
  .describe('NATS server URL(s), `nats://host:4222`; several separated by commas. Credentials go in auth, not the URL.');

const strategy = <const T extends string>(name: T) => z.literal(name).describe('How sluice authenticates to the server: user_password, token, nkey or credentials_file.');
export const natsAuthSchema = z
  .discriminatedUnion('strategy', [
    z.strictObject({ strategy: strategy('user_password'), user: z.string().min(1).describe('NATS user name.'), password: secretString('NATS password.') }),
    z.strictObject({ strategy: strategy('token'), token: secretString('NATS auth token.') }),
    z.strictObject({
      strategy: strategy('nkey'),
      // A seed is 58 base32 characters starting SU (the public key, U..., is not a seed); checked
      // when the config loads instead of failing every connect. The message never shows the value.
      seed: secretString('User NKey seed (SU...); the public key is derived from it.').regex(/^SU[A-Z2-7]{56}$/, 'expected a user NKey seed: 58 characters, "SU" then base32 (not the public key "U...")'),
    }),
    z.strictObject({ strategy: strategy('credentials_file'), path: readableFile().describe('A .creds file (JWT + NKey seed), read at startup; must exist when the config loads.') }),
  ])
  .describe('Authentication to the NATS server; unset: none.');
export type NatsAuth = z.infer<typeof natsAuthSchema>;

export const natsTlsSchema = tlsSchema.optional().describe('TLS to the server (also implied by a tls:// URL).');

export interface NatsConnectionConfig {
  url: string;
  connection_name: string;
  auth?: NatsAuth | undefined;
  tls?: TlsOptions | undefined;
}

/** nats.js connect options; reconnects forever (a restarting server must not stop the component). */
export async function natsConnectOptions(config: NatsConnectionConfig, timeoutMs: number): Promise<ConnectionOptions> {
  const nats = await import('nats');
  const options: ConnectionOptions = {
    servers: config.url.split(',').map((s) => s.trim()),
    name: config.connection_name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    timeout: timeoutMs,
  };
  const auth = config.auth;
  if (auth?.strategy === 'user_password') Object.assign(options, { user: auth.user, pass: auth.password });
  else if (auth?.strategy === 'token') options.token = auth.token;
  else if (auth?.strategy === 'nkey') options.authenticator = nats.nkeyAuthenticator(new TextEncoder().encode(auth.seed));
  else if (auth?.strategy === 'credentials_file') {
    let creds: Buffer;
    try {
      creds = readFileSync(auth.path);
    } catch (error) {
      throw new Error(`auth.path: cannot read "${auth.path}": ${(error as Error).message}`);
    }
    options.authenticator = nats.credsAuthenticator(new Uint8Array(creds));
  }
  if (config.tls) options.tls = tlsConnectOptions(config.tls) as ConnectionOptions['tls'];
  return options;
}

/** The servers, for messages (no credentials are ever in the URL). */
export function describeServers(url: string): string {
  return url.split(',').map((s) => s.trim()).join(', ');
}
