import { gunzipSync } from 'node:zlib';

/**
 * The Kafka wire primitives, written from the protocol guide (kafka.apache.org/protocol) and
 * KIP-482 (flexible versions: compact strings/arrays, unsigned varints, tagged fields), for the
 * fake broker. Independent of the client library under test: nothing here is imported from it.
 */

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), as record batches v2 carry it. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export class ProtocolError extends Error {}

export class Reader {
  offset = 0;
  constructor(readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw new ProtocolError(`truncated: need ${n} bytes at ${this.offset} of ${this.buf.length}`);
  }
  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.offset++);
  }
  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  bool(): boolean {
    return this.int8() !== 0;
  }
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      this.need(1);
      const byte = this.buf[this.offset++]!;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
    }
    throw new ProtocolError('varint longer than 5 bytes');
  }
  varint(): number {
    const raw = this.uvarint();
    return (raw >>> 1) ^ -(raw & 1);
  }
  varlong(): bigint {
    let raw = 0n;
    for (let shift = 0n; shift <= 63n; shift += 7n) {
      this.need(1);
      const byte = this.buf[this.offset++]!;
      raw |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return (raw >> 1n) ^ -(raw & 1n);
    }
    throw new ProtocolError('varlong longer than 10 bytes');
  }
  bytes(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  /** STRING / NULLABLE_STRING (int16 length) or, flexible, COMPACT_(NULLABLE_)STRING. */
  string(compact: boolean): string | null {
    const length = compact ? this.uvarint() - 1 : this.int16();
    if (length < 0) return null;
    return this.bytes(length).toString('utf8');
  }
  /** BYTES / COMPACT_BYTES (nullable forms give null). */
  bytesField(compact: boolean): Buffer | null {
    const length = compact ? this.uvarint() - 1 : this.int32();
    if (length < 0) return null;
    return this.bytes(length);
  }
  array<T>(compact: boolean, item: (r: Reader) => T): T[] {
    const count = compact ? this.uvarint() - 1 : this.int32();
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(item(this));
    return out;
  }
  /** Tagged fields: the fake knows none, so it reads and ignores them (as brokers do unknown ones). Only in flexible versions. */
  taggedFields(flexible = true): void {
    if (!flexible) return;
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.bytes(this.uvarint());
    }
  }
}

export class Writer {
  private chunks: Buffer[] = [];
  private size = 0;

