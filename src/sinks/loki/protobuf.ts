import { compress } from 'snappyjs';

/**
 * Loki's protobuf push format (`logproto.PushRequest`), snappy-compressed, as Promtail and
 * Vector send it:
 *
 *   PushRequest   { repeated StreamAdapter streams = 1; }
 *   StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; }
 *   EntryAdapter  { google.protobuf.Timestamp timestamp = 1; string line = 2;
 *                   repeated LabelPairAdapter structuredMetadata = 3; }
 *   LabelPairAdapter { string name = 1; string value = 2; }
 *   Timestamp     { int64 seconds = 1; int32 nanos = 2; }
 *
 * Hand-encoded: four message types do not justify a protobuf runtime on the hot path.
 */
/** `[nanos, line]`, or `[nanos, line, structured metadata]` as the JSON push API takes it. */
export type PushValue = [string, string] | [string, string, Record<string, string>];

export interface PushStream {
  stream: Record<string, string>;
  values: PushValue[];
}

class ProtoWriter {
  private readonly chunks: Buffer[] = [];
  length = 0;

  varint(value: number): this {
    const bytes: number[] = [];
    let v = value;
    while (v > 0x7f) {
      bytes.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(v);
    return this.bytes(Buffer.from(bytes));
  }

  /** A length-delimited field (string, bytes or sub-message). */
  field(number: number, payload: Buffer): this {
    return this.varint((number << 3) | 2)
      .varint(payload.length)
      .bytes(payload);
  }

  varintField(number: number, value: number): this {
    if (value === 0) return this; // proto3 default: omitted
    return this.varint(number << 3).varint(value);
  }

  bytes(payload: Buffer): this {
    this.chunks.push(payload);
    this.length += payload.length;
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

/** `{name="value", ...}` in the Prometheus label syntax Loki parses (values quoted and escaped). */
export function labelString(labels: Record<string, string>): string {
  return '{' + Object.entries(labels).map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(', ') + '}';
}

function encodeEntry([nanos, line, metadata]: PushValue): Buffer {
  const seconds = nanos.length > 9 ? Number(nanos.slice(0, -9)) : 0;
  const fraction = Number(nanos.slice(-9));
  const timestamp = new ProtoWriter().varintField(1, seconds).varintField(2, fraction).finish();
  const entry = new ProtoWriter().field(1, timestamp).field(2, Buffer.from(line));
  for (const [name, value] of Object.entries(metadata ?? {})) {
    entry.field(3, new ProtoWriter().field(1, Buffer.from(name)).field(2, Buffer.from(value)).finish());
  }
  return entry.finish();
}

export function encodePushRequest(streams: readonly PushStream[]): Buffer {
  const request = new ProtoWriter();
  for (const { stream, values } of streams) {
    const adapter = new ProtoWriter().field(1, Buffer.from(labelString(stream)));
    for (const value of values) adapter.field(2, encodeEntry(value));
    request.field(1, adapter.finish());
  }
  return request.finish();
}

/** The snappy-compressed protobuf body of a push. */
export function snappyPushBody(streams: readonly PushStream[]): Buffer {
  const compressed = compress(encodePushRequest(streams));
  return Buffer.from(compressed.buffer, compressed.byteOffset, compressed.byteLength);
}
