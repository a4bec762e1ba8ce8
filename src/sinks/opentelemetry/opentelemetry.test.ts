import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { attributesOf, decodeRequest, loadOfficialProtos, ResponseType } from '../../../test/fakes/otlp.js';
import { Receiver } from '../../../test/fakes/receiver.js';
import { AckRecorder, metricValue, sinkContext, streamOf } from '../../../test/fakes/sink-harness.js';
import { pod as podFixture } from '../../../test/k8s/fixtures.js';
import { KubernetesFieldsBuilder } from '../../kubernetes/metadata/enrichment.js';
import type { Pod } from '../../kubernetes/metadata/kube-types.js';
import { kubernetesMetadataOptionsSchema } from '../../kubernetes/metadata/options.js';
import { buildPodInfo } from '../../kubernetes/metadata/pod-info.js';
import { ResourceMapper } from './mapping.js';
import { OTLP_LOGS_DESCRIPTOR } from './proto/descriptor.js';
import { opentelemetrySinkSchema } from './schema.js';
import { OpentelemetrySink } from './sink.js';

const fastRetries = { retry_initial_backoff_secs: 0.01, retry_max_duration_secs: 0.05 };

function build(options: Record<string, unknown>) {
  const ctx = sinkContext('otel', 'opentelemetry');
  return { sink: new OpentelemetrySink(opentelemetrySinkSchema.parse(options), ctx), ctx };
}

function pod(name: string, container = 'app') {
  return Object.freeze({
    pod_name: name,
    pod_namespace: 'shop',
    pod_uid: `uid-${name}`,
    container_name: container,
    pod_node_name: 'node-1',
    container_image: 'registry.example:5000/shop/web:1.2.3',
    container_id: 'containerd://abc123',
    pod_labels: Object.freeze({ app: 'web', 'app.kubernetes.io/part-of': 'shop' }),
    pod_owner: 'ReplicaSet/web-5d8f',
    workload: Object.freeze({ kind: 'Deployment', name: 'web' }),
  });
}

function event(kubernetes: object, i: number, extra: Record<string, unknown> = {}) {
  return { message: `line ${i}`, timestamp: `2026-11-24T10:00:0${i % 10}.123456789Z`, kubernetes, stream: 'stdout', ...extra };
}

test('the generated descriptor matches the vendored .proto files', () => {
  assert.deepEqual(JSON.parse(JSON.stringify(loadOfficialProtos().toJSON({ keepComments: false }))), JSON.parse(JSON.stringify(OTLP_LOGS_DESCRIPTOR)));
});

test('config: exactly one of endpoint or uri', () => {
  assert.throws(() => opentelemetrySinkSchema.parse({}), /exactly one of endpoint/);
  assert.throws(() => opentelemetrySinkSchema.parse({ endpoint: 'http://a:4318', uri: 'http://a:4318/v1/logs' }), /exactly one/);
  assert.equal(opentelemetrySinkSchema.parse({ endpoint: 'http://a:4318' }).encoding.codec, 'protobuf');
});

test('the kubernetes_logs source\'s fields become semantic-convention resource attributes, cached per container', () => {
  const raw = podFixture({ name: 'web-0', namespace: 'shop', uid: 'uid-1', labels: { app: 'web' }, annotations: { note: 'n' }, owner: { kind: 'StatefulSet', name: 'web' }, containers: ['app', 'proxy'] }) as unknown as Pod;
  const info = buildPodInfo(raw, { namespace: { labels: { team: 'a' }, annotations: {} }, nodeLabels: { zone: 'z1' }, self: undefined });
  const fields = new KubernetesFieldsBuilder(kubernetesMetadataOptionsSchema.parse({})).forContainer(info, 'proxy');
  const mapper = new ResourceMapper();
  const resource = mapper.resourceOf({ message: 'x', ...fields });
  assert.deepEqual(attributesOf(resource.attributes as never), {
    'k8s.pod.name': 'web-0',
    'k8s.namespace.name': 'shop',
    'k8s.pod.uid': 'uid-1',
    'k8s.pod.ip': '10.0.0.1',
    'kubernetes.pod_ips': ['10.0.0.1'],
    'k8s.pod.label.app': 'web',
    'k8s.pod.annotation.note': 'n',
    'k8s.node.name': 'node-a',
    'kubernetes.pod_owner': 'StatefulSet/web',
    'k8s.container.name': 'proxy',
    'container.id': 'proxy-web-0',
    'container.runtime': 'containerd',
    'container.image.name': 'registry.example/proxy',
    'container.image.tags': ['1.0'],
    'container.image.repo_digests': `registry.example/proxy@sha256:${'ab'.repeat(32)}`,
    'k8s.statefulset.name': 'web',
    'k8s.namespace.label.team': 'a',
    'k8s.node.label.zone': 'z1',
  });
  assert.equal(mapper.resourceOf({ message: 'y', ...fields }), resource, 'one mapping per frozen kubernetes object');
});

