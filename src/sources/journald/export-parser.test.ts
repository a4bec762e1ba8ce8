import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExportFormatError, ExportParser, type JournalEntry } from './export-parser.js';
import { realtimeToRfc3339 } from './source.js';

function binaryField(name: string, value: Buffer): Buffer {
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(value.length));
  return Buffer.concat([Buffer.from(`${name}\n`), length, value, Buffer.from('\n')]);
}

function parseAll(stream: Buffer, chunkSize: number, limits = { maxFieldBytes: 1 << 20, maxEntryBytes: 1 << 22 }): JournalEntry[] {
  const entries: JournalEntry[] = [];
  const parser = new ExportParser(limits, (entry) => entries.push(entry));
  for (let i = 0; i < stream.length; i += chunkSize) parser.push(stream.subarray(i, i + chunkSize));
  assert.ok(parser.atEntryBoundary);
  return entries;
}

const stream = Buffer.concat([
  Buffer.from('__CURSOR=s=1;i=1\n__REALTIME_TIMESTAMP=1700000000123456\nMESSAGE=hello=world\n_SYSTEMD_UNIT=a.service\n'),
  binaryField('BLOB', Buffer.from([0, 1, 0x0a, 0xff, 0x0a])),
  Buffer.from('TAG=x\nTAG=y\n\n'),
  Buffer.from('__CURSOR=s=1;i=2\n'),
  binaryField('MESSAGE', Buffer.from('two\nlines')),
  binaryField('EMPTY', Buffer.alloc(0)),
  Buffer.from('\n'),
]);

describe('journal export format parser', () => {
  it('parses text, binary (length-prefixed, with newlines) and repeated fields, at any chunking', () => {
    for (const chunkSize of [1, 3, 7, 64, stream.length]) {
      const entries = parseAll(stream, chunkSize);
      assert.equal(entries.length, 2, `chunk ${chunkSize}`);
      assert.deepEqual(entries[0]!.fields, {
        __CURSOR: 's=1;i=1',
        __REALTIME_TIMESTAMP: '1700000000123456',
        MESSAGE: 'hello=world',
        _SYSTEMD_UNIT: 'a.service',
        BLOB: Buffer.from([0, 1, 0x0a, 0xff, 0x0a]).toString('utf8'),
        TAG: ['x', 'y'],
      });
      assert.deepEqual(entries[1]!.fields, { __CURSOR: 's=1;i=2', MESSAGE: 'two\nlines', EMPTY: '' });
    }
  });

  it('cuts a value at maxFieldBytes and drops fields beyond maxEntryBytes, keeping the cursor', () => {
    const big = Buffer.concat([Buffer.from(`__CURSOR=c1\nMESSAGE=${'m'.repeat(100)}\n`), binaryField('B', Buffer.alloc(100, 0x62)), Buffer.from('LATE=zzzzzzzzzz\n\n')]);
    const [entry] = parseAll(big, 5, { maxFieldBytes: 40, maxEntryBytes: 82 });
    assert.equal(entry!.fields.__CURSOR, 'c1');
    assert.equal(entry!.fields.MESSAGE, 'm'.repeat(40));
    assert.equal(entry!.fields.B, 'b'.repeat(40));
    assert.equal(entry!.fields.LATE, undefined);
    assert.equal(entry!.truncatedFields, 3);
  });

  it('rejects a stream that is not export format', () => {
    const parser = new ExportParser({ maxFieldBytes: 100, maxEntryBytes: 100 }, () => undefined);
    assert.throws(() => parser.push(Buffer.concat([binaryField('X', Buffer.from('abc')).subarray(0, -1), Buffer.from('Y')])), ExportFormatError);
    assert.throws(() => new ExportParser({ maxFieldBytes: 1, maxEntryBytes: 1 }, () => undefined).push(Buffer.from('=value\n')), ExportFormatError);
  });

  it('turns __REALTIME_TIMESTAMP microseconds into RFC 3339', () => {
    assert.equal(realtimeToRfc3339('1700000000123456'), '2023-11-14T22:13:20.123456Z');
    assert.equal(realtimeToRfc3339('x'), undefined);
  });
});
