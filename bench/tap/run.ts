// `node dist/bench/tap/run.js`: what `sluice tap` costs the hot path. Fanout.send of 50-event
// batches into a buffer that takes them at once: without a tap hub (the baseline, as before the
// tap), with a hub nobody taps (the one-boolean check), with a client tapping another component,
// and with a client tapping this one: every event encoded and queued (rate cap off; its queue
// drained every batch), and with the default cap of 1000 events a second (the rest sampled out).
// Best of 30 interleaved rounds: on a shared machine the least disturbed round is the closest figure.
import type { EventBuffer } from '../../src/core/buffers/types.js';
import { LogEvent } from '../../src/core/event.js';
import { TapClient, TapHub, type TapWriter } from '../../src/core/tap.js';
import { Fanout } from '../../src/core/topology/fanout.js';

const BATCHES = 4000;
const BATCH = 50;
const ROUNDS = 30;

const sink: EventBuffer = {
  push: () => undefined,
  size: 0,
  close: () => undefined,
  [Symbol.asyncIterator]: () => { throw new Error('not iterated'); },
};
const target = { buffer: sink, mutates: false, producerDone: () => undefined };
const batches = Array.from({ length: 64 }, (_, b) =>
  Array.from({ length: BATCH }, (_, i) => new LogEvent({ message: `GET /api/v1/items/${b * BATCH + i} 200 12ms`, timestamp: '2026-12-01T20:00:00.123456789Z', stream: 'stdout', source_type: 'bench' })),
);
let written = 0;
const writer: TapWriter = { write: (chunk) => ((written += chunk.length), true), once: () => undefined };

type Kind = 'none' | 'idle' | 'other' | 'tapped' | 'capped';

function fanout(kind: Kind): { out: Fanout; hub?: TapHub; client?: TapClient } {
  if (kind === 'none') return { out: new Fanout([target], () => undefined) };
  const hub = new TapHub();
  const out = new Fanout([target], () => undefined, { hub, producer: 'src', output: undefined, consumers: ['sink'] });
  if (kind === 'idle') return { out, hub };
  const client = new TapClient(writer, { outputsOf: [kind === 'other' ? 'elsewhere' : 'src'], inputsOf: [], maxQueued: 1_000_000, maxPerSecond: kind === 'capped' ? undefined : Infinity });
  hub.subscribe(client);
  return { out, hub, client };
}

function nsPerEvent(kind: Kind): number {
  const { out, client } = fanout(kind);
  const start = process.hrtime.bigint();
  for (let b = 0; b < BATCHES; b++) {
    out.send(batches[b & 63]!);
    // Stand-in for the setImmediate flush, so the queue does not grow across the round.
    if (client) (client as unknown as { flush(): void }).flush();
  }
  return Number(process.hrtime.bigint() - start) / (BATCHES * BATCH);
}

const kinds = ['none', 'idle', 'other', 'tapped', 'capped'] as const;
const best = { none: Infinity, idle: Infinity, other: Infinity, tapped: Infinity, capped: Infinity };
for (let round = 0; round < ROUNDS; round++) for (const kind of kinds) best[kind] = Math.min(best[kind], nsPerEvent(kind));
const line = (label: string, ns: number) =>
  `${label.padEnd(44)} ${(ns * BATCH).toFixed(1).padStart(9)} ns/batch of ${BATCH} ${ns.toFixed(2).padStart(8)} ns/event  (ratio to no hub ${(ns / best.none).toFixed(2)})`;
console.log(line('Fanout.send, no tap hub (baseline)', best.none));
console.log(line('hub, nobody tapping', best.idle));
console.log(line('hub, a client tapping elsewhere', best.other));
console.log(line('hub, a client tapping this output, no cap', best.tapped));
console.log(line('same, default cap 1000 events/s', best.capped));
if (written === 0) throw new Error('the tapped round wrote nothing');
