import { registerSource } from '../../core/registry.js';
import { journaldSchema } from './config.js';
import { JournaldSource } from './source.js';

registerSource({
  type: 'journald',
  description: 'The systemd journal through journalctl -o export --follow, checkpointed by cursor after acknowledgement.',
  schema: journaldSchema,
  build: (config, ctx) => new JournaldSource(config, ctx),
});
