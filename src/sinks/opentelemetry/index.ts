import { registerSink } from '../../core/registry.js';
import { lazySink } from '../../core/lazy-sink.js';
import { opentelemetrySinkSchema } from './schema.js';

registerSink({
  type: 'opentelemetry',
  description: 'Sends logs over OTLP/HTTP (protobuf or JSON) to an OpenTelemetry Collector or any OTLP receiver.',
  schema: opentelemetrySinkSchema,
  build: (config, ctx) => lazySink(async () => new (await import('./sink.js')).OpentelemetrySink(config, ctx)),
});
