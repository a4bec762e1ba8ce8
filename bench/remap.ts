// The remap (VRL) transform alone, in process: lines/s of two programs over synthetic Kubernetes
// events, against a baseline in the same run (the same events passed through with no program).
// `node dist/bench/remap.js [events]`; figures are printed, never asserted.
import pino from 'pino';
import '../src/components.js';
import type { Transform, TransformDefinition } from '../src/core/component.js';
import { LogEvent, type Fields } from '../src/core/event.js';
import { Finalizer } from '../src/core/finalizer.js';
import { MetricsRegistry } from '../src/core/metrics.js';
import { findDefinition } from '../src/core/registry.js';
import { W1_PROGRAMS } from './w1-remap.js';

const EVENTS = Number(process.argv[2] ?? process.env.REMAP_EVENTS ?? 200_000);
const BATCH = 1000;
const ROUNDS = 5;
// The 10-statement program drops debug lines (abort): fewer events out than in.

// The same two programs as W1 through remap (bench/w1-remap.ts).
const PROGRAMS = W1_PROGRAMS;

// One frozen metadata object per pod, shared by its events (as kubernetes_logs does).
const pods = Array.from({ length: 20 }, (_, i) =>
  Object.freeze({
    pod_name: `web-${i}`,
    pod_namespace: i % 2 ? 'payments' : 'shop',
    container_name: 'app',
    pod_labels: Object.freeze({ app: `web-${i % 5}`, team: 'core' }),
  }),
);

function fieldsFor(i: number): Fields {
  const json = i % 4 !== 3;
  const level = i % 10 === 0 ? 'debug' : ['info', 'warn', 'error'][i % 3]!; // debug lines are aborted by the typical program
  return {
    message: json ? `{"level":"${level}","msg":"request ${i} handled","latency_ms":${i % 500},"status":${200 + (i % 5)}}` : `plain text line number ${i} from the app`,
    stream: i % 7 === 0 ? 'stderr' : 'stdout',
    timestamp: '2026-12-01T20:00:00.123456789Z',
    kubernetes: pods[i % pods.length]!,
  };
}

function makeBatch(start: number): LogEvent[] {
  const batch: LogEvent[] = [];
  for (let i = start; i < Math.min(EVENTS, start + BATCH); i++) batch.push(new LogEvent(fieldsFor(i), new Finalizer(1, () => {})));
  return batch;
}

const passThrough: Transform = { process: (events, emit) => emit(undefined, events) };

function remap(source: string): Transform {
  const definition = findDefinition('transform', 'remap') as TransformDefinition;
  return definition.build(definition.schema.parse({ source }), {
    id: 'bench',
    logger: pino({ level: 'silent' }),
    metrics: new MetricsRegistry().forComponent('transform', 'bench', 'remap'),
    dataDir: '/tmp',
  });
}

/**
 * Best of ROUNDS: events/s through `transform`. Each batch is made inside the timed loop (as a
 * source would) and let go once emitted, so the baseline is the same loop with no program.
 */
function measure(transform: Transform): { rate: number; out: number } {
  let best = 0;
  let out = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let emitted = 0;
    const started = process.hrtime.bigint();
    for (let start = 0; start < EVENTS; start += BATCH) {
      transform.process(makeBatch(start), (_output, events) => {
        emitted += events.length;
        for (const event of events) event.ack('delivered');
      });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    best = Math.max(best, EVENTS / seconds);
    out = emitted;
  }
  return { rate: best, out };
}

/** The first program written by hand in JS, for scale: what a compiled VRL program competes with. */
const handWritten: Transform = {
  process(events, emit) {
    for (const event of events) {
      const message = String(event.fields.message);
      if (message[0] !== '{') continue; // the same cheap reject of non-JSON lines parse_json does
      try {
        const parsed: unknown = JSON.parse(message);
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) event.fields = { ...event.fields, ...(parsed as Fields) };
      } catch {
        // not JSON: unchanged
      }
    }
    emit(undefined, events);
  },
};

const rows: [string, number, number][] = [];
const baseline = measure(passThrough);
rows.push(['baseline: pass-through, no program', baseline.rate, baseline.out]);
const byHand = measure(handWritten);
rows.push(['reference: merge(parse_json) hand-written in JS', byHand.rate, byHand.out]);
for (const [name, source] of Object.entries(PROGRAMS)) {
  const result = measure(remap(source));
  rows.push([`remap: ${name}`, result.rate, result.out]);
}

console.log(`remap transform, ${EVENTS.toLocaleString('en-US')} events in batches of ${BATCH}, best of ${ROUNDS} rounds, node ${process.version}`);
console.log('| workload | lines/s | events out | vs baseline |');
console.log('|---|---:|---:|---:|');
for (const [name, rate, out] of rows) {
  console.log(`| ${name} | ${Math.round(rate).toLocaleString('en-US')} | ${out.toLocaleString('en-US')} | ${(rate / baseline.rate).toFixed(3)} |`);
}
