import { z } from 'zod';
import { readableFile } from '../../core/config/environment.js';
import { templateProblem } from '../../core/template.js';
import { checkStrftime } from './strftime.js';

/**
 * Option groups shared by the network sinks, with Vector's names. Each sink composes the groups it
 * supports into its own strictObject, choosing its own batch defaults.
 */

/** A string that must never appear in logs, errors, metrics or config dumps. */
export function secretString(description: string) {
  return z.string().min(1).meta({ secret: true }).describe(`${description} Secret: redacted in logs and config dumps.`);
}

/** Option names holding secrets (see `secretString`); `redactSecrets` blanks them in a config dump. */
export const SECRET_OPTION_NAMES: ReadonlySet<string> = new Set(['password', 'token', 'key_pass', 'secret_access_key', 'default_token', 'default_api_key', 'seed', 'session_token', 'api_key']);

export const REDACTED = '**REDACTED**';

/** Request headers that carry credentials when users set them by hand in `headers`. */
const SECRET_HEADER = /authorization|api[-_]?key|token|secret|password|cookie/i;

/**
 * A deep copy of a config with every secret option, and every credential-looking entry of a
 * `headers` table, replaced by `**REDACTED**`.
 */
export function redactSecrets<T>(value: T, inHeaders = false): T {
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const secret = SECRET_OPTION_NAMES.has(key) || (inHeaders && SECRET_HEADER.test(key));
    out[key] = secret && child !== undefined ? REDACTED : redactSecrets(child, key === 'headers');
  }
  return out as T;
}

/**
 * An http(s) URL option. User info (`https://user:pass@host`) is refused: the password would sit
 * in a plain option that config dumps and logs show; `auth` keeps it secret.
 */
export function endpointUrl(description: string) {
  return z
    .url({ protocol: /^https?$/, error: (issue) => notHttpUrl(issue.input) })
    .refine((url) => {
      try {
        const parsed = new URL(url);
        return parsed.username === '' && parsed.password === '';
      } catch {
        return true; // z.url() reports the malformed URL
      }
    }, 'credentials in the URL are not allowed: use auth (its password/token are kept secret)')
    .describe(description);
}

function notHttpUrl(value: unknown): string {
  // User info would be a password in the error output: shown masked.
  const shown = String(value).replace(/^([^@/]*\/\/)?[^@/]*@/, '$1***@');
  return `expected an http:// or https:// URL (like "https://host:port"), got ${JSON.stringify(shown)}`;
}

/**
 * A URL option that may hold field templates (`https://h/{{ kubernetes.pod_namespace }}`): each
 * template stands for a value, and what remains must be an http(s) URL.
 */
export function templatedUrl() {
  return templateString(z.string().min(1))
    .refine((uri) => {
      try {
        const url = new URL(uri.replace(/\{\{[^}]*\}\}/g, 'x'));
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
      } catch {
        return false;
      }
    }, { error: (issue) => notHttpUrl(issue.input) });
}

/**
 * A string option rendered per event as a field template (and, with `strftime`, dated from the
 * event timestamp): a malformed one fails config validation rather than every event.
 */
export function templateString(schema: z.ZodString = z.string(), { strftime = false } = {}) {
  return schema.superRefine((source, ctx) => {
    let problem = templateProblem(source);
    if (problem === undefined && strftime) {
      try {
        checkStrftime(source);
      } catch (error) {
        problem = (error as Error).message;
      }
    }
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `invalid template: ${problem}` });
  });
}

export interface BatchDefaults {
  maxEvents: number;
  maxBytes: number;
  timeoutSecs: number;
}

export function batchSchema(defaults: BatchDefaults) {
  return z
    .strictObject({
      max_events: z.number().int().positive().default(defaults.maxEvents).describe('Flush a batch once it holds this many events.'),
      max_bytes: z
        .number()
        .int()
        .positive()
        .default(defaults.maxBytes)
        .describe('Flush a batch once its encoded events reach this many bytes (before compression).'),
      timeout_secs: z
        .number()
        .positive()
        .default(defaults.timeoutSecs)
        .describe('Flush a batch this long after its first event arrived, full or not.'),
    })
    .prefault({});
}
export type BatchOptions = z.infer<ReturnType<typeof batchSchema>>;

export const requestSchema = z
  .strictObject({
    concurrency: z
      .union([z.number().int().positive(), z.literal('adaptive')])
      .default(8)
      .describe('Requests in flight at once: a fixed number, or "adaptive" (AIMD: grows while the destination keeps up, halves on 429/5xx/timeouts).'),
    adaptive_max_concurrency: z.number().int().positive().default(64).describe('Upper bound for adaptive concurrency.'),
    timeout_secs: z.number().positive().default(60).describe('Time limit of one request attempt.'),
    retry_attempts: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('Retries after the first attempt before the batch is rejected. Unset: retry without limit (backpressure, no loss).'),
    retry_initial_backoff_secs: z.number().positive().default(1).describe('Wait before the first retry; doubles each retry.'),
    retry_max_duration_secs: z.number().positive().default(30).describe('Longest wait between two retries.'),
    retry_total_secs: z
      .number()
      .positive()
      .optional()
      .describe('Give up on a batch (reject its events) once it has been retried for this long. Unset: no limit.'),
    retry_jitter_mode: z.enum(['full', 'none']).default('full').describe('full: each wait is random in [0, backoff] (spreads retries of many agents).'),
    rate_limit_num: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Most requests started per rate_limit_duration_secs, retries included (a destination quota). Unset: no limit.'),
    rate_limit_duration_secs: z.number().positive().default(1).describe('The window of rate_limit_num.'),
    headers: z.record(z.string(), z.string()).default({}).describe('Extra HTTP headers sent with every request.'),
  })
  .prefault({});
export type RequestOptions = z.infer<typeof requestSchema>;

export const tlsSchema = z.strictObject({
  ca_file: readableFile().optional().describe('PEM file of CA certificates trusted for the server (added to none: replaces the system roots).'),
  crt_file: readableFile().optional().describe('PEM client certificate (mutual TLS).'),
  key_file: readableFile().optional().describe('PEM private key of the client certificate.'),
  key_pass: secretString('Passphrase of key_file.').optional(),
  verify_certificate: z.boolean().default(true).describe('Check the server certificate chain. Turn off only for tests.'),
  verify_hostname: z.boolean().default(true).describe("Check that the server certificate names the host."),
  server_name: z.string().optional().describe('SNI / name to verify instead of the URL host.'),
}).refine((tls) => (tls.crt_file === undefined) === (tls.key_file === undefined), {
  message: 'crt_file and key_file go together (a client certificate needs its key)',
  path: ['key_file'],
});
export type TlsOptions = z.infer<typeof tlsSchema>;

export const authSchema = z.discriminatedUnion('strategy', [
  z.strictObject({
    strategy: z.literal('basic').describe('basic: HTTP basic auth (user, password); bearer: `Authorization: Bearer <token>`.'),
    user: z.string().describe('User name for HTTP basic auth.'),
    password: secretString('Password for HTTP basic auth.'),
  }),
  z.strictObject({
    strategy: z.literal('bearer'),
    token: secretString('Bearer token sent as `Authorization: Bearer <token>`.'),
  }),
]);
export type AuthOptions = z.infer<typeof authSchema>;

export const compressionSchema = z
  .enum(['none', 'gzip'])
  .default('none')
  .describe('Compress request bodies (gzip sets Content-Encoding). zstd is not offered: Node 20 has no zstd in zlib.');
export type Compression = z.infer<typeof compressionSchema>;
