import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeDatadog } from '../../../test/fakes/datadog.js';
import { AckRecorder, metricValue, sinkContext, streamOf } from '../../../test/fakes/sink-harness.js';
import { REDACTED, redactSecrets } from '../shared/schemas.js';
import { datadogLogsSinkSchema } from './schema.js';
import { DatadogLogsSink } from './sink.js';

const KEY = '0123456789abcdef0123456789abcdef';
const fastRetries = { retry_initial_backoff_secs: 0.01, retry_max_duration_secs: 0.05 };

function build(options: Record<string, unknown>, logLines?: string[]) {
  const ctx = sinkContext('dd', 'datadog_logs', logLines);
  return { sink: new DatadogLogsSink(datadogLogsSinkSchema.parse({ default_api_key: KEY, ...options }), ctx), ctx };
}

function event(message: string, extra: Record<string, unknown> = {}) {
  return {
    message,
    timestamp: '2026-11-24T10:00:01.250Z',
    stream: 'stderr',
    host: 'agent-pod',
    kubernetes: {
      pod_namespace: 'shop',
      pod_name: 'web-7d9f-abcde',
      container_name: 'nginx',
      container_image: 'registry.example/team/nginx:1.27',
      pod_node_name: 'node-1',
      pod_labels: { 'app.kubernetes.io/name': 'storefront', 'tags.datadoghq.com/env': 'prod' },
    },
    ...extra,
  };
}

test('site picks the intake and API hosts; batch limits are capped at Datadog\'s', () => {
  const eu = new DatadogLogsSink(datadogLogsSinkSchema.parse({ default_api_key: KEY, site: 'datadoghq.eu' }), sinkContext());
  assert.equal(eu.logsUrl, 'https://http-intake.logs.datadoghq.eu/api/v2/logs');
  assert.equal(eu.validateUrl, 'https://api.datadoghq.eu/api/v1/validate');
  const us = new DatadogLogsSink(datadogLogsSinkSchema.parse({ default_api_key: KEY }), sinkContext());
  assert.equal(us.logsUrl, 'https://http-intake.logs.datadoghq.com/api/v2/logs');
  assert.equal(datadogLogsSinkSchema.safeParse({ default_api_key: KEY, batch: { max_events: 1001 } }).success, false);
  assert.equal(datadogLogsSinkSchema.safeParse({ default_api_key: KEY, batch: { max_bytes: 5_000_001 } }).success, false);
  assert.deepEqual(redactSecrets({ default_api_key: KEY }), { default_api_key: REDACTED });
});

