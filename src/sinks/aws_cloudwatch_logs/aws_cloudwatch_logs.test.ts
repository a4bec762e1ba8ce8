import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeSts } from '../../../test/fakes/aws-sts.js';
import { FakeCloudwatchLogs } from '../../../test/fakes/cloudwatch-logs.js';
import { AckRecorder, metricValue, sinkContext, streamOf } from '../../../test/fakes/sink-harness.js';
import { createTestPki } from '../../../test/fakes/tls.js';
import { REDACTED, redactSecrets } from '../shared/schemas.js';
import { awsCloudwatchLogsSinkSchema } from './schema.js';
import { AwsCloudwatchLogsSink } from './sink.js';

const KEYS = { accessKeyId: 'AKIDCLOUDWATCHTEST', secretAccessKey: 'cw-secret-0123456789' };
const auth = { access_key_id: KEYS.accessKeyId, secret_access_key: KEYS.secretAccessKey };
const fastRetries = { retry_initial_backoff_secs: 0.01, retry_max_duration_secs: 0.05 };
const HOUR = 3600_000;

function build(options: Record<string, unknown>, logLines?: string[]) {
  const ctx = sinkContext('cw', 'aws_cloudwatch_logs', logLines);
  const config = awsCloudwatchLogsSinkSchema.parse({ region: 'eu-west-1', auth, group_name: '/k8s/test', stream_name: '{{ kubernetes.pod_name }}', ...options });
  return { sink: new AwsCloudwatchLogsSink(config, ctx), ctx };
}

function event(message: string, at = Date.now(), pod = 'web-1') {
  return { message, timestamp: new Date(at).toISOString(), stream: 'stdout', kubernetes: { pod_namespace: 'shop', pod_name: pod } };
}

test('aws_cloudwatch_logs schema: batch limits capped at PutLogEvents\', secrets redacted', () => {
  const base = { group_name: 'g', stream_name: 's' };
  const parsed = awsCloudwatchLogsSinkSchema.parse(base);
  assert.deepEqual(parsed.batch, { max_events: 10_000, max_bytes: 1_048_576, timeout_secs: 1 });
  assert.equal(parsed.create_missing_group, true);
  assert.equal(parsed.create_missing_stream, true);
  assert.equal(awsCloudwatchLogsSinkSchema.safeParse({ ...base, batch: { max_events: 10_001 } }).success, false);
  assert.equal(awsCloudwatchLogsSinkSchema.safeParse({ ...base, batch: { max_bytes: 1_048_577 } }).success, false);
  assert.equal(awsCloudwatchLogsSinkSchema.safeParse({ ...base, stream_name: '{{ unclosed' }).success, false);
  assert.equal(awsCloudwatchLogsSinkSchema.safeParse({ ...base, retention: { enabled: true, days: 2 } }).success, false, 'not a CloudWatch retention period');
  assert.deepEqual(redactSecrets({ auth: { ...auth, session_token: 'tok' } }).auth, { access_key_id: KEYS.accessKeyId, secret_access_key: REDACTED, session_token: REDACTED });
});

