import { registerSource } from '../../core/registry.js';
import { fileSourceSchema } from './config.js';
import { FileSource } from './source.js';

registerSource({
  type: 'file',
  description: 'Lines of files matching globs (sidecar deployments), with checkpoints.',
  schema: fileSourceSchema,
  build: (config, ctx) => new FileSource(config, ctx),
});
