import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Receiver } from '../../../test/fakes/receiver.js';
import { AckRecorder, ControlledStream, metricValue, sinkContext, streamOf } from '../../../test/fakes/sink-harness.js';
import { createTestPki, type TestPki } from '../../../test/fakes/tls.js';
import { httpSinkSchema } from './schema.js';
import { HttpSink } from './sink.js';

const fastRetries = { retry_initial_backoff_secs: 0.01, retry_max_duration_secs: 0.05 };

function build(options: Record<string, unknown>, logLines?: string[]) {
  const ctx = sinkContext('out', 'http', logLines);
  const sink = new HttpSink(httpSinkSchema.parse(options), ctx);
  return { sink, ctx };
}

function lines(n: number, extra: Record<string, unknown> = {}) {
  return Array.from({ length: n }, (_, i) => ({ message: `line ${i}`, timestamp: '2026-11-24T10:00:00.123456789Z', ...extra }));
}

describe('http sink', () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await new Receiver().start();
  });
  after(() => receiver.close());

  test('splits by batch.max_events, sends JSON array bodies, acks delivered', async () => {
    receiver.requests.length = 0;
    const acks = new AckRecorder();
    const { sink, ctx } = build({ uri: `${receiver.url}/ingest`, batch: { max_events: 3 } });
    await sink.run(streamOf(acks.events(lines(7))));
    assert.equal(receiver.requests.length, 3);
    const bodies = receiver.requests.map((r) => JSON.parse(r.body) as Array<{ message: string }>);
    assert.deepEqual(bodies.map((b) => b.length), [3, 3, 1]);
    assert.equal(bodies[0]![0]!.message, 'line 0');
    assert.equal(receiver.requests[0]!.headers['content-type'], 'application/json');
    assert.equal(receiver.requests[0]!.method, 'POST');
    assert.equal(acks.count('delivered'), 7);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_sent_events_total'), 7);
    assert.ok((await metricValue(ctx.registry, 'sluice_component_sent_bytes_total')) > 0);
  });

  test('max_bytes bounds a batch; ndjson with gzip; custom headers and method', async () => {
    receiver.requests.length = 0;
    const acks = new AckRecorder();
    const { sink } = build({
      uri: `${receiver.url}/nd`,
      method: 'put',
      headers: { 'x-team': 'logs' },
      encoding: { codec: 'ndjson', only_fields: ['message'] },
      compression: 'gzip',
      batch: { max_events: 1000, max_bytes: 60 },
    });
    await sink.run(streamOf(acks.events(lines(10))));
    // each encoded line is {"message":"line N"} = 20 bytes + newline: two fit in 60 bytes, a third would not.
    assert.equal(receiver.requests.length, 5);
    for (const request of receiver.requests) {
      assert.equal(request.method, 'PUT');
      assert.equal(request.headers['content-encoding'], 'gzip');
      assert.equal(request.headers['x-team'], 'logs');
      assert.equal(request.headers['content-type'], 'application/x-ndjson');
      assert.ok(Buffer.byteLength(request.body) <= 60, request.body);
    }
    // Up to 8 requests are in flight at once, so they may arrive in any order.
    const batches = receiver.requests.map((r) => r.body.trim().split('\n').map((l) => (JSON.parse(l) as { message: string }).message));
    batches.sort((a, b) => Number(a[0]!.slice(5)) - Number(b[0]!.slice(5)));
    assert.deepEqual(batches, Array.from({ length: 5 }, (_, i) => [`line ${2 * i}`, `line ${2 * i + 1}`]));
    assert.equal(acks.count('delivered'), 10);
  });

  test('ndjson bodies sent in place from payload slabs: batches across slabs and retried batches arrive intact', async () => {
    receiver.requests.length = 0;
    // Two failures early on: a retried batch must resend the same bytes while later batches are
    // encoded into recycled slabs.
    receiver.script({ kind: 'answer', status: 500 }, { kind: 'drop' });
    const acks = new AckRecorder();
    const filler = 'x'.repeat(300);
    const events = Array.from({ length: 40_000 }, (_, i) => ({ message: `line ${i} ${filler}`, seq: i }));
    const { sink } = build({
      uri: `${receiver.url}/slabs`,
      encoding: { codec: 'ndjson' },
      batch: { max_events: 10_000, max_bytes: 10_000_000 },
      request: { ...fastRetries, concurrency: 4 },
    });
    // ~14 MB through 4 MiB slabs in batches of ~3.4 MB: most batches straddle two slabs.
    await sink.run(streamOf(...Array.from({ length: 40 }, (_, c) => acks.events(events.slice(c * 1000, (c + 1) * 1000)))));
    assert.equal(acks.count('delivered'), events.length);
    const seen = new Map<number, string>();
    for (const request of receiver.requests.filter((r) => r.status === 200)) {
      assert.equal(Buffer.byteLength(request.body), Number(request.headers['content-length']));
      for (const line of request.body.split('\n').slice(0, -1)) {
        const parsed = JSON.parse(line) as { message: string; seq: number };
        assert.equal(parsed.message, `line ${parsed.seq} ${filler}`);
        assert.ok(!seen.has(parsed.seq), `line ${parsed.seq} delivered twice`);
        seen.set(parsed.seq, line);
      }
    }
    assert.equal(seen.size, events.length);
  });

  test('request.rate_limit_num bounds the requests started per window, retries included', async () => {
    const arrivals: number[] = [];
    const limited = await new Receiver({ handle: () => (arrivals.push(Date.now()), { status: 200 }) }).start();
    try {
      limited.script({ kind: 'answer', status: 503 }); // the retry counts against the limit too
      const acks = new AckRecorder();
      const { sink } = build({
        uri: `${limited.url}/limited`,
        batch: { max_events: 1 },
        request: { ...fastRetries, concurrency: 4, rate_limit_num: 2, rate_limit_duration_secs: 0.4 },
      });
      const started = Date.now();
      await sink.run(streamOf(acks.events(lines(5))));
      assert.equal(acks.count('delivered'), 5);
      assert.equal(limited.requests.length, 6);
      // 6 starts at 2 per 0.4 s: the 5th and 6th cannot start before 0.8 s. A lower bound only (load
      // can only add time); the limiter's exact schedule is held by rate-limit.test.ts on a fake clock.
      // Unlimited, all 6 arrive within a few ms.
      assert.ok(arrivals.at(-1)! - started >= 800, `the last request arrived ${arrivals.at(-1)! - started} ms after the start`);
    } finally {
      await limited.close();
    }
  });

  test('batch.timeout_secs flushes a partial batch while the input stays open', async () => {
    receiver.requests.length = 0;
    const acks = new AckRecorder();
    const input = new ControlledStream();
    const { sink } = build({ uri: `${receiver.url}/t`, batch: { max_events: 100, timeout_secs: 0.05 } });
    const running = sink.run(input);
    input.push(acks.events(lines(2)));
    await acks.waitForSettled(2);
    assert.equal(receiver.requests.length, 1);
    input.end();
    await running;
  });

  test('uri templates partition batches; an event missing the field is rejected', async () => {
    receiver.requests.length = 0;
    const acks = new AckRecorder();
    const { sink, ctx } = build({ uri: `${receiver.url}/ns/{{ kubernetes.ns }}` });
    const events = acks.events([
      { message: 'a', kubernetes: { ns: 'alpha' } },
      { message: 'b', kubernetes: { ns: 'beta' } },
      { message: 'c', kubernetes: { ns: 'alpha' } },
      { message: 'no namespace' },
    ]);
    await sink.run(streamOf(events));
    const byUrl = new Map(receiver.requests.map((r) => [r.url, (JSON.parse(r.body) as unknown[]).length]));
    assert.deepEqual(Object.fromEntries(byUrl), { '/ns/alpha': 2, '/ns/beta': 1 });
    assert.deepEqual(acks.statuses, ['delivered', 'delivered', 'delivered', 'rejected']);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'template_field_missing' }), 1);
  });

  test('retries 500, 429 (Retry-After) and a dropped connection, then delivers once', async () => {
    receiver.requests.length = 0;
    receiver.script(
      { kind: 'answer', status: 500, body: 'boom' },
      { kind: 'answer', status: 429, headers: { 'retry-after': '0' } },
      { kind: 'drop' },
    );
    const acks = new AckRecorder();
    const { sink, ctx } = build({ uri: `${receiver.url}/r`, request: fastRetries });
    await sink.run(streamOf(acks.events(lines(5))));
    assert.equal(receiver.requests.length, 4);
    assert.equal(acks.count('delivered'), 5);
    assert.equal(await metricValue(ctx.registry, 'sluice_sink_retries_total'), 3);
    assert.equal(await metricValue(ctx.registry, 'sluice_sink_retries_total', { reason: 'http_429' }), 1);
    assert.equal(await metricValue(ctx.registry, 'sluice_sink_retries_total', { reason: 'network' }), 1);
  });

  test('a 400 is a permanent rejection: acked rejected, counted, logged, not retried', async () => {
    receiver.requests.length = 0;
    receiver.script({ kind: 'answer', status: 400, body: '{"error":"bad payload"}' });
    const acks = new AckRecorder();
    const logLines: string[] = [];
    const { sink, ctx } = build({ uri: `${receiver.url}/bad`, request: fastRetries }, logLines);
    await sink.run(streamOf(acks.events(lines(3))));
    assert.equal(receiver.requests.length, 1);
    assert.equal(acks.count('rejected'), 3);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'http_4xx' }), 3);
    assert.ok(logLines.some((l) => l.includes('bad payload') && l.includes('http_4xx')));
  });

  test('retry_attempts bounds retries, then rejects with retries_exhausted', async () => {
    receiver.requests.length = 0;
    receiver.script(...Array.from({ length: 3 }, () => ({ kind: 'answer' as const, status: 503 })));
    const acks = new AckRecorder();
    const { sink, ctx } = build({ uri: `${receiver.url}/down`, request: { ...fastRetries, retry_attempts: 2 } });
    await sink.run(streamOf(acks.events(lines(2))));
    assert.equal(receiver.requests.length, 3);
    assert.equal(acks.count('rejected'), 2);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'retries_exhausted' }), 2);
  });

  test('acknowledges only after the destination answered', async () => {
    receiver.requests.length = 0;
    receiver.script({ kind: 'answer', status: 200, delayMs: 150 });
    const acks = new AckRecorder();
    const { sink } = build({ uri: `${receiver.url}/slow` });
    const running = sink.run(streamOf(acks.events(lines(2))));
    await receiver.waitForRequests(1);
    assert.equal(acks.settled, 0, 'no ack while the request is still unanswered');
    await running;
    assert.equal(acks.count('delivered'), 2);
  });

  test('request.concurrency bounds the requests in flight', async () => {
    receiver.requests.length = 0;
    receiver.maxInFlight = 0;
    receiver.script(...Array.from({ length: 6 }, () => ({ kind: 'answer' as const, status: 200, delayMs: 60 })));
    const acks = new AckRecorder();
    const { sink } = build({ uri: `${receiver.url}/c`, batch: { max_events: 2 }, request: { concurrency: 2 } });
    await sink.run(streamOf(acks.events(lines(12))));
    assert.equal(receiver.requests.length, 6);
    assert.equal(receiver.maxInFlight, 2);
    assert.equal(acks.count('delivered'), 12);
  });

  test('adaptive concurrency starts at one request and grows while the server keeps up', async () => {
    receiver.requests.length = 0;
    receiver.maxInFlight = 0;
    receiver.script(...Array.from({ length: 12 }, () => ({ kind: 'answer' as const, status: 200, delayMs: 30 })));
    const acks = new AckRecorder();
    const { sink, ctx } = build({ uri: `${receiver.url}/adaptive`, batch: { max_events: 1 }, request: { concurrency: 'adaptive', adaptive_max_concurrency: 3 } });
    await sink.run(streamOf(acks.events(lines(12))));
    assert.equal(acks.count('delivered'), 12);
    assert.equal(receiver.maxInFlight, 3);
    assert.equal(await metricValue(ctx.registry, 'sluice_sink_concurrency_limit'), 3);
  });

  test('request.timeout_secs aborts a hung request and retries it', async () => {
    receiver.requests.length = 0;
    receiver.script({ kind: 'answer', status: 200, delayMs: 2000 });
    const acks = new AckRecorder();
    const logLines: string[] = [];
    const { sink, ctx } = build({ uri: `${receiver.url}/hang`, request: { ...fastRetries, timeout_secs: 0.2 } }, logLines);
    await sink.run(streamOf(acks.events(lines(1))));
    assert.equal(acks.count('delivered'), 1, logLines.join('\n'));
    assert.equal(await metricValue(ctx.registry, 'sluice_sink_retries_total', { reason: 'timeout' }), 1);
  });

  test('basic and bearer auth headers; the secret never reaches logs', async () => {
    receiver.requests.length = 0;
    const logLines: string[] = [];
    const basic = build({ uri: `${receiver.url}/a`, auth: { strategy: 'basic', user: 'shipper', password: 's3cr3t-pass' } }, logLines);
    await basic.sink.run(streamOf(new AckRecorder().events(lines(1))));
    assert.equal(receiver.requests[0]!.headers.authorization, 'Basic ' + Buffer.from('shipper:s3cr3t-pass').toString('base64'));

    receiver.script({ kind: 'answer', status: 401, body: 'who are you' });
    const bearer = build({ uri: `${receiver.url}/b`, auth: { strategy: 'bearer', token: 'tok-very-secret' } }, logLines);
    await bearer.sink.run(streamOf(new AckRecorder().events(lines(1))));
    assert.equal(receiver.requests[1]!.headers.authorization, 'Bearer tok-very-secret');
    assert.ok(logLines.length > 0);
    assert.ok(logLines.every((l) => !l.includes('tok-very-secret') && !l.includes('s3cr3t-pass')));
    const metrics = await bearer.ctx.registry.registry.metrics();
    assert.ok(!metrics.includes('tok-very-secret'));
  });

  test('healthcheck passes on any non-5xx answer and fails clearly otherwise', async () => {
    const { sink } = build({ uri: `${receiver.url}/health` });
    receiver.script({ kind: 'answer', status: 405 });
    await sink.healthcheck();
    receiver.script({ kind: 'answer', status: 503 });
    await assert.rejects(sink.healthcheck(), /healthcheck HEAD .*\/health answered HTTP 503/);
    const dead = build({ uri: 'http://127.0.0.1:1/x' });
    await assert.rejects(dead.sink.healthcheck(), /healthcheck HEAD .* failed/);
  });
});

