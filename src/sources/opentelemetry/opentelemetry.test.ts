import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { request } from 'undici';
import pino from 'pino';
import type { LogEvent } from '../../core/event.js';
import { MetricsRegistry } from '../../core/metrics.js';
import { OpentelemetrySink } from '../../sinks/opentelemetry/sink.js';
import { opentelemetrySinkSchema } from '../../sinks/opentelemetry/schema.js';
import { RequestType, ResponseType } from '../../../test/fakes/otlp.js';
import { AckRecorder, sinkContext, streamOf } from '../../../test/fakes/sink-harness.js';
import { rfc3339 } from './decode.js';
import { OtlpHttpReceiver } from './receiver.js';
import { opentelemetrySourceSchema } from './schema.js';

/** A receiver on an ephemeral port whose downstream is a list; `block()` makes the next send wait. */
async function startReceiver(options: Record<string, unknown> = {}) {
  const registry = new MetricsRegistry();
  const ctx = { id: 'otlp', logger: pino({ level: 'silent' }), metrics: registry.forComponent('source', 'otlp', 'opentelemetry'), dataDir: '/nonexistent' };
  const receiver = new OtlpHttpReceiver(opentelemetrySourceSchema.parse({ address: '127.0.0.1:0', ...options }), ctx);
  const received: LogEvent[] = [];
  let gate: Promise<void> | undefined;
  let arrived: (() => void) | undefined;
  const out = {
    send(events: LogEvent[]) {
      received.push(...events);
      arrived?.();
      return gate;
    },
  };
  const abort = new AbortController();
  const running = receiver.run({ out, shutdown: abort.signal });
  while (receiver.port === 0) await new Promise((resolve) => setImmediate(resolve));
  return {
    url: `http://127.0.0.1:${receiver.port}/v1/logs`,
    received,
    /** Resolves once `count` events have been sent downstream. */
    async waitFor(count: number) {
      while (received.length < count) await new Promise<void>((resolve) => (arrived = resolve));
    },
    block() {
      let release!: () => void;
      gate = new Promise<void>((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
    /** Abort as the agent does at shutdown: run() returns, the server still answers until close(). */
    async shutdown() {
      abort.abort();
      await running;
    },
    async stop() {
      abort.abort();
      await running;
      await receiver.close();
    },
  };
}

function protobufRequest() {
  const message = RequestType.fromObject({
    resourceLogs: [
      {
        resource: {
          attributes: [
            { key: 'k8s.pod.name', value: { stringValue: 'web-0' } },
            { key: 'k8s.namespace.name', value: { stringValue: 'shop' } },
            { key: 'k8s.pod.label.app', value: { stringValue: 'web' } },
            { key: 'k8s.deployment.name', value: { stringValue: 'web' } },
            { key: 'service.name', value: { stringValue: 'checkout' } },
          ],
        },
        scopeLogs: [
          {
            logRecords: [
              {
                timeUnixNano: '1795514401123456789',
                severityText: 'WARN',
                severityNumber: 13,
                body: { stringValue: 'payment slow' },
                attributes: [
                  { key: 'http', value: { kvlistValue: { values: [{ key: 'status', value: { intValue: 503 } }] } } },
                  { key: 'retries', value: { arrayValue: { values: [{ intValue: 1 }, { intValue: 2 }] } } },
                ],
                traceId: Buffer.from('5b8efff798038103d269b633813fc60c', 'hex'),
              },
              { timeUnixNano: '1795514402000000000', body: { stringValue: 'second' } },
            ],
          },
        ],
      },
    ],
  });
  return Buffer.from(RequestType.encode(message).finish());
}

async function post(url: string, body: Buffer | string, headers: Record<string, string>) {
  const response = await request(url, { method: 'POST', body, headers });
  return { status: response.statusCode, headers: response.headers, body: Buffer.from(await response.body.arrayBuffer()) };
}

test('rfc3339 keeps every nanosecond digit, in 3, 6 or 9 fraction digits', () => {
  assert.equal(rfc3339(1795514401123456789n), '2026-11-24T10:00:01.123456789Z');
  assert.equal(rfc3339(1795514401123000000n), '2026-11-24T10:00:01.123Z');
  assert.equal(rfc3339(1795514401123400000n), '2026-11-24T10:00:01.123400Z');
});

describe('opentelemetry source', () => {
  test('protobuf: events carry body, ns timestamp, severity, attributes, k8s fields; 200 only once acked', async () => {
    const otlp = await startReceiver();
    let answered = false;
    const answer = post(otlp.url, protobufRequest(), { 'content-type': 'application/x-protobuf' }).finally(() => (answered = true));
    await otlp.waitFor(2);
    const [first, second] = otlp.received.map((e) => e.fields);
    assert.deepEqual(first, {
      message: 'payment slow',
      timestamp: '2026-11-24T10:00:01.123456789Z',
      level: 'WARN',
      trace_id: '5b8efff798038103d269b633813fc60c',
      http: { status: 503 },
      retries: [1, 2],
      kubernetes: { pod_name: 'web-0', pod_namespace: 'shop', pod_labels: { app: 'web' }, workload: { kind: 'Deployment', name: 'web' } },
      resources: { 'service.name': 'checkout' },
      source_type: 'opentelemetry',
    });
    assert.equal(second!.timestamp, '2026-11-24T10:00:02.000Z');
    otlp.received[0]!.ack('delivered');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(answered, false, 'no answer while an event is still pending downstream');
    otlp.received[1]!.ack('delivered');
    const response = await answer;
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'application/x-protobuf');
    assert.deepEqual(ResponseType.toObject(ResponseType.decode(response.body)), {}, 'an empty ExportLogsServiceResponse');
    await otlp.stop();
  });

  test('JSON with gzip; a rejected event is reported as a partial success', async () => {
    const otlp = await startReceiver();
    const json = JSON.stringify({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'k8s.pod.name', value: { stringValue: 'api-1' } }] },
          scopeLogs: [
            {
              logRecords: [
                { timeUnixNano: '1795514401000000001', body: { stringValue: 'a' }, spanId: 'eee19b7ec3c1b174', attributes: [{ key: 'n', value: { intValue: '9007199254740993' } }] },
                { observedTimeUnixNano: '1795514401000000002', severityNumber: 17, body: { stringValue: 'b' } },
              ],
            },
          ],
        },
      ],
    });
    const answer = post(otlp.url, gzipSync(json), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    await otlp.waitFor(2);
    const [a, b] = otlp.received.map((e) => e.fields);
    assert.equal(a!.timestamp, '2026-11-24T10:00:01.000000001Z');
    assert.equal(a!.span_id, 'eee19b7ec3c1b174');
    assert.equal(a!.n, '9007199254740993', 'an int64 beyond 2^53 stays exact, as a string');
    assert.deepEqual(a!.kubernetes, { pod_name: 'api-1' });
    assert.equal(b!.timestamp, '2026-11-24T10:00:01.000000002Z', 'observed time when time_unix_nano is unset');
    assert.equal(b!.level, 'error');
    otlp.received[0]!.ack('delivered');
    otlp.received[1]!.ack('rejected');
    const response = await answer;
    assert.equal(response.status, 200);
    assert.equal((JSON.parse(response.body.toString()) as { partialSuccess: { rejectedLogRecords: string } }).partialSuccess.rejectedLogRecords, '1');
    await otlp.stop();
  });

  test('400 for bad bodies, 413 beyond max_body_bytes (also once decompressed), 415, 404', async () => {
    const otlp = await startReceiver({ max_body_bytes: 1000 });
    const proto = { 'content-type': 'application/x-protobuf' };
    assert.equal((await post(otlp.url, Buffer.from([0x0a, 0xff, 0x01]), proto)).status, 400, 'truncated protobuf');
    assert.equal((await post(otlp.url, '{"resourceLogs": 3}', { 'content-type': 'application/json' })).status, 400);
    assert.equal((await post(otlp.url, 'not json', { 'content-type': 'application/json' })).status, 400);
    assert.equal((await post(otlp.url, Buffer.from('garbage'), { ...proto, 'content-encoding': 'gzip' })).status, 400, 'not gzip');
    assert.equal((await post(otlp.url, Buffer.alloc(2000), proto)).status, 413);
    assert.equal((await post(otlp.url, gzipSync(Buffer.alloc(100_000)), { ...proto, 'content-encoding': 'gzip' })).status, 413, 'a gzip bomb');
    assert.equal((await post(otlp.url, 'x', { 'content-type': 'text/plain' })).status, 415);
    assert.equal((await post(otlp.url.replace('/v1/logs', '/v1/traces'), 'x', proto)).status, 404);
    assert.equal(otlp.received.length, 0);
    await otlp.stop();
  });

  test('503 while the downstream buffer is full and once shutting down', async () => {
    const otlp = await startReceiver();
    const release = otlp.block();
    const proto = { 'content-type': 'application/x-protobuf' };
    const first = post(otlp.url, protobufRequest(), proto);
    await otlp.waitFor(2);
    const refused = await post(otlp.url, protobufRequest(), proto);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '1');
    release();
    for (const event of otlp.received) event.ack('delivered');
    assert.equal((await first).status, 200);
    await otlp.waitFor(2);
    const again = post(otlp.url, protobufRequest(), proto);
    await otlp.waitFor(4);
    for (const event of otlp.received.slice(2)) event.ack('delivered');
    assert.equal((await again).status, 200, 'accepted again once downstream drained');
    await otlp.shutdown();
    const late = await post(otlp.url, protobufRequest(), proto);
    assert.equal(late.status, 503, 'shutting down: the sender keeps its data and retries elsewhere or later');
    assert.equal(otlp.received.length, 4);
    await otlp.stop();
    await assert.rejects(post(otlp.url, protobufRequest(), proto), 'not listening after close()');
  });

  test('sink -> source round trip gives back the kubernetes fields, attributes, severity and time', async () => {
    const otlp = await startReceiver();
    const original = {
      message: 'hello',
      timestamp: '2026-11-24T10:00:01.123456789Z',
      level: 'info',
      stream: 'stderr',
      file: '/var/log/pods/shop_web-0_uid/app/0.log',
      request: { id: 42, path: '/x', flags: [true, false] },
      trace_id: '5b8efff798038103d269b633813fc60c',
      kubernetes: Object.freeze({
        pod_name: 'web-0',
        pod_namespace: 'shop',
        pod_uid: 'uid-1',
        pod_ip: '10.0.0.7',
        pod_ips: ['10.0.0.7'],
        pod_node_name: 'node-1',
        pod_owner: 'ReplicaSet/web-5d8f',
        pod_labels: { app: 'web' },
        pod_annotations: { 'prometheus.io/scrape': 'true' },
        container_name: 'app',
        container_id: 'containerd://abc',
        container_image: 'registry:5000/web:1.2',
        container_image_id: 'registry:5000/web@sha256:00ff',
        workload: { kind: 'StatefulSet', name: 'web' },
        namespace_labels: { team: 'a' },
      }),
    };
    for (const codec of ['protobuf', 'json']) {
      const acks = new AckRecorder();
      const sink = new OpentelemetrySink(opentelemetrySinkSchema.parse({ uri: otlp.url, encoding: { codec }, compression: 'gzip' }), sinkContext());
      const sent = sink.run(streamOf(acks.events([{ ...original }])));
      await otlp.waitFor(codec === 'protobuf' ? 1 : 2);
      const event = otlp.received.at(-1)!;
      assert.deepEqual(JSON.parse(JSON.stringify(event.fields)), { ...JSON.parse(JSON.stringify(original)), source_type: 'opentelemetry' }, codec);
      event.ack('delivered');
      await sent;
      assert.equal(acks.count('delivered'), 1, 'the sink is told delivered once the receiver answered');
    }
    await otlp.stop();
  });
});
