import assert from 'node:assert/strict';
import type { Stats } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import type { LogEvent } from '../core/event.js';
import { MetricsRegistry } from '../core/metrics.js';
import { PartialMergeDecoder } from '../sources/kubernetes_logs/partial-merge.js';
import { FileCheckpoints } from './file-checkpoints.js';
import { FileRegistry } from './file-registry.js';
import { DecodeStats } from './line-decoder.js';
import { LineSplitter } from './line-splitter.js';
import { MergeHandoff } from './merge-handoff.js';
import { TailedFile, type FileAdmission } from './tailed-file.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-merge-handoff-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const stats = new DecodeStats();
let inode = 100;

/** A file of sequence `c/0` at `rank`, reading from 0 with a partial-merging decoder. */
function fileAt(registry: FileRegistry, checkpoints: FileCheckpoints, rank: string): TailedFile {
  const admission: FileAdmission = {
    sequence: { key: '/pods/ns_p_u/c/0', rank },
    rotated: rank !== '99999999-999999',
    compressed: false,
    createDecoder: (file, decodeStats) => new PartialMergeDecoder(file, { kubernetes: undefined, otherFields: undefined }, { autoPartialMerge: true, maxMergedLineBytes: 1 << 20 }, decodeStats),
  };
  const ino = inode++;
  const file = new TailedFile(`/pods/ns_p_u/c/0.log.${rank}`, `1:${ino}`, 1, ino, admission, false, { size: 0, mtimeMs: 0 } as Stats);
  file.splitter = new LineSplitter(0, 1 << 20, stats);
  file.decoder = admission.createDecoder(file, stats);
  checkpoints.startAt(file, 0);
  file.state = 'open';
  registry.add(file);
  return file;
}

function setup() {
  const registry = new FileRegistry();
  const checkpoints = new FileCheckpoints(join(dir, `${inode}.json`), 1000, () => registry.all(), pino({ level: 'silent' }), new MetricsRegistry().forComponent('source', 's', 'kubernetes_logs'));
  return { registry, checkpoints, handoff: new MergeHandoff(registry, checkpoints) };
}

/** Pushes `text` through the file's splitter and decoder; returns the events. */
function read(file: TailedFile, text: string): LogEvent[] {
  const events: LogEvent[] = [];
  file.splitter!.push(Buffer.from(text), file.decoder!, events);
  return events;
}

const partial = '2026-01-01T00:00:00.000000001Z stdout P first \n';
const final = '2026-01-01T00:00:01.000000001Z stdout F second\n';

test('a partial at the end of a rotated file goes to the next file; the rotated file\'s checkpoint waits for the merged event', () => {
  const { registry, checkpoints, handoff } = setup();
  const rotated = fileAt(registry, checkpoints, '20260101-000000');
  const current = fileAt(registry, checkpoints, '99999999-999999');
  assert.deepEqual(read(rotated, partial), []);
  assert.equal(handoff.heirOf(rotated), current);
  handoff.passOn(rotated, current);
  rotated.state = 'done';
  assert.equal(rotated.acks!.acknowledgedOffset, 0, 'not past the start of the unfinished merge');
  handoff.adoptIfInherited(current);
  assert.equal(current.inherited?.adoptedAt, 0);
  const events = read(current, final);
  assert.deepEqual(events.map((e) => e.fields.message), ['first second']);
  const settles = handoff.settledBy(current, current.decoder!.pendingOffset());
  assert.ok(settles !== undefined, 'the merged event completes the inherited merge');
  assert.equal(current.inherited, undefined);
  assert.equal(rotated.acks!.acknowledgedOffset, 0, 'only once the merged event is acknowledged');
  settles.settle();
  assert.equal(rotated.acks!.acknowledgedOffset, Buffer.byteLength(partial));
});

test('no heir for a file without unfinished merges, nor for one whose successor has read already', () => {
  const { registry, checkpoints, handoff } = setup();
  const rotated = fileAt(registry, checkpoints, '20260101-000000');
  const current = fileAt(registry, checkpoints, '99999999-999999');
  read(rotated, final);
  assert.equal(handoff.heirOf(rotated), undefined, 'nothing pending');
  read(rotated, partial);
  current.readAny = true;
  assert.equal(handoff.heirOf(rotated), undefined, 'the successor read first: its lines are not a continuation');
});

test('merges passed to a file that finished meanwhile are stranded: shipped as they are, and their ack settles the checkpoint', () => {
  const { registry, checkpoints, handoff } = setup();
  const rotated = fileAt(registry, checkpoints, '20260101-000000');
  const current = fileAt(registry, checkpoints, '99999999-999999');
  read(rotated, partial);
  const heir = handoff.heirOf(rotated)!;
  heir.state = 'done';
  handoff.passOn(rotated, heir);
  assert.equal(current.inherited, undefined);
  const outgoing: LogEvent[] = [];
  assert.equal(handoff.flushStranded(outgoing), 1);
  assert.deepEqual(outgoing.map((e) => e.fields.message), ['first ']);
  assert.equal(rotated.acks!.acknowledgedOffset, 0);
  outgoing[0]!.ack();
  assert.equal(rotated.acks!.acknowledgedOffset, Buffer.byteLength(partial));
  assert.equal(handoff.flushStranded([]), 0, 'flushed once');
});

test('a file that cannot adopt (its first line is not a continuation) strands the merges instead', () => {
  const { registry, checkpoints, handoff } = setup();
  const rotated = fileAt(registry, checkpoints, '20260101-000000');
  const current = fileAt(registry, checkpoints, '99999999-999999');
  read(rotated, partial);
  handoff.passOn(rotated, current);
  current.decoder = { decode() {}, pendingOffset: () => undefined, flush() {} }; // a decoder that merges nothing
  handoff.adoptIfInherited(current);
  assert.equal(current.inherited, undefined);
  const outgoing: LogEvent[] = [];
  assert.equal(handoff.flushStranded(outgoing), 1);
});

test('release: inherited merges not adopted are stranded; adopted ones of a dropped file settle at once', () => {
  const { registry, checkpoints, handoff } = setup();
  const rotated = fileAt(registry, checkpoints, '20260101-000000');
  const current = fileAt(registry, checkpoints, '99999999-999999');
  read(rotated, partial);
  handoff.passOn(rotated, current);
  handoff.release(current, false);
  assert.equal(current.inherited, undefined);
  assert.equal(handoff.flushStranded([]), 1);

  const { registry: r2, checkpoints: c2, handoff: h2 } = setup();
  const rotated2 = fileAt(r2, c2, '20260101-000000');
  const current2 = fileAt(r2, c2, '99999999-999999');
  read(rotated2, partial);
  h2.passOn(rotated2, current2);
  h2.adoptIfInherited(current2);
  h2.release(current2, false);
  assert.notEqual(current2.inherited, undefined, 'a finishing file emits what it adopted: kept');
  h2.release(current2, true); // excluded or forgotten: nothing will come
  assert.equal(current2.inherited, undefined);
  assert.equal(rotated2.acks!.acknowledgedOffset, Buffer.byteLength(partial));
  assert.equal(h2.flushStranded([]), 0);
});
