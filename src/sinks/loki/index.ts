import { registerSink } from '../../core/registry.js';
import { lokiSinkSchema } from './schema.js';
import { LokiSink } from './sink.js';

registerSink({
  type: 'loki',
  description: 'Pushes events to Grafana Loki (JSON push API), one stream per label set.',
  schema: lokiSinkSchema,
  build: (config, ctx) => new LokiSink(config, ctx),
});
