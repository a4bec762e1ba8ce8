import { registerSink } from '../../core/registry.js';
import { awsS3SinkSchema } from './schema.js';
import { lazySink } from '../../core/lazy-sink.js';

registerSink({
  type: 'aws_s3',
  description: 'Writes batches of events as objects to AWS S3 or an S3-compatible store.',
  schema: awsS3SinkSchema,
  build: (config, ctx) => lazySink(async () => new (await import('./sink.js')).AwsS3Sink(config, ctx)),
});
