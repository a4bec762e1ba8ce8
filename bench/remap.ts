// The remap (VRL) transform alone, in process: CPU µs per event of the two programs of W1 through
// remap, against a pass-through baseline in the same run, over two inputs: synthetic Kubernetes
// events (80 % JSON lines) and W1's own lines (the CRI generator, fields shaped as kubernetes_logs
// makes them: 25 % JSON). Each W1 row also runs with the file sink's encoder after the transform
// (`+ encode`), to split the transform's cost from the cost of encoding the larger events.
// `node dist/bench/remap.js [events]`; `REMAP_ONLY=<part of a row name>` runs only those rows; `REMAP_BEFORE=<another build's dist>` also runs each
// program on that build's remap, alternated with this one's. Figures are printed, never asserted.
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import '../src/components.js';
import type { Transform, TransformDefinition } from '../src/core/component.js';
import { LogEvent, type Fields } from '../src/core/event.js';
import { Finalizer } from '../src/core/finalizer.js';
import { MetricsRegistry } from '../src/core/metrics.js';
import { findDefinition } from '../src/core/registry.js';
import { ByteBatch } from '../src/sinks/shared/byte-batch.js';
import { EventEncoder } from '../src/sinks/shared/encoding.js';
import { makeLineGenerator } from './lib/generate-cri.js';
import { W1_PROGRAMS } from './w1-remap.js';

const EVENTS = Number(process.argv[2] ?? process.env.REMAP_EVENTS ?? 200_000);
const BATCH = 1000;
const ROUNDS = Number(process.env.REMAP_ROUNDS ?? 5);
// The 10-statement program drops debug lines (abort): fewer synthetic events out than in.

// One frozen metadata object per pod, shared by its events (as kubernetes_logs does).
const pods = Array.from({ length: 20 }, (_, i) =>
  Object.freeze({
    pod_name: `web-${i}`,
    pod_namespace: i % 2 ? 'payments' : 'shop',
    container_name: 'app',
    pod_labels: Object.freeze({ app: `web-${i % 5}`, team: 'core' }),
  }),
);

function syntheticFields(i: number): Fields {
  const json = i % 4 !== 3;
  const level = i % 10 === 0 ? 'debug' : ['info', 'warn', 'error'][i % 3]!; // debug lines are aborted by the typical program
  return {
    message: json ? `{"level":"${level}","msg":"request ${i} handled","latency_ms":${i % 500},"status":${200 + (i % 5)}}` : `plain text line number ${i} from the app`,
    stream: i % 7 === 0 ? 'stderr' : 'stdout',
    timestamp: '2026-12-01T20:00:00.123456789Z',
    kubernetes: pods[i % pods.length]!,
  };
}

/** W1's lines (bench/lib/generate-cri.ts), split as the CRI parser does, with the path metadata of W1's pod. */
const w1Kubernetes = Object.freeze({ pod_namespace: 'bench', pod_name: 'w1-app-0', pod_uid: '00000000-0000-4000-8000-000002000000', container_name: 'app' });
const w1File = '/var/log/pods/bench_w1-app-0_00000000-0000-4000-8000-000002000000/app/0.log';
const w1Lines: [string, string, string][] = (() => {
  const next = makeLineGenerator();
  return Array.from({ length: EVENTS }, (_, i) => {
    const line = next(i);
    const a = line.indexOf(' ');
    const b = line.indexOf(' ', a + 1);
    return [line.slice(0, a), line.slice(a + 1, b), line.slice(b + 3, -1)];
  });
})();

function w1Fields(i: number): Fields {
  const [timestamp, stream, message] = w1Lines[i]!;
  // The literal shape of kubernetes_logs' events (partial-merge.ts).
  return { message, timestamp, stream, file: w1File, source_type: 'kubernetes_logs', kubernetes: w1Kubernetes };
}

type Input = (i: number) => Fields;

function makeBatch(input: Input, start: number): LogEvent[] {
  const batch: LogEvent[] = [];
  for (let i = start; i < Math.min(EVENTS, start + BATCH); i++) batch.push(new LogEvent(input(i), new Finalizer(1, () => {})));
  return batch;
}

const passThrough: Transform = { process: (events, emit) => emit(undefined, events) };

