// Deterministic CRI log content for benchmarks: a mix of logfmt, JSON, free text and Java-style
// lines (~196 bytes on average), one line in seven on stderr, like the Fluent Bit reference run.
import { createWriteStream } from 'node:fs';

const WORDS = ['request', 'handled', 'user', 'order', 'payment', 'cache', 'miss', 'timeout', 'retry', 'connection', 'upstream', 'backend', 'session', 'token', 'refresh'];

/** A small fast PRNG so every run produces the same bytes. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeLineGenerator(seed = 42): (index: number) => string {
  const random = mulberry32(seed);
  const word = (): string => WORDS[Math.floor(random() * WORDS.length)]!;
  const words = (n: number): string => Array.from({ length: n }, word).join(' ');
  const base = Date.UTC(2026, 10, 24, 10, 0, 0);
  return (index) => {
    const nanos = String(Math.floor(random() * 1e9)).padStart(9, '0');
    const time = new Date(base + index).toISOString().slice(0, 19) + '.' + nanos + 'Z';
    const stream = index % 7 === 6 ? 'stderr' : 'stdout';
    let message: string;
    switch (index % 4) {
      case 0:
        message = `level=info ts=${time} caller=server.go:${100 + (index % 900)} msg="${words(6)}" duration_ms=${Math.floor(random() * 1000)} status=200 user_id=${index % 10007}`;
        break;
      case 1:
        message = JSON.stringify({ level: 'info', ts: time, logger: 'http', msg: words(5), method: 'GET', path: `/api/v1/items/${index % 5000}`, status: 200, latency_ms: Math.floor(random() * 500) });
        break;
      case 2:
        message = `${time} INFO  [main] ${words(12)} id=${index}`;
        break;
      default:
        message = `${time} ERROR [pool-${index % 16}-thread-${index % 8}] c.e.s.PaymentService - ${words(6)} java.lang.IllegalStateException: ${words(4)}`;
    }
    return `${time} ${stream} F ${message}\n`;
  };
}

/** Write `lines` CRI lines to `path`; resolves with the byte count. */
export async function writeCriFile(path: string, lines: number, seed = 42): Promise<number> {
  const next = makeLineGenerator(seed);
  const out = createWriteStream(path);
  let bytes = 0;
  let chunk = '';
  for (let i = 0; i < lines; i++) {
    chunk += next(i);
    if (chunk.length > 1 << 20) {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = '';
    }
  }
  bytes += Buffer.byteLength(chunk);
  out.write(chunk);
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return bytes;
}