describe('aws_cloudwatch_logs sink against the fake CloudWatch Logs', () => {
  let cw: FakeCloudwatchLogs;
  before(async () => {
    cw = await new FakeCloudwatchLogs({ region: 'eu-west-1', ...KEYS }).start();
  });
  after(() => cw.close());

  test('creates the missing group and per-pod streams, sends SigV4-signed JSON 1.1 calls with events sorted by time', async () => {
    const acks = new AckRecorder();
    const { sink, ctx } = build({ endpoint: cw.url, group_name: '/k8s/{{ kubernetes.pod_namespace }}' });
    await sink.healthcheck(); // templated group: DescribeLogGroups
    const now = Date.now();
    const events = [event('third', now - 1000), event('first', now - 3000), event('other pod', now, 'api-1'), event('second', now - 2000)];
    await sink.run(streamOf(acks.events(events)));
    assert.equal(acks.count('delivered'), 4);
    assert.deepEqual(cw.failures, [], 'every signature verified');
    assert.deepEqual(cw.messages('/k8s/shop', 'web-1').map((m) => (JSON.parse(m) as { message: string }).message), ['first', 'second', 'third']);
    assert.deepEqual(JSON.parse(cw.messages('/k8s/shop', 'api-1')[0]!), events[2]);
    assert.equal(cw.calls[0], 'DescribeLogGroups');
    assert.equal(cw.calls.filter((c) => c === 'CreateLogGroup').length, 1, 'the group is created once for both streams');
    assert.equal(cw.calls.filter((c) => c === 'CreateLogStream').length, 2);
    const put = cw.receiver.requests.find((r) => r.headers['x-amz-target'] === 'Logs_20140328.PutLogEvents')!;
    assert.equal(put.headers['content-type'], 'application/x-amz-json-1.1');
    assert.match(String(put.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDCLOUDWATCHTEST\/\d{8}\/eu-west-1\/logs\/aws4_request, /);
    const body = JSON.parse(put.body) as { logGroupName: string; logStreamName: string; logEvents: Array<{ timestamp: number; message: string }> };
    assert.ok(body.logEvents.every((e, i, all) => i === 0 || all[i - 1]!.timestamp <= e.timestamp));
    assert.equal(await metricValue(ctx.registry, 'sluice_component_sent_events_total'), 4);
  });

  test('text codec, request.headers; an existing stream is written without create calls', async () => {
    cw.calls.length = 0;
    const acks = new AckRecorder();
    await build({ endpoint: cw.url, group_name: '/k8s/shop', stream_name: 'web-1', encoding: { codec: 'text' }, request: { headers: { 'X-Team': 'logs' } } }).sink.run(streamOf(acks.events([event('plain line')])));
    assert.equal(acks.count('delivered'), 1);
    const put = cw.receiver.requests.at(-1)!;
    assert.equal(put.headers['x-team'], 'logs', 'request.headers are sent');
    assert.match(String(put.headers.authorization), /SignedHeaders=[^,]*x-team/, 'and signed');
    assert.deepEqual(cw.failures, []);
    assert.deepEqual(cw.calls, ['PutLogEvents']);
    assert.equal(cw.messages('/k8s/shop', 'web-1').at(-1), 'plain line');
  });

  test('create_missing_stream / create_missing_group = false: the events are rejected, nothing is created', async () => {
    cw.calls.length = 0;
    const lines: string[] = [];
    const noStream = new AckRecorder();
    const a = build({ endpoint: cw.url, group_name: '/k8s/shop', stream_name: 'never', create_missing_stream: false, request: fastRetries }, lines);
    await a.sink.run(streamOf(noStream.events([event('x'), event('y')])));
    assert.equal(noStream.count('rejected'), 2);
    assert.equal(await metricValue(a.ctx.registry, 'sluice_component_discarded_events_total', { reason: 'resource_not_found' }), 2);
    const noGroup = new AckRecorder();
    const b = build({ endpoint: cw.url, group_name: '/absent', create_missing_group: false, request: fastRetries });
    await assert.rejects(b.sink.healthcheck(), /DescribeLogStreams \/absent failed: HTTP 400 ResourceNotFoundException/);
    await b.sink.run(streamOf(noGroup.events([event('z')])));
    assert.equal(noGroup.count('rejected'), 1);
    assert.ok(!cw.calls.includes('CreateLogGroup') && !cw.calls.includes('CreateLogStream'));
    assert.match(lines.join('\n'), /create_missing_stream is false/);
    // A static group that is missing passes the healthcheck when the sink may create it.
    await build({ endpoint: cw.url, group_name: '/absent' }).sink.healthcheck();
  });

  test('batch limits: 10,000 events and 1 MiB (message bytes + 26) per call, one UTC day per call', async () => {
    cw.calls.length = 0;
    const many = new AckRecorder();
    const now = Date.now();
    await build({ endpoint: cw.url, stream_name: 'many', batch: { timeout_secs: 5 } }).sink.run(streamOf(many.events(Array.from({ length: 25_000 }, (_, i) => event(`m${i}`, now)))));
    assert.equal(many.count('delivered'), 25_000);
    assert.equal(cw.messages('/k8s/test', 'many').length, 25_000);
    const puts = () => cw.receiver.requests.filter((r) => r.headers['x-amz-target'] === 'Logs_20140328.PutLogEvents' && r.status === 200).map((r) => JSON.parse(r.body) as { logEvents: Array<{ timestamp: number; message: string }> });
    assert.ok(puts().every((p) => p.logEvents.length <= 10_000));

    const bigBefore = puts().length;
    const big = new AckRecorder();
    await build({ endpoint: cw.url, stream_name: 'big', encoding: { codec: 'text' } }).sink.run(streamOf(big.events(Array.from({ length: 120 }, (_, i) => event(`${i} ${'é'.repeat(10_000)}`, now)))));
    assert.equal(big.count('delivered'), 120);
    const bigPuts = puts().slice(bigBefore);
    assert.ok(bigPuts.length >= 3, `${bigPuts.length} calls`);
    for (const p of bigPuts) assert.ok(p.logEvents.reduce((sum, e) => sum + Buffer.byteLength(e.message) + 26, 0) <= 1_048_576);

    const spanBefore = puts().length;
    const span = new AckRecorder();
    const times = [now - 13 * 24 * HOUR, now - 3 * 24 * HOUR, now - 1000, now - 2 * 24 * HOUR];
    await build({ endpoint: cw.url, stream_name: 'span' }).sink.run(streamOf(span.events(times.map((t, i) => event(`s${i}`, t)))));
    assert.equal(span.count('delivered'), 4, 'no call spans more than 24 h (the fake refuses those)');
    assert.equal(puts().length - spanBefore, 4);
  });

  test('events older than 14 days or more than 2 h ahead are refused before sending, counted by reason', async () => {
    const acks = new AckRecorder();
    const { sink, ctx } = build({ endpoint: cw.url, stream_name: 'window' });
    const now = Date.now();
    await sink.run(streamOf(acks.events([event('old', now - 15 * 24 * HOUR), event('future', now + 3 * HOUR), event('fine', now)])));
    assert.deepEqual(acks.statuses, ['rejected', 'rejected', 'delivered']);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'too_old' }), 1);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'too_new' }), 1);
    assert.equal(cw.messages('/k8s/test', 'window').length, 1);
  });

  test('ThrottlingException, ServiceUnavailableException and a cut connection are retried; InvalidParameterException is not', async () => {
    const throttling = await new FakeCloudwatchLogs({ region: 'eu-west-1', ...KEYS, throttlePuts: 2 }).start();
    try {
      const acks = new AckRecorder();
      const { sink, ctx } = build({ endpoint: throttling.url, request: fastRetries });
      throttling.createGroup('/k8s/test');
      await sink.run(streamOf(acks.events([event('a'), event('b')])));
      assert.equal(acks.count('delivered'), 2);
      assert.equal(await metricValue(ctx.registry, 'sluice_sink_retries_total', { reason: 'throttled' }), 2);
      assert.deepEqual(throttling.messages('/k8s/test', 'web-1').map((m) => (JSON.parse(m) as { message: string }).message), ['a', 'b'], 'each once');

      throttling.receiver.script(
        { kind: 'answer', status: 503, body: JSON.stringify({ __type: 'ServiceUnavailableException', message: 'The service is unavailable' }), headers: { 'content-type': 'application/x-amz-json-1.1' } },
        { kind: 'drop' },
      );
      const busy = new AckRecorder();
      const second = build({ endpoint: throttling.url, request: fastRetries });
      await second.sink.run(streamOf(busy.events([event('c')])));
      assert.equal(busy.count('delivered'), 1);
      assert.equal(await metricValue(second.ctx.registry, 'sluice_sink_retries_total', { reason: 'http_5xx' }), 1);
      assert.equal(await metricValue(second.ctx.registry, 'sluice_sink_retries_total', { reason: 'network' }), 1);

      throttling.receiver.script({ kind: 'answer', status: 400, body: JSON.stringify({ __type: 'InvalidParameterException', message: 'Log events in a single PutLogEvents request must be in chronological order.' }) });
      const lines: string[] = [];
      const bad = new AckRecorder();
      const requests = throttling.receiver.requests.length;
      await build({ endpoint: throttling.url, request: fastRetries }, lines).sink.run(streamOf(bad.events([event('d')])));
      assert.equal(bad.count('rejected'), 1);
      assert.equal(throttling.receiver.requests.length, requests + 1, 'not retried');
      assert.match(lines.join('\n'), /InvalidParameterException: Log events in a single PutLogEvents request must be in chronological order/);
    } finally {
      await throttling.close();
    }
  });

  test('events that aged past 14 days in a buffer come back in rejectedLogEventsInfo: rejected and counted, the rest delivered', async () => {
    // Both clocks fixed, CloudWatch's an hour ahead: what the sink still accepts is too old to CloudWatch.
    const sinkNow = Date.UTC(2026, 10, 24, 12);
    const ahead = await new FakeCloudwatchLogs({ region: 'eu-west-1', ...KEYS, now: () => sinkNow + HOUR }).start();
    try {
      ahead.createGroup('/k8s/test');
      const acks = new AckRecorder();
      const ctx = sinkContext('cw', 'aws_cloudwatch_logs');
      const config = awsCloudwatchLogsSinkSchema.parse({ region: 'eu-west-1', auth, endpoint: ahead.url, group_name: '/k8s/test', stream_name: 'aged' });
      const sink = new AwsCloudwatchLogsSink(config, ctx, () => sinkNow);
      const edge = sinkNow - 14 * 24 * HOUR;
      await sink.run(streamOf(acks.events([event('aged 2', edge + 31 * 60_000), event('fresh', edge + 2 * HOUR), event('aged 1', edge + 30 * 60_000)])));
      assert.deepEqual(acks.statuses, ['rejected', 'delivered', 'rejected']);
      assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'too_old' }), 2);
      assert.deepEqual(ahead.messages('/k8s/test', 'aged').map((m) => (JSON.parse(m) as { message: string }).message), ['fresh']);
      const put = JSON.parse(ahead.receiver.requests.filter((r) => r.headers['x-amz-target'] === 'Logs_20140328.PutLogEvents').at(-1)!.body) as { logEvents: unknown[] };
      assert.equal(put.logEvents.length, 3, 'one call: the sink sent all three');
    } finally {
      await ahead.close();
    }
  });

  test('retention: created groups get the policy; events older than it come back as expired, rejected and counted', async () => {
    const acks = new AckRecorder();
    const { sink, ctx } = build({ endpoint: cw.url, group_name: '/k8s/retained', stream_name: 'r', retention: { enabled: true, days: 1 }, tags: { cluster: 'prod' } });
    const twoDaysAgo = Date.now() - 2 * 24 * HOUR;
    await sink.run(streamOf(acks.events([event('expired', twoDaysAgo), event('fresh')])));
    assert.deepEqual(acks.statuses, ['rejected', 'delivered']);
    const group = cw.groups.get('/k8s/retained')!;
    assert.equal(group.retentionInDays, 1);
    assert.deepEqual(group.tags, { cluster: 'prod' });
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'expired' }), 1);
    assert.deepEqual(cw.messages('/k8s/retained', 'r').map((m) => (JSON.parse(m) as { message: string }).message), ['fresh']);
  });

  test('a wrong secret: the signature is refused, events rejected, the secret never logged', async () => {
    const lines: string[] = [];
    const wrong = 'not-the-real-secret-42';
    const ctx = sinkContext('cw', 'aws_cloudwatch_logs', lines);
    const sink = new AwsCloudwatchLogsSink(
      awsCloudwatchLogsSinkSchema.parse({ region: 'eu-west-1', endpoint: cw.url, auth: { access_key_id: KEYS.accessKeyId, secret_access_key: wrong }, group_name: '/k8s/test', stream_name: 's', request: fastRetries }),
      ctx,
    );
    await assert.rejects(sink.healthcheck(), /InvalidSignatureException/);
    const acks = new AckRecorder();
    await sink.run(streamOf(acks.events([event('x')])));
    assert.equal(acks.count('rejected'), 1);
    assert.ok(cw.failures.includes('signature mismatch'));
    assert.ok(!lines.join('\n').includes(wrong));
  });
});

