import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { FaultyProxy } from '../../../test/fakes/faulty-proxy.js';
import { startS3, type RunningS3 } from '../../../test/fakes/s3.js';
import { AckRecorder, metricValue, sinkContext, streamOf } from '../../../test/fakes/sink-harness.js';
import { createTestPki } from '../../../test/fakes/tls.js';
import { awsS3SinkSchema } from './schema.js';
import { AwsS3Sink } from './sink.js';

const fastRetries = { retry_initial_backoff_secs: 0.01, retry_max_duration_secs: 0.05 };
const credentials = { access_key_id: 'S3RVER', secret_access_key: 'S3RVER' };

function build(options: Record<string, unknown>) {
  const ctx = sinkContext('s3', 'aws_s3');
  return { sink: new AwsS3Sink(awsS3SinkSchema.parse({ region: 'us-east-1', force_path_style: true, ...options }), ctx), ctx };
}

function lines(n: number, extra: Record<string, unknown> = {}) {
  return Array.from({ length: n }, (_, i) => ({ message: `line ${i}`, timestamp: '2026-11-24T10:00:00.123456789Z', kubernetes: { pod_namespace: 'shop' }, ...extra }));
}

describe('aws_s3 sink against s3rver', () => {
  let s3: RunningS3;
  const savedEnv = { ...process.env };
  before(async () => {
    s3 = await startS3(['logs', 'other']);
    // The SDK default credential chain reads these (as it would read IRSA or a profile).
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  });
  after(async () => {
    process.env = savedEnv;
    await s3.close();
  });

  test('one gzipped NDJSON object per batch under the dated prefix, unique names, credentials from the default chain', async () => {
    const acks = new AckRecorder();
    const { sink, ctx } = build({ bucket: 'logs', endpoint: s3.url, batch: { max_events: 3 } });
    await sink.healthcheck();
    await sink.run(streamOf(acks.events(lines(7))));
    const objects = await s3.objects('logs');
    assert.equal(objects.length, 3);
    for (const object of objects) {
      assert.match(object.key, /^date=2026-11-24\/\d{10}-[0-9a-f-]{36}\.log\.gz$/);
      assert.equal(object.contentEncoding, 'gzip');
      assert.equal(object.contentType, 'application/x-ndjson');
    }
    const all = objects.flatMap((o) => gunzipSync(o.body).toString().trim().split('\n').map((l) => JSON.parse(l) as { message: string }));
    assert.deepEqual(all.map((e) => e.message).sort(), lines(7).map((e) => e.message).sort());
    assert.equal(acks.count('delivered'), 7);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_sent_events_total'), 7);
  });

  test('key_prefix templates partition objects; plain text without gzip; fixed file names', async () => {
    const acks = new AckRecorder();
    const { sink } = build({
      bucket: 'other',
      endpoint: s3.url,
      auth: credentials,
      key_prefix: 'ns={{ kubernetes.pod_namespace }}/%Y/%m/%d/',
      filename_time_format: '%H%M%S',
      filename_append_uuid: false,
      compression: 'none',
      encoding: { codec: 'text' },
    });
    await sink.run(streamOf(acks.events([...lines(2), ...lines(1, { kubernetes: { pod_namespace: 'pay' } })])));
    const objects = await s3.objects('other');
    assert.deepEqual(objects.map((o) => o.key.replace(/\d{6}\.log$/, 'HHMMSS.log')), ['ns=pay/2026/11/24/HHMMSS.log', 'ns=shop/2026/11/24/HHMMSS.log']);
    assert.equal(objects[1]!.body.toString(), 'line 0\nline 1\n');
    assert.equal(acks.count('delivered'), 3);
  });

  test('a missing bucket fails the healthcheck and is a permanent rejection', async () => {
    const { sink, ctx } = build({ bucket: 'no-such-bucket', endpoint: s3.url, request: fastRetries });
    await assert.rejects(sink.healthcheck(), /HeadBucket no-such-bucket failed: HTTP 404/);
    const acks = new AckRecorder();
    await sink.run(streamOf(acks.events(lines(2))));
    assert.equal(acks.count('rejected'), 2);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'http_4xx' }), 2);
  });

  // s3rver checks the access key id but does not verify SigV4 signatures: an unknown key id is the refusal it can produce.
  test('unknown credentials are refused (403) without the secret in any message', async () => {
    const logLines: string[] = [];
    const ctx = sinkContext('s3', 'aws_s3', logLines);
    const sink = new AwsS3Sink(
      awsS3SinkSchema.parse({ bucket: 'logs', region: 'us-east-1', endpoint: s3.url, force_path_style: true, auth: { access_key_id: 'UNKNOWNKEY', secret_access_key: 'not-the-secret-123' } }),
      ctx,
    );
    const acks = new AckRecorder();
    await sink.run(streamOf(acks.events(lines(1))));
    assert.equal(acks.count('rejected'), 1);
    assert.ok(logLines.some((l) => l.includes('403') && l.includes('InvalidAccessKeyId')));
    assert.ok(logLines.every((l) => !l.includes('not-the-secret-123')));
  });

  test('retries 503 SlowDown and a cut connection, then writes the object once', async () => {
    const proxy = await new FaultyProxy(s3.url).start();
    try {
      proxy.script(
        { kind: 'status', status: 503, body: '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>' },
        { kind: 'drop' },
      );
      const before = (await s3.objects('logs')).length;
      const acks = new AckRecorder();
      const { sink, ctx } = build({ bucket: 'logs', endpoint: proxy.url, request: fastRetries });
      await sink.run(streamOf(acks.events(lines(4))));
      assert.equal(acks.count('delivered'), 4);
      assert.equal(proxy.failed, 2);
      assert.ok(proxy.authorizations.every((a) => /^AWS4-HMAC-SHA256 Credential=S3RVER\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=.*, Signature=[0-9a-f]{64}$/.test(a)), 'SigV4-signed');
      assert.equal((await s3.objects('logs')).length, before + 1);
      assert.equal(await metricValue(ctx.registry, 'sluice_sink_retries_total'), 2);
    } finally {
      await proxy.close();
    }
  });
});

