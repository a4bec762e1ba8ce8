import { registerSink } from '../../core/registry.js';
import { httpSinkSchema } from './schema.js';
import { lazySink } from '../../core/lazy-sink.js';

registerSink({
  type: 'http',
  description: 'Sends batches of events to an HTTP endpoint (JSON array, NDJSON or text bodies).',
  schema: httpSinkSchema,
  build: (config, ctx) => lazySink(async () => new (await import('./sink.js')).HttpSink(config, ctx)),
});
