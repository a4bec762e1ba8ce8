import { registerSource } from '../../core/registry.js';
import { kafkaSourceSchema } from './config.js';

registerSource({
  type: 'kafka',
  description: 'Reads Kafka topics in a consumer group; commits a record\'s offset once the sinks acknowledged its event.',
  schema: kafkaSourceSchema,
  build: (config, ctx) => {
    let source: Promise<import('./source.js').KafkaSource> | undefined;
    const load = () => (source ??= import('./source.js').then(({ KafkaSource }) => new KafkaSource(config, ctx)));
    return {
      run: async (run) => (await load()).run(run),
      close: async () => (await load()).close(),
    };
  },
});
