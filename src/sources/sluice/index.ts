import { registerSource } from '../../core/registry.js';
import { sluiceSourceSchema } from './schema.js';
import { SluiceSource } from './receiver.js';

registerSource({
  type: 'sluice',
  description: 'Receives events from sluice agents (the sluice sink) over HTTP/2, answering each batch once it is accepted downstream (end-to-end acknowledgements across the hop).',
  schema: sluiceSourceSchema,
  build: (config, ctx) => new SluiceSource(config, ctx),
});
