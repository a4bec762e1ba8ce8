import { z } from 'zod';
import { awsAuthSchema, awsEndpointSchema, awsRegionSchema } from '../shared/aws.js';
import { encodingSchema } from '../shared/encoding.js';
import { requestSchema, templateString, tlsSchema } from '../shared/schemas.js';

/** PutLogEvents limits, as CloudWatch Logs documents them. */
export const MAX_BATCH_EVENTS = 10_000;
export const MAX_BATCH_BYTES = 1_048_576;
/** Counted per event on top of its UTF-8 message bytes. */
export const EVENT_OVERHEAD_BYTES = 26;
export const MAX_BATCH_SPAN_MS = 24 * 3600_000;
/** Events older than this, or further in the future than MAX_FUTURE_MS, are refused by CloudWatch. */
export const MAX_AGE_MS = 14 * 24 * 3600_000;
export const MAX_FUTURE_MS = 2 * 3600_000;

/** The retention periods CloudWatch Logs accepts (PutRetentionPolicy). */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

export const awsCloudwatchLogsSinkSchema = z.strictObject({
  group_name: templateString(z.string().min(1))
    .describe('Log group (template). Batches are partitioned by group and stream.')
    .meta({ examples: ['/eks/prod/containers', '/k8s/{{ kubernetes.pod_namespace }}'] }),
  stream_name: templateString(z.string().min(1))
    .describe('Log stream (template), e.g. one per pod and container.')
    .meta({ examples: ['{{ kubernetes.pod_namespace }}/{{ kubernetes.pod_name }}/{{ kubernetes.container_name }}'] }),
  create_missing_group: z.boolean().default(true).describe('Create the log group when PutLogEvents says it does not exist (needs logs:CreateLogGroup).'),
  create_missing_stream: z.boolean().default(true).describe('Create the log stream when PutLogEvents says it does not exist (needs logs:CreateLogStream).'),
  kms_key: z.string().min(1).optional().describe('KMS key ARN to encrypt the log groups this sink creates.'),
  retention: z
    .strictObject({
      enabled: z.boolean().default(false).describe('Set a retention policy on the log groups this sink creates.'),
      days: z
        .number()
        .int()
        .refine((days) => RETENTION_DAYS.includes(days), `one of ${RETENTION_DAYS.join(', ')} (the periods CloudWatch Logs accepts)`)
        .default(30)
        .describe('Days CloudWatch keeps the events of created groups.'),
    })
    .prefault({})
    .describe('Retention of the log groups this sink creates (PutRetentionPolicy, needs logs:PutRetentionPolicy).'),
  tags: z.record(z.string(), z.string()).optional().describe('Tags of the log groups this sink creates.'),
  region: awsRegionSchema,
  endpoint: awsEndpointSchema('CloudWatch Logs'),
  auth: awsAuthSchema,
  encoding: encodingSchema.prefault({}).describe('How each event becomes the message of a log event (json: the event as JSON; text: the message field).'),
  tls: tlsSchema.optional().describe('TLS settings for connections to the endpoint; unset: system CA roots, no client certificate.'),
  batch: z
    .strictObject({
      max_events: z.number().int().positive().max(MAX_BATCH_EVENTS).default(MAX_BATCH_EVENTS).describe('Log events per PutLogEvents call (CloudWatch accepts at most 10,000).'),
      max_bytes: z
        .number()
        .int()
        .positive()
        .max(MAX_BATCH_BYTES)
        .default(MAX_BATCH_BYTES)
        .describe('Bytes per PutLogEvents call, counted as CloudWatch does: UTF-8 message bytes + 26 per event (at most 1,048,576).'),
      timeout_secs: z.number().positive().default(1).describe('Flush a batch this long after its first event.'),
    })
    .prefault({})
    .describe('When a batch is flushed: whichever limit is reached first. A batch never spans more than 24 h of event time.'),
  request: requestSchema.describe('Concurrency, timeout, retry and rate limit of requests to CloudWatch Logs.'),
});
export type AwsCloudwatchLogsSinkConfig = z.infer<typeof awsCloudwatchLogsSinkSchema>;
