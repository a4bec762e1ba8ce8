import { ReceiverFake, type ReceivedRequest, type ReceiverOptions } from './receiver.js';
import { checkSigV4 } from './sigv4.js';

export interface FakeCloudwatchLogsOptions {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials: the X-Amz-Security-Token every request must carry (and sign). */
  sessionToken?: string;
  /** Answer this many PutLogEvents calls with ThrottlingException before accepting (then normally). */
  throttlePuts?: number;
  /** The fake's clock (to make events age as they would in a buffer). */
  now?: () => number;
  tls?: ReceiverOptions['tls'];
}

export interface StoredEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

interface Stream {
  creationTime: number;
  events: StoredEvent[];
}

interface Group {
  creationTime: number;
  kmsKeyId?: string;
  retentionInDays?: number;
  tags?: Record<string, string>;
  streams: Map<string, Stream>;
}

type Answer = { status: number; body: string; headers?: Record<string, string> };

const TARGET_PREFIX = 'Logs_20140328.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const STREAM_NAME = /^[^:*]{1,512}$/;
const DAY = 24 * 3600_000;

/** The first page of a Describe* call: names with the prefix, sorted, at most `limit` (default 50). */
function page<T>(items: Map<string, T>, prefix: unknown, limit: unknown): Array<[string, T]> {
  const start = typeof prefix === 'string' ? prefix : '';
  return [...items]
    .filter(([name]) => name.startsWith(start))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .slice(0, typeof limit === 'number' ? limit : 50);
}

/**
 * A fake CloudWatch Logs speaking the AWS JSON 1.1 protocol as the real service does: `POST /`,
 * `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target: Logs_20140328.<Operation>`, every
 * request SigV4-signed for service `logs` (checked with `checkSigV4`, written from the spec).
 * Errors are `{"__type": ..., "message": ...}` with the status AWS uses. Operations:
 * CreateLogGroup, CreateLogStream, DescribeLogGroups, DescribeLogStreams, PutRetentionPolicy,
 * PutLogEvents, with its documented rules: at most 10,000 events and 1,048,576 bytes (message bytes + 26
 * each), chronological order, a 24 h span (InvalidParameterException otherwise), events older
 * than 14 days, than the group's retention (PutRetentionPolicy) or more than 2 h ahead left out
 * and reported in `rejectedLogEventsInfo`.
 */
export class FakeCloudwatchLogs extends ReceiverFake {
  readonly groups = new Map<string, Group>();
  /** Operations called, in order (after authentication). */
  readonly calls: string[] = [];
  readonly failures: string[] = [];
  /** PutLogEvents calls answered ThrottlingException so far. */
  throttled = 0;

  constructor(private readonly options: FakeCloudwatchLogsOptions) {
    super(options.tls);
  }

  /** Every stored message of a stream, in stored order. */
  messages(group: string, stream: string): string[] {
    return this.groups.get(group)?.streams.get(stream)?.events.map((e) => e.message) ?? [];
  }

  createGroup(name: string): void {
    this.groups.set(name, { creationTime: Date.now(), streams: new Map() });
  }

