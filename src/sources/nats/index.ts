import { registerSource } from '../../core/registry.js';
import { natsSourceSchema } from './config.js';

registerSource({
  type: 'nats',
  description: 'Reads a NATS JetStream stream with a durable pull consumer; acks each message once the sinks acknowledged its event.',
  schema: natsSourceSchema,
  build: (config, ctx) => {
    let source: Promise<import('./source.js').NatsSource> | undefined;
    const load = () => (source ??= import('./source.js').then(({ NatsSource }) => new NatsSource(config, ctx)));
    return {
      run: async (run) => (await load()).run(run),
      close: async () => (await load()).close(),
    };
  },
});
