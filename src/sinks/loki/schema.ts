import { z } from 'zod';
import { encodingSchema } from '../shared/encoding.js';
import { authSchema, batchSchema, endpointUrl, requestSchema, templateString, tlsSchema } from '../shared/schemas.js';

export const lokiSinkSchema = z.strictObject({
  endpoint: endpointUrl('Base URL of Loki (`http://loki:3100`); `path` is appended.'),
  path: z.string().default('/loki/api/v1/push').describe('Push API path.'),
  labels: z
    .record(z.string(), templateString())
    .refine((labels) => Object.keys(labels).length > 0, 'at least one label is needed: Loki indexes streams by labels')
    .describe(
      'Stream labels, values templated from fields (`namespace = "{{ kubernetes.pod_namespace }}"`). A key ending in `*` expands an object field (`"pod_labels_*" = "{{ kubernetes.pod_labels }}"`). Every distinct label set is a stream: see the label cardinality note in the sink.',
    ),
  structured_metadata: z
    .record(z.string(), templateString())
    .default({})
    .describe(
      'Loki >= 3.0 structured metadata on each entry, templated like labels (`pod = "{{ kubernetes.pod_name }}"`, `"pod_label_*" = "{{ kubernetes.pod_labels }}"`). Not indexed: the place for high-cardinality values (pod names, UIDs, trace ids) that must not become labels.',
    ),
  tenant_id: templateString(z.string(), { strftime: true }).optional().describe('Sent as X-Scope-OrgID (template allowed: batches are then split per tenant).'),
  remove_label_fields: z.boolean().default(false).describe('Drop the fields used in label templates from the log line.'),
  remove_timestamp: z.boolean().default(true).describe('Drop `timestamp` from the log line (Loki stores it as the entry time).'),
  out_of_order_action: z
    .enum(['accept', 'drop', 'rewrite_timestamp'])
    .default('accept')
    .describe(
      'Entries older than the newest one already sent on their stream. accept (Loki >= 2.4 takes them within its window); drop (counted); rewrite_timestamp (set to that newest time, for Loki < 2.4 which refuses them).',
    ),
  encoding: encodingSchema.prefault({}).describe('Which fields of each event make the log line, and how it is serialized (json: the event as JSON; text: the message).'),
  compression: z
    .enum(['none', 'gzip', 'snappy'])
    .default('none')
    .describe('none / gzip: JSON push (gzip as Content-Encoding); snappy: protobuf push compressed with snappy, as Promtail sends.'),
  auth: authSchema.optional().describe('Credentials sent with every request (selected by strategy); unset: none.'),
  tls: tlsSchema.optional().describe('TLS settings for connections to the destination (https only); unset: system CA roots, no client certificate.'),
  batch: batchSchema({ maxEvents: 100_000, maxBytes: 1_000_000, timeoutSecs: 1 }).describe('When a batch is flushed: whichever limit is reached first.'),
  request: requestSchema.describe('Concurrency, timeout, retry and rate limit of requests to the destination.'),
});
export type LokiSinkConfig = z.infer<typeof lokiSinkSchema>;
