import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogEvent } from '../core/event.js';
import { DecodeStats, type LineDecoder } from './line-decoder.js';
import { LineSplitter } from './line-splitter.js';

class RecordingDecoder implements LineDecoder {
  readonly lines: Array<[string, number]> = [];
  decode(buf: Buffer, start: number, end: number, lineOffset: number): void {
    this.lines.push([buf.toString('latin1', start, end), lineOffset]);
  }
  pendingOffset(): undefined {
    return undefined;
  }
  flush(): void {}
}

function split(chunks: string[], maxLineBytes: number, startOffset = 0) {
  const stats = new DecodeStats();
  const splitter = new LineSplitter(startOffset, maxLineBytes, stats);
  const decoder = new RecordingDecoder();
  const out: LogEvent[] = [];
  for (const chunk of chunks) splitter.push(Buffer.from(chunk, 'latin1'), decoder, out);
  return { splitter, decoder, stats, out };
}

test('lines across chunk boundaries carry their file offsets', () => {
  const { decoder, splitter } = split(['ab\ncd', 'e\n', '\nfg'], 100, 10);
  assert.deepEqual(decoder.lines, [
    ['ab', 10],
    ['cde', 13],
    ['', 17],
  ]);
  assert.equal(splitter.nextLineOffset, 18);
  assert.equal(splitter.readOffset, 20);
  assert.ok(splitter.hasIncompleteLine);
});

test('flush turns an incomplete last line into a line', () => {
  const { decoder, splitter, out } = split(['x\ntail'], 100);
  splitter.flush(decoder, out);
  assert.deepEqual(decoder.lines, [
    ['x', 0],
    ['tail', 2],
  ]);
  assert.equal(splitter.nextLineOffset, 6);
});

test('a line longer than max_line_bytes is cut, its tail skipped without buffering, counted', () => {
  // Within one chunk, across chunks, and growing across many chunks.
  const { decoder, stats, splitter } = split(['0123456789\nok\n', 'abcdef', 'ghijkl', 'mnop\nafter\n'], 8);
  assert.deepEqual(decoder.lines, [
    ['01234567', 0],
    ['ok', 11],
    ['abcdefgh', 14],
    ['after', 31],
  ]);
  assert.equal(stats.truncatedLines, 2);
  assert.equal(splitter.nextLineOffset, 37);
});

test('a line exactly max_line_bytes long is kept whole', () => {
  const { decoder, stats } = split(['1234', '5678\n'], 8);
  assert.deepEqual(decoder.lines, [['12345678', 0]]);
  assert.equal(stats.truncatedLines, 0);
});
