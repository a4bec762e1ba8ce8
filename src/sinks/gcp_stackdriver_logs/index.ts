import { registerSink } from '../../core/registry.js';
import { gcpStackdriverLogsSinkSchema } from './schema.js';
import { lazySink } from '../../core/lazy-sink.js';

registerSink({
  type: 'gcp_stackdriver_logs',
  description: 'Sends events to Google Cloud Logging (entries.write), with k8s_container resources, severity mapping, service-account or Workload Identity credentials.',
  schema: gcpStackdriverLogsSinkSchema,
  build: (config, ctx) => lazySink(async () => new (await import('./sink.js')).GcpStackdriverLogsSink(config, ctx)),
});
