import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { HeadBucketCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { ComponentContext, EventStream, Sink } from '../../core/component.js';
import type { LogEvent } from '../../core/event.js';
import type { Batch } from '../shared/batcher.js';
import { SinkDriver, type Prepared } from '../shared/driver.js';
import { EventEncoder } from '../shared/encoding.js';
import { deliveredAll, rejectAll, retryAll, type AttemptOutcome } from '../shared/outcome.js';
import { isRetryableStatus, networkErrorReason, statusReason } from '../shared/retry.js';
import { SinkMetrics } from '../shared/sink-metrics.js';
import { checkStrftime, strftime } from '../shared/strftime.js';
import { EventTemplate } from '../shared/templating.js';
import { tlsConnectOptions } from '../shared/tls.js';
import type { AwsS3SinkConfig } from './schema.js';

const gzip = promisify(gzipCallback);

/** The SDK error fields this sink reads. */
interface S3ServiceError extends Error {
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  Code?: string;
}

/**
 * Writes one object per batch (newline-delimited events, gzip by default) under a key made of
 * the rendered key_prefix, the upload time and a UUID. Credentials come from the SDK's default
 * chain (env, shared profile, web identity / IRSA, EKS pod identity, instance metadata) unless
 * `auth` gives static keys. The SDK's own retries are off: the shared driver retries with the
 * sink's `request` options, like every other sink.
 */
export class AwsS3Sink implements Sink {
  private readonly client: S3Client;
  private readonly encoder: EventEncoder;
  private readonly keyPrefix: EventTemplate;
  private readonly driver: SinkDriver<string>;
  private readonly extension: string;

  constructor(
    private readonly config: AwsS3SinkConfig,
    ctx: ComponentContext,
  ) {
    checkStrftime(config.filename_time_format);
    this.keyPrefix = new EventTemplate(config.key_prefix, 'key_prefix');
    this.encoder = new EventEncoder(config.encoding);
    this.extension = config.filename_extension ?? (config.compression === 'gzip' ? 'log.gz' : 'log');
    const clientConfig: S3ClientConfig = {
      forcePathStyle: config.force_path_style,
      maxAttempts: 1,
      requestHandler: {
        requestTimeout: config.request.timeout_secs * 1000,
        connectionTimeout: config.request.timeout_secs * 1000,
        ...(config.tls ? { httpsAgent: { keepAlive: true, ...tlsConnectOptions(config.tls) } } : {}),
      },
    };
    if (config.region) clientConfig.region = config.region;
    if (config.endpoint) clientConfig.endpoint = config.endpoint;
    if (config.auth) clientConfig.credentials = { accessKeyId: config.auth.access_key_id, secretAccessKey: config.auth.secret_access_key };
    this.client = new S3Client(clientConfig);
    this.driver = new SinkDriver<string>(
      { prepare: (event) => this.prepare(event), send: (batch) => this.send(batch) },
      { batch: config.batch, request: config.request, logger: ctx.logger, metrics: new SinkMetrics(ctx.metrics) },
    );
  }

  async healthcheck(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.config.bucket }));
    } catch (error) {
      const err = error as S3ServiceError;
      const status = err.$metadata?.httpStatusCode;
      throw new Error(`healthcheck HeadBucket ${this.config.bucket} failed: ${status ? `HTTP ${status} ` : ''}${err.name}: ${err.message}`);
    }
  }

  async run(input: EventStream): Promise<void> {
    try {
      await this.driver.run(input);
    } finally {
      this.client.destroy();
    }
  }

  private prepare(event: LogEvent): Prepared<string> {
    const payload = this.encoder.encode(event);
    return { key: this.keyPrefix.render(event.fields), payload, bytes: Buffer.byteLength(payload) + 1 };
  }

  /** A fresh key per attempt is fine: a failed PUT leaves no object behind. */
  objectKey(prefix: string, now = new Date()): string {
    const time = strftime(this.config.filename_time_format, now);
    const name = this.config.filename_append_uuid ? `${time}-${randomUUID()}` : time;
    return `${prefix}${name}.${this.extension}`;
  }

  private async send(batch: Batch<string>): Promise<AttemptOutcome<string>> {
    const raw = Buffer.from(batch.payloads.join('\n') + '\n');
    const body = this.config.compression === 'gzip' ? await gzip(raw) : raw;
    const contentType = this.config.content_type ?? (this.config.encoding.codec === 'text' ? 'text/plain' : 'application/x-ndjson');
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.config.bucket,
          Key: this.objectKey(batch.key),
          Body: body,
          ContentType: contentType,
          ...(this.config.compression === 'gzip' ? { ContentEncoding: 'gzip' } : {}),
          ...(this.config.storage_class ? { StorageClass: this.config.storage_class } : {}),
          ...(this.config.server_side_encryption ? { ServerSideEncryption: this.config.server_side_encryption } : {}),
          ...(this.config.ssekms_key_id ? { SSEKMSKeyId: this.config.ssekms_key_id } : {}),
        }),
      );
    } catch (error) {
      const err = error as S3ServiceError;
      const status = err.$metadata?.httpStatusCode;
      const detail = `${status ? `HTTP ${status} ` : ''}${err.name}: ${err.message}`;
      if (status === undefined) return retryAll(batch, networkErrorReason(error), detail);
      if (isRetryableStatus(status)) return { ...retryAll(batch, statusReason(status), detail), status };
      return { ...rejectAll(batch, statusReason(status), detail), status };
    }
    return { ...deliveredAll(batch, body.length), status: 200 };
  }
}
