import picomatch from 'picomatch';
import { EventEncoder } from '../sinks/shared/encoding.js';
import type { LogEvent } from './event.js';
import type { MetricsRegistry, Tally } from './metrics.js';

/**
 * Live event taps (`sluice tap`). Every Fanout (one output of a source or transform) asks
 * `hub.active` before anything else: with no client tapping that one boolean is the whole cost.
 *
 * A tap sees the events leaving components whose id matches `outputsOf`, and the events entering
 * components matching `inputsOf` (the outputs of their upstreams that feed them). Each client has
 * a bounded queue of encoded lines: when the client reads slower than events flow, events are
 * dropped (counted, and announced by a notice line), never waited for; the pipeline is not slowed.
 */

/** Where the tap writes: an HTTP response in the API, anything with the same contract in tests. */
export interface TapWriter {
  /** false = the writer is backed up; wait for 'drain' before writing more. */
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

export interface TapPatterns {
  outputsOf: readonly string[];
  inputsOf: readonly string[];
}

export interface TapClientOptions extends TapPatterns {
  /** Events queued for this client before new ones are dropped. */
  maxQueued?: number;
  /**
   * Show at most this many events per second (the first ones of each second, like `vector tap`'s
   * per-interval limit); the rest are sampled out. Bounds the encoding cost of a fast client.
   */
  maxPerSecond?: number;
  /** End after this many events (the writer's owner is told through `onLimit`). */
  limit?: number;
  onLimit?: () => void;
}

/** The JSON encoding every sink uses by default (`encoding.codec = "json"`). */
const encoder = new EventEncoder({ codec: 'json' });

export const DEFAULT_TAP_QUEUE = 1000;
export const DEFAULT_TAP_RATE = 1000;

export class TapClient {
  private readonly outputsOf: (id: string) => boolean;
  private readonly inputsOf: (id: string) => boolean;
  private readonly maxQueued: number;
  private queue: string[] = [];
  private flushScheduled = false;
  private waitingForDrain = false;
  private closed = false;
  /** Events accepted for this client (sent or queued), toward `limit`. */
  private taken = 0;
  /** Dropped since the last notice line. */
  private droppedSinceNotice = 0;
  droppedTotal = 0;
  private readonly maxPerSecond: number;
  private windowStart = 0;
  private windowTaken = 0;
  private sampledOutSinceNotice = 0;
  sampledOutTotal = 0;
  private lastSampledNotice = 0;

  constructor(
    private readonly writer: TapWriter,
    private readonly options: TapClientOptions,
  ) {
    this.outputsOf = matcher(options.outputsOf);
    this.inputsOf = matcher(options.inputsOf);
    this.maxQueued = options.maxQueued ?? DEFAULT_TAP_QUEUE;
    this.maxPerSecond = options.maxPerSecond ?? DEFAULT_TAP_RATE;
  }

  /** Whether this client wants the events `producer` sends to `consumers`. */
  wants(producer: string, output: string | undefined, consumers: readonly string[]): boolean {
    if (this.outputsOf(producer) || (output !== undefined && this.outputsOf(`${producer}.${output}`))) return true;
    for (const consumer of consumers) if (this.inputsOf(consumer)) return true;
    return false;
  }

  /** Queue what fits; count and drop the rest. Never blocks. Returns the number dropped. */
  offer(producer: string, events: readonly LogEvent[]): number {
    if (this.closed) return 0;
    const limit = this.options.limit ?? Infinity;
    let dropped = 0;
    let sampledOut = 0;
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowTaken = 0;
    }
    const prefix = '{"component_id":' + JSON.stringify(producer) + ',"event":';
    for (const event of events) {
      if (this.taken >= limit) break;
      if (this.windowTaken >= this.maxPerSecond) {
        sampledOut++;
        continue;
      }
      this.windowTaken++;
      if (this.queue.length >= this.maxQueued) {
        dropped++;
        continue;
      }
      // Encoded now: downstream components may change or drop the fields later.
      this.queue.push(prefix + encoder.encode(event) + '}\n');
      this.taken++;
    }
    if (dropped > 0) {
      this.droppedSinceNotice += dropped;
      this.droppedTotal += dropped;
    }
    if (sampledOut > 0) {
      this.sampledOutSinceNotice += sampledOut;
      this.sampledOutTotal += sampledOut;
    }
    this.scheduleFlush();
    return dropped;
  }

