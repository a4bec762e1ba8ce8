import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogEvent } from '../../core/event.js';
import { DecodeStats } from '../../tailer/line-decoder.js';
import { PartialMergeDecoder } from './partial-merge.js';

const metadata = { kubernetes: { pod_name: 'p' }, otherFields: undefined };

function decoder(path: string, autoPartialMerge = true): PartialMergeDecoder {
  return new PartialMergeDecoder({ path }, metadata, { autoPartialMerge, maxMergedLineBytes: 1 << 20 }, new DecodeStats());
}

function decodeLine(d: PartialMergeDecoder, line: string, offset: number, out: LogEvent[]): void {
  const buf = Buffer.from(line);
  d.decode(buf, 0, buf.length, offset, out);
}

test('the next file of a rotation adopts the partial lines left at the end of the previous one', () => {
  const rotated = decoder('/p/0.log.20260101-000000');
  const current = decoder('/p/0.log');
  const out: LogEvent[] = [];
  decodeLine(rotated, '2026-01-01T00:00:00.000000001Z stdout F whole', 0, out);
  decodeLine(rotated, '2026-01-01T00:00:00.000000002Z stdout P out-1 ', 45, out);
  decodeLine(rotated, '{"log":"err-1 ","stream":"stderr","time":"2026-01-01T00:00:00.000000003Z"}', 90, out);
  assert.equal(rotated.pendingOffset(), 45);
  assert.equal(current.adoptPending(rotated, 0), true);
  assert.equal(rotated.pendingOffset(), undefined, 'the previous decoder keeps nothing (it emits nothing on flush)');
  assert.equal(current.pendingOffset(), 0, 'the merges start before the first line of the new file');
  decodeLine(current, '2026-01-01T00:00:01.000000001Z stdout F out-2', 0, out);
  decodeLine(current, '{"log":"err-2\\n","stream":"stderr","time":"2026-01-01T00:00:01.000000002Z"}', 45, out);
  rotated.flush(out);
  assert.deepEqual(
    out.map((e) => [e.fields.stream, e.fields.message, e.fields.timestamp]),
    [
      ['stdout', 'whole', '2026-01-01T00:00:00.000000001Z'],
      ['stdout', 'out-1 out-2', '2026-01-01T00:00:00.000000002Z'],
      ['stderr', 'err-1 err-2', '2026-01-01T00:00:00.000000003Z'],
    ],
  );
  assert.equal(current.pendingOffset(), undefined);
});

test('nothing to adopt, or partial merging off: adoptPending says so and takes nothing', () => {
  const out: LogEvent[] = [];
  const rotated = decoder('/p/0.log.20260101-000000');
  assert.equal(decoder('/p/0.log').adoptPending(rotated, 0), false);
  decodeLine(rotated, '2026-01-01T00:00:00.000000002Z stdout P out-1 ', 0, out);
  const unmerged = decoder('/p/0.log', false);
  assert.equal(unmerged.adoptPending(rotated, 0), false);
  assert.equal(rotated.pendingOffset(), 0);
});

test('CRI P lines merge with their F line per stream; interleaved stdout and stderr merge independently', () => {
  const d = decoder('/p/0.log');
  const out: LogEvent[] = [];
  decodeLine(d, '2026-01-01T00:00:00.000000001Z stdout P a1 ', 0, out);
  decodeLine(d, '2026-01-01T00:00:00.000000002Z stderr P b1 ', 40, out);
  assert.equal(d.pendingOffset(), 0, 'the earliest unfinished merge: the checkpoint stops there');
  decodeLine(d, '2026-01-01T00:00:00.000000003Z stdout F a2', 80, out);
  assert.equal(d.pendingOffset(), 40);
  decodeLine(d, '2026-01-01T00:00:00.000000004Z stderr F b2', 120, out);
  assert.equal(d.pendingOffset(), undefined);
  assert.deepEqual(
    out.map((e) => [e.fields.stream, e.fields.message, e.fields.timestamp]),
    [
      ['stdout', 'a1 a2', '2026-01-01T00:00:00.000000001Z'],
      ['stderr', 'b1 b2', '2026-01-01T00:00:00.000000002Z'],
    ],
    'the merged timestamp is the first fragment\'s',
  );
});

