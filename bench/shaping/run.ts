// `node dist/bench/shaping/run.js`: per-line cost of kubernetes_logs' per-pod shaping (multiline,
// parsers) against its baseline, the container-log decoder alone, in process. Best of 10
// interleaved rounds of 200,000 CRI lines (logfmt text, one in seven on stderr; every 50th line
// starts a 6-line Java trace for the multiline rows).
import { pino } from 'pino';
import type { LogEvent } from '../../src/core/event.js';
import { MetricsRegistry } from '../../src/core/metrics.js';
import { PartialMergeDecoder } from '../../src/sources/kubernetes_logs/partial-merge.js';
import type { PodLogPath } from '../../src/sources/kubernetes_logs/pod-log-path.js';
import { kubernetesLogsSchema } from '../../src/sources/kubernetes_logs/config.js';
import { PodShaping } from '../../src/sources/kubernetes_logs/shaping.js';
import { DecodeStats, type LineDecoder } from '../../src/tailer/line-decoder.js';

const LINES = 200_000;
const ROUNDS = 10;
const TRACE = ['java.lang.IllegalStateException: boom', '\tat a.B.c(B.java:1)', '\tat a.B.d(B.java:2)', 'Caused by: java.io.IOException: x', '\tat a.C.e(C.java:3)', '\t... 4 more'];
const messages: string[] = [];
for (let i = 0; messages.length < 1000; i++) {
  if (i % 50 === 0) messages.push(...TRACE);
  else messages.push(`level=info msg="request ${i} done" path=/api/v1/items/${i} status=200 duration_ms=${i % 97}`);
}
const lines = messages.slice(0, 1000).map((m, i) => Buffer.from(`2026-01-01T00:00:00.${String(i).padStart(9, '0')}Z ${i % 7 ? 'stdout' : 'stderr'} F ${m}`));
const pod: PodLogPath = { podNamespace: 'a', podName: 'b', podUid: 'u', containerName: 'c', restartCount: 0, rotation: 'current', rotatedAt: undefined };
const metadata = { kubernetes: Object.freeze({ pod_name: 'b' }), otherFields: undefined };
const ctx = { id: 'k8s', logger: pino({ level: 'silent' }), metrics: new MetricsRegistry().forComponent('source', 'k8s', 'kubernetes_logs'), dataDir: '/tmp' };

const variants: Record<string, Record<string, unknown> | undefined> = {
  'baseline: container-log decoder alone': undefined,
  'shaping wrapper, nothing chosen (API pods without annotations)': {},
  'multiline java': { default_multiline: 'java' },
  'parser logfmt': { default_parser: 'logfmt' },
  'multiline java + parser logfmt': { default_multiline: 'java', default_parser: 'logfmt' },
};

function decoderFor(options: Record<string, unknown> | undefined): { decoder: LineDecoder; close: () => void } {
  const inner = new PartialMergeDecoder({ path: '/p/0.log' }, metadata, { autoPartialMerge: true, maxMergedLineBytes: 1 << 20 }, new DecodeStats());
  if (options === undefined) return { decoder: inner, close: () => {} };
  const shaping = new PodShaping(kubernetesLogsSchema.parse(options), { annotations: () => ({}) }, ctx);
  return { decoder: shaping.wrap(pod, inner), close: () => shaping.close() };
}

function nsPerLine(decoder: LineDecoder): number {
  let out: LogEvent[] = [];
  let offset = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < LINES; i++) {
    const line = lines[i % lines.length]!;
    decoder.decode(line, 0, line.length, offset, out);
    offset += line.length + 1;
    if (out.length >= 128) out = [];
  }
  return Number(process.hrtime.bigint() - start) / LINES;
}

const built = Object.entries(variants).map(([name, options]) => ({ name, ...decoderFor(options), best: Infinity }));
for (let round = 0; round < ROUNDS; round++) for (const variant of built) variant.best = Math.min(variant.best, nsPerLine(variant.decoder));
const baseline = built[0]!.best;
console.log('| variant | ns per line (best of 10) | lines/s | ÷ baseline |');
console.log('|---|---:|---:|---:|');
for (const variant of built) {
  console.log(`| ${variant.name} | ${variant.best.toFixed(0)} | ${Math.round(1e9 / variant.best).toLocaleString('en-US')} | ${(variant.best / baseline).toFixed(2)} |`);
  variant.close();
}
