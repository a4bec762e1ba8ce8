import { registerSink } from '../../core/registry.js';
import { lazySink } from '../../core/lazy-sink.js';
import { sluiceSinkSchema } from './schema.js';

registerSink({
  type: 'sluice',
  description: 'Sends events to sluice aggregators (the sluice source) over HTTP/2 with end-to-end acknowledgements across the hop, balanced over several endpoints with failover.',
  schema: sluiceSinkSchema,
  build: (config, ctx) => lazySink(async () => new (await import('./sink.js')).SluiceSink(config, ctx)),
});