  private push(b: Buffer): this {
    this.chunks.push(b);
    this.size += b.length;
    return this;
  }
  int8(v: number): this {
    const b = Buffer.alloc(1);
    b.writeInt8(v);
    return this.push(b);
  }
  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    return this.push(b);
  }
  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    return this.push(b);
  }
  uint32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    return this.push(b);
  }
  int64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    return this.push(b);
  }
  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }
  uvarint(v: number): this {
    const out: number[] = [];
    let rest = v >>> 0;
    while (rest > 0x7f) {
      out.push((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    out.push(rest);
    return this.push(Buffer.from(out));
  }
  varint(v: number): this {
    return this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }
  varlong(v: bigint): this {
    let rest = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    const out: number[] = [];
    while (rest > 0x7fn) {
      out.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    out.push(Number(rest));
    return this.push(Buffer.from(out));
  }
  raw(b: Buffer): this {
    return this.push(b);
  }
  string(v: string | null, compact: boolean): this {
    if (v === null) return compact ? this.uvarint(0) : this.int16(-1);
    const b = Buffer.from(v, 'utf8');
    return (compact ? this.uvarint(b.length + 1) : this.int16(b.length)).raw(b);
  }
  bytesField(v: Buffer | null, compact: boolean): this {
    if (v === null) return compact ? this.uvarint(0) : this.int32(-1);
    return (compact ? this.uvarint(v.length + 1) : this.int32(v.length)).raw(v);
  }
  array<T>(items: readonly T[] | null, compact: boolean, item: (w: Writer, value: T) => void): this {
    if (items === null) return compact ? this.uvarint(0) : this.int32(-1);
    if (compact) this.uvarint(items.length + 1);
    else this.int32(items.length);
    for (const value of items) item(this, value);
    return this;
  }
  /** An empty tagged-field section (flexible versions only: nothing otherwise). */
  tags(flexible = true): this {
    return flexible ? this.uvarint(0) : this;
  }
  build(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

/** One record of a batch, decoded. */
export interface StoredRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: string; value: Buffer | null }>;
}

/** Record batch v2 header fields the broker looks at. */
export interface BatchHeader {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Offset of the `attributes` field within a batch: the CRC covers from there to the end. */
const CRC_START = 21;
export const COMPRESSION_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

/**
 * Splits a RECORDS field into record batches v2 and checks each: magic 2, a length that fits, and
 * the CRC-32C. Throws ProtocolError naming the problem (the broker answers CORRUPT_MESSAGE).
 */
export function splitBatches(records: Buffer): Array<{ header: BatchHeader; bytes: Buffer }> {
  const batches: Array<{ header: BatchHeader; bytes: Buffer }> = [];
  let at = 0;
  while (at < records.length) {
    if (records.length - at < 61) throw new ProtocolError(`record batch truncated: ${records.length - at} bytes left, a v2 header is 61`);
    const r = new Reader(records.subarray(at));
    const header: BatchHeader = {
      baseOffset: r.int64(),
      batchLength: r.int32(),
      partitionLeaderEpoch: r.int32(),
      magic: r.int8(),
      crc: r.uint32(),
      attributes: r.int16(),
      lastOffsetDelta: r.int32(),
      baseTimestamp: r.int64(),
      maxTimestamp: r.int64(),
      producerId: r.int64(),
      producerEpoch: r.int16(),
      baseSequence: r.int32(),
      recordCount: r.int32(),
    };
    if (header.magic !== 2) throw new ProtocolError(`record batch magic ${header.magic}: only v2 is supported`);
    const total = 12 + header.batchLength;
    if (header.batchLength < 49 || at + total > records.length) throw new ProtocolError(`record batch length ${header.batchLength} does not fit in ${records.length - at} bytes`);
    const bytes = records.subarray(at, at + total);
    const computed = crc32c(bytes.subarray(CRC_START));
    if (computed !== header.crc) throw new ProtocolError(`record batch CRC-32C mismatch: header 0x${header.crc.toString(16)}, computed 0x${computed.toString(16)}`);
    batches.push({ header, bytes });
    at += total;
  }
  return batches;
}

/** A batch with its base offset (and partition leader epoch) rewritten; the CRC does not cover them. */
export function assignOffset(bytes: Buffer, baseOffset: bigint, leaderEpoch: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeBigInt64BE(baseOffset, 0);
  copy.writeInt32BE(leaderEpoch, 12);
  return copy;
}

/**
 * The records of a batch. gzip is decoded here (zlib); the other codecs are reported by name only:
 * tests of snappy/lz4 read them back through a consumer instead.
 */
export function decodeRecords(header: BatchHeader, bytes: Buffer): StoredRecord[] {
  const codec = header.attributes & 0x07;
  let body = bytes.subarray(61);
  if (codec === 1) body = gunzipSync(body);
  else if (codec !== 0) throw new ProtocolError(`records compressed with ${COMPRESSION_NAMES[codec] ?? codec}: the fake decodes only none and gzip`);
  const r = new Reader(body);
  const out: StoredRecord[] = [];
  for (let i = 0; i < header.recordCount; i++) {
    const length = r.varint();
    const end = r.offset + length;
    r.int8(); // attributes (unused)
    const timestampDelta = r.varlong();
    const offsetDelta = r.varint();
    const keyLength = r.varint();
    const key = keyLength < 0 ? null : Buffer.from(r.bytes(keyLength));
    const valueLength = r.varint();
    const value = valueLength < 0 ? null : Buffer.from(r.bytes(valueLength));
    const headers: StoredRecord['headers'] = [];
    const headerCount = r.varint();
    for (let h = 0; h < headerCount; h++) {
      const hk = r.bytes(r.varint()).toString('utf8');
      const hvLength = r.varint();
      headers.push({ key: hk, value: hvLength < 0 ? null : Buffer.from(r.bytes(hvLength)) });
    }
    if (r.offset !== end) throw new ProtocolError(`record ${i} length ${length} does not match its fields`);
    out.push({ offset: header.baseOffset + BigInt(offsetDelta), timestamp: header.baseTimestamp + timestampDelta, key, value, headers });
  }
  return out;
}

/** A record batch v2, uncompressed, for tests that put records in a topic directly. */
export function encodeBatch(records: Array<{ key?: Buffer | null; value: Buffer | null; headers?: Array<{ key: string; value: Buffer }>; timestamp?: bigint }>): Buffer {
  const now = BigInt(Date.now());
  const base = records[0]?.timestamp ?? now;
  const body = new Writer();
  let max = base;
  records.forEach((record, i) => {
    const ts = record.timestamp ?? now;
    if (ts > max) max = ts;
    const rec = new Writer().int8(0).varlong(ts - base).varint(i);
    if (record.key == null) rec.varint(-1);
    else rec.varint(record.key.length).raw(record.key);
    if (record.value === null) rec.varint(-1);
    else rec.varint(record.value.length).raw(record.value);
    const headers = record.headers ?? [];
    rec.varint(headers.length);
    for (const h of headers) {
      const k = Buffer.from(h.key);
      rec.varint(k.length).raw(k).varint(h.value.length).raw(h.value);
    }
    const bytes = rec.build();
    body.varint(bytes.length).raw(bytes);
  });
  const afterCrc = new Writer()
    .int16(0)
    .int32(records.length - 1)
    .int64(base)
    .int64(max)
    .int64(-1n)
    .int16(-1)
    .int32(-1)
    .int32(records.length)
    .raw(body.build())
    .build();
  const head = new Writer().int64(0n).int32(afterCrc.length + 9).int32(0).int8(2).uint32(crc32c(afterCrc)).build();
  return Buffer.concat([head, afterCrc]);
}