  close(): void {
    this.closed = true;
    this.queue = [];
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.waitingForDrain) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed || this.waitingForDrain) return;
    let text = '';
    if (this.droppedSinceNotice > 0) {
      text += JSON.stringify({ notice: 'events dropped: the tap client reads slower than events flow', dropped: this.droppedSinceNotice, dropped_total: this.droppedTotal }) + '\n';
      this.droppedSinceNotice = 0;
    }
    // At most one sampling notice a second: under sustained load every flush would carry one.
    if (this.sampledOutSinceNotice > 0 && Date.now() - this.lastSampledNotice >= 1000) {
      this.lastSampledNotice = Date.now();
      text += JSON.stringify({ notice: `sampled: at most ${this.maxPerSecond} events a second are shown`, sampled_out: this.sampledOutSinceNotice, sampled_out_total: this.sampledOutTotal }) + '\n';
      this.sampledOutSinceNotice = 0;
    }
    if (this.queue.length > 0) {
      text += this.queue.join('');
      this.queue = [];
    }
    if (text !== '' && !this.writer.write(text)) {
      this.waitingForDrain = true;
      this.writer.once('drain', () => {
        this.waitingForDrain = false;
        this.flush();
      });
      return;
    }
    if (this.taken >= (this.options.limit ?? Infinity)) {
      this.closed = true;
      this.options.onLimit?.();
    }
  }
}

function matcher(globs: readonly string[]): (id: string) => boolean {
  if (globs.length === 0) return () => false;
  return picomatch(globs as string[]);
}

/** The set of connected tap clients, shared by the API and every Fanout of one topology. */
export class TapHub {
  /** The hot-path check: true only while at least one client is tapping. */
  active = false;
  private readonly clients = new Set<TapClient>();
  /** Bumped on every subscribe/unsubscribe so each Fanout can cache who wants its events. */
  generation = 0;
  /** Over every client: `sluice_tap_events_not_shown_total{reason=...}`, when given a registry. */
  private readonly dropped: Tally | undefined;
  private readonly sampledOut: Tally | undefined;
  droppedTotal = 0;

  constructor(metrics?: MetricsRegistry) {
    const help = 'Events a tap client did not get: dropped (it read too slowly) or sampled out (past its max_rate).';
    this.dropped = metrics?.tally('sluice_tap_events_not_shown_total', help, { reason: 'dropped' });
    this.sampledOut = metrics?.tally('sluice_tap_events_not_shown_total', help, { reason: 'sampled_out' });
  }

  subscribe(client: TapClient): () => void {
    this.clients.add(client);
    this.changed();
    return () => {
      if (!this.clients.delete(client)) return;
      client.close();
      this.changed();
    };
  }

  /** Clients that want events from `producer` (going to `consumers`). */
  interested(producer: string, output: string | undefined, consumers: readonly string[]): TapClient[] {
    const found: TapClient[] = [];
    for (const client of this.clients) if (client.wants(producer, output, consumers)) found.push(client);
    return found;
  }

  offer(clients: readonly TapClient[], producer: string, events: readonly LogEvent[]): void {
    for (const client of clients) {
      const sampledBefore = client.sampledOutTotal;
      const dropped = client.offer(producer, events);
      this.droppedTotal += dropped;
      this.dropped?.inc(dropped);
      this.sampledOut?.inc(client.sampledOutTotal - sampledBefore);
    }
  }

  private changed(): void {
    this.generation++;
    this.active = this.clients.size > 0;
  }
}

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms: a client on this machine (or pod). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4)) return true;
  return address === '::1' || address === '0:0:0:0:0:0:0:1';
}
