import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeElasticsearch } from '../../../test/fakes/elasticsearch.js';
import { AckRecorder, metricValue, sinkContext, streamOf } from '../../../test/fakes/sink-harness.js';
import { createTestPki, type TestPki } from '../../../test/fakes/tls.js';
import { elasticsearchSinkSchema } from './schema.js';
import { ElasticsearchSink } from './sink.js';

const fastRetries = { retry_initial_backoff_secs: 0.01, retry_max_duration_secs: 0.05 };

function build(options: Record<string, unknown>) {
  const ctx = sinkContext('es', 'elasticsearch');
  return { sink: new ElasticsearchSink(elasticsearchSinkSchema.parse(options), ctx), ctx };
}

function docs(n: number, extra: (i: number) => Record<string, unknown> = () => ({})) {
  return Array.from({ length: n }, (_, i) => ({
    message: `m${i}`,
    timestamp: i % 2 === 0 ? '2026-11-24T23:59:59.999999999Z' : '2026-11-25T00:00:00.000000001Z',
    kubernetes: { pod_namespace: 'shop' },
    ...extra(i),
  }));
}

describe('elasticsearch sink', () => {
  let es: FakeElasticsearch;
  before(async () => {
    // A document carrying `fail: [s1, s2]` gets status s1 on its first attempt, s2 on its second, then 201.
    const attempts = new Map<string, number>();
    es = await new FakeElasticsearch({
      itemStatus: (doc) => {
        const failures = (doc.source.fail as number[] | undefined) ?? [];
        const key = `${doc.index}/${String(doc.source.message)}`;
        const attempt = attempts.get(key) ?? 0;
        attempts.set(key, attempt + 1);
        return failures[attempt] ?? 201;
      },
    }).start();
  });
  after(() => es.close());

  test('bulk: index from the event date and a field template, batches by max_events', async () => {
    es.docs.length = 0;
    es.receiver.requests.length = 0;
    const acks = new AckRecorder();
    const { sink, ctx } = build({ endpoints: [es.url], bulk: { index: 'app-{{ kubernetes.pod_namespace }}-%Y.%m.%d' }, batch: { max_events: 2 } });
    await sink.run(streamOf(acks.events(docs(5))));
    assert.equal(es.receiver.requests.length, 3);
    assert.deepEqual(es.index('app-shop-2026.11.24').map((d) => d.source.message), ['m0', 'm2', 'm4']);
    assert.deepEqual(es.index('app-shop-2026.11.25').map((d) => d.source.message), ['m1', 'm3']);
    assert.equal(es.docs[0]!.action, 'index');
    assert.equal(es.docs[0]!.source.timestamp, '2026-11-24T23:59:59.999999999Z', 'nanoseconds survive');
    assert.equal(acks.count('delivered'), 5);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_sent_events_total'), 5);
    assert.match(es.receiver.requests[0]!.url, /^\/_bulk\?filter_path=/);
  });

  test('partial bulk failure: retries only the 429/5xx items, rejects the rest for good', async () => {
    es.docs.length = 0;
    es.receiver.requests.length = 0;
    const acks = new AckRecorder();
    const { sink, ctx } = build({ endpoints: [es.url], bulk: { index: 'app' }, request: fastRetries });
    const fail: Record<number, number[]> = { 1: [429], 2: [400], 3: [503, 500] };
    await sink.run(streamOf(acks.events(docs(5, (i) => ({ fail: fail[i] ?? [] })))));
    // attempt 1: 5 docs (m1, m2, m3 fail); attempt 2: m1 ok, m3 fails again; attempt 3: m3 ok
    assert.deepEqual(es.receiver.requests.map((r) => r.body.split('\n').length - 1), [10, 4, 2]);
    assert.deepEqual(es.index('app').map((d) => d.source.message).sort(), ['m0', 'm1', 'm3', 'm4']);
    assert.deepEqual(acks.statuses, ['delivered', 'delivered', 'rejected', 'delivered', 'delivered']);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'es_item_rejected' }), 1);
    assert.equal(await metricValue(ctx.registry, 'sluice_sink_retries_total', { reason: 'es_item_retry' }), 2);
  });

  test('whole-request 429 and a dropped connection are retried; a 400 is rejected', async () => {
    es.docs.length = 0;
    es.receiver.script({ kind: 'answer', status: 429, body: '{"error":"too many"}' }, { kind: 'drop' });
    const acks = new AckRecorder();
    const { sink } = build({ endpoints: [es.url], bulk: { index: 'app' }, request: fastRetries });
    await sink.run(streamOf(acks.events(docs(3))));
    assert.equal(acks.count('delivered'), 3);
    assert.equal(es.index('app').length, 3);

    es.receiver.script({ kind: 'answer', status: 200, body: '<html>gateway says hi</html>' });
    const acks3 = new AckRecorder();
    const third = build({ endpoints: [es.url], bulk: { index: 'app' }, request: fastRetries });
    await third.sink.run(streamOf(acks3.events(docs(1))));
    assert.equal(acks3.count('delivered'), 1, 'a non-JSON 200 is retried, not trusted');
    assert.equal(await metricValue(third.ctx.registry, 'sluice_sink_retries_total', { reason: 'es_bad_response' }), 1);

    es.receiver.script({ kind: 'answer', status: 400, body: '{"error":{"type":"illegal_argument_exception"}}' });
    const acks2 = new AckRecorder();
    await build({ endpoints: [es.url], bulk: { index: 'app' }, request: fastRetries }).sink.run(streamOf(acks2.events(docs(2))));
    assert.equal(acks2.count('rejected'), 2);
  });

  test('data_stream mode: create actions with @timestamp into <type>-<dataset>-<namespace>', async () => {
    es.docs.length = 0;
    const acks = new AckRecorder();
    const { sink } = build({ endpoints: [es.url], mode: 'data_stream', data_stream: { dataset: '{{ kubernetes.pod_namespace }}' } });
    await sink.run(streamOf(acks.events(docs(2))));
    assert.equal(acks.count('delivered'), 2);
    const stored = es.index('logs-shop-default');
    assert.equal(stored.length, 2);
    assert.equal(stored[0]!.action, 'create');
    assert.equal(stored[0]!.source['@timestamp'], '2026-11-24T23:59:59.999999999Z');
    assert.equal(stored[0]!.source.timestamp, undefined);
    assert.ok(es.dataStreams.has('logs-shop-default'));
  });

  test('id_key with create: a replayed document (409 conflict) counts as delivered', async () => {
    es.docs.length = 0;
    const config = { endpoints: [es.url], bulk: { index: 'dedup', action: 'create' }, id_key: 'event_id' };
    const withIds = docs(3, (i) => ({ event_id: `id-${i}` }));
    await build(config).sink.run(streamOf(new AckRecorder().events(withIds)));
    const replay = new AckRecorder();
    const { sink, ctx } = build(config);
    await sink.run(streamOf(replay.events(withIds)));
    assert.equal(replay.count('delivered'), 3);
    assert.deepEqual(es.index('dedup').map((d) => d.id), ['id-0', 'id-1', 'id-2']);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total'), 0);
  });

  test('acknowledges only once the bulk answer came', async () => {
    es.receiver.script({ kind: 'answer', status: 200, body: '{"errors":false}', delayMs: 150 });
    const acks = new AckRecorder();
    const running = build({ endpoints: [es.url], bulk: { index: 'slow' } }).sink.run(streamOf(acks.events(docs(2))));
    const before = es.receiver.requests.length;
    await es.receiver.waitForRequests(before + 1);
    assert.equal(acks.settled, 0);
    await running;
    assert.equal(acks.count('delivered'), 2);
  });

  test('rotates over endpoints', async () => {
    const second = await new FakeElasticsearch().start();
    try {
      const acks = new AckRecorder();
      const { sink } = build({ endpoints: [es.url + '/', second.url], bulk: { index: 'rr' }, batch: { max_events: 1 } });
      await sink.run(streamOf(acks.events(docs(4))));
      assert.equal(es.index('rr').length, 2);
      assert.equal(second.index('rr').length, 2);
    } finally {
      await second.close();
    }
  });
});

