import { registerSink } from '../../core/registry.js';
import { splunkHecLogsSinkSchema } from './schema.js';
import { lazySink } from '../../core/lazy-sink.js';

registerSink({
  type: 'splunk_hec_logs',
  description: 'Sends events to a Splunk HTTP Event Collector (event or raw endpoint, indexer acknowledgements).',
  schema: splunkHecLogsSinkSchema,
  build: (config, ctx) => lazySink(async () => new (await import('./sink.js')).SplunkHecLogsSink(config, ctx)),
});
