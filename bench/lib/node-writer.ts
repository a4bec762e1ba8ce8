// W2's writer, run as its own process (so it does not starve the receiver's event loop): appends
// CRI lines to many container logs at full speed, rotating them the way kubelet does at a size
// limit (rename `0.log` -> `0.log.<YYYYMMDD-hhmmss>`, the runtime reopens `0.log`, every rotated
// file but the newest is gzipped). Rotated files are never deleted, so loss can be checked.
// Every line's message starts with `c<container> <seq> `: a unique id the receiver counts.
// Usage: node dist/bench/lib/node-writer.js '<WriterOptions as JSON>'; prints a WriterResult as JSON.
import { closeSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeLineGenerator } from './generate-cri.js';

export interface WriterOptions {
  /** Container directories (`<root>/<ns>_<pod>_<uid>/<container>`); container i writes `dirs[i]/0.log`. */
  dirs: string[];
  linesPerContainer: number;
  rotateBytes: number;
  /** Lines per writeSync. */
  chunkLines: number;
}

export interface WriterResult {
  lines: number;
  bytes: number;
  seconds: number;
  rotations: number;
  gzipped: number;
}

export const WRITER_SCRIPT = join(import.meta.dirname, 'node-writer.js');

/** `<header> F ` and `<message>\n` of deterministic lines, to splice the id in between. */
function templates(count: number): Array<[string, string]> {
  const next = makeLineGenerator(11);
  const out: Array<[string, string]> = [];
  for (let i = 0; i < count; i++) {
    const line = next(i);
    const tag = line.indexOf(' F ') + 3;
    out.push([line.slice(0, tag), line.slice(tag)]);
  }
  return out;
}

function stamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-24T22:47:33.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

interface Container {
  dir: string;
  fd: number;
  size: number;
  seq: number;
  /** Rotation stamps must be unique and increasing: the reader orders rotated files by them. */
  lastStampMs: number;
}

export function writeNode(options: WriterOptions): WriterResult {
  const pool = templates(4096);
  const containers: Container[] = options.dirs.map((dir) => ({ dir, fd: openSync(join(dir, '0.log'), 'a'), size: 0, seq: 0, lastStampMs: 0 }));
  let lines = 0;
  let bytes = 0;
  let rotations = 0;
  let gzipped = 0;
  let t = 0;
  const started = performance.now();

  const rotate = (c: Container): void => {
    const stampMs = Math.max(Math.floor(Date.now() / 1000) * 1000, c.lastStampMs + 1000);
    c.lastStampMs = stampMs;
    closeSync(c.fd);
    renameSync(join(c.dir, '0.log'), join(c.dir, `0.log.${stamp(stampMs)}`));
    c.fd = openSync(join(c.dir, '0.log'), 'a');
    c.size = 0;
    rotations++;
    // kubelet: compress every rotated file but the newest (into .gz.tmp, rename, remove the plain file).
    const rotated = readdirSync(c.dir)
      .filter((name) => name.startsWith('0.log.') && !name.endsWith('.gz') && !name.endsWith('.tmp'))
      .sort();
    for (const name of rotated.slice(0, -1)) {
      const path = join(c.dir, name);
      writeFileSync(`${path}.gz.tmp`, gzipSync(readFileSync(path)));
      renameSync(`${path}.gz.tmp`, `${path}.gz`);
      unlinkSync(path);
      gzipped++;
    }
  };

  let active = containers.length;
  while (active > 0) {
    active = 0;
    for (let i = 0; i < containers.length; i++) {
      const c = containers[i]!;
      if (c.seq >= options.linesPerContainer) continue;
      const end = Math.min(c.seq + options.chunkLines, options.linesPerContainer);
      let chunk = '';
      for (; c.seq < end; c.seq++) {
        const [head, message] = pool[t++ & 4095]!;
        chunk += `${head}c${i} ${c.seq} ${message}`;
      }
      const n = writeSync(c.fd, chunk); // ASCII: characters = bytes
      if (n !== chunk.length) throw new Error(`short write to ${c.dir}`);
      c.size += n;
      bytes += n;
      if (c.seq < options.linesPerContainer) active++;
      if (c.size >= options.rotateBytes) rotate(c);
    }
  }
  lines = containers.reduce((sum, c) => sum + c.seq, 0);
  for (const c of containers) closeSync(c.fd);
  return { lines, bytes, seconds: (performance.now() - started) / 1000, rotations, gzipped };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = writeNode(JSON.parse(process.argv[2]!) as WriterOptions);
  process.stdout.write(JSON.stringify(result) + '\n');
}
