import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startPosition, type StartInputs, type StartPosition } from './start-position.js';

const base: StartInputs = { checkpoint: undefined, size: 1000, compressed: false, readFromEnd: false, resumeAtEnd: false, parked: undefined };

const table: Array<[string, Partial<StartInputs>, StartPosition]> = [
  ['plain, no checkpoint: the beginning', {}, { offset: 0, from: 'fresh' }],
  ['plain, no checkpoint, read_from end: the end', { readFromEnd: true }, { offset: 1000, from: 'fresh' }],
  ['plain, checkpoint within the file', { checkpoint: 400 }, { offset: 400, from: 'checkpoint' }],
  ['plain, checkpoint at the end', { checkpoint: 1000 }, { offset: 1000, from: 'checkpoint' }],
  ['plain, checkpoint wins over read_from end', { checkpoint: 400, readFromEnd: true }, { offset: 400, from: 'checkpoint' }],
  ['plain, checkpoint past the end (truncated): the beginning', { checkpoint: 1001 }, { offset: 0, from: 'fresh' }],
  ['plain, checkpoint past the end, read_from end: the end', { checkpoint: 1001, readFromEnd: true }, { offset: 1000, from: 'fresh' }],
  ['plain, resumed after exclusion: the end, past the checkpoint', { checkpoint: 400, resumeAtEnd: true }, { offset: 1000, from: 'resume-at-end' }],
  ['plain, parked, same head: where it stood', { parked: { offset: 700, headMatches: true }, checkpoint: 400 }, { offset: 700, from: 'parked' }],
  ['plain, parked, same head, resumeAtEnd ignored', { parked: { offset: 700, headMatches: true }, resumeAtEnd: true }, { offset: 700, from: 'parked' }],
  ['plain, parked, head changed: skipped', { parked: { offset: 700, headMatches: false } }, { skip: 'changed while parked' }],
  ['gzip, no checkpoint: the beginning', { compressed: true }, { offset: 0, from: 'fresh' }],
  ['gzip, checkpoint: there, whatever the compressed size', { compressed: true, checkpoint: 5000 }, { offset: 5000, from: 'checkpoint' }],
  ['gzip, no checkpoint, read_from end: skipped', { compressed: true, readFromEnd: true }, { skip: 'read_from end' }],
  ['gzip, checkpoint, read_from end: the checkpoint', { compressed: true, readFromEnd: true, checkpoint: 5000 }, { offset: 5000, from: 'checkpoint' }],
  ['gzip, resumed after exclusion: skipped', { compressed: true, resumeAtEnd: true, checkpoint: 5000 }, { skip: 'resumed after an exclusion: a gzip gets no new lines' }],
];

for (const [name, input, expected] of table) {
  test(`start position: ${name}`, () => {
    assert.deepEqual(startPosition({ ...base, ...input }), expected);
  });
}