describe('datadog_logs sink', () => {
  let dd: FakeDatadog;
  before(async () => {
    dd = await new FakeDatadog({ apiKey: KEY, maxPayloadBytes: 4000 }).start();
  });
  after(() => dd.close());

  test('a JSON array with reserved attributes from Kubernetes metadata, DD-API-KEY, gzip by default, 202 delivered', async () => {
    const acks = new AckRecorder();
    const { sink } = build({ endpoint: dd.url });
    await sink.healthcheck();
    await sink.run(streamOf(acks.events([event('GET / 200'), event('plain', { stream: 'stdout', kubernetes: { container_name: 'side' }, service: 'mine' })])));
    assert.equal(acks.count('delivered'), 2);
    const post = dd.receiver.requests.find((r) => r.method === 'POST')!;
    assert.equal(post.url, '/api/v2/logs');
    assert.equal(post.headers['dd-api-key'], KEY);
    assert.equal(post.headers['content-encoding'], 'gzip');
    assert.equal(post.headers['content-type'], 'application/json');
    assert.equal(post.status, 202);
    const [first, second] = dd.entries;
    assert.deepEqual(first, {
      ddsource: 'nginx',
      service: 'storefront',
      hostname: 'node-1',
      status: 'error',
      ddtags: 'kube_namespace:shop,pod_name:web-7d9f-abcde,kube_container_name:nginx,kube_app_name:storefront,image_name:registry.example/team/nginx,short_image:nginx,image_tag:1.27,env:prod',
      message: 'GET / 200',
      stream: 'stderr',
      host: 'agent-pod',
      kubernetes: event('').kubernetes,
      timestamp: 1795514401250,
    });
    assert.equal(second!.service, 'mine', 'a service set on the event wins');
    assert.equal(second!.status, 'info');
    assert.equal(second!.ddsource, 'side');
    assert.equal(second!.hostname, 'agent-pod', 'no node name: the host field');
    assert.equal(second!.ddtags, 'kube_container_name:side');
    const bare = build({ endpoint: dd.url }).sink.entry(new AckRecorder().events([{ message: 'x' }])[0]!);
    assert.deepEqual(bare, { ddsource: 'kubernetes', message: 'x' });
  });

  test('413 splits the batch until each part fits; every entry arrives once', async () => {
    dd.entries.length = 0;
    const acks = new AckRecorder();
    const { sink } = build({ endpoint: dd.url, compression: 'none' });
    const events = Array.from({ length: 12 }, (_, i) => event(`entry ${i} ${'x'.repeat(300)}`));
    await sink.run(streamOf(acks.events(events)));
    assert.equal(acks.count('delivered'), 12);
    assert.ok(dd.receiver.requests.some((r) => r.status === 413));
    assert.deepEqual(dd.entries.map((e) => e.message).sort(), events.map((e) => e.message).sort());
  });

  test('an entry above 1 MB has its message truncated to fit (Datadog would truncate it too)', async () => {
    dd.entries.length = 0;
    const big = new FakeDatadog({ apiKey: KEY }).start();
    const server = await big;
    try {
      const acks = new AckRecorder();
      await build({ endpoint: server.url }).sink.run(streamOf(acks.events([event('é'.repeat(700_000))])));
      assert.equal(acks.count('delivered'), 1);
      const message = String(server.entries[0]!.message);
      assert.ok(message.endsWith('...TRUNCATED...'));
      assert.ok(Buffer.byteLength(JSON.stringify(server.entries[0])) <= 1_000_000);
      assert.ok(!message.includes('\uFFFD'), 'cut on a character boundary');
    } finally {
      await server.close();
    }
  });

  test('429 honours Retry-After and 5xx is retried; 400 is rejected for good', async () => {
    dd.entries.length = 0;
    dd.receiver.script({ kind: 'answer', status: 429, body: '{"errors":["Too Many Requests"]}', headers: { 'retry-after': '0' } });
    const throttled = new AckRecorder();
    const slow = build({ endpoint: dd.url, request: { retry_initial_backoff_secs: 600, retry_max_duration_secs: 600 } });
    await slow.sink.run(streamOf(throttled.events([event('throttled')])));
    assert.equal(throttled.count('delivered'), 1);
    assert.equal(await metricValue(slow.ctx.registry, 'sluice_sink_retries_total', { reason: 'http_429' }), 1);

    dd.receiver.script({ kind: 'answer', status: 503, body: '{"errors":["Service Unavailable"]}' });
    const busy = new AckRecorder();
    await build({ endpoint: dd.url, request: fastRetries }).sink.run(streamOf(busy.events([event('busy')])));
    assert.equal(busy.count('delivered'), 1);
    assert.deepEqual(dd.entries.map((e) => e.message), ['throttled', 'busy'], 'each once');

    dd.receiver.script({ kind: 'answer', status: 400, body: '{"errors":[{"status":"400","title":"Bad Request"}]}' });
    const lines: string[] = [];
    const bad = new AckRecorder();
    const requests = dd.receiver.requests.length;
    await build({ endpoint: dd.url, request: fastRetries }, lines).sink.run(streamOf(bad.events([event('bad')])));
    assert.equal(bad.count('rejected'), 1);
    assert.equal(dd.receiver.requests.length, requests + 1, 'not retried');
    assert.match(lines.join('\n'), /HTTP 400/);
  });

  test('a bad API key: 403 rejected for good, healthcheck fails, the key is never logged', async () => {
    const wrong = 'ffffffffffffffffffffffffffffffff';
    const lines: string[] = [];
    const ctx = sinkContext('dd', 'datadog_logs', lines);
    const sink = new DatadogLogsSink(datadogLogsSinkSchema.parse({ default_api_key: wrong, endpoint: dd.url, request: fastRetries }), ctx);
    await assert.rejects(sink.healthcheck(), (error: Error) => /HTTP 403/.test(error.message) && !error.message.includes(wrong));
    const acks = new AckRecorder();
    await sink.run(streamOf(acks.events([event('x')])));
    assert.equal(acks.count('rejected'), 1);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'http_4xx' }), 1);
    assert.match(lines.join('\n'), /HTTP 403.*Forbidden/);
    assert.ok(!lines.join('\n').includes(wrong));
  });
});
