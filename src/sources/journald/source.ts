import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ComponentContext, EventOutput, Source, SourceRunContext } from '../../core/component.js';
import { LogEvent, type Fields } from '../../core/event.js';
import { Finalizer } from '../../core/finalizer.js';
import type { JournaldConfig } from './config.js';
import { CursorStore } from './cursor-store.js';
import { ExportFormatError, ExportParser, type JournalEntry, type JournalFields } from './export-parser.js';

const SOURCE_TYPE = 'journald';
const INITIAL_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
/** A journalctl that ran this long before exiting was healthy: the next restart waits the least. */
const HEALTHY_RUN_MS = 60_000;

type Matches = Map<string, Set<string>>;

function unitName(unit: string): string {
  return unit.includes('.') ? unit : `${unit}.service`;
}

function buildMatches(matches: Record<string, string[]>, units: string[]): Matches {
  const out: Matches = new Map();
  for (const [field, values] of Object.entries(matches)) out.set(field, new Set(values));
  if (units.length > 0) {
    const set = out.get('_SYSTEMD_UNIT') ?? new Set<string>();
    for (const unit of units) set.add(unitName(unit));
    out.set('_SYSTEMD_UNIT', set);
  }
  return out;
}

function anyMatch(fields: JournalFields, matches: Matches): boolean {
  for (const [field, values] of matches) {
    const value = fields[field];
    if (value === undefined) continue;
    if (Array.isArray(value) ? value.some((v) => values.has(v)) : values.has(value)) return true;
  }
  return false;
}

/** `__REALTIME_TIMESTAMP` (microseconds since the epoch) as RFC 3339 with microseconds. */
export function realtimeToRfc3339(micros: string): string | undefined {
  if (!/^\d{1,17}$/.test(micros)) return undefined;
  const value = BigInt(micros);
  const iso = new Date(Number(value / 1000n)).toISOString();
  return `${iso.slice(0, 19)}.${(value % 1_000_000n).toString().padStart(6, '0')}Z`;
}

/** A batch of entries read together, waiting for its acknowledgement; `cursor` is its last entry's. */
interface PendingBatch {
  cursor: string;
  done: boolean;
}

/**
 * The `journald` source: runs `journalctl -o export --follow` (restarted with backoff whenever it
 * exits), parses the export stream and ships one event per entry. The cursor of the newest entry
 * whose batch and all earlier ones are acknowledged is checkpointed under `<data_dir>/<id>/`; a
 * restart resumes after it (`--after-cursor`).
 */
export class JournaldSource implements Source {
  private readonly store: CursorStore;
  private readonly include: Matches;
  private readonly exclude: Matches;
  /** Cursor of the newest entry handed over: a journalctl restart in this process resumes after it. */
  private readCursor: string | undefined;
  private readonly pending: PendingBatch[] = [];
  private readonly startedAt = Math.floor(Date.now() / 1000);

  constructor(
    private readonly config: JournaldConfig,
    private readonly ctx: ComponentContext,
  ) {
    this.store = new CursorStore(join(ctx.dataDir, ctx.id, 'journald_cursor'), (error) => {
      ctx.metrics.error('checkpoint_write_failed');
      ctx.logger.error({ err: error.message }, 'journald checkpoint not written');
    });
    this.include = buildMatches(config.include_matches, config.include_units);
    this.exclude = buildMatches(config.exclude_matches, config.exclude_units);
  }

  journalctlArgs(): string[] {
    const args = ['--output=export', '--follow', '--no-tail', '--no-pager'];
    if (this.config.journal_directory !== undefined) args.push(`--directory=${this.config.journal_directory}`);
    // journalctl --follow (systemd 252 at least) keeps to the current boot unless told --merge.
    args.push(this.config.current_boot_only ? '--boot' : '--merge');
    if (this.readCursor !== undefined) args.push(`--after-cursor=${this.readCursor}`);
    else if (this.config.since_now) args.push(`--since=@${this.startedAt}`);
    args.push(...this.config.extra_args);
    return args;
  }

