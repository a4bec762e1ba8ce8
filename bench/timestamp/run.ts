// `node dist/bench/timestamp/run.js`: cost of the per-line RFC 3339 check (src/sources/kubernetes_logs/rfc3339.ts)
// against its baseline, the 7-byte shape check it replaced, and the CRI parser's lines/s with it.
// Best of 40 interleaved rounds: on a shared machine the least disturbed round is the closest figure.
import { ParsedLine, parseContainerLogLine } from '../../src/sources/kubernetes_logs/container-log-parser.js';
import { isRfc3339 } from '../../src/sources/kubernetes_logs/rfc3339.js';

type Check = (buf: Buffer, start: number, end: number) => boolean;

/** The check before timestamps were validated: separators in place, nothing else. */
const shapeOnly: Check = (buf, start, end) =>
  end - start >= 20 && end - start <= 40 && buf[start + 4] === 0x2d && buf[start + 7] === 0x2d &&
  buf[start + 10] === 0x54 && buf[start + 13] === 0x3a && buf[start + 16] === 0x3a;

const COUNT = 20_000;
const ROUNDS = 40;
const stamps = Array.from({ length: COUNT }, (_, i) => {
  const pad = (n: number) => String(n).padStart(2, '0');
  const fraction = String(100_000_000 + ((i * 7919) % 900_000_000)).slice(0, 1 + (i % 9));
  return `2026-${pad(1 + (i % 12))}-${pad(1 + (i % 28))}T${pad(i % 24)}:${pad(i % 60)}:${pad((i * 7) % 60)}.${fraction}${i % 3 ? 'Z' : '+01:00'}`;
});
const lines = stamps.map((stamp, i) => `${stamp} std${i % 7 ? 'out' : 'err'} F level=info msg="request served" path=/api/v1/items/${i} status=200`.padEnd(200, 'x'));

function ranges(parts: string[], separator: string): { buf: Buffer; starts: number[]; ends: number[] } {
  const buf = Buffer.from(parts.join(separator));
  const starts: number[] = [];
  const ends: number[] = [];
  let pos = 0;
  for (const part of parts) {
    starts.push(pos);
    ends.push(pos + Buffer.byteLength(part));
    pos += Buffer.byteLength(part) + separator.length;
  }
  return { buf, starts, ends };
}

function nsPerCall(run: () => number, calls: number): number {
  const start = process.hrtime.bigint();
  if (run() !== calls) throw new Error('a valid input was rejected');
  return Number(process.hrtime.bigint() - start) / calls;
}

const s = ranges(stamps, ' ');
const l = ranges(lines, '\n');
const parsed = new ParsedLine();
const checkWith = (check: Check) => () => {
  let ok = 0;
  for (let j = 0; j < COUNT; j++) if (check(s.buf, s.starts[j]!, s.ends[j]!)) ok++;
  return ok;
};
const parseAll = () => {
  let ok = 0;
  for (let j = 0; j < COUNT; j++) if (parseContainerLogLine(l.buf, l.starts[j]!, l.ends[j]!, parsed)) ok++;
  return ok;
};

const best = { shape: Infinity, full: Infinity, parse: Infinity };
for (let round = 0; round < ROUNDS; round++) {
  best.shape = Math.min(best.shape, nsPerCall(checkWith(shapeOnly), COUNT));
  best.full = Math.min(best.full, nsPerCall(checkWith(isRfc3339), COUNT));
  best.parse = Math.min(best.parse, nsPerCall(parseAll, COUNT));
}
console.log(`timestamp check: ${best.full.toFixed(1)} ns/line (baseline shape check ${best.shape.toFixed(1)} ns, ratio ${(best.full / best.shape).toFixed(2)})`);
console.log(`CRI parse with it: ${(1e9 / best.parse / 1e6).toFixed(2)} M lines/s (${best.parse.toFixed(0)} ns/line, ~200-byte lines)`);
