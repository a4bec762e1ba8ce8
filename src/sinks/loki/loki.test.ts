import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeLoki } from '../../../test/fakes/loki.js';
import { AckRecorder, metricValue, sinkContext, streamOf } from '../../../test/fakes/sink-harness.js';
import { createTestPki, type TestPki } from '../../../test/fakes/tls.js';
import { lokiSinkSchema } from './schema.js';
import { LokiSink } from './sink.js';
import { compareNanos, nanosecondsOf } from './timestamp.js';

const fastRetries = { retry_initial_backoff_secs: 0.01, retry_max_duration_secs: 0.05 };

function build(options: Record<string, unknown>) {
  const ctx = sinkContext('loki', 'loki');
  return { sink: new LokiSink(lokiSinkSchema.parse(options), ctx), ctx };
}

function event(ns: string, second: number, message: string, extra: Record<string, unknown> = {}) {
  return {
    message,
    timestamp: `2026-11-24T10:00:${String(second).padStart(2, '0')}.123456789Z`,
    kubernetes: { pod_namespace: ns, container_name: 'app', pod_labels: { 'app.kubernetes.io/name': 'web', tier: 'front' } },
    ...extra,
  };
}

test('nanosecond timestamps come from the RFC 3339 string without float loss', () => {
  assert.equal(nanosecondsOf('2026-11-24T10:00:00.123456789Z'), '1795514400123456789');
  assert.equal(nanosecondsOf('2026-11-24T12:00:00.5+02:00'), '1795514400500000000');
  assert.equal(nanosecondsOf('2026-11-24T10:00:00Z'), '1795514400000000000');
  assert.equal(nanosecondsOf('2026-11-24T10:00:00.1234567891234Z'), '1795514400123456789');
  assert.equal(nanosecondsOf(undefined, () => 1_795_514_400_007), '1795514400007000000');
  assert.equal(nanosecondsOf('yesterday', () => 1000), '1000000000');
  assert.ok(compareNanos('999', '1000') < 0 && compareNanos('1795514400000000001', '1795514400000000000') > 0);
});

