import { registerSink } from '../../core/registry.js';
import { lazySink } from '../../core/lazy-sink.js';
import { kafkaSinkSchema } from './schema.js';

registerSink({
  type: 'kafka',
  description: 'Writes events to Kafka topics (idempotent producer, acks=all: delivered once every in-sync replica has them).',
  schema: kafkaSinkSchema,
  build: (config, ctx) => lazySink(async () => new (await import('./sink.js')).KafkaSink(config, ctx)),
});