describe('aws_cloudwatch_logs credentials from the SDK default chain', () => {
  const saved = { ...process.env };
  after(() => {
    process.env = saved;
  });
  const CHAIN_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'];

  /** Only what the test sets is there for the chain to find (no keys, no profile, no instance metadata). */
  function isolateChain(dir: string): void {
    for (const name of CHAIN_VARIABLES) delete process.env[name];
    process.env.AWS_CONFIG_FILE = join(dir, 'none');
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'none');
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  }

  test('IRSA: the projected ServiceAccount token is exchanged with STS (AssumeRoleWithWebIdentity), calls signed with the role credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cw-'));
    const roleArn = 'arn:aws:iam::123456789012:role/sluice-cloudwatch';
    const temporary = { accessKeyId: 'ASIAIRSATEST', secretAccessKey: 'irsa-secret', sessionToken: 'irsa-session-token' };
    const sts = await new FakeSts({ roleArn, webIdentityToken: 'eyJhbGciOiJSUzI1NiJ9.projected.token', credentials: temporary }).start();
    const cw = await new FakeCloudwatchLogs({ region: 'eu-west-1', ...temporary, sessionToken: temporary.sessionToken }).start();
    try {
      isolateChain(dir);
      writeFileSync(join(dir, 'token'), 'eyJhbGciOiJSUzI1NiJ9.projected.token');
      process.env.AWS_ROLE_ARN = roleArn;
      process.env.AWS_WEB_IDENTITY_TOKEN_FILE = join(dir, 'token');
      process.env.AWS_ENDPOINT_URL_STS = sts.url;
      const acks = new AckRecorder();
      const config = awsCloudwatchLogsSinkSchema.parse({ region: 'eu-west-1', endpoint: cw.url, group_name: '/eks/irsa', stream_name: '{{ kubernetes.pod_name }}' });
      await new AwsCloudwatchLogsSink(config, sinkContext()).run(streamOf(acks.events([event('via irsa')])));
      assert.equal(acks.count('delivered'), 1);
      assert.equal(sts.issued.length, 1);
      assert.deepEqual(cw.failures, []);
      assert.equal(cw.messages('/eks/irsa', 'web-1').length, 1);
    } finally {
      delete process.env.AWS_ENDPOINT_URL_STS;
      await cw.close();
      await sts.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('EKS Pod Identity: temporary credentials from the agent, signed with their session token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cw-'));
    const agentToken = 'pod-identity-projected-token';
    writeFileSync(join(dir, 'token'), agentToken);
    const temporary = { AccessKeyId: 'ASIAPODIDENTITY', SecretAccessKey: 'pod-identity-secret', Token: 'pod-identity-session-token', Expiration: new Date(Date.now() + HOUR).toISOString() };
    const seen: Array<string | undefined> = [];
    const agent: Server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== agentToken) return void res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(temporary));
    });
    await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
    const cw = await new FakeCloudwatchLogs({ region: 'eu-west-1', accessKeyId: temporary.AccessKeyId, secretAccessKey: temporary.SecretAccessKey, sessionToken: temporary.Token }).start();
    try {
      isolateChain(dir);
      process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `http://127.0.0.1:${(agent.address() as AddressInfo).port}/v1/credentials`;
      process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = join(dir, 'token');
      const acks = new AckRecorder();
      const config = awsCloudwatchLogsSinkSchema.parse({ region: 'eu-west-1', endpoint: cw.url, group_name: '/eks/pods', stream_name: '{{ kubernetes.pod_name }}' });
      const sink = new AwsCloudwatchLogsSink(config, sinkContext());
      await sink.run(streamOf(acks.events([event('via pod identity')])));
      assert.equal(acks.count('delivered'), 1);
      assert.deepEqual(cw.failures, []);
      assert.equal(cw.messages('/eks/pods', 'web-1').length, 1);
      assert.ok(seen.includes(agentToken), 'the agent was asked with the projected token');
      assert.ok(cw.receiver.requests.every((r) => r.headers['x-amz-security-token'] === temporary.Token));
    } finally {
      await cw.close();
      await new Promise<void>((resolve) => agent.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('aws_cloudwatch_logs over TLS: trusts the endpoint through tls.ca_file', async () => {
  const pki = createTestPki();
  const cw = await new FakeCloudwatchLogs({ region: 'eu-west-1', ...KEYS, tls: { cert: pki.serverCert, key: pki.serverKey } }).start();
  try {
    const acks = new AckRecorder();
    const { sink } = build({ endpoint: cw.url, tls: { ca_file: pki.caFile } });
    await sink.healthcheck();
    await sink.run(streamOf(acks.events([event('secure')])));
    assert.equal(acks.count('delivered'), 1);
    const untrusted = build({ endpoint: cw.url, tls: { ca_file: pki.otherCaFile } });
    await assert.rejects(untrusted.sink.healthcheck(), /healthcheck DescribeLogStreams \/k8s\/test failed/);
  } finally {
    await cw.close();
    pki.cleanup();
  }
});
