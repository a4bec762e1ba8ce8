import { z } from 'zod';
import { encodingSchema } from '../shared/encoding.js';
import { authSchema, batchSchema, compressionSchema, endpointUrl, requestSchema, secretString, templateString, tlsSchema } from '../shared/schemas.js';

/** basic / bearer, or AWS SigV4 for Amazon OpenSearch Service (Vector's `strategy = "aws"`). */
const elasticsearchAuthSchema = z.discriminatedUnion('strategy', [
  ...authSchema.options,
  z.strictObject({
    strategy: z.literal('aws').describe('aws: requests signed with AWS SigV4 (Amazon OpenSearch Service / Serverless).'),
    region: z.string().min(1).describe('Region of the OpenSearch domain.'),
    service: z.enum(['es', 'aoss']).default('es').describe('Signing name: es (OpenSearch Service) or aoss (OpenSearch Serverless).'),
    access_key_id: z.string().min(1).optional().describe('Static key; unset: the AWS SDK default credential chain (IRSA, pod identity...).'),
    secret_access_key: secretString('Static secret key, with access_key_id.').optional(),
  }),
]);

export const elasticsearchSinkSchema = z.strictObject({
  endpoints: z
    .array(endpointUrl('Base URL of a cluster node.'))
    .min(1)
    .describe('Base URLs of the cluster nodes (`https://es:9200`); requests rotate over them.'),
  mode: z
    .enum(['bulk', 'data_stream'])
    .default('bulk')
    .describe('bulk: write to bulk.index with bulk.action; data_stream: `create` into <type>-<dataset>-<namespace>, @timestamp from timestamp.'),
  bulk: z
    .strictObject({
      index: templateString(z.string().min(1), { strftime: true })
        .default('sluice-%Y.%m.%d')
        .describe('Target index: strftime directives from the event timestamp (UTC) and field templates (`logs-{{ kubernetes.pod_namespace }}-%Y.%m.%d`).'),
      action: z.enum(['index', 'create']).default('index').describe('Bulk action per document.'),
    })
    .prefault({})
    .describe('Where documents go with mode = "bulk".'),
  data_stream: z
    .strictObject({
      type: templateString(z.string(), { strftime: true }).default('logs').describe('Data stream type (template allowed).'),
      dataset: templateString(z.string(), { strftime: true }).default('generic').describe('Data stream dataset (template allowed).'),
      namespace: templateString(z.string(), { strftime: true }).default('default').describe('Data stream namespace (template allowed).'),
    })
    .prefault({})
    .describe('The data stream name parts with mode = "data_stream": <type>-<dataset>-<namespace>.'),
  id_key: z
    .string()
    .optional()
    .describe('Field whose value becomes the document _id: replays after a crash then overwrite (index) or are refused as duplicates (create, counted delivered).'),
  pipeline: z.string().optional().describe('Ingest pipeline to run documents through.'),
  query: z.record(z.string(), z.string()).default({}).describe('Extra query parameters on bulk requests.'),
  encoding: encodingSchema.omit({ codec: true }).prefault({}).describe('Which fields of each event become the document (always JSON).'),
  compression: compressionSchema,
  auth: elasticsearchAuthSchema.optional().describe('Credentials sent with every request (selected by strategy: basic, bearer, or aws for SigV4-signed requests to Amazon OpenSearch); unset: none.'),
  tls: tlsSchema.optional().describe('TLS settings for connections to the destination (https only); unset: system CA roots, no client certificate.'),
  batch: batchSchema({ maxEvents: 1000, maxBytes: 10_000_000, timeoutSecs: 1 }).describe('When a batch is flushed: whichever limit is reached first.'),
  request: requestSchema.describe('Concurrency, timeout, retry and rate limit of requests to the destination.'),
});
export type ElasticsearchSinkConfig = z.infer<typeof elasticsearchSinkSchema>;
