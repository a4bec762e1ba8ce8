// Framing of the sluice-to-sluice protocol: what one 1,000-event batch costs to encode (agent)
// and decode (aggregator) as (A) length-prefixed JSON frames (the protocol), (B) one JSON array
// body, (C) protobuf with a google.protobuf.Struct-like Value tree (protobufjs, as Vector's
// event.proto carries dynamic fields). Best of 30 interleaved rounds; every variant is checked
// to decode to the same events. `node dist/bench/sluice-hop/framing.js`
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import type { Fields } from '../../src/core/event.js';
import { EventEncoder } from '../../src/sinks/shared/encoding.js';
import { ByteBatch } from '../../src/sinks/shared/byte-batch.js';
import { decodeFrames } from '../../src/sinks/sluice/protocol.js';

const EVENTS = 1000;
const pods = Array.from({ length: 10 }, (_, p) =>
  Object.freeze({
    pod_name: `app-${p}-7d9f8b6c5-x2k4m`,
    pod_namespace: 'shop',
    pod_uid: `0000000${p}-aaaa-4bbb-8ccc-dddddddddddd`,
    container_name: 'app',
    container_image: 'registry.example.com/shop/app:1.2.3',
    pod_node_name: 'node-1',
    pod_labels: Object.freeze({ app: 'shop', 'app.kubernetes.io/name': 'shop', 'pod-template-hash': '7d9f8b6c5' }),
  }),
);
const events = Array.from({ length: EVENTS }, (_, i) => ({
  message: `2026-12-01T10:00:00.${String(i).padStart(9, '0')}Z level=info msg="request served" path=/api/v1/items/${i} status=200 duration_ms=${i % 97}`,
  timestamp: `2026-12-01T10:00:00.${String(i).padStart(9, '0')}Z`,
  stream: i % 7 === 0 ? 'stderr' : 'stdout',
  file: `/var/log/pods/shop_app-${i % 10}/app/0.log`,
  source_type: 'kubernetes_logs',
  kubernetes: pods[i % 10]!,
}));

// (C) The Value tree, as google/protobuf/struct.proto defines it.
const root = protobuf.Root.fromJSON(({
  nested: {
    Value: { oneofs: { kind: { oneof: ['nullValue', 'numberValue', 'stringValue', 'boolValue', 'structValue', 'listValue'] } }, fields: { nullValue: { type: 'int32', id: 1 }, numberValue: { type: 'double', id: 2 }, stringValue: { type: 'string', id: 3 }, boolValue: { type: 'bool', id: 4 }, structValue: { type: 'Struct', id: 5 }, listValue: { type: 'ListValue', id: 6 } } },
    Struct: { fields: { fields: { keyType: 'string', type: 'Value', id: 1 } } },
    ListValue: { fields: { values: { rule: 'repeated', type: 'Value', id: 1 } } },
    Batch: { fields: { events: { rule: 'repeated', type: 'Struct', id: 1 } } },
  },
}) as unknown as protobuf.INamespace);
const BatchType = root.lookupType('Batch');
type Value = Record<string, unknown>;
const toValue = (v: unknown): Value => {
  if (v === null || v === undefined) return { nullValue: 0 };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  return { structValue: toStruct(v as Fields) };
};
const toStruct = (o: Fields) => {
  const fields: Record<string, Value> = {};
  for (const k in o) fields[k] = toValue(o[k]);
  return { fields };
};
const fromValue = (v: Value): unknown => {
  if ('stringValue' in v) return v.stringValue;
  if ('numberValue' in v) return v.numberValue;
  if ('boolValue' in v) return v.boolValue;
  if ('structValue' in v) return fromStruct(v.structValue as { fields?: Record<string, Value> });
  if ('listValue' in v) return ((v.listValue as { values?: Value[] }).values ?? []).map(fromValue);
  return null;
};
const fromStruct = (s: { fields?: Record<string, Value> }): Fields => {
  const out: Fields = {};
  for (const k in s.fields ?? {}) out[k] = fromValue(s.fields![k]!);
  return out;
};

const encoder = new EventEncoder({ codec: 'json' });
const out = new ByteBatch(1 << 20);

const variants: Record<string, { encode(): Buffer; decode(body: Buffer): Fields[] }> = {
  'A length-prefixed JSON frames (the protocol)': {
    encode(): Buffer {
      out.reset();
      for (const fields of events) {
        const start = out.length;
        out.appendBytes(Buffer.alloc(4));
        encoder.encodeFieldsInto(fields, out);
        out.bytes().writeUInt32BE(out.length - start - 4, start);
      }
      return Buffer.from(out.bytes());
    },
    decode: (body: Buffer) => decodeFrames(body),
  },
  'B one JSON array body': {
    encode(): Buffer {
      out.reset();
      out.appendByte(0x5b);
      events.forEach((fields, i) => {
        if (i > 0) out.appendByte(0x2c);
        encoder.encodeFieldsInto(fields, out);
      });
      out.appendByte(0x5d);
      return Buffer.from(out.bytes());
    },
    decode: (body: Buffer) => JSON.parse(body.toString('utf8')) as Fields[],
  },
  'C protobuf Struct/Value tree (protobufjs)': {
    encode: (): Buffer => Buffer.from(BatchType.encode(BatchType.fromObject({ events: events.map((e) => toStruct(e)) })).finish()),
    decode: (body: Buffer) => ((BatchType.toObject(BatchType.decode(body)) as { events: Array<{ fields?: Record<string, Value> }> }).events ?? []).map(fromStruct),
  },
};

const reference = JSON.parse(JSON.stringify(events)) as Fields[];
const best: Record<string, { encode: number; decode: number; bytes: number }> = {};
for (const [name, v] of Object.entries(variants)) {
  assert.deepEqual(v.decode(v.encode()), reference, `${name} decodes to the events`);
  best[name] = { encode: Infinity, decode: Infinity, bytes: v.encode().length };
}
for (let round = 0; round < 30; round++) {
  for (const [name, v] of Object.entries(variants)) {
    let t = performance.now();
    let body!: Buffer;
    for (let i = 0; i < 5; i++) body = v.encode();
    best[name]!.encode = Math.min(best[name]!.encode, (performance.now() - t) / 5);
    t = performance.now();
    for (let i = 0; i < 5; i++) v.decode(body);
    best[name]!.decode = Math.min(best[name]!.decode, (performance.now() - t) / 5);
  }
}
console.log(`| variant (${EVENTS} events, kubernetes_logs-like) | encode ms | decode ms | bytes |\n|---|---:|---:|---:|`);
for (const [name, b] of Object.entries(best)) console.log(`| ${name} | ${b.encode.toFixed(2)} | ${b.decode.toFixed(2)} | ${b.bytes.toLocaleString('en-US')} |`);

