import { z } from 'zod';
import { encodingSchema } from '../shared/encoding.js';
import { batchSchema, compressionSchema, endpointUrl, requestSchema, secretString, templateString, tlsSchema } from '../shared/schemas.js';

export const awsS3SinkSchema = z.strictObject({
  bucket: z.string().min(1).describe('Bucket to write objects to.'),
  region: z.string().min(1).optional().describe('AWS region; unset: from the SDK default chain (AWS_REGION, profile).'),
  endpoint: endpointUrl('Custom endpoint for S3-compatible stores (MinIO, Ceph, R2...).').optional(),
  force_path_style: z.boolean().default(false).describe('Address the bucket as <endpoint>/<bucket> instead of <bucket>.<endpoint> (most S3-compatible stores need it).'),
  key_prefix: templateString(z.string(), { strftime: true })
    .default('date=%F/')
    .describe('Object key prefix: strftime from the event timestamp (UTC) and field templates; batches are partitioned by it.'),
  filename_time_format: z.string().default('%s').describe('strftime of the upload time (UTC) in the object name.'),
  filename_append_uuid: z.boolean().default(true).describe('Append a UUID to each object name, so two batches never share a key.'),
  filename_extension: z.string().optional().describe('Object name extension; default "log", "log.gz" with gzip.'),
  content_type: z.string().optional().describe('Content-Type of the objects; default application/x-ndjson (json) or text/plain (text).'),
  storage_class: z
    .enum(['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'GLACIER_IR'])
    .optional()
    .describe('S3 storage class of the objects; unset: the bucket default (STANDARD).'),
  server_side_encryption: z
    .enum(['AES256', 'aws:kms'])
    .optional()
    .describe('Server-side encryption requested per object: AES256 (S3-managed keys) or aws:kms (ssekms_key_id, else the AWS-managed key); unset: the bucket default.'),
  ssekms_key_id: z.string().optional().describe('KMS key for server_side_encryption = "aws:kms".'),
  auth: z
    .strictObject({
      access_key_id: z.string().min(1).describe('Access key id (prefer the SDK default chain: env, profile, IRSA / pod identity).'),
      secret_access_key: secretString('Secret access key.'),
    })
    .optional()
    .describe('Static credentials; unset: the AWS SDK default credential chain.'),
  encoding: encodingSchema.prefault({}).describe('Which fields of each event are shipped and how they are serialized.'),
  compression: compressionSchema.default('gzip'),
  tls: tlsSchema.optional().describe('TLS settings for connections to the destination (https only); unset: system CA roots, no client certificate.'),
  batch: batchSchema({ maxEvents: 100_000, maxBytes: 10_000_000, timeoutSecs: 300 }).describe('When a batch becomes one object: whichever limit is reached first.'),
  request: requestSchema.describe('Concurrency, timeout, retry and rate limit of requests to the destination.'),
});
export type AwsS3SinkConfig = z.infer<typeof awsS3SinkSchema>;