  protected handle(request: ReceivedRequest): Answer {
    if (request.method !== 'POST' || request.url !== '/') return this.error(404, 'UnknownOperationException', `no route for ${request.method} ${request.url}`);
    const target = String(request.headers['x-amz-target'] ?? '');
    if (!target.startsWith(TARGET_PREFIX)) return this.error(400, 'UnknownOperationException', `X-Amz-Target ${target || '(missing)'} is not a CloudWatch Logs operation`);
    if (request.headers['content-type'] !== CONTENT_TYPE) return this.error(400, 'SerializationException', `Content-Type must be ${CONTENT_TYPE}`);
    const signature = checkSigV4(request, { region: this.options.region, service: 'logs', accessKeyId: this.options.accessKeyId, secretAccessKey: this.options.secretAccessKey });
    if (signature !== undefined) {
      this.failures.push(signature);
      return signature.startsWith('unknown access key')
        ? this.error(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.')
        : this.error(400, 'InvalidSignatureException', `The request signature we calculated does not match the signature you provided (${signature}).`);
    }
    if (this.options.sessionToken !== undefined) {
      const signed = /SignedHeaders=([^,]+)/.exec(String(request.headers.authorization))![1]!.split(';');
      if (request.headers['x-amz-security-token'] !== this.options.sessionToken || !signed.includes('x-amz-security-token'))
        return this.error(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(request.body) as Record<string, unknown>;
    } catch {
      return this.error(400, 'SerializationException', 'request body is not JSON');
    }
    const operation = target.slice(TARGET_PREFIX.length);
    this.calls.push(operation);
    switch (operation) {
      case 'CreateLogGroup':
        return this.createLogGroup(input);
      case 'CreateLogStream':
        return this.createLogStream(input);
      case 'DescribeLogGroups':
        return this.describeLogGroups(input);
      case 'DescribeLogStreams':
        return this.describeLogStreams(input);
      case 'PutLogEvents':
        return this.putLogEvents(input);
      case 'PutRetentionPolicy':
        return this.putRetentionPolicy(input);
      default:
        return this.error(400, 'UnknownOperationException', `unknown operation ${operation}`);
    }
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private error(status: number, type: string, message: string): Answer {
    return { status, body: JSON.stringify({ __type: type, message }), headers: { 'content-type': CONTENT_TYPE, 'x-amzn-errortype': type } };
  }

  private ok(body: unknown = {}): Answer {
    return { status: 200, body: JSON.stringify(body), headers: { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': crypto.randomUUID() } };
  }

  private groupOf(input: Record<string, unknown>): Group | Answer {
    const name = input.logGroupName;
    if (typeof name !== 'string' || !GROUP_NAME.test(name)) return this.error(400, 'InvalidParameterException', `1 validation error detected: Value '${String(name)}' at 'logGroupName' failed to satisfy constraint`);
    return this.groups.get(name) ?? this.error(400, 'ResourceNotFoundException', 'The specified log group does not exist.');
  }

  private createLogGroup(input: Record<string, unknown>): Answer {
    const name = input.logGroupName;
    if (typeof name !== 'string' || !GROUP_NAME.test(name)) return this.error(400, 'InvalidParameterException', `invalid logGroupName ${String(name)}`);
    if (this.groups.has(name)) return this.error(400, 'ResourceAlreadyExistsException', 'The specified log group already exists');
    const group: Group = { creationTime: this.now(), streams: new Map() };
    if (typeof input.kmsKeyId === 'string') group.kmsKeyId = input.kmsKeyId;
    if (input.tags !== undefined) group.tags = input.tags as Record<string, string>;
    this.groups.set(name, group);
    return { status: 200, body: '', headers: { 'content-type': CONTENT_TYPE } };
  }

  private createLogStream(input: Record<string, unknown>): Answer {
    const group = this.groupOf(input);
    if ('status' in group) return group;
    const name = input.logStreamName;
    if (typeof name !== 'string' || !STREAM_NAME.test(name)) return this.error(400, 'InvalidParameterException', `invalid logStreamName ${String(name)}`);
    if (group.streams.has(name)) return this.error(400, 'ResourceAlreadyExistsException', 'The specified log stream already exists');
    group.streams.set(name, { creationTime: this.now(), events: [] });
    return { status: 200, body: '', headers: { 'content-type': CONTENT_TYPE } };
  }

  private putRetentionPolicy(input: Record<string, unknown>): Answer {
    const group = this.groupOf(input);
    if ('status' in group) return group;
    const days = input.retentionInDays;
    if (typeof days !== 'number' || ![1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653].includes(days))
      return this.error(400, 'InvalidParameterException', `1 validation error detected: Value '${String(days)}' at 'retentionInDays' failed to satisfy constraint`);
    group.retentionInDays = days;
    return { status: 200, body: '', headers: { 'content-type': CONTENT_TYPE } };
  }

  private describeLogGroups(input: Record<string, unknown>): Answer {
    const logGroups = page(this.groups, input.logGroupNamePrefix, input.limit).map(([name, group]) => ({ logGroupName: name, creationTime: group.creationTime, arn: `arn:aws:logs:${this.options.region}:123456789012:log-group:${name}:*`, storedBytes: 0 }));
    return this.ok({ logGroups });
  }

  private describeLogStreams(input: Record<string, unknown>): Answer {
    const group = this.groupOf(input);
    if ('status' in group) return group;
    const logStreams = page(group.streams, input.logStreamNamePrefix, input.limit).map(([name, stream]) => ({
        logStreamName: name,
        creationTime: stream.creationTime,
        ...(stream.events.length ? { firstEventTimestamp: stream.events[0]!.timestamp, lastEventTimestamp: stream.events.at(-1)!.timestamp, lastIngestionTime: stream.events.at(-1)!.ingestionTime } : {}),
        storedBytes: 0,
      }));
    return this.ok({ logStreams });
  }

  private putLogEvents(input: Record<string, unknown>): Answer {
    if (this.throttled < (this.options.throttlePuts ?? 0)) {
      this.throttled++;
      return this.error(400, 'ThrottlingException', 'Rate exceeded');
    }
    const group = this.groupOf(input);
    if ('status' in group) return group;
    const stream = group.streams.get(String(input.logStreamName));
    if (!stream) return this.error(400, 'ResourceNotFoundException', 'The specified log stream does not exist.');
    const events = input.logEvents;
    if (!Array.isArray(events) || events.length === 0) return this.error(400, 'InvalidParameterException', 'logEvents must hold at least one log event');
    if (events.length > 10_000) return this.error(400, 'InvalidParameterException', `1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000`);
    let bytes = 0;
    for (const [i, event] of events.entries()) {
      const e = event as { timestamp?: unknown; message?: unknown };
      if (typeof e.timestamp !== 'number' || !Number.isInteger(e.timestamp) || typeof e.message !== 'string' || e.message === '')
        return this.error(400, 'InvalidParameterException', `logEvents.${i + 1}: timestamp (integer ms) and a non-empty message are required`);
      if (i > 0 && e.timestamp < (events[i - 1] as { timestamp: number }).timestamp)
        return this.error(400, 'InvalidParameterException', 'Log events in a single PutLogEvents request must be in chronological order.');
      bytes += Buffer.byteLength(e.message) + 26;
    }
    if (bytes > 1_048_576) return this.error(400, 'InvalidParameterException', `Upload too large: ${bytes} bytes exceeds limit of 1048576`);
    const typed = events as Array<{ timestamp: number; message: string }>;
    if (typed.at(-1)!.timestamp - typed[0]!.timestamp > DAY)
      return this.error(400, 'InvalidParameterException', 'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.');
    const now = this.now();
    // Sorted events: the too-old ones are a prefix, the too-new ones a suffix.
    let tooOldEnd = 0;
    while (tooOldEnd < typed.length && typed[tooOldEnd]!.timestamp < now - 14 * DAY) tooOldEnd++;
    // Then the ones older than the group's retention: expired.
    let expiredEnd = tooOldEnd;
    if (group.retentionInDays !== undefined) while (expiredEnd < typed.length && typed[expiredEnd]!.timestamp < now - group.retentionInDays * DAY) expiredEnd++;
    let tooNewStart = typed.length;
    while (tooNewStart > expiredEnd && typed[tooNewStart - 1]!.timestamp > now + 2 * 3600_000) tooNewStart--;
    for (const event of typed.slice(expiredEnd, tooNewStart)) stream.events.push({ timestamp: event.timestamp, message: event.message, ingestionTime: now });
    const info: Record<string, number> = {};
    if (tooOldEnd > 0) info.tooOldLogEventEndIndex = tooOldEnd;
    if (expiredEnd > tooOldEnd) info.expiredLogEventEndIndex = expiredEnd;
    if (tooNewStart < typed.length) info.tooNewLogEventStartIndex = tooNewStart;
    return this.ok({ nextSequenceToken: String(stream.events.length).padStart(56, '4'), ...(Object.keys(info).length ? { rejectedLogEventsInfo: info } : {}) });
  }
}