test('Docker json-file: a log without a trailing newline is a partial; the newline ends the merge', () => {
  const d = decoder('/p/0.log');
  const out: LogEvent[] = [];
  decodeLine(d, '{"log":"first ","stream":"stdout","time":"2026-01-01T00:00:00.000000001Z"}', 0, out);
  assert.equal(out.length, 0);
  decodeLine(d, '{"log":"second\\n","stream":"stdout","time":"2026-01-01T00:00:00.000000002Z"}', 80, out);
  assert.deepEqual(out.map((e) => [e.fields.stream, e.fields.message]), [['stdout', 'first second']]);
});

test('auto_partial_merge off: each fragment is its own event and nothing is held', () => {
  const d = decoder('/p/0.log', false);
  const out: LogEvent[] = [];
  decodeLine(d, '2026-01-01T00:00:00.000000001Z stdout P a1 ', 0, out);
  assert.equal(d.pendingOffset(), undefined);
  decodeLine(d, '2026-01-01T00:00:00.000000002Z stdout F a2', 40, out);
  assert.deepEqual(out.map((e) => e.fields.message), ['a1 ', 'a2']);
});

test('max_merged_line_bytes: a merge that reaches it is emitted and counted, the rest starts a new one', () => {
  const stats = new DecodeStats();
  const d = new PartialMergeDecoder({ path: '/p/0.log' }, metadata, { autoPartialMerge: true, maxMergedLineBytes: 8 }, stats);
  const out: LogEvent[] = [];
  decodeLine(d, '2026-01-01T00:00:00.000000001Z stdout P 12345', 0, out);
  decodeLine(d, '2026-01-01T00:00:00.000000002Z stdout P 6789', 40, out);
  assert.deepEqual(out.map((e) => e.fields.message), ['123456789']);
  assert.equal(stats.mergeLimitHits, 1);
  decodeLine(d, '2026-01-01T00:00:00.000000003Z stdout F end', 80, out);
  assert.deepEqual(out.map((e) => e.fields.message), ['123456789', 'end']);
});

test('flush at the end of a file emits the unfinished merges, earliest first', () => {
  const d = decoder('/p/0.log');
  const out: LogEvent[] = [];
  decodeLine(d, '2026-01-01T00:00:00.000000001Z stderr P err ', 0, out);
  decodeLine(d, '2026-01-01T00:00:00.000000002Z stdout P out ', 40, out);
  d.flush(out);
  assert.deepEqual(out.map((e) => [e.fields.stream, e.fields.message]), [['stderr', 'err '], ['stdout', 'out ']]);
  assert.equal(d.pendingOffset(), undefined);
});

test('a line in neither format is shipped raw, without a stream, and counted; a pending merge is kept', () => {
  const stats = new DecodeStats();
  const d = new PartialMergeDecoder({ path: '/p/0.log' }, metadata, { autoPartialMerge: true, maxMergedLineBytes: 1 << 20 }, stats);
  const out: LogEvent[] = [];
  decodeLine(d, '2026-01-01T00:00:00.000000001Z stdout P a1 ', 0, out);
  decodeLine(d, 'not a container log line', 40, out);
  assert.deepEqual(out.map((e) => [e.fields.stream, e.fields.message]), [[undefined, 'not a container log line']]);
  assert.equal(stats.malformedLines, 1);
  assert.equal(d.pendingOffset(), 0);
});

test('fragments are copied: reusing the read buffer after decode does not change a merge', () => {
  const d = decoder('/p/0.log');
  const out: LogEvent[] = [];
  const buf = Buffer.from('2026-01-01T00:00:00.000000001Z stdout P keep ');
  d.decode(buf, 0, buf.length, 0, out);
  buf.fill(0x78);
  decodeLine(d, '2026-01-01T00:00:00.000000002Z stdout F me', 40, out);
  assert.deepEqual(out.map((e) => e.fields.message), ['keep me']);
});

test('events carry the file path as it is now (renames) and the metadata tree of the file', () => {
  const file = { path: '/p/0.log' };
  const holder = { kubernetes: { pod_name: 'p' }, otherFields: { team: 'x' } };
  const d = new PartialMergeDecoder(file, holder, { autoPartialMerge: true, maxMergedLineBytes: 1 << 20 }, new DecodeStats());
  const out: LogEvent[] = [];
  decodeLine(d, '2026-01-01T00:00:00.000000001Z stdout F one', 0, out);
  file.path = '/p/0.log.20260101-000000';
  decodeLine(d, '2026-01-01T00:00:00.000000002Z stdout F two', 40, out);
  assert.deepEqual(out.map((e) => [e.fields.file, e.fields.team, e.fields.kubernetes]), [
    ['/p/0.log', 'x', holder.kubernetes],
    ['/p/0.log.20260101-000000', 'x', holder.kubernetes],
  ]);
});