type Registry = { findDefinition: typeof findDefinition };

function remap(source: string, registry: Registry = { findDefinition }): Transform {
  const definition = registry.findDefinition('transform', 'remap') as TransformDefinition;
  return definition.build(definition.schema.parse({ source }), {
    id: 'bench',
    logger: pino({ level: 'silent' }),
    metrics: new MetricsRegistry().forComponent('transform', 'bench', 'remap'),
    dataDir: '/tmp',
  });
}

interface Result {
  /** Best round: CPU µs (user + system) per input event, and events/s by wall clock. */
  cpuMicros: number;
  rate: number;
  out: number;
}

/**
 * One round: every batch is made inside the measured loop (as a source would) and let go once
 * emitted (after encoding, when `encode`), so the baseline is the same loop with no program.
 */
function round(transform: Transform, input: Input, encode: boolean): Result {
  const encoder = new EventEncoder({ codec: 'json' });
  const bytes = new ByteBatch();
  let emitted = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let start = 0; start < EVENTS; start += BATCH) {
    transform.process(makeBatch(input, start), (_output, events) => {
      emitted += events.length;
      if (encode) {
        bytes.reset();
        for (const event of events) {
          encoder.encodeInto(event, bytes);
          bytes.appendByte(0x0a);
        }
      }
      for (const event of events) event.ack('delivered');
    });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { cpuMicros: (used.user + used.system) / EVENTS, rate: EVENTS / seconds, out: emitted };
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
let gcs = 0;
new PerformanceObserver((list) => void (gcs += list.getEntries().length)).observe({ entryTypes: ['gc'] });

/**
 * Heap bytes allocated per event (what the garbage collector will have to deal with): the growth
 * of the used heap over one batch run right after a full GC, retried until no GC ran during it.
 */
function allocatedPerEvent(transform: Transform, input: Input, encode: boolean): number | undefined {
  const encoder = new EventEncoder({ codec: 'json' });
  const bytes = new ByteBatch();
  // The least of several tries: code compiled meanwhile (on the heap too) only ever adds.
  let least: number | undefined;
  for (let attempt = 0; attempt < 8; attempt++) {
    const batch = makeBatch(input, attempt * BATCH);
    gc();
    const gcsBefore = gcs;
    const used = getHeapStatistics().used_heap_size;
    transform.process(batch, (_output, events) => {
      if (encode) for (const event of events) encoder.encodeInto(event, bytes);
      bytes.reset();
    });
    const grown = getHeapStatistics().used_heap_size - used;
    if (gcs === gcsBefore) least = Math.min(least ?? Infinity, grown / batch.length);
  }
  return least;
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

/**
 * The typical 10-statement program written by hand in JS (what VRL's semantics allow on these
 * inputs, none of its checks): the floor for a compiler of it. Its events are the program's
 * (checked below), so `+ encode` rows compare like with like.
 */
const handWrittenTypical: Transform = {
  process(events, emit) {
    const out: LogEvent[] = [];
    for (const event of events) {
      const fields = event.fields;
      const message = fields.message as string;
      let parsed: unknown;
      if (message.charCodeAt(0) === 0x7b) {
        try {
          parsed = JSON.parse(message);
        } catch {
          // not JSON: nothing merged
        }
      }
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) for (const k in parsed) fields[k] = (parsed as Fields)[k];
      fields.level = typeof fields.level === 'string' ? fields.level.toLowerCase() : 'info';
      const root: Fields = {};
      for (const k in fields) if (k !== 'stream') root[k] = fields[k];
      root.cluster = 'prod-eu';
      const kubernetes = root.kubernetes as { pod_namespace?: string; container_name?: string; pod_labels?: Record<string, string> };
      root.namespace = kubernetes.pod_namespace ?? null;
      if (root.level === 'debug') {
        event.ack('delivered');
        continue;
      }
      const latency = root.latency_ms;
      root.latency_s = (typeof latency === 'number' ? latency : 0) / 1000;
      root.tags = ['k8s', kubernetes.container_name ?? null];
      root.app = kubernetes.pod_labels?.app || 'unknown';
      const text = typeof root.msg === 'string' ? root.msg : typeof root.message === 'string' ? root.message : '';
      root.message = text.length > 200 ? text.slice(0, 200) : text;
      event.fields = root;
      out.push(event);
    }
    emit(undefined, out);
  },
};

const before = process.env.REMAP_BEFORE ? ((await import(join(process.env.REMAP_BEFORE, 'src', 'components.js')), await import(join(process.env.REMAP_BEFORE, 'src', 'core', 'registry.js'))) as Registry) : undefined;

interface Variant {
  name: string;
  transform: Transform;
  input: Input;
  encode: boolean;
  /** The row this one is compared with. */
  baseline?: string;
}

const variants: Variant[] = [];
for (const [inputName, input] of [['synthetic', syntheticFields], ['W1 lines', w1Fields]] as const) {
  for (const encode of inputName === 'W1 lines' ? [false, true] : [false]) {
    const suffix = `${inputName}${encode ? ', + encode' : ''}`;
    const baseline = `${suffix}: pass-through, no program`;
    variants.push({ name: baseline, transform: passThrough, input, encode });
    if (!encode) variants.push({ name: `${suffix}: merge(parse_json) hand-written in JS`, transform: handWritten, input, encode, baseline });
    if (inputName === 'W1 lines') variants.push({ name: `${suffix}: typical 10 statements hand-written in JS`, transform: handWrittenTypical, input, encode, baseline });
    for (const [name, source] of Object.entries(W1_PROGRAMS)) {
      if (before) variants.push({ name: `${suffix}: remap ${name}, before`, transform: remap(source, before), input, encode, baseline });
      variants.push({ name: `${suffix}: remap ${name}`, transform: remap(source), input, encode, baseline });
    }
  }
}

// REMAP_ONLY=<text>: only the variants whose name contains it (and their baselines), e.g. to profile one.
const only = process.env.REMAP_ONLY;
if (only) {
  const kept = variants.filter((v) => v.name.includes(only));
  const needed = new Set(kept.map((v) => v.baseline).filter(Boolean));
  variants.splice(0, variants.length, ...variants.filter((v) => kept.includes(v) || needed.has(v.name)));
}

// The hand-written typical program must make the events remap makes, or its rows compare nothing.
{
  const viaRemap: Fields[] = [];
  const viaHand: Fields[] = [];
  remap(W1_PROGRAMS['typical 10 statements']!).process(makeBatch(w1Fields, 0), (_o, events) => viaRemap.push(...events.map((e) => e.fields)));
  handWrittenTypical.process(makeBatch(w1Fields, 0), (_o, events) => viaHand.push(...events.map((e) => e.fields)));
  if (JSON.stringify(viaHand) !== JSON.stringify(viaRemap)) throw new Error('the hand-written typical program makes other events than remap');
}

// Rounds alternate the variants (load on a shared machine falls on all alike); each keeps its best.
const best = new Map<string, Result>();
const allocated = new Map<string, number | undefined>();
for (let r = 0; r < ROUNDS; r++) {
  for (const v of variants) {
    const result = round(v.transform, v.input, v.encode);
    const kept = best.get(v.name);
    if (!kept || result.cpuMicros < kept.cpuMicros) best.set(v.name, result);
  }
}

// Allocation once the code is warm.
for (const v of variants) allocated.set(v.name, allocatedPerEvent(v.transform, v.input, v.encode));

console.log(`remap transform, ${EVENTS.toLocaleString('en-US')} events in batches of ${BATCH}, best of ${ROUNDS} alternated rounds, node ${process.version}`);
console.log('| workload | µs CPU/event | µs CPU/event over its pass-through | heap bytes allocated/event (the events made for it excluded) | events/s (wall) | events out |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const v of variants) {
  const result = best.get(v.name)!;
  const over = v.baseline ? (result.cpuMicros - best.get(v.baseline)!.cpuMicros).toFixed(2) : '';
  const bytes = allocated.get(v.name);
  console.log(`| ${v.name} | ${result.cpuMicros.toFixed(2)} | ${over} | ${bytes === undefined ? '?' : Math.round(bytes)} | ${Math.round(result.rate).toLocaleString('en-US')} | ${result.out.toLocaleString('en-US')} |`);
}
