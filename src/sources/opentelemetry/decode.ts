import type { Fields } from '../../core/event.js';
import { ExportLogsServiceRequest } from '../../sinks/opentelemetry/otlp.js';
import { K8S_MAPS, K8S_SCALARS, OTHER_K8S_PREFIX, severityTextOf, WORKLOAD_ATTRIBUTES } from '../../sinks/opentelemetry/semconv.js';

/** An ExportLogsServiceRequest read from protobuf (protobufjs message) or OTLP/JSON (plain object). */
interface RequestShape {
  resourceLogs?: Array<{
    resource?: { attributes?: KeyValueShape[] };
    scopeLogs?: Array<{ logRecords?: RecordShape[] }>;
  }>;
}
interface KeyValueShape {
  key?: string;
  value?: Record<string, unknown>;
}
interface RecordShape {
  timeUnixNano?: unknown;
  observedTimeUnixNano?: unknown;
  severityNumber?: unknown;
  severityText?: string;
  body?: Record<string, unknown>;
  attributes?: KeyValueShape[];
  traceId?: unknown;
  spanId?: unknown;
}

export class BadRequest extends Error {}

/** Decode a request body; throws BadRequest when it is not an ExportLogsServiceRequest. */
export function decodeRequest(body: Buffer, json: boolean): RequestShape {
  try {
    if (json) {
      const parsed = JSON.parse(body.toString('utf8')) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      const request = parsed as RequestShape;
      if (request.resourceLogs !== undefined && !Array.isArray(request.resourceLogs)) throw new Error('resourceLogs is not an array');
      return request;
    }
    return ExportLogsServiceRequest.decode(body) as unknown as RequestShape;
  } catch (error) {
    throw new BadRequest(`invalid ${json ? 'OTLP/JSON' : 'OTLP protobuf'} body: ${(error as Error).message}`);
  }
}

const scalarByAttribute = new Map(K8S_SCALARS.map(([field, attribute]) => [attribute, field]));
const workloadByAttribute = new Map(Object.entries(WORKLOAD_ATTRIBUTES).map(([kind, attribute]) => [attribute, kind]));

/**
 * The events of a request: body -> `message`, time -> `timestamp` (RFC 3339, nanoseconds kept),
 * severity -> `level`, ids -> hex `trace_id`/`span_id`, log attributes -> top-level fields,
 * `k8s.*`/`container.*` resource attributes -> `kubernetes.*` (the opentelemetry sink's mapping
 * reversed) and any other resource attribute -> `resources.<key>`.
 */
export function eventsOf(request: RequestShape, now: () => bigint = () => BigInt(Date.now()) * 1_000_000n): Fields[] {
  const out: Fields[] = [];
  for (const resourceLogs of request.resourceLogs ?? []) {
    const { kubernetes, resources } = resourceFields(resourceLogs?.resource?.attributes ?? []);
    for (const scopeLogs of resourceLogs?.scopeLogs ?? []) {
      for (const record of scopeLogs?.logRecords ?? []) {
        if (record === null || typeof record !== 'object') throw new BadRequest('a log record is not an object');
        out.push(recordFields(record, kubernetes, resources, now));
      }
    }
  }
  return out;
}

function resourceFields(attributes: KeyValueShape[]): { kubernetes: Fields | undefined; resources: Fields | undefined } {
  const kubernetes: Fields = {};
  const resources: Fields = {};
  let imageName: string | undefined;
  let imageTag: string | undefined;
  let containerId: string | undefined;
  let runtime: string | undefined;
  for (const { key, value } of attributes) {
    if (typeof key !== 'string') continue;
    const v = jsValue(value);
    const scalar = scalarByAttribute.get(key);
    const workloadKind = workloadByAttribute.get(key);
    const map = K8S_MAPS.find(([, prefix]) => key.startsWith(prefix));
    if (scalar && typeof v === 'string') kubernetes[scalar] = v;
    else if (workloadKind && typeof v === 'string') kubernetes.workload = { kind: workloadKind, name: v };
    else if (key === 'container.image.name' && typeof v === 'string') imageName = v;
    else if (key === 'container.image.tags' && Array.isArray(v) && typeof v[0] === 'string') imageTag = v[0];
    else if (key === 'container.id' && typeof v === 'string') containerId = v;
    else if (key === 'container.runtime' && typeof v === 'string') runtime = v;
    else if (map && typeof v === 'string') ((kubernetes[map[0]] ??= {}) as Fields)[key.slice(map[1].length)] = v;
    else if (key.startsWith(OTHER_K8S_PREFIX)) kubernetes[key.slice(OTHER_K8S_PREFIX.length)] = v;
    else resources[key] = v;
  }
  if (imageName !== undefined) kubernetes.container_image = imageTag !== undefined ? `${imageName}:${imageTag}` : imageName;
  if (containerId !== undefined) kubernetes.container_id = runtime !== undefined ? `${runtime}://${containerId}` : containerId;
  else if (runtime !== undefined) resources['container.runtime'] = runtime;
  return {
    // One frozen object per resource, shared by its events, as the kubernetes_logs source does.
    kubernetes: Object.keys(kubernetes).length > 0 ? Object.freeze(kubernetes) : undefined,
    resources: Object.keys(resources).length > 0 ? Object.freeze(resources) : undefined,
  };
}

