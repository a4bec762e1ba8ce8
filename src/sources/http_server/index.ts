import { registerSource } from '../../core/registry.js';
import { httpServerSchema } from './config.js';
import { HttpServerSource } from './source.js';

registerSource({
  type: 'http_server',
  description: 'Receives events pushed over HTTP(S) (e.g. the Kubernetes audit webhook); answers 200 once they are acknowledged.',
  schema: httpServerSchema,
  build: (config, ctx) => new HttpServerSource(config, ctx),
});
