import { registerSink } from '../../core/registry.js';
import { datadogLogsSinkSchema } from './schema.js';
import { lazySink } from '../../core/lazy-sink.js';

registerSink({
  type: 'datadog_logs',
  description: 'Sends events to Datadog Logs (intake API v2), with reserved attributes and tags from Kubernetes metadata.',
  schema: datadogLogsSinkSchema,
  build: (config, ctx) => lazySink(async () => new (await import('./sink.js')).DatadogLogsSink(config, ctx)),
});
