import { registerSink } from '../../core/registry.js';
import { lokiSinkSchema } from './schema.js';
import { lazySink } from '../../core/lazy-sink.js';

registerSink({
  type: 'loki',
  description: 'Pushes events to Grafana Loki (JSON push API), one stream per label set.',
  schema: lokiSinkSchema,
  build: (config, ctx) => lazySink(async () => new (await import('./sink.js')).LokiSink(config, ctx)),
});
