// `node dist/bench/otlp-encode/run.js`: encoding one 1,000-record OTLP logs batch (10 pods, ~6
// attributes per record, kubernetes_logs-like fields) to protobuf, from event fields to bytes:
//   A. protobufjs as the opentelemetry sink does it: each LogRecord encoded once, request framed around them;
//   B. protobufjs encoding the whole request tree in one call;
//   C. @bufbuild/protobuf create() + toBinary() (registry built at run time from the same .proto files).
// Every variant's bytes are checked to decode to the same request. Best of 30 interleaved rounds.
import { join } from 'node:path';
import { create, createFileRegistry, fromBinary, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import protobuf from 'protobufjs';
import descriptorExt from 'protobufjs/ext/descriptor/index.js';
import { logRecordOf, ResourceMapper } from '../../src/sinks/opentelemetry/mapping.js';
import { ExportLogsServiceRequest, LogRecord, Resource, type AnyValue, type KeyValue, type LogRecordInput } from '../../src/sinks/opentelemetry/otlp.js';
import { requestBody, type OtlpEntry } from '../../src/sinks/opentelemetry/sink.js';

const PROTO_DIR = join(import.meta.dirname, '..', '..', '..', 'src', 'sinks', 'opentelemetry', 'proto');
const RECORDS = 1000;
const ROUNDS = 30;

const pods = Array.from({ length: 10 }, (_, i) =>
  Object.freeze({
    pod_name: `web-${i}`,
    pod_namespace: 'shop',
    pod_uid: `0b5c1f3e-7d1a-4c4e-9f8a-00000000000${i}`,
    container_name: 'app',
    pod_node_name: 'node-1',
    container_image: 'registry.example/shop/web:1.2.3',
    pod_labels: Object.freeze({ app: 'web', 'app.kubernetes.io/part-of': 'shop', 'pod-template-hash': '5d8f' }),
    workload: Object.freeze({ kind: 'Deployment', name: 'web' }),
  }),
);
const events = Array.from({ length: RECORDS }, (_, i) => ({
  message: `GET /api/v1/items/${i} 200 ${(i * 37) % 5000}b in ${(i * 13) % 900}ms user=${i % 97}`,
  timestamp: `2026-11-24T10:00:${String(i % 60).padStart(2, '0')}.${String(123456789 + i).slice(0, 9)}Z`,
  level: ['info', 'warn', 'error'][i % 3],
  stream: 'stdout',
  file: `/var/log/pods/shop_web-${i % 10}_uid/app/0.log`,
  http: { method: 'GET', status: 200, bytes: (i * 37) % 5000 },
  kubernetes: pods[i % 10]!,
}));
const observed = 1795514400000000000n;

// A: the sink's path.
function encodeA(): Uint8Array {
  const mapper = new ResourceMapper();
  const resources = new Map<object, Uint8Array>();
  const entries: OtlpEntry[] = events.map((fields) => {
    const resource = mapper.resourceOf(fields);
    let bytes = resources.get(resource);
    if (!bytes) resources.set(resource, (bytes = Resource.encode({ attributes: resource.attributes }).finish()));
    return { resourceKey: resource.key, resource: bytes, record: LogRecord.encode(logRecordOf(fields, observed)).finish() };
  });
  return requestBody(entries, false) as Buffer;
}

// The request as a tree (resources grouped), shared by B and C.
function tree() {
  const mapper = new ResourceMapper();
  const groups = new Map<string, { attributes: KeyValue[]; records: LogRecordInput[] }>();
  for (const fields of events) {
    const resource = mapper.resourceOf(fields);
    let group = groups.get(resource.key);
    if (!group) groups.set(resource.key, (group = { attributes: resource.attributes, records: [] }));
    group.records.push(logRecordOf(fields, observed));
  }
  return [...groups.values()];
}

function encodeB(): Uint8Array {
  return ExportLogsServiceRequest.encode({
    resourceLogs: tree().map((g) => ({ resource: { attributes: g.attributes }, scopeLogs: [{ scope: { name: 'sluice' }, logRecords: g.records }] })),
  }).finish();
}

// C: @bufbuild/protobuf, its registry made from the same .proto files (protobufjs' descriptor extension).
function bufbuildSchema(): DescMessage {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync('opentelemetry/proto/collector/logs/v1/logs_service.proto').resolveAll();
  type Fd = { name: string; package: string; dependency: string[]; messageType: Array<{ name: string; field: Array<{ number: number; typeName?: string }> }> };
  const set = (root as unknown as { toDescriptor(syntax: string): { file: Fd[] } }).toDescriptor('proto3');
  const byPackage = new Map(set.file.map((file) => [file.package, file]));
  const order = ['common', 'resource', 'logs', 'collector.logs'].map((p) => byPackage.get(`opentelemetry.proto.${p}.v1`)!);
  order.forEach((file, i) => {
    file.dependency = order.slice(0, i).map((dep) => dep.name);
    for (const message of file.messageType) {
      const type = root.lookupType(`${file.package}.${message.name}`);
      for (const field of message.field) if (field.typeName) field.typeName = type.fieldsById[field.number]!.resolvedType!.fullName;
    }
  });
  set.file = order;
  const FileDescriptorSet = (descriptorExt as unknown as { FileDescriptorSet: protobuf.Type }).FileDescriptorSet;
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, FileDescriptorSet.encode(set as unknown as protobuf.Message).finish()));
  return registry.getMessage('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest')!;
}
const bufbuildRequest = bufbuildSchema();

