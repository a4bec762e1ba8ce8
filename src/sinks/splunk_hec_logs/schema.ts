import { z } from 'zod';
import { encodingSchema } from '../shared/encoding.js';
import { batchSchema, compressionSchema, endpointUrl, requestSchema, secretString, templateString, tlsSchema } from '../shared/schemas.js';

export const splunkHecLogsSinkSchema = z.strictObject({
  endpoint: endpointUrl('Base URL of the HTTP Event Collector (`https://splunk-hec.example:8088`); the `/services/collector/...` paths are appended.'),
  default_token: secretString('HEC token, sent as `Authorization: Splunk <token>`.'),
  endpoint_target: z
    .enum(['event', 'raw'])
    .default('event')
    .describe('event: JSON envelopes to /services/collector/event; raw: the encoded events as lines to /services/collector/raw, metadata as query parameters.'),
  index: templateString().optional().describe('Splunk index (template). Unset: the token\'s default index.'),
  sourcetype: templateString().optional().describe('Splunk sourcetype (template).'),
  source: templateString().optional().describe('Splunk source (template, e.g. `{{ file }}`).'),
  host_key: z.string().default('host').describe('Field holding the event\'s host (dotted path; a leading `.` is allowed, as in Vector).'),
  timestamp_key: z.string().default('timestamp').describe('Field holding the event\'s time, sent as `time` (epoch seconds with a fraction).'),
  indexed_fields: z.array(z.string()).default([]).describe('Fields sent as HEC indexed `fields` (event target only).'),
  encoding: encodingSchema.prefault({}).describe('Which fields of each event make the HEC `event` (json: the event as JSON; text: the message).'),
  compression: compressionSchema,
  acknowledgements: z
    .strictObject({
      indexer_acknowledgements_enabled: z
        .boolean()
        .default(true)
        .describe('Wait for Splunk\'s indexer acknowledgement (ackId polled on /services/collector/ack) before acking events upstream.'),
      query_interval: z.number().positive().default(10).describe('Seconds between two queries of pending ackIds.'),
      retry_limit: z.number().int().positive().default(30).describe('Queries of an ackId before its events are given up (acked rejected).'),
    })
    .prefault({})
    .describe('Splunk indexer acknowledgements: events are acked upstream only once Splunk confirms they are indexed. Vector\'s `enabled = true` is accepted here too (sluice always acknowledges end to end; false is a config error).'),
  tls: tlsSchema.optional().describe('TLS settings for connections to the destination (https only); unset: system CA roots, no client certificate.'),
  batch: batchSchema({ maxEvents: 1000, maxBytes: 1_000_000, timeoutSecs: 1 }).describe('When a batch is flushed: whichever limit is reached first.'),
  request: requestSchema.describe('Concurrency, timeout, retry and rate limit of requests to the destination.'),
});
export type SplunkHecLogsSinkConfig = z.infer<typeof splunkHecLogsSinkSchema>;
