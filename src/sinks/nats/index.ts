import { registerSink } from '../../core/registry.js';
import { lazySink } from '../../core/lazy-sink.js';
import { natsSinkSchema } from './schema.js';

registerSink({
  type: 'nats',
  description: 'Publishes events to NATS subjects (JetStream by default: delivered once the stream acknowledged them).',
  schema: natsSinkSchema,
  build: (config, ctx) => lazySink(async () => new (await import('./sink.js')).NatsSink(config, ctx)),
});
