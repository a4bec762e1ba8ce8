import { registerSink } from '../../core/registry.js';
import { elasticsearchSinkSchema } from './schema.js';
import { lazySink } from '../../core/lazy-sink.js';

registerSink({
  type: 'elasticsearch',
  description: 'Indexes events into Elasticsearch or OpenSearch with the bulk API (indices or data streams).',
  schema: elasticsearchSinkSchema,
  build: (config, ctx) => lazySink(async () => new (await import('./sink.js')).ElasticsearchSink(config, ctx)),
});
