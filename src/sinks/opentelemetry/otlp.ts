import protobuf from 'protobufjs';
import { OTLP_LOGS_DESCRIPTOR } from './proto/descriptor.js';

/** The OTLP logs messages, from the descriptor generated out of the vendored .proto files. */
const root = protobuf.Root.fromJSON(OTLP_LOGS_DESCRIPTOR as unknown as protobuf.INamespace);
export const ExportLogsServiceRequest = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
export const ExportLogsServiceResponse = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');
export const ResourceLogs = root.lookupType('opentelemetry.proto.logs.v1.ResourceLogs');
export const LogRecord = root.lookupType('opentelemetry.proto.logs.v1.LogRecord');
export const Resource = root.lookupType('opentelemetry.proto.resource.v1.Resource');

/** An AnyValue as protobufjs takes it (camelCase, one member set). */
export type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: number | { low: number; high: number; unsigned: boolean } }
  | { doubleValue: number }
  | { arrayValue: { values: AnyValue[] } }
  | { kvlistValue: { values: KeyValue[] } }
  | { bytesValue: Uint8Array }
  | Record<string, never>;
export interface KeyValue {
  key: string;
  value: AnyValue;
}

/** A JS field value as an OTLP AnyValue: objects become kvlists, arrays arrays, integers int64. */
export function anyValueOf(value: unknown): AnyValue {
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'number':
      return Number.isSafeInteger(value) ? { intValue: value } : { doubleValue: value };
    case 'bigint':
      return { intValue: longBits(BigInt.asUintN(64, value), false) };
    case 'object':
      if (value === null) return {};
      if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { bytesValue: value };
      if (Array.isArray(value)) return { arrayValue: { values: value.map(anyValueOf) } };
      return { kvlistValue: { values: keyValuesOf(value as Record<string, unknown>) } };
    default:
      return {};
  }
}

export function keyValuesOf(object: Record<string, unknown>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const key in object) {
    const value = object[key];
    if (value !== undefined) out.push({ key, value: anyValueOf(value) });
  }
  return out;
}

/** A 64-bit value as protobufjs' writer takes it, without a float in between. */
export function longBits(value: bigint, unsigned = true): { low: number; high: number; unsigned: boolean } {
  return { low: Number(value & 0xffffffffn) | 0, high: Number((value >> 32n) & 0xffffffffn) | 0, unsigned };
}

/** A LogRecord as protobufjs takes it. */
export interface LogRecordInput {
  timeUnixNano?: { low: number; high: number; unsigned: boolean };
  observedTimeUnixNano: { low: number; high: number; unsigned: boolean };
  severityNumber?: number;
  severityText?: string;
  body?: AnyValue;
  attributes: KeyValue[];
  traceId?: Uint8Array;
  spanId?: Uint8Array;
}

// --- OTLP/JSON: the protobuf JSON mapping with OTLP's two exceptions (ids as hex, enums as numbers).

/** The OTLP/JSON object of a message tree in protobufjs input shape. */
export function toOtlpJson(value: unknown, key = ''): unknown {
  if (typeof value === 'number' && key === 'intValue') return String(value); // int64 is a string in JSON
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return key === 'traceId' || key === 'spanId' ? Buffer.from(value).toString('hex') : Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((item) => toOtlpJson(item));
  const object = value as Record<string, unknown>;
  if (typeof object.low === 'number' && typeof object.high === 'number') return bitsToDecimal(object as { low: number; high: number; unsigned?: boolean });
  const out: Record<string, unknown> = {};
  for (const name in object) if (object[name] !== undefined) out[name] = toOtlpJson(object[name], name);
  return out;
}

function bitsToDecimal(bits: { low: number; high: number; unsigned?: boolean }): string {
  const unsigned = (BigInt(bits.high >>> 0) << 32n) | BigInt(bits.low >>> 0);
  return (bits.unsigned === false ? BigInt.asIntN(64, unsigned) : unsigned).toString();
}
