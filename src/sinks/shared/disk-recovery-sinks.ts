import type { ComponentContext, Sink } from '../../core/component.js';
import { awsCloudwatchLogsSinkSchema } from '../aws_cloudwatch_logs/schema.js';
import { AwsCloudwatchLogsSink } from '../aws_cloudwatch_logs/sink.js';
import { awsS3SinkSchema } from '../aws_s3/schema.js';
import { AwsS3Sink } from '../aws_s3/sink.js';
import { elasticsearchSinkSchema } from '../elasticsearch/schema.js';
import { ElasticsearchSink } from '../elasticsearch/sink.js';
import { gcpStackdriverLogsSinkSchema } from '../gcp_stackdriver_logs/schema.js';
import { GcpStackdriverLogsSink } from '../gcp_stackdriver_logs/sink.js';
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
    case 'aws_cloudwatch_logs':
      return new AwsCloudwatchLogsSink(
        awsCloudwatchLogsSinkSchema.parse({ ...common, group_name: '/recovered', stream_name: '{{ kubernetes.pod_namespace }}', region: 'us-east-1', endpoint: destination, auth: { access_key_id: 'RECOVERY', secret_access_key: 'RECOVERY' } }),
        ctx,
      );
    case 'gcp_stackdriver_logs':
      return new GcpStackdriverLogsSink(gcpStackdriverLogsSinkSchema.parse({ ...common, project_id: 'p', log_id: 'recovered', resource: { type: 'global' }, endpoint: destination, api_key: 'RECOVERY' }), ctx);
    default:
      throw new Error(`no test sink "${type}"`);
  }
}
