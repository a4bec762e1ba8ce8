import { z } from 'zod';
import { endpointUrl, secretString } from './schemas.js';
import { tlsConnectOptions } from './tls.js';
import type { TlsOptions } from './schemas.js';

/**
 * `auth` of the AWS sinks (Vector's names): static keys, or nothing for the SDK v3 default chain
 * (environment, shared profile, IRSA web identity, EKS Pod Identity, ECS / EC2 instance metadata).
 */
export const awsAuthSchema = z
  .strictObject({
    access_key_id: z.string().min(1).describe('Access key id (prefer the SDK default chain: env, profile, IRSA / pod identity).'),
    secret_access_key: secretString('Secret access key.'),
    session_token: secretString('Session token of temporary credentials.').optional(),
  })
  .optional()
  .describe('Static credentials; unset: the AWS SDK default credential chain (IRSA web identity, EKS Pod Identity, env, profile, instance metadata).');
export type AwsAuthOptions = z.infer<typeof awsAuthSchema>;

export const awsRegionSchema = z.string().min(1).optional().describe('AWS region; unset: from the SDK default chain (AWS_REGION, profile).');

export function awsEndpointSchema(what: string) {
  return endpointUrl(`Custom endpoint (${what}, a VPC endpoint or a test server).`).optional();
}

/** The SDK's own retries are off (the shared driver retries), with the sink's timeout and TLS. */
export function awsClientConfig(options: { region?: string | undefined; endpoint?: string | undefined; auth?: AwsAuthOptions; tls?: TlsOptions | undefined; timeoutSecs: number }) {
  const timeout = options.timeoutSecs * 1000;
  return {
    maxAttempts: 1,
    requestHandler: {
      requestTimeout: timeout,
      connectionTimeout: timeout,
      ...(options.tls ? { httpsAgent: { keepAlive: true, ...tlsConnectOptions(options.tls) } } : {}),
    },
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.auth
      ? {
          credentials: {
            accessKeyId: options.auth.access_key_id,
            secretAccessKey: options.auth.secret_access_key,
            ...(options.auth.session_token ? { sessionToken: options.auth.session_token } : {}),
          },
        }
      : {}),
  };
}

/** The SDK error fields the AWS sinks read. */
export interface AwsServiceError extends Error {
  $metadata?: { httpStatusCode?: number };
  $fault?: 'client' | 'server';
}

/** `HTTP 400 ThrottlingException: Rate exceeded` for logs (never the request: it holds no secret, but stays short). */
export function awsErrorDetail(error: unknown): string {
  const err = error as AwsServiceError;
  const status = err.$metadata?.httpStatusCode;
  return `${status ? `HTTP ${status} ` : ''}${err.name}: ${err.message}`;
}