describe('loki sink', () => {
  let loki: FakeLoki;
  before(async () => {
    loki = await new FakeLoki({ requireTenant: true }).start();
  });
  after(() => loki.close());

  test('groups streams per label set, sorts entries, sends ns strings and the tenant header', async () => {
    const acks = new AckRecorder();
    const { sink, ctx } = build({
      endpoint: loki.url,
      tenant_id: 'team-a',
      labels: { namespace: '{{ kubernetes.pod_namespace }}', container: '{{ kubernetes.container_name }}', agent: 'sluice' },
    });
    await sink.run(streamOf(acks.events([event('shop', 3, 'c'), event('pay', 1, 'x'), event('shop', 1, 'a'), event('shop', 2, 'b')])));
    assert.equal(loki.receiver.requests.length, 1);
    const push = JSON.parse(loki.receiver.requests[0]!.body) as { streams: Array<{ stream: Record<string, string>; values: string[][] }> };
    assert.equal(push.streams.length, 2);
    const shop = push.streams.find((s) => s.stream.namespace === 'shop')!;
    assert.deepEqual(shop.stream, { namespace: 'shop', container: 'app', agent: 'sluice' });
    assert.deepEqual(shop.values.map((v) => v[0]), ['1795514401123456789', '1795514402123456789', '1795514403123456789']);
    const line = JSON.parse(shop.values[0]![1]!) as Record<string, unknown>;
    assert.equal(line.message, 'a');
    assert.equal(line.timestamp, undefined, 'remove_timestamp defaults to true');
    assert.deepEqual(loki.stream({ namespace: 'shop' }).map((e) => e.tenant), ['team-a', 'team-a', 'team-a']);
    assert.equal(acks.count('delivered'), 4);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_sent_events_total'), 4);
  });

  test('remove_label_fields, wildcard label expansion, text codec, templated tenants split batches', async () => {
    loki.receiver.requests.length = 0;
    const acks = new AckRecorder();
    const { sink } = build({
      endpoint: loki.url,
      tenant_id: '{{ kubernetes.pod_namespace }}',
      labels: { namespace: '{{ kubernetes.pod_namespace }}', 'pod_*': '{{ kubernetes.pod_labels }}' },
      remove_label_fields: true,
    });
    const events = acks.events([event('t1', 1, 'one'), event('t2', 2, 'two')]);
    const firstTree = events[0]!.fields.kubernetes as object;
    await sink.run(streamOf(events));
    assert.equal(loki.receiver.requests.length, 2, 'one push per tenant');
    const stored = loki.stream({ namespace: 't1' })[0]!;
    assert.deepEqual(stored.labels, { namespace: 't1', pod_app_kubernetes_io_name: 'web', pod_tier: 'front' });
    assert.equal(stored.tenant, 't1');
    const line = JSON.parse(stored.line) as { kubernetes: Record<string, unknown> };
    assert.deepEqual(Object.keys(line.kubernetes), ['container_name'], 'label fields removed from the line');
    assert.deepEqual(Object.keys(firstTree).length, 3, 'the shared metadata tree is untouched');

    const text = build({ endpoint: loki.url, tenant_id: 'x', labels: { job: 'k8s' }, encoding: { codec: 'text' } });
    await text.sink.run(streamOf(new AckRecorder().events([event('n', 1, 'plain line')])));
    assert.equal(loki.stream({ job: 'k8s' })[0]!.line, 'plain line');
  });

  test('structured_metadata rides on each entry, in the JSON and the snappy protobuf push', async () => {
    for (const compression of ['none', 'snappy'] as const) {
      const acks = new AckRecorder();
      const job = `sm-${compression}`;
      const { sink } = build({
        endpoint: loki.url,
        tenant_id: 't',
        labels: { job },
        structured_metadata: { pod: '{{ kubernetes.pod_name }}', 'pod_label_*': '{{ kubernetes.pod_labels }}' },
        compression,
      });
      const withPod = event('shop', 1, 'first', {});
      (withPod.kubernetes as Record<string, unknown>).pod_name = 'web-7d9f-abcde';
      await sink.run(streamOf(acks.events([withPod, { message: 'no metadata at all', timestamp: '2026-11-24T10:00:02Z' }])));
      assert.equal(acks.count('delivered'), 2);
      const [first, second] = loki.stream({ job });
      assert.deepEqual(first!.metadata, { pod: 'web-7d9f-abcde', pod_label_app_kubernetes_io_name: 'web', pod_label_tier: 'front' }, compression);
      assert.equal(second!.metadata, undefined, 'an entry with nothing to attach carries no metadata');
      assert.deepEqual(first!.labels, { job }, 'metadata never becomes a label');
    }
  });

  test('compression = snappy pushes snappy protobuf with the same streams, labels and ns timestamps', async () => {
    const acks = new AckRecorder();
    const { sink } = build({ endpoint: loki.url, tenant_id: 'pb', compression: 'snappy', labels: { job: 'protobuf', quote: 'a "b" \\ c' } });
    await sink.run(streamOf(acks.events([event('n', 2, 'second'), event('n', 1, 'first, with ünïcode')]), acks.events([{ message: 'no time' }])));
    assert.equal(acks.count('delivered'), 3);
    assert.equal(loki.formats.at(-1), 'protobuf');
    const stored = loki.stream({ job: 'protobuf' });
    assert.deepEqual(stored[0]!.labels, { job: 'protobuf', quote: 'a "b" \\ c' });
    assert.deepEqual(stored.slice(0, 2).map((e) => [e.nanos, JSON.parse(e.line).message]), [
      ['1795514401123456789', 'first, with ünïcode'],
      ['1795514402123456789', 'second'],
    ]);
    assert.match(stored[2]!.nanos, /^\d{19}$/);
  });

  test('acknowledges only once Loki answered the push', async () => {
    loki.receiver.script({ kind: 'answer', status: 204, delayMs: 150 });
    const acks = new AckRecorder();
    const before = loki.receiver.requests.length;
    const running = build({ endpoint: loki.url, tenant_id: 's', labels: { job: 'slow' } }).sink.run(streamOf(acks.events([event('n', 1, 'x')])));
    await loki.receiver.waitForRequests(before + 1);
    assert.equal(acks.settled, 0);
    await running;
    assert.equal(acks.count('delivered'), 1);
  });

  test('retries 500 and 429, rejects another 400, batches by max_events', async () => {
    loki.receiver.requests.length = 0;
    loki.receiver.script({ kind: 'answer', status: 500, body: 'internal' }, { kind: 'answer', status: 429, body: 'Ingestion rate limit exceeded' });
    const acks = new AckRecorder();
    const { sink, ctx } = build({ endpoint: loki.url, tenant_id: 'r', labels: { job: 'retry' }, request: fastRetries, batch: { max_events: 2 } });
    await sink.run(streamOf(acks.events([1, 2, 3].map((s) => event('n', s, `r${s}`)))));
    assert.equal(acks.count('delivered'), 3);
    assert.equal(loki.receiver.requests.length, 4);
    assert.equal(await metricValue(ctx.registry, 'sluice_sink_retries_total'), 2);

    loki.receiver.script({ kind: 'answer', status: 400, body: 'error parsing labels: bad' });
    const rejected = new AckRecorder();
    const second = build({ endpoint: loki.url, tenant_id: 'r', labels: { job: 'retry' }, request: fastRetries });
    await second.sink.run(streamOf(rejected.events([event('n', 1, 'bad')])));
    assert.equal(rejected.count('rejected'), 1);
    assert.equal(await metricValue(second.ctx.registry, 'sluice_component_discarded_events_total', { reason: 'http_4xx' }), 1);
  });
});

