import { z } from 'zod';
import { natsAuthSchema, natsTlsSchema, natsUrlSchema } from '../../sinks/nats/connection.js';

/** Option names follow Vector's `nats` source (and its `jetstream.stream` / consumer) where they fit. */
export const natsSourceSchema = z.strictObject({
  url: natsUrlSchema,
  stream: z.string().min(1).describe('The JetStream stream to read.'),
  durable_name: z
    .string()
    .min(1)
    .regex(/^[^.*>\s]+$/, 'a consumer name holds no ".", "*", ">" or whitespace')
    .describe('Durable pull consumer (created if missing). Replicas with the same name share the messages, like a queue group.'),
  subject: z.string().min(1).optional().describe('Filter subject of the consumer (`logs.>`); unset: every subject of the stream.'),
  connection_name: z.string().min(1).default('sluice').describe('Client name shown by the server.'),
  auth: natsAuthSchema.optional(),
  tls: natsTlsSchema,
  decoding: z
    .strictObject({
      codec: z.enum(['bytes', 'json']).default('bytes').describe('bytes: the payload is the `message`; json: a JSON object whose keys become fields.'),
    })
    .prefault({})
    .describe('How a message payload becomes an event.'),
  subject_key_field: z.string().min(1).default('subject').describe('Field that receives the message subject.'),
  batch_size: z.number().int().positive().default(100).describe('Messages pulled per request.'),
  max_ack_pending: z.number().int().positive().default(1000).describe('Messages delivered but not yet acknowledged, at most (the consumer stops delivering past it).'),
  ack_wait_secs: z.number().positive().default(30).describe('A message not acknowledged this long after delivery is delivered again (e.g. after a crash).'),
  on_rejected: z
    .enum(['term', 'nak'])
    .default('term')
    .describe('When a sink rejects a message\'s event for good: term (never redeliver; the message stays in the stream) or nak (redeliver after nak_delay_secs).'),
  nak_delay_secs: z.number().nonnegative().default(5).describe('Delay of a redelivery after nak.'),
});
export type NatsSourceConfig = z.infer<typeof natsSourceSchema>;
