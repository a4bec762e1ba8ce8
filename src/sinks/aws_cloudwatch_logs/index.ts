import { registerSink } from '../../core/registry.js';
import { awsCloudwatchLogsSinkSchema } from './schema.js';
import { lazySink } from '../../core/lazy-sink.js';

registerSink({
  type: 'aws_cloudwatch_logs',
  description: 'Sends events to AWS CloudWatch Logs (PutLogEvents through the AWS SDK v3), with templated log groups and streams.',
  schema: awsCloudwatchLogsSinkSchema,
  build: (config, ctx) => lazySink(async () => new (await import('./sink.js')).AwsCloudwatchLogsSink(config, ctx)),
});
