import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import type { ComponentContext, Source, SourceRunContext } from '../../core/component.js';
import { LogEvent, parsePath, setField, type FieldPath, type Fields } from '../../core/event.js';
import { Finalizer } from '../../core/finalizer.js';
import { describeBrokers, kafkaClientOptions, kafkaErrorMessage } from '../../sinks/kafka/connection.js';
import type { KafkaSourceConfig } from './config.js';

const SOURCE_TYPE = 'kafka';
const RETRY_MS = 1000;

type Commit = () => void | Promise<void>;

/**
 * Offsets of one partition read but not yet committed, in read order. A record is done once its
 * event is acknowledged (delivered or rejected for good); the offset to commit is the one after
 * the last record of the done prefix, so an unacknowledged record is never skipped.
 */
class PartitionOffsets {
  private readonly entries: ReadRecord[] = [];
  /** The commit of the last record of the done prefix, not yet sent. */
  ready: Commit | undefined;

  read(offset: bigint, commit: Commit): ReadRecord {
    const last = this.entries.at(-1);
    if (last && offset <= last.offset) {
      // Read again from an earlier offset (a rebalance gave the partition back): what was
      // pending will be read and acknowledged again; a late acknowledgement of a record read
      // before must not count for its copy read now.
      for (const e of this.entries) e.dropped = true;
      this.entries.length = 0;
    }
    const entry: ReadRecord = { offset, done: false, dropped: false, commit };
    this.entries.push(entry);
    return entry;
  }

  done(entry: ReadRecord): void {
    if (entry.dropped) return;
    entry.done = true;
    let head = 0;
    while (head < this.entries.length && this.entries[head]!.done) head++;
    if (head === 0) return;
    const advanced = this.entries.splice(0, head);
    this.ready = advanced.at(-1)!.commit;
  }
}

interface ReadRecord {
  readonly offset: bigint;
  done: boolean;
  /** Left behind by a read from an earlier offset. */
  dropped: boolean;
  readonly commit: Commit;
}

/**
 * Reads topics as a member of a consumer group (classic protocol), with auto-commit off: a
 * record's offset is committed only once every sink acknowledged its event (end to end), every
 * `commit_interval_ms` and at shutdown. Killed or crashed, the group starts again from the last
 * committed offsets: at least once, nothing lost. A failed consumer (broker restarting, group
 * errors) is closed and created again after a second; its unacknowledged records are read again
 * by the new one.
 */
export class KafkaSource implements Source {
  private consumer: Consumer | undefined;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  private partitions = new Map<string, PartitionOffsets>();
  private commitTimer: NodeJS.Timeout | undefined;
  /** The last commit round; the next waits for it. */
  private committing: Promise<void> = Promise.resolve();
  private commitInFlight = false;
  private readonly decoder = new TextDecoder('utf-8');
  private readonly paths: { key: FieldPath; topic: FieldPath; partition: FieldPath; offset: FieldPath; headers: FieldPath };

  constructor(
    private readonly config: KafkaSourceConfig,
    private readonly ctx: ComponentContext,
  ) {
    this.paths = {
      key: parsePath(config.key_field),
      topic: parsePath(config.topic_key),
      partition: parsePath(config.partition_key),
      offset: parsePath(config.offset_key),
      headers: parsePath(config.headers_key),
    };
  }

  async run({ out, shutdown }: SourceRunContext): Promise<void> {
    const stop = (): void => void this.stream?.close().catch(() => undefined);
    shutdown.addEventListener('abort', stop, { once: true });
    this.commitTimer = setInterval(() => this.commitOnInterval(), this.config.commit_interval_ms);
    try {
      while (!shutdown.aborted) {
        try {
          await this.consume(out, shutdown);
          if (shutdown.aborted) break;
          throw new Error('the consumer stream ended');
        } catch (error) {
          if (shutdown.aborted) break;
          this.ctx.metrics.error('consumer_failed');
          this.ctx.logger.warn({ err: kafkaErrorMessage(error), group_id: this.config.group_id, brokers: describeBrokers(this.config.bootstrap_servers) }, 'kafka consumer failed: retrying');
          await this.closeConsumer();
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        }
      }
    } finally {
      shutdown.removeEventListener('abort', stop);
    }
  }

  /** Every acknowledgement that will come has come: commit what is done, leave the group. */
  async close(): Promise<void> {
    clearInterval(this.commitTimer);
    await this.commitReady();
    await this.closeConsumer();
  }

  private async closeConsumer(): Promise<void> {
    const consumer = this.consumer;
    const stream = this.stream;
    this.consumer = undefined;
    this.stream = undefined;
    // Late acknowledgements of this consumer's records are not committed: its successor reads
    // them again from the last committed offsets.
    this.partitions = new Map();
    await stream?.close().catch(() => undefined);
    await (consumer?.close(true as boolean) as Promise<void> | undefined)?.catch(() => undefined);
  }

