import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { FakeSplunkHec } from '../../../test/fakes/splunk-hec.js';
import { AckRecorder, ControlledStream, metricValue, sinkContext, streamOf } from '../../../test/fakes/sink-harness.js';
import { REDACTED, redactSecrets } from '../shared/schemas.js';
import { splunkHecLogsSinkSchema } from './schema.js';
import { epochSeconds, SplunkHecLogsSink } from './sink.js';

const TOKEN = '00000000-1111-2222-3333-444444444444';
const fastRetries = { retry_initial_backoff_secs: 0.01, retry_max_duration_secs: 0.05 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function build(options: Record<string, unknown>, logLines?: string[]) {
  const ctx = sinkContext('splunk', 'splunk_hec_logs', logLines);
  return { sink: new SplunkHecLogsSink(splunkHecLogsSinkSchema.parse({ default_token: TOKEN, ...options }), ctx), ctx };
}

function event(message: string, extra: Record<string, unknown> = {}) {
  return {
    message,
    timestamp: '2026-11-24T10:00:01.250Z',
    host: 'node-1',
    file: '/var/log/pods/shop_web-1_u1/app/0.log',
    kubernetes: { pod_namespace: 'shop', pod_name: 'web-1', container_name: 'app' },
    ...extra,
  };
}

test('time is epoch seconds with the millisecond fraction', () => {
  assert.equal(epochSeconds('2026-11-24T10:00:01.250Z'), 1795514401.25);
  assert.equal(epochSeconds('not a time'), undefined);
  assert.equal(epochSeconds(undefined), undefined);
});

describe('splunk_hec_logs sink', () => {
  let hec: FakeSplunkHec;
  before(async () => {
    hec = await new FakeSplunkHec({ token: TOKEN }).start();
  });
  after(() => hec.close());

  test('event target: Splunk auth header, JSON envelopes with time/host/source/sourcetype/index/event/fields, gzip', async () => {
    const acks = new AckRecorder();
    const { sink, ctx } = build({
      endpoint: hec.url,
      index: 'k8s-{{ kubernetes.pod_namespace }}',
      source: '{{ file }}',
      sourcetype: 'kube:container:{{ kubernetes.container_name }}',
      indexed_fields: ['kubernetes.pod_name', '.kubernetes.pod_namespace'],
      compression: 'gzip',
    });
    await sink.healthcheck();
    await sink.run(streamOf(acks.events([event('one'), event('two', { host: undefined, timestamp: undefined })])));
    assert.equal(acks.count('delivered'), 2, 'no ackId in the answer (ack off on the token): delivered on 200');
    const post = hec.receiver.requests.find((r) => r.url === '/services/collector/event')!;
    assert.equal(post.headers.authorization, `Splunk ${TOKEN}`);
    assert.equal(post.headers['content-encoding'], 'gzip');
    assert.match(String(post.headers['x-splunk-request-channel']), UUID);
    assert.equal(gunzipSync(post.raw).toString(), post.body);
    const [first, second] = hec.events.map((e) => e.envelope);
    assert.deepEqual(first, {
      time: 1795514401.25,
      host: 'node-1',
      index: 'k8s-shop',
      source: '/var/log/pods/shop_web-1_u1/app/0.log',
      sourcetype: 'kube:container:app',
      event: event('one'),
      fields: { 'kubernetes.pod_name': 'web-1', 'kubernetes.pod_namespace': 'shop' },
    });
    assert.equal(second!.time, undefined, 'no timestamp: Splunk uses its receive time');
    assert.equal(second!.host, undefined);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_sent_events_total'), 2);
  });

  test('raw target: encoded lines, metadata and channel as query parameters, one request per metadata set', async () => {
    hec.receiver.requests.length = 0;
    hec.events.length = 0;
    const acks = new AckRecorder();
    const { sink } = build({ endpoint: hec.url, endpoint_target: 'raw', encoding: { codec: 'text' }, sourcetype: 'ns-{{ kubernetes.pod_namespace }}' });
    await sink.run(streamOf(acks.events([event('a'), event('b', { kubernetes: { pod_namespace: 'pay' } }), event('c')])));
    assert.equal(acks.count('delivered'), 3);
    assert.equal(hec.receiver.requests.length, 2);
    const url = new URL(hec.receiver.requests[0]!.url, 'http://x');
    assert.equal(url.pathname, '/services/collector/raw');
    assert.match(url.searchParams.get('channel')!, UUID);
    assert.equal(url.searchParams.get('host'), 'node-1');
    assert.equal(url.searchParams.get('sourcetype'), 'ns-shop');
    assert.equal(hec.receiver.requests[0]!.body, 'a\nc\n');
    assert.deepEqual(hec.events.map((e) => [e.envelope.sourcetype, e.envelope.event]).sort(), [['ns-pay', 'b'], ['ns-shop', 'a'], ['ns-shop', 'c']]);
  });

  test('503 server busy is retried with backoff; 429 waits for Retry-After (backoff alone would take 10 minutes)', async () => {
    hec.events.length = 0;
    hec.receiver.script({ kind: 'answer', status: 503, body: '{"text":"Server is busy","code":9}' });
    const busy = new AckRecorder();
    const first = build({ endpoint: hec.url, request: fastRetries });
    await first.sink.run(streamOf(busy.events([event('busy')])));
    assert.equal(busy.count('delivered'), 1);
    assert.equal(await metricValue(first.ctx.registry, 'sluice_sink_retries_total', { reason: 'http_5xx' }), 1);

    hec.receiver.script({ kind: 'answer', status: 429, body: '{"text":"Too many requests","code":9}', headers: { 'retry-after': '0' } });
    const throttled = new AckRecorder();
    const second = build({ endpoint: hec.url, request: { retry_initial_backoff_secs: 600, retry_max_duration_secs: 600 } });
    await second.sink.run(streamOf(throttled.events([event('throttled')])));
    assert.equal(throttled.count('delivered'), 1);
    assert.equal(await metricValue(second.ctx.registry, 'sluice_sink_retries_total', { reason: 'http_429' }), 1);
    assert.deepEqual(hec.events.map((e) => (e.envelope.event as { message: string }).message), ['busy', 'throttled'], 'each stored once');
  });

  test('401/403/400 are rejected for good with the HEC text logged and the token never shown', async () => {
    const lines: string[] = [];
    const acks = new AckRecorder();
    const wrong = 'ffffffff-0000-0000-0000-000000000000';
    const ctx = sinkContext('splunk', 'splunk_hec_logs', lines);
    const sink = new SplunkHecLogsSink(splunkHecLogsSinkSchema.parse({ endpoint: hec.url, default_token: wrong, request: fastRetries }), ctx);
    await sink.run(streamOf(acks.events([event('x')])));
    assert.equal(acks.count('rejected'), 1);
    const before = hec.receiver.requests.length;
    assert.match(lines.join('\n'), /HTTP 403: \{\\?"text\\?":\\?"Invalid token\\?",\\?"code\\?":4\}/);
    assert.ok(!lines.join('\n').includes(wrong), 'the token is not logged');
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'http_4xx' }), 1);

    hec.receiver.script({ kind: 'answer', status: 400, body: '{"text":"Invalid data format","code":6,"invalid-event-number":0}' });
    const bad = new AckRecorder();
    const badLines: string[] = [];
    await build({ endpoint: hec.url, request: fastRetries }, badLines).sink.run(streamOf(bad.events([event('y')])));
    assert.equal(bad.count('rejected'), 1);
    assert.equal(hec.receiver.requests.length, before + 1, 'not retried');
    assert.match(badLines.join('\n'), /Invalid data format/);
    assert.deepEqual(redactSecrets({ default_token: TOKEN }), { default_token: REDACTED });
  });
});