  async run({ out, shutdown }: SourceRunContext): Promise<void> {
    this.readCursor = this.store.load();
    if (this.readCursor !== undefined) this.ctx.logger.info({ cursor: this.readCursor }, 'journald resumes after its checkpoint');
    let backoff = INITIAL_BACKOFF_MS;
    while (!shutdown.aborted) {
      const started = Date.now();
      const ended = await this.runJournalctl(out, shutdown);
      if (shutdown.aborted) break;
      if (Date.now() - started >= HEALTHY_RUN_MS) backoff = INITIAL_BACKOFF_MS;
      this.ctx.metrics.error('journalctl_exited');
      this.ctx.logger.warn({ ...ended, restart_in_ms: backoff, after_cursor: this.readCursor }, 'journalctl exited; restarting it');
      await sleep(backoff, shutdown);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  async close(): Promise<void> {
    await this.store.flush();
  }

  /** One journalctl run; resolves when it has exited, with what is known about why. */
  private runJournalctl(out: EventOutput, shutdown: AbortSignal): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const child = spawn(this.config.journalctl_path, this.journalctlArgs(), { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let failure: string | undefined;
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (text: string) => (stderr = (stderr + text).slice(-2000)));
      const stop = (): void => void child.kill('SIGTERM');
      shutdown.addEventListener('abort', stop, { once: true });
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      const exited = new Promise<void>((done) => {
        child.once('error', (error) => {
          failure = error.message;
          done();
        });
        child.once('exit', (code, signal) => {
          exit = { code, signal };
          done();
        });
      });
      const reading = this.readStream(child.stdout!, out, shutdown).catch((error: unknown) => {
        failure = (error as Error).message;
        if (error instanceof ExportFormatError) this.ctx.metrics.error('export_format_invalid');
        child.kill('SIGTERM');
      });
      void Promise.all([exited, reading]).then(() => {
        shutdown.removeEventListener('abort', stop);
        resolve({ ...exit, ...(failure !== undefined ? { err: failure } : {}), ...(stderr.trim() !== '' ? { stderr: stderr.trim() } : {}) });
      });
    });
  }

  private async readStream(stream: AsyncIterable<Buffer>, out: EventOutput, shutdown: AbortSignal): Promise<void> {
    let entries: JournalEntry[] = [];
    const stopped = new Promise((resolve) => shutdown.addEventListener('abort', resolve, { once: true }));
    const parser = new ExportParser({ maxFieldBytes: this.config.max_field_bytes, maxEntryBytes: this.config.max_entry_bytes }, (entry) => entries.push(entry));
    for await (const chunk of stream) {
      parser.push(chunk);
      if (entries.length === 0) continue;
      const batch = entries;
      entries = [];
      const wait = this.ship(batch, out);
      // Backpressure: no more reading (journalctl blocks on its pipe) until downstream has room.
      if (wait !== undefined) await Promise.race([wait, stopped]);
    }
  }

  private ship(entries: JournalEntry[], out: EventOutput): Promise<void> | undefined {
    const events: LogEvent[] = [];
    let lastCursor: string | undefined;
    let truncated = 0;
    for (const entry of entries) {
      const cursor = entry.fields.__CURSOR;
      if (typeof cursor === 'string' && cursor !== '') lastCursor = cursor;
      truncated += entry.truncatedFields;
      if (!this.accepts(entry.fields)) continue;
      events.push(new LogEvent(this.eventFields(entry.fields)));
    }
    if (truncated > 0) this.ctx.metrics.error('field_truncated', truncated);
    if (entries.length > events.length) this.ctx.metrics.discarded('filtered', entries.length - events.length);
    if (lastCursor === undefined) {
      this.ctx.metrics.error('entry_without_cursor', entries.length);
    } else {
      this.readCursor = lastCursor;
    }
    if (events.length === 0) {
      if (lastCursor !== undefined) this.track(lastCursor).done = true;
      this.advance();
      return undefined;
    }
    const batch = lastCursor !== undefined ? this.track(lastCursor) : undefined;
    const finalizer = new Finalizer(events.length, ({ rejected }) => {
      if (rejected > 0) this.ctx.metrics.discarded('rejected', rejected);
      if (batch !== undefined) batch.done = true;
      this.advance();
    });
    for (const event of events) event.finalizer = finalizer;
    this.ctx.metrics.receivedEvents.inc(events.length);
    return out.send(events);
  }

  private track(cursor: string): PendingBatch {
    const batch = { cursor, done: false };
    this.pending.push(batch);
    return batch;
  }

  /** Checkpoints the newest cursor whose batch and every earlier one are acknowledged. */
  private advance(): void {
    let cursor: string | undefined;
    while (this.pending.length > 0 && this.pending[0]!.done) cursor = this.pending.shift()!.cursor;
    if (cursor !== undefined) this.store.save(cursor);
  }

  private accepts(fields: JournalFields): boolean {
    if (this.include.size > 0 && !anyMatch(fields, this.include)) return false;
    return !(this.exclude.size > 0 && anyMatch(fields, this.exclude));
  }

  private eventFields(entry: JournalFields): Fields {
    const fields: Fields = {};
    for (const key in entry) {
      if (key === 'MESSAGE' || key === '__CURSOR') continue;
      fields[key] = entry[key];
    }
    const message = entry.MESSAGE;
    fields.message = Array.isArray(message) ? message.join('\n') : (message ?? '');
    const realtime = entry.__REALTIME_TIMESTAMP;
    fields.timestamp = (typeof realtime === 'string' && realtimeToRfc3339(realtime)) || new Date().toISOString();
    if (typeof entry._HOSTNAME === 'string') fields.host = entry._HOSTNAME;
    fields.source_type = SOURCE_TYPE;
    return fields;
  }
}

function sleep(ms: number, shutdown: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      shutdown.removeEventListener('abort', done);
      resolve();
    }
    shutdown.addEventListener('abort', done, { once: true });
  });
}