describe('loki sink and out-of-order entries (Loki refusing older entries)', () => {
  let loki: FakeLoki;
  before(async () => {
    loki = await new FakeLoki({ rejectOutOfOrder: true }).start();
  });
  after(() => loki.close());

  test('accept: a 400 naming ignored entries acks the push delivered, counts the ignored, does not retry', async () => {
    const { sink, ctx } = build({ endpoint: loki.url, labels: { job: 'ooo' }, request: { ...fastRetries, concurrency: 1 }, batch: { max_events: 2 } });
    const acks = new AckRecorder();
    await sink.run(streamOf(acks.events([event('n', 5, 'first'), event('n', 4, 'earlier in the same batch: sorted, so fine'), event('n', 1, 'late'), event('n', 6, 'next')])));
    assert.equal(acks.count('delivered'), 4);
    assert.deepEqual(loki.stream({ job: 'ooo' }).map((e) => JSON.parse(e.line).message), ['earlier in the same batch: sorted, so fine', 'first', 'next']);
    assert.equal(loki.receiver.requests.length, 2, 'no retry');
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'loki_out_of_order' }), 1);
  });

  test('drop: older entries are dropped before sending; rewrite_timestamp: re-timed to the newest', async () => {
    const drop = build({ endpoint: loki.url, labels: { job: 'drop' }, out_of_order_action: 'drop', batch: { max_events: 1 }, request: { concurrency: 1 } });
    const acks = new AckRecorder();
    await drop.sink.run(streamOf(acks.events([event('n', 5, 'first'), event('n', 1, 'late'), event('n', 6, 'next')])));
    assert.deepEqual(acks.statuses, ['delivered', 'rejected', 'delivered']);
    assert.deepEqual(loki.stream({ job: 'drop' }).map((e) => JSON.parse(e.line).message), ['first', 'next']);

    const rewrite = build({ endpoint: loki.url, labels: { job: 'rewrite' }, out_of_order_action: 'rewrite_timestamp', batch: { max_events: 1 }, request: { concurrency: 1 } });
    const acks2 = new AckRecorder();
    await rewrite.sink.run(streamOf(acks2.events([event('n', 5, 'first'), event('n', 1, 'late')])));
    assert.equal(acks2.count('delivered'), 2);
    const stored = loki.stream({ job: 'rewrite' });
    assert.deepEqual(stored.map((e) => e.nanos), ['1795514405123456789', '1795514405123456789']);
  });
});

describe('loki sink over TLS with a bearer token', () => {
  let pki: TestPki;
  let loki: FakeLoki;
  before(async () => {
    pki = createTestPki();
    loki = await new FakeLoki({ tls: { cert: pki.serverCert, key: pki.serverKey }, authorization: 'Bearer loki-token-xyz' }).start();
  });
  after(async () => {
    await loki.close();
    pki.cleanup();
  });

  test('healthcheck /ready and a push, both authenticated over TLS', async () => {
    const options = { endpoint: loki.url, labels: { job: 'tls' }, tls: { ca_file: pki.caFile }, auth: { strategy: 'bearer', token: 'loki-token-xyz' }, compression: 'gzip' };
    const { sink } = build(options);
    await sink.healthcheck();
    const acks = new AckRecorder();
    await sink.run(streamOf(acks.events([event('n', 1, 'secure')])));
    assert.equal(acks.count('delivered'), 1);
    assert.equal(loki.stream({ job: 'tls' }).length, 1);
    await assert.rejects(build({ ...options, auth: { strategy: 'bearer', token: 'nope' } }).sink.healthcheck(), /401/);
  });
});