describe('elasticsearch sink over TLS with basic auth', () => {
  let pki: TestPki;
  let es: FakeElasticsearch;
  const auth = { strategy: 'basic', user: 'elastic', password: 'changeme-secret' };
  before(async () => {
    pki = createTestPki();
    es = await new FakeElasticsearch({
      tls: { cert: pki.serverCert, key: pki.serverKey },
      authorization: 'Basic ' + Buffer.from('elastic:changeme-secret').toString('base64'),
      flavour: 'opensearch',
    }).start();
  });
  after(async () => {
    await es.close();
    pki.cleanup();
  });

  test('healthcheck GET / with credentials; a wrong password fails it without printing the password', async () => {
    await build({ endpoints: [es.url], auth, tls: { ca_file: pki.caFile } }).sink.healthcheck();
    const wrong = build({ endpoints: [es.url], auth: { ...auth, password: 'wrong-pass' }, tls: { ca_file: pki.caFile } });
    const error = await wrong.sink.healthcheck().then(
      () => assert.fail('should fail'),
      (e: Error) => e,
    );
    assert.match(error.message, /answered HTTP 401/);
    assert.ok(!error.message.includes('wrong-pass'));
  });

  test('ships over TLS with gzip and acks once indexed', async () => {
    const acks = new AckRecorder();
    const { sink } = build({ endpoints: [es.url], auth, tls: { ca_file: pki.caFile }, compression: 'gzip', bulk: { index: 'secure' } });
    await sink.run(streamOf(acks.events(docs(3))));
    assert.equal(acks.count('delivered'), 3);
    assert.equal(es.index('secure').length, 3);
    assert.equal(es.receiver.requests.at(-1)!.headers['content-encoding'], 'gzip');
  });
});

