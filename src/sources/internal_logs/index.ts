import { hostname } from 'node:os';
import { z } from 'zod';
import { LogEvent, type Fields } from '../../core/event.js';
import { addLogRecordListener } from '../../core/logger.js';
import { registerSource } from '../../core/registry.js';

export const internalLogsSchema = z.strictObject({
  host_key: z.string().default('host').describe('Field that gets the hostname of the node; "" leaves it out.'),
  pid_key: z.string().default('pid').describe('Field that gets the process id of sluice; "" leaves it out.'),
  max_queued_records: z
    .number()
    .int()
    .positive()
    .default(1000)
    .describe('Records waiting for the pipeline at most; more are dropped and counted (discarded, reason "queue_full") while the pipeline is slow.'),
});

type InternalLogsConfig = z.infer<typeof internalLogsSchema>;

/** Where a record is left out, and why; the counts become discarded-event metrics. */
export interface RecordFilter {
  ownId: string;
  /** Components fed by this source: their records are what this source's events cause. */
  downstream: () => ReadonlySet<string>;
}

/**
 * The bounded queue between the logger (synchronous, inside every log call) and the pipeline.
 * A record is never taken from a component this source feeds, nor from the source itself: a
 * failing sink logging about internal_logs events cannot feed its own failures back (a loop).
 */
export class RecordQueue {
  records: Record<string, unknown>[] = [];
  dropped = 0;
  excluded = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly max: number,
    private readonly filter: RecordFilter,
  ) {}

  readonly offer = (line: string): void => {
    if (this.records.length >= this.max) {
      this.dropped++;
      return;
    }
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const origin = record.component_id;
    if (typeof origin === 'string' && (origin === this.filter.ownId || this.filter.downstream().has(origin))) {
      this.excluded++;
      return;
    }
    this.records.push(record);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  };

  take(): Record<string, unknown>[] {
    const taken = this.records;
    this.records = [];
    return taken;
  }

  /** Resolves when a record arrives or `signal` aborts. */
  waitForRecords(signal: AbortSignal): Promise<void> {
    if (this.records.length > 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** A pino record as an event: `msg` becomes `message`, `time` `timestamp`; the other fields stay. */
export function recordToEvent(record: Record<string, unknown>, config: InternalLogsConfig, host: string): LogEvent {
  const { msg, time, pid: _pid, ...rest } = record;
  const fields: Fields = { message: msg ?? '', timestamp: time ?? new Date().toISOString(), ...rest, source_type: 'internal_logs' } as Fields;
  if (config.host_key !== '') fields[config.host_key] = host;
  if (config.pid_key !== '') fields[config.pid_key] = process.pid;
  return new LogEvent(fields);
}

registerSource({
  type: 'internal_logs',
  description:
    "sluice's own log records as events (stderr logging goes on unchanged). Records of the components this source feeds are left out, so a failing sink cannot loop.",
  schema: internalLogsSchema,
  build(config, ctx) {
    const host = hostname();
    const queue = new RecordQueue(config.max_queued_records, { ownId: ctx.id, downstream: ctx.downstream ?? (() => new Set()) });
    const countLosses = (): void => {
      if (queue.dropped > 0) ctx.metrics.discarded('queue_full', queue.dropped);
      if (queue.excluded > 0) ctx.metrics.discarded('own_pipeline', queue.excluded);
      queue.dropped = 0;
      queue.excluded = 0;
    };
    return {
      async run({ out, shutdown }) {
        // Subscribed only while running: without an internal_logs source the logger has no listener.
        const unsubscribe = addLogRecordListener(queue.offer);
        try {
          for (;;) {
            await queue.waitForRecords(shutdown);
            const records = queue.take();
            countLosses();
            if (records.length > 0) {
              ctx.metrics.receivedEvents.inc(records.length);
              const wait = out.send(records.map((record) => recordToEvent(record, config, host)));
              if (wait) await wait;
            }
            if (shutdown.aborted) break; // one last take after the abort: records of the drain itself
          }
        } finally {
          unsubscribe();
          countLosses();
        }
      },
    };
  },
});
