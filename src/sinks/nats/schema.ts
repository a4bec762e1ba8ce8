import { z } from 'zod';
import { encodingSchema } from '../shared/encoding.js';
import { batchSchema, requestSchema, templateString } from '../shared/schemas.js';
import { natsAuthSchema, natsTlsSchema, natsUrlSchema } from './connection.js';

/** Option names follow Vector's `nats` sink; `jetstream` defaults to true in sluice. */
export const natsSinkSchema = z.strictObject({
  url: natsUrlSchema,
  subject: templateString(z.string().min(1), { strftime: true }).describe(
    'Subject each event is published to; may hold field templates (`logs.{{ kubernetes.pod_namespace }}`). An event missing a referenced field is rejected.',
  ),
  connection_name: z.string().min(1).default('sluice').describe('Client name shown by the server (connz).'),
  jetstream: z
    .boolean()
    .default(true)
    .describe('true: publish to JetStream; an event is delivered once the stream acknowledged it (PubAck). false: core NATS, delivered once the server has read it (no persistence).'),
  auth: natsAuthSchema.optional(),
  tls: natsTlsSchema,
  encoding: encodingSchema.prefault({}).describe('How each event becomes a message payload (json: the event as JSON; text: the message).'),
  batch: batchSchema({ maxEvents: 100, maxBytes: 1_000_000, timeoutSecs: 0.1 }).describe(
    'Events published together, their acknowledgements awaited together: publishes in flight are at most batch.max_events x request.concurrency.',
  ),
  request: requestSchema.describe('Concurrency, timeout, retry and rate limit of publishes.'),
});
export type NatsSinkConfig = z.infer<typeof natsSinkSchema>;