test('aws_s3: acknowledges only once the store answered the PUT', async () => {
  const s3 = await startS3(['slow']);
  const proxy = await new FaultyProxy(s3.url).start();
  try {
    proxy.script({ kind: 'slow', delayMs: 200 });
    const acks = new AckRecorder();
    const { sink } = build({ bucket: 'slow', endpoint: proxy.url, auth: credentials });
    const running = sink.run(streamOf(acks.events(lines(3))));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(acks.settled, 0, 'nothing acked while the PUT is pending');
    assert.equal((await s3.objects('slow')).length, 0);
    await running;
    assert.equal(acks.count('delivered'), 3);
    assert.equal((await s3.objects('slow')).length, 1);
  } finally {
    await proxy.close();
    await s3.close();
  }
});

describe('aws_s3 sink over TLS', () => {
  test('trusts the store through tls.ca_file', async () => {
    const pki = createTestPki();
    const s3 = await startS3(['secure'], { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca });
    try {
      const acks = new AckRecorder();
      const { sink } = build({ bucket: 'secure', endpoint: s3.url, auth: credentials, tls: { ca_file: pki.caFile } });
      await sink.healthcheck();
      await sink.run(streamOf(acks.events(lines(2))));
      assert.equal(acks.count('delivered'), 2);
      assert.equal((await s3.objects('secure')).length, 1);

      const untrusted = build({ bucket: 'secure', endpoint: s3.url, auth: credentials, tls: { ca_file: pki.otherCaFile } });
      await assert.rejects(untrusted.sink.healthcheck(), /HeadBucket secure failed/);
    } finally {
      await s3.close();
      pki.cleanup();
    }
  });
});
