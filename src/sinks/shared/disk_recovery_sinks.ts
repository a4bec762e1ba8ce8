import type { ComponentContext, Sink } from '../../core/component.js';
import { awsS3SinkSchema } from '../aws_s3/schema.js';
import { AwsS3Sink } from '../aws_s3/sink.js';
import { elasticsearchSinkSchema } from '../elasticsearch/schema.js';
import { ElasticsearchSink } from '../elasticsearch/sink.js';
import { httpSinkSchema } from '../http/schema.js';
import { HttpSink } from '../http/sink.js';
import { lokiSinkSchema } from '../loki/schema.js';
import { LokiSink } from '../loki/sink.js';

/** Test helper: each network sink configured for a destination URL, small batches, quick retries. */
export function buildTestSink(type: string, destination: string, ctx: ComponentContext): Sink {
  const common = { batch: { max_events: 50, timeout_secs: 0.05 }, request: { retry_initial_backoff_secs: 0.02, retry_max_duration_secs: 0.1 } };
  switch (type) {
    case 'http':
      return new HttpSink(httpSinkSchema.parse({ ...common, uri: `${destination}/ingest`, encoding: { codec: 'ndjson' } }), ctx);
    case 'elasticsearch':
      return new ElasticsearchSink(elasticsearchSinkSchema.parse({ ...common, endpoints: [destination], bulk: { index: 'recovered' } }), ctx);
    case 'loki':
      return new LokiSink(lokiSinkSchema.parse({ ...common, endpoint: destination, labels: { job: 'recovered' }, remove_timestamp: false }), ctx);
    case 'aws_s3':
      return new AwsS3Sink(
        awsS3SinkSchema.parse({
          ...common,
          bucket: 'recovered',
          region: 'us-east-1',
          endpoint: destination,
          force_path_style: true,
          auth: { access_key_id: 'S3RVER', secret_access_key: 'S3RVER' },
        }),
        ctx,
      );
    default:
      throw new Error(`no test sink "${type}"`);
  }
}