function recordFields(record: RecordShape, kubernetes: Fields | undefined, resources: Fields | undefined, now: () => bigint): Fields {
  const fields: Fields = {};
  const body = jsValue(record.body);
  if (body !== undefined) fields.message = body;
  const nanos = nanosOf(record.timeUnixNano) || nanosOf(record.observedTimeUnixNano) || now();
  fields.timestamp = rfc3339(nanos);
  const severityNumber = Number(record.severityNumber ?? 0);
  const level = record.severityText || severityTextOf(severityNumber);
  if (level) fields.level = level;
  const traceId = hexId(record.traceId);
  const spanId = hexId(record.spanId);
  if (traceId) fields.trace_id = traceId;
  if (spanId) fields.span_id = spanId;
  for (const { key, value } of record.attributes ?? []) {
    if (typeof key === 'string' && !(key in fields) && key !== 'kubernetes' && key !== 'resources') fields[key] = jsValue(value);
  }
  if (kubernetes) fields.kubernetes = kubernetes;
  if (resources) fields.resources = resources;
  fields.source_type ??= 'opentelemetry';
  return fields;
}

/** An AnyValue as a JS value (int64 beyond 2^53 as a decimal string, bytes as base64). */
export function jsValue(value: Record<string, unknown> | undefined): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  if (has(value, 'stringValue')) return String(value.stringValue);
  if (has(value, 'boolValue')) return Boolean(value.boolValue);
  if (has(value, 'intValue')) {
    const text = String(value.intValue);
    const number = Number(text);
    return Number.isSafeInteger(number) ? number : text;
  }
  if (has(value, 'doubleValue')) return Number(value.doubleValue);
  if (has(value, 'arrayValue')) return ((value.arrayValue as { values?: Array<Record<string, unknown>> })?.values ?? []).map(jsValue);
  if (has(value, 'kvlistValue')) {
    const out: Fields = {};
    for (const { key, value: v } of (value.kvlistValue as { values?: KeyValueShape[] })?.values ?? []) if (typeof key === 'string') out[key] = jsValue(v);
    return out;
  }
  if (has(value, 'bytesValue')) {
    const bytes = value.bytesValue;
    return typeof bytes === 'string' ? bytes : Buffer.from(bytes as Uint8Array).toString('base64');
  }
  return undefined;
}

function has(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** fixed64 as protobufjs decodes it (Long), or as OTLP/JSON writes it (decimal string or number). */
function nanosOf(value: unknown): bigint {
  if (value === undefined || value === null) return 0n;
  try {
    const n = BigInt(String(value));
    return n > 0n ? n : 0n;
  } catch {
    throw new BadRequest(`invalid timestamp ${JSON.stringify(value)}`);
  }
}

/** Nanoseconds as RFC 3339 UTC, with 3, 6 or 9 fraction digits (as few as keep every digit). */
export function rfc3339(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n;
  let fraction = String(nanos % 1_000_000_000n).padStart(9, '0');
  if (fraction.endsWith('000000')) fraction = fraction.slice(0, 3);
  else if (fraction.endsWith('000')) fraction = fraction.slice(0, 6);
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, `.${fraction}Z`);
}

/** trace/span ids: bytes (protobuf) or hex (OTLP/JSON). */
function hexId(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value.toLowerCase();
  if (value instanceof Uint8Array && value.length > 0) return Buffer.from(value).toString('hex');
  return undefined;
}