describe('http sink over TLS', () => {
  let pki: TestPki;
  let receiver: Receiver;
  before(async () => {
    pki = createTestPki();
    receiver = await new Receiver({ tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestClientCert: true } }).start();
  });
  after(async () => {
    await receiver.close();
    pki.cleanup();
  });

  test('trusts the test CA from tls.ca_file and presents a client certificate', async () => {
    const acks = new AckRecorder();
    const { sink } = build({
      uri: `${receiver.url}/tls`,
      tls: { ca_file: pki.caFile, crt_file: pki.clientCertFile, key_file: pki.clientKeyFile },
    });
    await sink.run(streamOf(acks.events(lines(2))));
    assert.equal(acks.count('delivered'), 2);
    assert.equal(receiver.requests.at(-1)!.clientCertCn, 'client');
  });

  test('refuses a server signed by a CA it does not trust, unless verification is off', async () => {
    const acks = new AckRecorder();
    const { sink, ctx } = build({ uri: `${receiver.url}/tls`, tls: { ca_file: pki.otherCaFile }, request: { ...fastRetries, retry_attempts: 0 } });
    const before = receiver.requests.length;
    await sink.run(streamOf(acks.events(lines(1))));
    assert.equal(acks.count('rejected'), 1);
    assert.equal(receiver.requests.length, before);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_errors_total', { reason: 'tls' }), 1);

    const insecure = build({ uri: `${receiver.url}/tls`, tls: { verify_certificate: false } });
    const acks2 = new AckRecorder();
    await insecure.sink.run(streamOf(acks2.events(lines(1))));
    assert.equal(acks2.count('delivered'), 1);
  });

  test('verify_hostname=false accepts a certificate for another name', async () => {
    const acks = new AckRecorder();
    const { sink } = build({
      uri: `${receiver.url}/tls`,
      tls: { ca_file: pki.caFile, server_name: 'not-the-host.example', verify_hostname: false },
    });
    await sink.run(streamOf(acks.events(lines(1))));
    assert.equal(acks.count('delivered'), 1);
  });
});
