import { registerSource } from '../../core/registry.js';
import { opentelemetrySourceSchema } from './schema.js';
import { OtlpHttpReceiver } from './receiver.js';

registerSource({
  type: 'opentelemetry',
  description: 'Receives logs over OTLP/HTTP (POST /v1/logs, protobuf or JSON), answering once they are accepted downstream.',
  schema: opentelemetrySourceSchema,
  build: (config, ctx) => new OtlpHttpReceiver(config, ctx),
});
