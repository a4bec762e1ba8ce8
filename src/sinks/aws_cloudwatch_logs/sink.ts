import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
  type InputLogEvent,
  type RejectedLogEventsInfo,
} from '@aws-sdk/client-cloudwatch-logs';
import type { ComponentContext, EventStream, Sink } from '../../core/component.js';
import type { LogEvent } from '../../core/event.js';
import { awsClientConfig, awsErrorDetail, type AwsServiceError } from '../shared/aws.js';
import type { Batch } from '../shared/batcher.js';
import { EventRejected, SinkDriver, type Prepared } from '../shared/driver.js';
import { EventEncoder } from '../shared/encoding.js';
import { rejectAll, retryAll, type AttemptOutcome, type Rejection } from '../shared/outcome.js';
import { networkErrorReason } from '../shared/retry.js';
import { SinkMetrics } from '../shared/sink-metrics.js';
import { EventTemplate } from '../shared/templating.js';
import { EVENT_OVERHEAD_BYTES, MAX_AGE_MS, MAX_BATCH_BYTES, MAX_BATCH_SPAN_MS, MAX_FUTURE_MS, type AwsCloudwatchLogsSinkConfig } from './schema.js';

/** One log event as PutLogEvents takes it. */
export interface CloudwatchEvent {
  timestamp: number;
  message: string;
}

/** Errors worth another try: CloudWatch is busy or broken now, the request is fine. */
const RETRYABLE = new Set(['ThrottlingException', 'ServiceUnavailableException', 'LimitExceededException', 'RequestTimeout', 'RequestTimeoutException', 'InternalFailure']);

/** A fixed metric label for an SDK error that will be retried. */
function retryReason(error: unknown): string | undefined {
  const err = error as AwsServiceError;
  const status = err.$metadata?.httpStatusCode;
  if (status === undefined) {
    // The SDK names a reset socket "TimeoutError" too: its code tells them apart.
    const code = (error as { code?: unknown }).code;
    return err.name === 'TimeoutError' && typeof code === 'string' && code !== 'ETIMEDOUT' ? 'network' : networkErrorReason(error);
  }
  if (err.name === 'ThrottlingException' || err.name === 'LimitExceededException' || status === 429) return 'throttled';
  if (RETRYABLE.has(err.name) || status >= 500) return 'http_5xx';
  return undefined;
}

/** Milliseconds since the epoch of the event's timestamp; now when it has none (as Vector). */
function eventMillis(value: unknown, now: number): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(ms) ? ms : now;
}

/**
 * AWS CloudWatch Logs through the SDK v3 client (credentials from the default chain: IRSA web
 * identity, EKS Pod Identity, env, profile, instance metadata; or static keys). Each batch is one
 * PutLogEvents call for one group and stream, within CloudWatch's limits: at most 10,000 events,
 * 1,048,576 bytes counted as message bytes + 26 per event, events sorted by timestamp, and one UTC
 * day of event time (so never more than 24 h apart). Events older than 14 days or more than 2 h in
 * the future are refused before sending (CloudWatch would drop them); events that age in a buffer
 * and come back in `rejectedLogEventsInfo` are counted and rejected. A missing group or stream is
 * created (create_missing_group / create_missing_stream) and the call made again at once.
 */
export class AwsCloudwatchLogsSink implements Sink {
  private readonly client: CloudWatchLogsClient;
  private readonly encoder: EventEncoder;
  private readonly group: EventTemplate;
  private readonly stream: EventTemplate;
  private readonly driver: SinkDriver<CloudwatchEvent>;
  /** Group/stream creations in progress: concurrent batches of a new stream create it once. */
  private readonly creating = new Map<string, Promise<void>>();