describe('elasticsearch sink signing requests for Amazon OpenSearch Service (SigV4)', () => {
  const keys = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  let es: FakeElasticsearch;
  const savedEnv = { ...process.env };
  before(async () => {
    es = await new FakeElasticsearch({ sigv4: { region: 'eu-west-1', service: 'es', ...keys } }).start();
  });
  after(async () => {
    process.env = savedEnv;
    await es.close();
  });

  test('static keys: healthcheck and gzip bulk requests carry a valid signature', async () => {
    const auth = { strategy: 'aws', region: 'eu-west-1', access_key_id: keys.accessKeyId, secret_access_key: keys.secretAccessKey };
    const { sink } = build({ endpoints: [es.url], auth, compression: 'gzip', bulk: { index: 'signed' } });
    await sink.healthcheck();
    const acks = new AckRecorder();
    await sink.run(streamOf(acks.events(docs(3))));
    assert.equal(acks.count('delivered'), 3);
    assert.equal(es.index('signed').length, 3);
  });

  test('credentials from the default chain (environment); a wrong secret is refused with 403', async () => {
    process.env.AWS_ACCESS_KEY_ID = keys.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = keys.secretAccessKey;
    await build({ endpoints: [es.url], auth: { strategy: 'aws', region: 'eu-west-1' } }).sink.healthcheck();
    const wrong = build({ endpoints: [es.url], auth: { strategy: 'aws', region: 'eu-west-1', access_key_id: keys.accessKeyId, secret_access_key: 'not-it' } });
    await assert.rejects(wrong.sink.healthcheck(), /HTTP 403.*signature mismatch/);
    assert.throws(() => build({ endpoints: [es.url], auth: { strategy: 'aws', region: 'eu-west-1', access_key_id: 'only-half' } }), /go together/);
  });
});
