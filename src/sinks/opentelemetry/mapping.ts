import type { Fields } from '../../core/event.js';
import { nanosecondsOf } from '../loki/timestamp.js';
import { anyValueOf, keyValuesOf, longBits, type KeyValue, type LogRecordInput } from './otlp.js';
import { K8S_MAPS, K8S_SCALARS, OTHER_K8S_PREFIX, severityNumberOf, splitImage, WORKLOAD_ATTRIBUTES } from './semconv.js';

/** Fields that are not log attributes: they become the body, time, severity, ids or the resource. */
const SPECIAL = new Set(['message', 'timestamp', 'kubernetes', 'resources', 'trace_id', 'span_id']);
const SEVERITY_FIELDS = ['level', 'severity'] as const;
const HEX_ID = /^[0-9a-fA-F]+$/;

const scalarByField = new Map(K8S_SCALARS);
const mapByField = new Map(K8S_MAPS);

/** The resource of one event: its attributes, and a key equal for equal resources. */
export interface ResourceOf {
  key: string;
  attributes: KeyValue[];
}

/**
 * `kubernetes.*` (and `resources.*`, verbatim) as OTLP resource attributes, per the semantic
 * conventions. The kubernetes_logs source shares one frozen `kubernetes` object per container,
 * so results for frozen objects are cached by identity: one computation per container.
 */
export class ResourceMapper {
  private readonly cache = new WeakMap<object, ResourceOf>();
  private static readonly EMPTY: ResourceOf = { key: '', attributes: [] };

  resourceOf(fields: Fields): ResourceOf {
    const kubernetes = asObject(fields.kubernetes);
    const resources = asObject(fields.resources);
    if (!kubernetes && !resources) return ResourceMapper.EMPTY;
    if (kubernetes && !resources && Object.isFrozen(kubernetes)) {
      let cached = this.cache.get(kubernetes);
      if (!cached) this.cache.set(kubernetes, (cached = build(kubernetes, undefined)));
      return cached;
    }
    return build(kubernetes, resources);
  }
}

function build(kubernetes: Record<string, unknown> | undefined, resources: Record<string, unknown> | undefined): ResourceOf {
  const attributes: KeyValue[] = [];
  const add = (key: string, value: unknown) => {
    if (value !== undefined && value !== null) attributes.push({ key, value: anyValueOf(value) });
  };
  if (kubernetes) {
    for (const field in kubernetes) {
      const value = kubernetes[field];
      if (value === undefined || value === null) continue;
      const scalar = scalarByField.get(field);
      const prefix = mapByField.get(field);
      const object = asObject(value);
      if (scalar && typeof value === 'string') add(scalar, value);
      else if (prefix && object && Object.values(object).every((v) => typeof v === 'string')) {
        for (const key in object) add(prefix + key, object[key]);
      } else if (field === 'container_image' && typeof value === 'string') {
        const { name, tag } = splitImage(value);
        add('container.image.name', name);
        if (tag !== undefined) add('container.image.tags', [tag]);
      } else if (field === 'container_id' && typeof value === 'string' && value.includes('://')) {
        const [runtime, id] = value.split('://', 2) as [string, string];
        add('container.id', id);
        add('container.runtime', runtime);
      } else if (field === 'workload' && object && typeof object.kind === 'string' && typeof object.name === 'string' && WORKLOAD_ATTRIBUTES[object.kind]) {
        add(WORKLOAD_ATTRIBUTES[object.kind]!, object.name);
      } else add(OTHER_K8S_PREFIX + field, value);
    }
  }
  if (resources) for (const key in resources) add(key, resources[key]);
  return { key: JSON.stringify(attributes), attributes };
}

/** One event as an OTLP LogRecord (everything but its resource). */
export function logRecordOf(fields: Fields, observedNanos: bigint): LogRecordInput {
  const record: LogRecordInput = { observedTimeUnixNano: longBits(observedNanos), attributes: [] };
  if (fields.message !== undefined) record.body = anyValueOf(fields.message);
  if (typeof fields.timestamp === 'string') {
    const nanos = nanosecondsOf(fields.timestamp, () => NaN);
    if (nanos !== 'NaN' && /^\d+$/.test(nanos)) record.timeUnixNano = longBits(BigInt(nanos));
  }
  let severityField: string | undefined;
  for (const name of SEVERITY_FIELDS) {
    const value = fields[name];
    if (typeof value === 'string' && value !== '') {
      severityField = name;
      record.severityText = value;
      const number = severityNumberOf(value);
      if (number > 0) record.severityNumber = number;
      break;
    }
  }
  const traceId = idBytes(fields.trace_id, 16);
  const spanId = idBytes(fields.span_id, 8);
  if (traceId) record.traceId = traceId;
  if (spanId) record.spanId = spanId;
  const rest: Record<string, unknown> = {};
  for (const name in fields) {
    if (SPECIAL.has(name) || name === severityField) continue;
    rest[name] = fields[name];
  }
  // An id that is not hex of the right length stays an attribute rather than being lost.
  if (fields.trace_id !== undefined && !traceId) rest.trace_id = fields.trace_id;
  if (fields.span_id !== undefined && !spanId) rest.span_id = fields.span_id;
  record.attributes = keyValuesOf(rest);
  return record;
}

function idBytes(value: unknown, length: number): Uint8Array | undefined {
  if (typeof value !== 'string' || value.length !== length * 2 || !HEX_ID.test(value)) return undefined;
  return Buffer.from(value, 'hex');
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value) ? (value as Record<string, unknown>) : undefined;
}
