import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ComponentContext, EventStream, Sink } from '../../core/component.js';
import { ackAll, type LogEvent } from '../../core/event.js';
import { RepeatReporter } from '../../core/repeat-reporter.js';
import { ByteBatch } from '../shared/byte-batch.js';
import { EventRejected } from '../shared/driver.js';
import { EventEncoder } from '../shared/encoding.js';
import { EventTemplate } from '../shared/templating.js';
import type { FileSinkOptions } from './index.js';
import { PathPrefix, sanitizePathValue } from './safe-path.js';

const NEWLINE = 0x0a;

interface OpenFile {
  handle: FileHandle;
  lastWrite: number;
}

/**
 * One write per (batch, path). Events are acked once the write returned (the bytes are in the
 * kernel: they survive a kill -9 of the agent; with `fsync` they also survive a node crash).
 */
export class FileSink implements Sink {
  private readonly encoder: EventEncoder;
  private readonly path: EventTemplate;
  private readonly missingField: RepeatReporter;
  private readonly prefix: PathPrefix;
  private readonly files = new Map<string, OpenFile>();
  /** Reused for every write: see ByteBatch. */
  private readonly pending = new ByteBatch();

  constructor(
    private readonly options: FileSinkOptions,
    private readonly ctx: ComponentContext,
  ) {
    this.encoder = new EventEncoder(options.encoding);
    this.path = new EventTemplate(options.path, 'path');
    this.missingField = new RepeatReporter(ctx.logger);
    this.prefix = new PathPrefix(options.path);
  }

  async run(input: EventStream): Promise<void> {
    const sweep = setInterval(() => void this.closeIdle(), Math.min(this.options.idle_timeout_secs * 1000, 5000));
    try {
      for await (const batch of input) await this.write(batch);
    } finally {
      clearInterval(sweep);
      await Promise.all([...this.files.values()].map((f) => f.handle.close()));
      this.files.clear();
    }
  }

  private async write(batch: LogEvent[]): Promise<void> {
    const byPath = new Map<string, LogEvent[]>();
    const outside: LogEvent[] = [];
    for (const event of batch) {
      let path: string;
      try {
        path = this.path.render(event.fields, sanitizePathValue);
      } catch (error) {
        if (!(error instanceof EventRejected)) throw error;
        this.drop(event, error);
        continue;
      }
      if (this.path.isDynamic && !this.prefix.contains(path)) {
        outside.push(event);
        continue;
      }
      const group = byPath.get(path);
      if (group) group.push(event);
      else byPath.set(path, [event]);
    }
    if (outside.length > 0) this.reject(outside);
    for (const [path, events] of byPath) {
      this.pending.reset();
      for (const event of events) {
        this.encoder.encodeInto(event, this.pending);
        this.pending.appendByte(NEWLINE);
      }
      const bytes = this.options.compression === 'gzip' ? gzipSync(this.pending.bytes()) : this.pending.bytes();
      try {
        const file = await this.fileFor(path);
        await file.handle.write(bytes);
        if (this.options.fsync) await file.handle.sync();
        file.lastWrite = Date.now();
      } catch (error) {
        // Not acked: the source keeps its checkpoint before these events and re-reads them.
        this.ctx.metrics.error('write_failed');
        this.ctx.logger.error({ path, err: (error as Error).message }, 'write failed');
        throw error;
      }
      this.ctx.metrics.sentEvents.inc(events.length);
      this.ctx.metrics.sentBytes.inc(bytes.length);
      ackAll(events);
    }
  }

  /** A field of the path template is missing: writing to a path without it (`/out/.log`) would mix streams. */
  private drop(event: LogEvent, error: EventRejected): void {
    this.ctx.metrics.error(error.reason);
    this.ctx.metrics.discarded(error.reason, 1);
    this.missingField.report({ events: 1, reason: error.reason }, `event dropped: ${error.message}`);
    ackAll([event], 'rejected');
  }

  /** Never written, so never retried: the same event would render the same path again. */
  private reject(events: LogEvent[]): void {
    this.ctx.metrics.error('path_outside_prefix');
    this.ctx.metrics.discarded('path_outside_prefix', events.length);
    this.ctx.logger.warn({ prefix: this.prefix.source, events: events.length }, 'rendered path leaves the template prefix: events rejected');
    ackAll(events, 'rejected');
  }

  private async fileFor(path: string): Promise<OpenFile> {
    const existing = this.files.get(path);
    if (existing) {
      existing.lastWrite = Date.now(); // in use: the idle sweep must not close it under the write
      return existing;
    }
    if (this.files.size >= this.options.max_open_files) await this.closeOldest();
    await mkdir(dirname(path), { recursive: true });
    const file = { handle: await open(path, 'a'), lastWrite: Date.now() };
    this.files.set(path, file);
    return file;
  }

  private async closeIdle(): Promise<void> {
    const cutoff = Date.now() - this.options.idle_timeout_secs * 1000;
    for (const [path, file] of this.files) {
      if (file.lastWrite >= cutoff) continue;
      this.files.delete(path);
      await file.handle.close();
    }
  }

  private async closeOldest(): Promise<void> {
    let oldest: [string, OpenFile] | undefined;
    for (const entry of this.files) if (!oldest || entry[1].lastWrite < oldest[1].lastWrite) oldest = entry;
    if (!oldest) return;
    this.files.delete(oldest[0]);
    await oldest[1].handle.close();
  }
}