describe('opentelemetry sink', () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await new Receiver().start();
  });
  after(() => receiver.close());

  test('protobuf: one ResourceLogs per pod/container with k8s semconv attributes, body, severity, ns time, attributes', async () => {
    receiver.requests.length = 0;
    const acks = new AckRecorder();
    const { sink, ctx } = build({ endpoint: receiver.url });
    const web0 = pod('web-0');
    const web1 = pod('web-1');
    await sink.run(
      streamOf(
        acks.events([
          event(web0, 1, { level: 'WARN', http: { status: 503, path: '/pay', ok: false, ratio: 0.5 }, tags: ['a', 'b'] }),
          event(web1, 2, { severity: 'error', trace_id: '5b8efff798038103d269b633813fc60c', span_id: 'eee19b7ec3c1b174' }),
          event(web0, 3),
        ]),
      ),
    );
    assert.equal(receiver.requests.length, 1);
    const request = receiver.requests[0]!;
    assert.equal(request.url, '/v1/logs');
    assert.equal(request.headers['content-type'], 'application/x-protobuf');
    const decoded = decodeRequest(request);
    assert.equal(decoded.resourceLogs.length, 2, 'one ResourceLogs per pod/container');
    const resource0 = attributesOf(decoded.resourceLogs[0]!.resource?.attributes);
    assert.deepEqual(resource0, {
      'k8s.pod.name': 'web-0',
      'k8s.namespace.name': 'shop',
      'k8s.pod.uid': 'uid-web-0',
      'k8s.container.name': 'app',
      'k8s.node.name': 'node-1',
      'container.image.name': 'registry.example:5000/shop/web',
      'container.image.tags': ['1.2.3'],
      'container.id': 'abc123',
      'container.runtime': 'containerd',
      'k8s.pod.label.app': 'web',
      'k8s.pod.label.app.kubernetes.io/part-of': 'shop',
      'kubernetes.pod_owner': 'ReplicaSet/web-5d8f',
      'k8s.deployment.name': 'web',
    });
    assert.equal(attributesOf(decoded.resourceLogs[1]!.resource?.attributes)['k8s.pod.name'], 'web-1');
    const scope = decoded.resourceLogs[0]!.scopeLogs[0]!;
    assert.equal(scope.scope?.name, 'sluice');
    assert.deepEqual(scope.logRecords.map((r) => r.body?.stringValue), ['line 1', 'line 3']);
    const first = scope.logRecords[0]!;
    assert.equal(first.timeUnixNano, '1795514401123456789', 'full nanosecond precision');
    assert.equal(first.severityText, 'WARN');
    assert.equal(first.severityNumber, 13);
    assert.deepEqual(attributesOf(first.attributes), {
      stream: 'stdout',
      http: { status: 'int:503', path: '/pay', ok: false, ratio: 0.5 },
      tags: ['a', 'b'],
    });
    const second = decoded.resourceLogs[1]!.scopeLogs[0]!.logRecords[0]!;
    assert.equal(second.severityText, 'error');
    assert.equal(second.severityNumber, 17);
    assert.equal(second.traceId, '5b8efff798038103d269b633813fc60c');
    assert.equal(second.spanId, 'eee19b7ec3c1b174');
    assert.deepEqual(attributesOf(second.attributes), { stream: 'stdout' });
    assert.equal(acks.count('delivered'), 3);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_sent_events_total'), 3);
  });

  test('JSON mode with gzip: OTLP/JSON (camelCase, int64 as strings, hex ids) under Content-Encoding gzip', async () => {
    receiver.requests.length = 0;
    const acks = new AckRecorder();
    const { sink } = build({ uri: `${receiver.url}/custom/logs`, encoding: { codec: 'json' }, compression: 'gzip' });
    await sink.run(streamOf(acks.events([event(pod('web-0'), 4, { level: 'info', count: 7, trace_id: '5b8efff798038103d269b633813fc60c' })])));
    const request = receiver.requests[0]!;
    assert.equal(request.url, '/custom/logs');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['content-encoding'], 'gzip');
    const json = JSON.parse(request.body) as { resourceLogs: Array<{ scopeLogs: Array<{ logRecords: Array<Record<string, unknown>> }> }> };
    const record = json.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    assert.equal(record.timeUnixNano, '1795514404123456789');
    assert.equal(typeof record.observedTimeUnixNano, 'string');
    assert.equal(record.severityNumber, 9);
    assert.equal(record.traceId, '5b8efff798038103d269b633813fc60c');
    assert.deepEqual(record.body, { stringValue: 'line 4' });
    assert.deepEqual((record.attributes as Array<{ key: string; value: unknown }>).find((a) => a.key === 'count')!.value, { intValue: '7' });
    // The same body read with the official protos' JSON reader (ids aside, which OTLP/JSON makes hex).
    const decoded = decodeRequest(request);
    assert.equal(attributesOf(decoded.resourceLogs[0]!.resource?.attributes)['k8s.pod.name'], 'web-0');
    assert.equal(acks.count('delivered'), 1);
  });

  for (const codec of ['json', 'protobuf'] as const) {
    test(`partial success (${codec} answer): 3 of 10 rejected are acked rejected and counted, 7 delivered`, async () => {
      receiver.requests.length = 0;
      const answer =
        codec === 'json'
          ? { status: 200, body: JSON.stringify({ partialSuccess: { rejectedLogRecords: '3', errorMessage: 'too old' } }), headers: { 'content-type': 'application/json' } }
          : {
              status: 200,
              // Every byte of this small message is ASCII, so the fake server's string body keeps it intact.
              body: Buffer.from(ResponseType.encode({ partialSuccess: { rejectedLogRecords: 3, errorMessage: 'too old' } }).finish()).toString('latin1'),
              headers: { 'content-type': 'application/x-protobuf' },
            };
      receiver.script({ kind: 'answer', ...answer });
      const acks = new AckRecorder();
      const { sink, ctx } = build({ endpoint: receiver.url, encoding: { codec } });
      await sink.run(streamOf(acks.events(Array.from({ length: 10 }, (_, i) => event(pod('web-0'), i)))));
      assert.equal(receiver.requests.length, 1, 'a partial success is not retried');
      assert.equal(acks.count('delivered'), 7);
      assert.equal(acks.count('rejected'), 3);
      assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'partial_success' }), 3);
      assert.equal(await metricValue(ctx.registry, 'sluice_component_sent_events_total'), 7);
    });
  }

  test('retries 429/502/503/504 honouring Retry-After; a 500 or 400 is rejected for good', async () => {
    receiver.requests.length = 0;
    receiver.script(
      { kind: 'answer', status: 429, headers: { 'retry-after': '0' } },
      { kind: 'answer', status: 502 },
      { kind: 'answer', status: 503 },
      { kind: 'answer', status: 504 },
    );
    const acks = new AckRecorder();
    const { sink, ctx } = build({ endpoint: receiver.url, request: fastRetries });
    await sink.run(streamOf(acks.events([event(pod('web-0'), 1)])));
    assert.equal(receiver.requests.length, 5);
    assert.equal(acks.count('delivered'), 1);
    assert.equal(await metricValue(ctx.registry, 'sluice_sink_retries_total', { reason: 'http_429' }), 1);
    assert.equal(await metricValue(ctx.registry, 'sluice_sink_retries_total', { reason: 'http_5xx' }), 3);
    const bodies = new Set(receiver.requests.map((r) => r.raw.toString('hex')));
    assert.equal(bodies.size, 1, 'retries resend the same bytes');

    for (const status of [500, 400]) {
      receiver.requests.length = 0;
      receiver.script({ kind: 'answer', status, body: 'nope' });
      const rejected = new AckRecorder();
      await build({ endpoint: receiver.url, request: fastRetries }).sink.run(streamOf(rejected.events([event(pod('web-0'), 1)])));
      assert.equal(receiver.requests.length, 1, `HTTP ${status} is not retried`);
      assert.equal(rejected.count('rejected'), 1);
    }
  });
});
