import { ackAll, LogEvent } from '../event.js';
import type { EventOutput } from '../component.js';
import type { EventBuffer } from '../buffers/types.js';
import type { TapClient, TapHub } from '../tap.js';

/** Who this output is, for `sluice tap`: the producer's id and the ids of its consumers. */
export interface FanoutTap {
  readonly hub: TapHub;
  readonly producer: string;
  /** A named output (`route` transforms): the tap shows it as `<producer>.<output>`. */
  readonly output: string | undefined;
  readonly consumers: readonly string[];
}

export interface FanoutTarget {
  readonly buffer: EventBuffer;
  /** The consumer changes events in place, so it gets its own copy of the fields. */
  readonly mutates: boolean;
  /** Called when this producer will send no more (the buffer closes after its last producer). */
  readonly producerDone: () => void;
}

/**
 * One output of a source or transform, feeding every consumer's buffer. With several consumers,
 * each gets its own LogEvent (an ack is per delivery) and the finalizer is retained once per extra
 * consumer, so the source hears back only when every sink is done.
 */
export class Fanout implements EventOutput {
  private finished = false;
  private tapped: TapClient[] = [];
  private tapGeneration = -1;
  /** While a reload swaps this output's consumers: what was sent meanwhile, delivered on resume. */
  private held: Array<{ events: LogEvent[]; delivered: () => void }> | undefined;
  private finishWhenResumed = false;

  constructor(
    private targets: readonly FanoutTarget[],
    private readonly onSent: (count: number) => void,
    private tap?: FanoutTap,
  ) {}

  get consumers(): readonly FanoutTarget[] {
    return this.targets;
  }

  /** Will send no more (a finish held back by a pause counts once it is resumed). */
  get isFinished(): boolean {
    return this.finished;
  }

  /** Hold every send (the producer waits) until `resume`, so consumers can be swapped. */
  pause(): void {
    this.held ??= [];
  }

  /** New consumers (a reload); only while paused, or for an output nobody sends on yet. */
  retarget(targets: readonly FanoutTarget[], tap?: FanoutTap): void {
    this.targets = targets;
    this.tap = tap;
    this.tapGeneration = -1;
  }

  /**
   * Deliver what was held, in order, to the current consumers. With `discard` (a failed reload)
   * drop it unacknowledged instead: its sources' checkpoints stay before it, so it is read again.
   */
  resume(options: { discard?: boolean } = {}): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    for (const { events, delivered } of held) {
      if (options.discard) {
        delivered();
        continue;
      }
      const wait = this.deliver(events);
      if (wait) void wait.then(delivered);
      else delivered();
    }
    if (this.finishWhenResumed) {
      this.finishWhenResumed = false;
      this.finish();
    }
  }

  send(events: LogEvent[]): Promise<void> | undefined {
    if (events.length === 0) return undefined;
    this.onSent(events.length);
    const held = this.held;
    if (held) return new Promise<void>((delivered) => held.push({ events, delivered }));
    return this.deliver(events);
  }

  private deliver(events: LogEvent[]): Promise<void> | undefined {
    if (this.tap?.hub.active) this.offerToTaps(this.tap, events);
    const targets = this.targets;
    if (targets.length === 0) {
      ackAll(events); // nobody consumes this output: the events are finished here
      return undefined;
    }
    if (targets.length === 1) return targets[0]!.buffer.push(events);

    for (const event of events) event.finalizer?.retain(targets.length - 1);
    let pending: Promise<void>[] | undefined;
    for (let t = 0; t < targets.length; t++) {
      const target = targets[t]!;
      const copy =
        t === 0 && !target.mutates
          ? events
          : events.map((e) => (target.mutates ? e.cloneForFanout() : new LogEvent(e.fields, e.finalizer)));
      const wait = target.buffer.push(copy);
      if (wait) (pending ??= []).push(wait);
    }
    return pending ? Promise.all(pending).then(() => undefined) : undefined;
  }

  /** Before delivery: a consumer may change the fields in place. */
  private offerToTaps(tap: FanoutTap, events: LogEvent[]): void {
    if (this.tapGeneration !== tap.hub.generation) {
      this.tapGeneration = tap.hub.generation;
      this.tapped = tap.hub.interested(tap.producer, tap.output, tap.consumers);
    }
    if (this.tapped.length > 0) tap.hub.offer(this.tapped, tap.output === undefined ? tap.producer : `${tap.producer}.${tap.output}`, events);
  }

  finish(): void {
    if (this.finished) return;
    if (this.held) {
      this.finishWhenResumed = true; // after the held events, or a consumer's buffer closes before them
      return;
    }
    this.finished = true;
    for (const target of this.targets) target.producerDone();
  }
}
