import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ackAll, type LogEvent } from '../event.js';
import type { ComponentMetrics } from '../metrics.js';
import type { Readiness } from '../readiness.js';
import { makePrivateDir } from '../private-files.js';
import { DiskBuffer } from './disk.js';
import { MemoryBuffer } from './memory.js';
import type { EventBuffer } from './types.js';

const MIB = 1024 * 1024;
/**
 * Smallest disk buffer accepted. Vector asks for ~256 MiB because of its ledger layout; ours
 * only needs room for a few segments (the segment size is max_size / 8, at most 32 MiB), so 1 MiB
 * works, though production buffers should be sized for the outage they must ride out
 * (throughput x outage length).
 */
export const MIN_DISK_BUFFER_BYTES = 1 * MIB;

/** A sink's `buffer` block (owned by the core, stripped before the sink's own schema). */
export const bufferOptionsSchema = z
  .strictObject({
    type: z
      .enum(['memory', 'disk'])
      .default('memory')
      .describe('memory: fast, lost on crash (sources re-read unacked data). disk: survives restarts and crashes; acks upstream once fsynced.'),
    max_events: z.number().int().positive().default(500).describe('memory: events held before when_full applies.'),
    max_size: z
      .number()
      .int()
      .min(MIN_DISK_BUFFER_BYTES)
      .optional()
      .describe('disk (required): bytes of unacknowledged events kept under <data_dir>/buffer/<sink id>/, at least 1 MiB.'),
    when_full: z
      .enum(['block', 'drop_newest'])
      .default('block')
      .describe('block: slow the sources down (no loss); drop_newest: drop incoming events (counted, acked as rejected).'),
  })
  .refine((options) => options.type !== 'disk' || options.max_size !== undefined, {
    message: 'buffer.max_size is required when buffer.type = "disk"',
    path: ['max_size'],
  })
  .prefault({});
export type BufferOptions = z.infer<typeof bufferOptionsSchema>;

export interface BufferContext {
  dataDir: string;
  sinkId: string;
  metrics: ComponentMetrics;
  logger: Logger;
  readiness?: Readiness | undefined;
}

/** Build the buffer in front of a sink. */
export async function createBuffer(options: BufferOptions, ctx: BufferContext): Promise<EventBuffer> {
  const onDrop = (events: LogEvent[]) => {
    ctx.metrics.discarded('buffer_full', events.length);
    ackAll(events, 'rejected');
  };
  if (options.type === 'memory') {
    return new MemoryBuffer({ maxEvents: options.max_events, whenFull: options.when_full, onDrop });
  }
  const dir = join(ctx.dataDir, 'buffer', ctx.sinkId);
  const warnUntightened = (paths: string[]) => ctx.logger.warn({ paths }, 'disk buffer: cannot make files private (0600/0700)');
  const untightened = await makePrivateDir(join(ctx.dataDir, 'buffer'));
  if (untightened.length > 0) warnUntightened(untightened);
  const bytesGauge = ctx.metrics.gauge('sluice_component_buffer_bytes', 'Bytes of unacknowledged events in a disk buffer.').labels(ctx.metrics.labels);
  const buffer = await DiskBuffer.open({
    dir,
    maxBytes: options.max_size!,
    whenFull: options.when_full,
    onDrop,
    onUsage: (bytes) => bytesGauge.set(bytes),
    onUntightened: warnUntightened,
    ...stallReporting(ctx, dir),
    onUnencodable: (events, message) => {
      ctx.metrics.discarded('unencodable', events.length);
      ctx.logger.error({ events: events.length, err: message }, 'disk buffer: events that cannot be written as JSON dropped');
      ackAll(events, 'rejected');
    },
    onError: (message) => {
      ctx.metrics.error('buffer_disk');
      ctx.logger.error({ dir }, `disk buffer: ${message}`);
    },
  });
  bytesGauge.set(buffer.bytes);
  if (buffer.size > 0) ctx.logger.info({ dir, events: buffer.size, bytes: buffer.bytes }, 'disk buffer: replaying events left from the last run');
  return buffer;
}

/**
 * A disk buffer that cannot write stalls its sink: counted per attempt, logged once when it
 * starts and once when it ends, shown as a gauge and as a reason `/ready` answers 503 for.
 */
function stallReporting(ctx: BufferContext, dir: string) {
  const errors = ctx.metrics.counter('sluice_buffer_write_errors_total', 'Failed disk buffer writes (retried), by error code.', ['code']);
  const stalled = ctx.metrics.gauge('sluice_component_stalled', '1 while the component cannot make progress (see /ready for why).').labels(ctx.metrics.labels);
  stalled.set(0);
  const readinessKey = `buffer:${ctx.sinkId}`;
  return {
    onWriteFailed: (error: NodeJS.ErrnoException, attempt: number) => {
      const code = error.code ?? 'unknown';
      errors.inc({ ...ctx.metrics.labels, code });
      if (attempt > 1) return;
      stalled.set(1);
      ctx.readiness?.set(readinessKey, `sink ${ctx.sinkId}: disk buffer cannot write (${code}), retrying; its sources wait`);
      ctx.logger.error({ dir, code, err: error.message }, 'disk buffer: write failed; retrying with backoff, producers wait (nothing is lost)');
    },
    onWriteRecovered: () => {
      stalled.set(0);
      ctx.readiness?.clear(readinessKey);
      ctx.logger.info({ dir }, 'disk buffer: writing again');
    },
  };
}
