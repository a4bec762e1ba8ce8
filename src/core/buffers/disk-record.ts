import { crc32 as zlibCrc32 } from 'node:zlib';
import type { Fields } from '../event.js';

/**
 * The disk buffer's record format: a 12-byte header (payload length, CRC-32 of the payload, event
 * count; little-endian u32 each) and a JSON payload (the events' field trees). The CRC lets
 * recovery tell a complete record from a torn write at the tail of the log.
 */
export const HEADER_BYTES = 12;

/** CRC-32 (IEEE), native (zlib.crc32 exists from Node 20.15; package.json asks for >= 20.19). */
export function crc32(bytes: Uint8Array): number {
  return zlibCrc32(bytes);
}

/**
 * Marks a reference to the record's table of shared objects. Frozen top-level sub-objects (pod
 * metadata shared by every event of a file) are written once per record and shared again, frozen,
 * when read back: less disk, less JSON work, and the encoder's per-object JSON cache still hits.
 */
const SHARED_REF = '@sluice_shared@';

/** The JSON payload of a batch: an array of field trees, or `{s: shared objects, e: field trees}`. */
function payloadJson(fieldsList: readonly Fields[]): string {
  const shared: object[] = [];
  const indexOf = new Map<object, number>();
  const events = fieldsList.map((fields) => {
    let copy: Fields | undefined;
    for (const key in fields) {
      const value = fields[key];
      if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.isFrozen(value)) continue;
      let index = indexOf.get(value);
      if (index === undefined) {
        index = shared.length;
        shared.push(value);
        indexOf.set(value, index);
      }
      (copy ??= { ...fields })[key] = { [SHARED_REF]: index };
    }
    return copy ?? fields;
  });
  return JSON.stringify(shared.length > 0 ? { s: shared, e: events } : events);
}

/** The field trees of a record's payload, shared objects restored (frozen, one instance each). */
export function decodeEvents(payload: Buffer): Fields[] {
  const parsed = JSON.parse(payload.toString()) as Fields[] | { s: object[]; e: Fields[] };
  if (Array.isArray(parsed)) return parsed;
  const shared = parsed.s.map(deepFreeze);
  for (const fields of parsed.e) {
    for (const key in fields) {
      const value = fields[key] as Record<string, unknown> | null;
      if (value !== null && typeof value === 'object' && typeof value[SHARED_REF] === 'number') fields[key] = shared[value[SHARED_REF]];
    }
  }
  return parsed.e;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export function encodeRecord(fieldsList: readonly Fields[]): Buffer {
  const payload = Buffer.from(payloadJson(fieldsList));
  const record = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeUInt32LE(crc32(payload), 4);
  record.writeUInt32LE(fieldsList.length, 8);
  payload.copy(record, HEADER_BYTES);
  return record;
}

export interface DecodedRecord {
  /** Offset of the record's first byte within the chunk. */
  start: number;
  /** Offset just past the record. */
  end: number;
  count: number;
  payload: Buffer;
}

export type DecodeResult = { kind: 'record'; record: DecodedRecord } | { kind: 'incomplete' } | { kind: 'corrupt'; why: string };

/** Decode the record starting at `offset` of `chunk`. */
export function decodeRecord(chunk: Buffer, offset: number): DecodeResult {
  if (chunk.length - offset < HEADER_BYTES) return { kind: 'incomplete' };
  const length = chunk.readUInt32LE(offset);
  const crc = chunk.readUInt32LE(offset + 4);
  const count = chunk.readUInt32LE(offset + 8);
  const end = offset + HEADER_BYTES + length;
  if (end > chunk.length) return { kind: 'incomplete' };
  const payload = chunk.subarray(offset + HEADER_BYTES, end);
  if (crc32(payload) !== crc) return { kind: 'corrupt', why: 'checksum mismatch' };
  return { kind: 'record', record: { start: offset, end, count, payload } };
}
