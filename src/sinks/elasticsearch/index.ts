import { registerSink } from '../../core/registry.js';
import { elasticsearchSinkSchema } from './schema.js';
import { ElasticsearchSink } from './sink.js';

registerSink({
  type: 'elasticsearch',
  description: 'Indexes events into Elasticsearch or OpenSearch with the bulk API (indices or data streams).',
  schema: elasticsearchSinkSchema,
  build: (config, ctx) => new ElasticsearchSink(config, ctx),
});
