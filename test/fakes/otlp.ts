import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import type { ReceivedRequest } from './receiver.js';

/** The vendored opentelemetry-proto files, read straight from src/ (not the generated descriptor). */
export const PROTO_DIR = join(import.meta.dirname, '..', '..', '..', 'src', 'sinks', 'opentelemetry', 'proto');

export function loadOfficialProtos(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  return root.loadSync('opentelemetry/proto/collector/logs/v1/logs_service.proto');
}

const root = loadOfficialProtos();
export const RequestType = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
export const ResponseType = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');

export interface DecodedRecord {
  timeUnixNano?: string;
  severityText?: string;
  severityNumber?: number;
  body?: Record<string, unknown>;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
  traceId?: string;
  spanId?: string;
}
export interface DecodedRequest {
  resourceLogs: Array<{
    resource?: { attributes?: Array<{ key: string; value: Record<string, unknown> }> };
    scopeLogs: Array<{ scope?: { name?: string }; logRecords: DecodedRecord[] }>;
  }>;
}

/**
 * A request the sink sent, decoded with the official protos (protobuf: longs as decimal strings,
 * bytes as hex for comparison) or parsed as OTLP/JSON.
 */
export function decodeRequest(request: ReceivedRequest): DecodedRequest {
  const raw = request.headers['content-encoding'] === 'gzip' ? gunzipSync(request.raw) : request.raw;
  if (String(request.headers['content-type']).includes('json')) return JSON.parse(raw.toString()) as DecodedRequest;
  const message = RequestType.decode(raw);
  const object = RequestType.toObject(message, { longs: String, enums: Number, bytes: String, defaults: false });
  // toObject renders bytes as base64: turn ids into hex as OTLP/JSON has them.
  for (const rl of (object as DecodedRequest).resourceLogs ?? [])
    for (const sl of rl.scopeLogs ?? [])
      for (const r of sl.logRecords ?? []) {
        if (r.traceId) r.traceId = Buffer.from(r.traceId, 'base64').toString('hex');
        if (r.spanId) r.spanId = Buffer.from(r.spanId, 'base64').toString('hex');
      }
  return object as DecodedRequest;
}

/** An attribute list as a plain object of JS values (kvlists nested, int64 strings kept). */
export function attributesOf(list: Array<{ key: string; value: Record<string, unknown> }> | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, plain(value)]));
}

export function plain(value: Record<string, unknown> | undefined): unknown {
  if (!value) return undefined;
  if ('stringValue' in value) return value.stringValue;
  if ('boolValue' in value) return value.boolValue;
  if ('intValue' in value) return `int:${String(value.intValue)}`;
  if ('doubleValue' in value) return value.doubleValue;
  if ('arrayValue' in value) return ((value.arrayValue as { values?: Array<Record<string, unknown>> }).values ?? []).map(plain);
  if ('kvlistValue' in value) return attributesOf((value.kvlistValue as { values?: Array<{ key: string; value: Record<string, unknown> }> }).values);
  return undefined;
}
