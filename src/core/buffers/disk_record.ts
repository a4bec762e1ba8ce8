/**
 * The disk buffer's record format: a 12-byte header (payload length, CRC-32 of the payload, event
 * count; little-endian u32 each) and a JSON payload (an array of event field trees). The CRC lets
 * recovery tell a complete record from a torn write at the tail of the log.
 */
export const HEADER_BYTES = 12;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE), as zlib computes it. Node 20's zlib has no crc32(). */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function encodeRecord(fieldsList: unknown[]): Buffer {
  const payload = Buffer.from(JSON.stringify(fieldsList));
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
