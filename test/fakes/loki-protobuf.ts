import { uncompress } from 'snappyjs';

/**
 * Test-side decoder of Loki's snappy protobuf push (written from logproto's field numbers, not
 * shared with the sink's encoder), producing the JSON push shape so one validator checks both.
 */
class ProtoReader {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  varint(): number {
    let result = 0;
    let multiplier = 1;
    for (;;) {
      if (this.offset >= this.bytes.length) throw new Error('truncated varint');
      const byte = this.bytes[this.offset++]!;
      result += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return result;
      multiplier *= 128;
    }
  }

  /** Next field: number, wire type and value (a number, or the bytes of a length-delimited field). */
  next(): { field: number; value: number | Buffer } {
    const key = this.varint();
    const wireType = key & 7;
    const field = key >>> 3;
    if (wireType === 0) return { field, value: this.varint() };
    if (wireType === 2) {
      const length = this.varint();
      if (this.offset + length > this.bytes.length) throw new Error('truncated field');
      const value = this.bytes.subarray(this.offset, this.offset + length);
      this.offset += length;
      return { field, value };
    }
    throw new Error(`unexpected wire type ${wireType}`);
  }
}

function parseLabels(text: string): Record<string, string> {
  if (!text.startsWith('{') || !text.endsWith('}')) throw new Error(`labels not in {name="value"} form: ${text}`);
  const labels: Record<string, string> = {};
  const pattern = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
  const body = text.slice(1, -1);
  pattern.lastIndex = 0;
  while (pattern.lastIndex < body.length) {
    const match = pattern.exec(body);
    if (!match) throw new Error(`unparseable labels: ${text}`);
    labels[match[1]!] = JSON.parse(`"${match[2]!}"`) as string;
  }
  return labels;
}

type DecodedValue = [string, string] | [string, string, Record<string, string>];

export function decodeSnappyPush(body: Buffer): { streams: Array<{ stream: Record<string, string>; values: DecodedValue[] }> } {
  const raw = Buffer.from(uncompress(body));
  const streams = [];
  const request = new ProtoReader(raw);
  while (!request.done) {
    const { field, value } = request.next();
    if (field !== 1 || !Buffer.isBuffer(value)) throw new Error('PushRequest: expected streams (field 1)');
    const adapter = new ProtoReader(value);
    let labels = '';
    const values: DecodedValue[] = [];
    while (!adapter.done) {
      const item = adapter.next();
      if (item.field === 1 && Buffer.isBuffer(item.value)) labels = item.value.toString();
      else if (item.field === 2 && Buffer.isBuffer(item.value)) {
        const entry = new ProtoReader(item.value);
        let seconds = 0;
        let nanos = 0;
        let line = '';
        const metadata: Record<string, string> = {};
        while (!entry.done) {
          const part = entry.next();
          if (part.field === 1 && Buffer.isBuffer(part.value)) {
            const timestamp = new ProtoReader(part.value);
            while (!timestamp.done) {
              const t = timestamp.next();
              if (t.field === 1) seconds = t.value as number;
              else if (t.field === 2) nanos = t.value as number;
            }
          } else if (part.field === 2 && Buffer.isBuffer(part.value)) line = part.value.toString();
          else if (part.field === 3 && Buffer.isBuffer(part.value)) {
            const pair = new ProtoReader(part.value);
            let name = '';
            let value = '';
            while (!pair.done) {
              const p = pair.next();
              if (p.field === 1 && Buffer.isBuffer(p.value)) name = p.value.toString();
              else if (p.field === 2 && Buffer.isBuffer(p.value)) value = p.value.toString();
            }
            metadata[name] = value;
          }
        }
        const time = `${seconds}${String(nanos).padStart(9, '0')}`;
        values.push(Object.keys(metadata).length > 0 ? [time, line, metadata] : [time, line]);
      }
    }
    streams.push({ stream: parseLabels(labels), values });
  }
  return { streams };
}