describe('splunk_hec_logs indexer acknowledgements', () => {
  let hec: FakeSplunkHec;
  before(async () => {
    hec = await new FakeSplunkHec({ token: TOKEN, indexerAck: true }).start();
  });
  after(() => hec.close());

  test('events are acked only once Splunk reports their ackId indexed; ids are queried together on the channel', async () => {
    const acks = new AckRecorder();
    const { sink } = build({ endpoint: hec.url, batch: { max_events: 2 }, acknowledgements: { query_interval: 0.02, retry_limit: 1000 } });
    const input = new ControlledStream();
    const running = sink.run(input);
    input.push(acks.events([event('a'), event('b'), event('c'), event('d')]));
    while (hec.ackQueries.filter((ids) => ids.length === 2).length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual([...hec.ackQueries.find((ids) => ids.length === 2)!].sort(), [0, 1]);
    assert.equal(acks.settled, 0, 'received (200 + ackId) is not indexed: nothing acked yet');
    hec.confirm(1);
    await acks.waitForSettled(2);
    assert.deepEqual(acks.statuses, [undefined, undefined, 'delivered', 'delivered'], 'only the batch of ackId 1');
    hec.confirm(0);
    input.end();
    await running;
    assert.equal(acks.count('delivered'), 4);
    const channels = new Set(hec.receiver.requests.map((r) => r.headers['x-splunk-request-channel']));
    assert.equal(channels.size, 1, 'one channel for sends and ack queries');
    assert.equal(hec.ackQueries.every((ids) => ids.every((id) => id === 0 || id === 1)), true);
  });

  test('an ackId still unconfirmed after retry_limit queries: its events are acked rejected', async () => {
    const lines: string[] = [];
    const acks = new AckRecorder();
    const queriesBefore = hec.ackQueries.length;
    const { sink, ctx } = build({ endpoint: hec.url, acknowledgements: { query_interval: 0.01, retry_limit: 3 } }, lines);
    await sink.run(streamOf(acks.events([event('lost')])));
    assert.equal(acks.count('rejected'), 1);
    assert.equal(hec.ackQueries.length - queriesBefore, 3);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'indexer_ack_timeout' }), 1);
    assert.match(lines.join('\n'), /not confirmed indexed after 3 queries/);
  });

  test('indexer_acknowledgements_enabled = false: delivered on 200, the ack endpoint is never queried', async () => {
    const queriesBefore = hec.ackQueries.length;
    const acks = new AckRecorder();
    await build({ endpoint: hec.url, acknowledgements: { indexer_acknowledgements_enabled: false } }).sink.run(streamOf(acks.events([event('fire and forget')])));
    assert.equal(acks.count('delivered'), 1);
    assert.equal(hec.ackQueries.length, queriesBefore);
  });
});