function bbValue(value: AnyValue): unknown {
  const [kind, inner] = (Object.entries(value)[0] ?? []) as [string | undefined, unknown];
  if (kind === undefined) return {};
  if (kind === 'arrayValue') return { value: { case: kind, value: { values: (inner as { values: AnyValue[] }).values.map(bbValue) } } };
  if (kind === 'kvlistValue') return { value: { case: kind, value: { values: bbKeyValues((inner as { values: KeyValue[] }).values) } } };
  if (kind === 'intValue') return { value: { case: kind, value: BigInt(inner as number) } };
  return { value: { case: kind, value: inner } };
}
const bbKeyValues = (list: KeyValue[]) => list.map(({ key, value }) => ({ key, value: bbValue(value) }));
const bbLong = (bits: { low: number; high: number } | undefined) => (bits ? (BigInt(bits.high >>> 0) << 32n) | BigInt(bits.low >>> 0) : 0n);

function encodeC(): Uint8Array {
  const message = create(bufbuildRequest, {
    resourceLogs: tree().map((g) => ({
      resource: { attributes: bbKeyValues(g.attributes) },
      scopeLogs: [
        {
          scope: { name: 'sluice' },
          logRecords: g.records.map((r) => ({
            timeUnixNano: bbLong(r.timeUnixNano),
            observedTimeUnixNano: bbLong(r.observedTimeUnixNano),
            severityNumber: r.severityNumber ?? 0,
            severityText: r.severityText ?? '',
            body: r.body ? bbValue(r.body) : undefined,
            attributes: bbKeyValues(r.attributes),
          })),
        },
      ],
    })),
  } as never);
  return toBinary(bufbuildRequest, message);
}

const variants = { 'A protobufjs, records pre-encoded (the sink)': encodeA, 'B protobufjs, whole tree': encodeB, 'C @bufbuild/protobuf create+toBinary': encodeC };
const canonical = (bytes: Uint8Array) => JSON.stringify(ExportLogsServiceRequest.toObject(ExportLogsServiceRequest.decode(bytes), { longs: String }));
const reference = canonical(encodeA());
for (const [name, encode] of Object.entries(variants)) if (canonical(encode()) !== reference) throw new Error(`${name}: bytes decode to a different request`);

const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, encode] of Object.entries(variants)) {
    const start = process.hrtime.bigint();
    encode();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    best.set(name, Math.min(best.get(name) ?? Infinity, ms));
  }
}
const baseline = best.get('A protobufjs, records pre-encoded (the sink)')!;
console.log(`OTLP protobuf encoding, ${RECORDS} records (${encodeA().length} bytes), best of ${ROUNDS} rounds, node ${process.version}`);
console.log('| variant | ms per batch | records/s | vs A |\n|---|---|---|---|');
for (const [name, ms] of best) console.log(`| ${name} | ${ms.toFixed(2)} | ${Math.round((RECORDS / ms) * 1000).toLocaleString('en-US')} | ${(ms / baseline).toFixed(2)}x |`);