  constructor(
    private readonly config: AwsCloudwatchLogsSinkConfig,
    private readonly ctx: ComponentContext,
    private readonly now: () => number = Date.now,
  ) {
    this.group = new EventTemplate(config.group_name, 'group_name');
    this.stream = new EventTemplate(config.stream_name, 'stream_name');
    this.encoder = new EventEncoder(config.encoding);
    this.client = new CloudWatchLogsClient(
      awsClientConfig({ region: config.region, endpoint: config.endpoint, auth: config.auth, tls: config.tls, timeoutSecs: config.request.timeout_secs }),
    );
    const headers = Object.entries(config.request.headers);
    if (headers.length > 0) {
      // Added before signing (the build step precedes finalize), so the extra headers are signed too.
      this.client.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { headers?: Record<string, string> };
          if (request.headers) for (const [name, value] of headers) request.headers[name.toLowerCase()] = value;
          return next(args);
        },
        { step: 'build', name: 'sluiceRequestHeaders' },
      );
    }
    this.driver = new SinkDriver<CloudwatchEvent>(
      { prepare: (event) => this.prepare(event), send: (batch) => this.send(batch) },
      { batch: config.batch, request: config.request, logger: ctx.logger, metrics: new SinkMetrics(ctx.metrics) },
    );
  }

  /**
   * A static group: DescribeLogStreams on it (a missing group passes when the sink may create
   * it). A templated group: DescribeLogGroups, which checks the credentials and the endpoint.
   */
  async healthcheck(): Promise<void> {
    const group = this.group.isDynamic ? undefined : this.config.group_name;
    try {
      if (group === undefined) await this.client.send(new DescribeLogGroupsCommand({ limit: 1 }));
      else await this.client.send(new DescribeLogStreamsCommand({ logGroupName: group, limit: 1 }));
    } catch (error) {
      if (group !== undefined && (error as Error).name === 'ResourceNotFoundException' && this.config.create_missing_group) return;
      throw new Error(`healthcheck ${group === undefined ? 'DescribeLogGroups' : `DescribeLogStreams ${group}`} failed: ${awsErrorDetail(error)}`);
    }
  }

  async run(input: EventStream): Promise<void> {
    try {
      await this.driver.run(input);
    } finally {
      this.client.destroy();
    }
  }

  private prepare(event: LogEvent): Prepared<CloudwatchEvent> {
    const group = this.group.render(event.fields);
    const stream = this.stream.render(event.fields);
    const now = this.now();
    const timestamp = eventMillis(event.fields.timestamp, now);
    if (timestamp < now - MAX_AGE_MS) throw new EventRejected('too_old', `event time ${new Date(timestamp).toISOString()} is more than 14 days ago: CloudWatch Logs refuses it`);
    if (timestamp > now + MAX_FUTURE_MS) throw new EventRejected('too_new', `event time ${new Date(timestamp).toISOString()} is more than 2 hours ahead: CloudWatch Logs refuses it`);
    const message = this.encoder.encode(event);
    const bytes = Buffer.byteLength(message) + EVENT_OVERHEAD_BYTES;
    if (bytes > MAX_BATCH_BYTES) throw new EventRejected('event_too_large', `log event of ${bytes} bytes is above CloudWatch's ${MAX_BATCH_BYTES}-byte limit`);
    // One UTC day per batch: its events are never more than 24 h apart.
    const day = Math.floor(timestamp / MAX_BATCH_SPAN_MS);
    return { key: JSON.stringify([group, stream, day]), payload: { timestamp, message }, bytes };
  }

  private async send(batch: Batch<CloudwatchEvent>): Promise<AttemptOutcome<CloudwatchEvent>> {
    const [group, stream] = JSON.parse(batch.key) as [string, string];
    // CloudWatch wants the events of one call in chronological order (a stable sort keeps arrival order for ties).
    const order = batch.payloads.map((_, i) => i).sort((a, b) => batch.payloads[a]!.timestamp - batch.payloads[b]!.timestamp);
    const logEvents: InputLogEvent[] = order.map((i) => batch.payloads[i]!);
    for (let created = false; ; created = true) {
      try {
        const answer = await this.client.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents }));
        return this.accepted(batch, order, answer.rejectedLogEventsInfo, answer.$metadata.httpStatusCode ?? 200);
      } catch (error) {
        const status = (error as AwsServiceError).$metadata?.httpStatusCode;
        if ((error as Error).name === 'ResourceNotFoundException' && !created) {
          const refused = await this.createMissing(group, stream, (error as Error).message);
          if (refused === undefined) continue;
          return { ...(refused.retry ? retryAll(batch, refused.reason, refused.detail) : rejectAll(batch, refused.reason, refused.detail)), ...(status ? { status } : {}) };
        }
        const reason = retryReason(error);
        const outcome = reason !== undefined ? retryAll(batch, reason, awsErrorDetail(error)) : rejectAll(batch, (error as Error).name === 'ResourceNotFoundException' ? 'resource_not_found' : 'http_4xx', awsErrorDetail(error));
        return { ...outcome, ...(status ? { status } : {}) };
      }
    }
  }

  /** Delivered, but for the events CloudWatch names in rejectedLogEventsInfo (indices into the sorted call). */
  private accepted(batch: Batch<CloudwatchEvent>, order: number[], info: RejectedLogEventsInfo | undefined, status: number): AttemptOutcome<CloudwatchEvent> {
    const outcome: AttemptOutcome<CloudwatchEvent> = { delivered: [], deliveredBytes: 0, rejected: [], status };
    const refused: Record<string, LogEvent[]> = {};
    order.forEach((original, position) => {
      const reason =
        info?.tooOldLogEventEndIndex !== undefined && position < info.tooOldLogEventEndIndex
          ? 'too_old'
          : info?.expiredLogEventEndIndex !== undefined && position < info.expiredLogEventEndIndex
            ? 'expired'
            : info?.tooNewLogEventStartIndex !== undefined && position >= info.tooNewLogEventStartIndex
              ? 'too_new'
              : undefined;
      const event = batch.events[original]!;
      if (reason === undefined) {
        outcome.delivered.push(event);
        outcome.deliveredBytes += Buffer.byteLength(batch.payloads[original]!.message) + EVENT_OVERHEAD_BYTES;
      } else (refused[reason] ??= []).push(event);
    });
    for (const [reason, events] of Object.entries(refused)) {
      outcome.rejected.push({ events, reason, detail: `CloudWatch Logs refused ${events.length} log event(s) of the call (rejectedLogEventsInfo: ${reason})` } satisfies Rejection);
    }
    return outcome;
  }

  /**
   * After PutLogEvents answered ResourceNotFound: create the stream (and the group first when it is
   * the group that is missing), as the create_missing_* options allow. Returns why not, or undefined
   * once both exist.
   */
  private async createMissing(group: string, stream: string, message: string): Promise<{ reason: string; detail: string; retry: boolean } | undefined> {
    const groupMissing = /log group/i.test(message);
    if (groupMissing && !this.config.create_missing_group) return { reason: 'resource_not_found', detail: `log group ${group} does not exist and create_missing_group is false`, retry: false };
    if (!this.config.create_missing_stream) return { reason: 'resource_not_found', detail: `log stream ${stream} of ${group} does not exist and create_missing_stream is false`, retry: false };
    const creation = this.once(`stream ${JSON.stringify([group, stream])}`, () => this.create(group, stream, groupMissing));
    try {
      await creation;
      return undefined;
    } catch (error) {
      const reason = retryReason(error);
      return { reason: reason ?? 'resource_not_found', detail: `creating ${group} / ${stream}: ${awsErrorDetail(error)}`, retry: reason !== undefined };
    }
  }

  /** Runs `create` unless the same creation is in progress, then shares its result. */
  private once(key: string, create: () => Promise<void>): Promise<void> {
    let creation = this.creating.get(key);
    if (!creation) {
      creation = create().finally(() => this.creating.delete(key));
      this.creating.set(key, creation);
    }
    return creation;
  }

  private async create(group: string, stream: string, groupMissing: boolean): Promise<void> {
    const createGroup = () =>
      this.once(`group ${group}`, async () => {
        const created = await ignoreAlreadyExists(
          this.client.send(new CreateLogGroupCommand({ logGroupName: group, ...(this.config.kms_key ? { kmsKeyId: this.config.kms_key } : {}), ...(this.config.tags ? { tags: this.config.tags } : {}) })),
        );
        if (!created) return; // another agent made it, with its own settings
        this.ctx.logger.info({ group }, 'created CloudWatch log group');
        const { retention } = this.config;
        if (retention.enabled) await this.client.send(new PutRetentionPolicyCommand({ logGroupName: group, retentionInDays: retention.days }));
      });
    if (groupMissing) await createGroup();
    try {
      await ignoreAlreadyExists(this.client.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream })));
    } catch (error) {
      // The group vanished (or the message did not say which resource was missing).
      if ((error as Error).name !== 'ResourceNotFoundException' || groupMissing || !this.config.create_missing_group) throw error;
      await createGroup();
      await ignoreAlreadyExists(this.client.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream })));
    }
    this.ctx.logger.debug({ group, stream }, 'created CloudWatch log stream');
  }
}

/** Another agent (or a concurrent batch) created it first: that is success. True when this call created it. */
async function ignoreAlreadyExists(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch (error) {
    if ((error as Error).name !== 'ResourceAlreadyExistsException') throw error;
    return false;
  }
}
