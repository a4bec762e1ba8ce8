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