  private async consume(out: SourceRunContext['out'], shutdown: AbortSignal): Promise<void> {
    const { options, tuning } = kafkaClientOptions(this.config, `sluice-${this.ctx.id}`, this.config.socket_timeout_ms);
    const group = {
      sessionTimeout: Number(tuning.sessionTimeout ?? this.config.session_timeout_ms),
      heartbeatInterval: Number(tuning.heartbeatInterval ?? Math.max(100, Math.floor(this.config.session_timeout_ms / 3))),
      rebalanceTimeout: Number(tuning.rebalanceTimeout ?? Math.max(this.config.session_timeout_ms, 30_000)),
    };
    const consumer = new Consumer({
      ...(options as { clientId: string; bootstrapBrokers: string[] }),
      groupId: this.config.group_id,
      ...group,
      maxWaitTime: Number(tuning.maxWaitTime ?? this.config.fetch_wait_max_ms),
      ...(tuning.minBytes !== undefined ? { minBytes: Number(tuning.minBytes) } : {}),
      ...(tuning.maxBytes !== undefined ? { maxBytes: Number(tuning.maxBytes) } : {}),
      ...(tuning.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: Number(tuning.maxBytesPerPartition) } : {}),
      autocommit: false,
    });
    this.consumer = consumer;
    const reset = this.config.auto_offset_reset;
    const stream = await consumer.consume({
      topics: this.config.topics,
      mode: 'committed',
      fallbackMode: reset === 'error' ? 'fail' : reset === 'smallest' || reset === 'earliest' ? 'earliest' : 'latest',
      autocommit: false,
      ...group,
    });
    this.stream = stream;
    if (shutdown.aborted) await stream.close();
    this.ctx.logger.info({ group_id: this.config.group_id, topics: this.config.topics }, 'kafka consumer reading');
    const partitions = this.partitions;
    for await (const message of stream as AsyncIterable<Message<Buffer, Buffer, Buffer, Buffer>>) {
      const event = this.toEvent(message, partitions);
      this.ctx.metrics.receivedEvents.inc(1);
      const wait = out.send([event]);
      if (wait !== undefined) await wait;
    }
  }

  private toEvent(message: Message<Buffer, Buffer, Buffer, Buffer>, partitions: Map<string, PartitionOffsets>): LogEvent {
    const text = message.value ? this.decoder.decode(message.value) : '';
    let fields: Fields | undefined;
    if (this.config.decoding.codec === 'json') {
      fields = jsonObject(text);
      if (fields === undefined) {
        this.ctx.metrics.error('invalid_message');
        this.ctx.logger.warn({ topic: message.topic, partition: message.partition, offset: String(message.offset) }, 'kafka record is not a JSON object: kept as the message');
      }
    }
    fields ??= { message: text };
    if (!('timestamp' in fields)) fields.timestamp = new Date(Number(message.timestamp)).toISOString();
    if (!('source_type' in fields)) fields.source_type = SOURCE_TYPE;
    if (message.key && message.key.length > 0) setField(fields, this.paths.key, this.decoder.decode(message.key));
    setField(fields, this.paths.topic, message.topic);
    setField(fields, this.paths.partition, message.partition);
    setField(fields, this.paths.offset, Number(message.offset));
    if (message.headers.size > 0) {
      const headers: Record<string, string> = {};
      for (const [k, v] of message.headers) headers[this.decoder.decode(k)] = v ? this.decoder.decode(v) : '';
      setField(fields, this.paths.headers, headers);
    }
    const id = `${message.topic}:${message.partition}`;
    let offsets = partitions.get(id);
    if (!offsets) partitions.set(id, (offsets = new PartitionOffsets()));
    const tracked = offsets;
    const record = tracked.read(message.offset, () => message.commit());
    const finalizer = new Finalizer(1, ({ rejected }) => {
      // Rejected for good by a sink: reading it again would not change that (Vector commits it too).
      if (rejected > 0) this.ctx.metrics.discarded('rejected', rejected);
      tracked.done(record);
    });
    return new LogEvent(fields, finalizer);
  }

  /**
   * Commits, per partition, the offset after the acknowledged prefix. One commit round at a time:
   * a commit held up by a broker restart and sent again after a later one would move the group's
   * offset back (a broker accepts a lower offset), and a restart would read it all again.
   */
  private commitReady(): Promise<void> {
    const round = this.committing.then(() => this.commitRound());
    this.committing = round;
    return round;
  }

  /** Every interval: a round if none is in flight (the next one takes the newest offsets). */
  private commitOnInterval(): void {
    if (this.commitInFlight) return;
    this.commitInFlight = true;
    void this.commitReady().finally(() => (this.commitInFlight = false));
  }

  private async commitRound(): Promise<void> {
    const commits: Array<[PartitionOffsets, Commit]> = [];
    for (const offsets of this.partitions.values()) {
      if (offsets.ready) commits.push([offsets, offsets.ready]);
      offsets.ready = undefined;
    }
    for (const [offsets, commit] of commits) {
      try {
        await commit();
      } catch (error) {
        // Tried again next round unless a later record is ready by then.
        offsets.ready ??= commit;
        this.ctx.metrics.error('commit_failed');
        this.ctx.logger.warn({ err: kafkaErrorMessage(error), group_id: this.config.group_id }, 'kafka offset commit failed');
      }
    }
  }
}

/** The JSON object `text` holds, or undefined (not JSON, or JSON but not an object). */
function jsonObject(text: string): Fields | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : undefined;
  } catch {
    return undefined;
  }
}
