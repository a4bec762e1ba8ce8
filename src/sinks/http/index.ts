import { registerSink } from '../../core/registry.js';
import { httpSinkSchema } from './schema.js';
import { HttpSink } from './sink.js';

registerSink({
  type: 'http',
  description: 'Sends batches of events to an HTTP endpoint (JSON array, NDJSON or text bodies).',
  schema: httpSinkSchema,
  build: (config, ctx) => new HttpSink(config, ctx),
});
