import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeGcpLogging, type Entry } from '../../../test/fakes/gcp-logging.js';
import { AckRecorder, ControlledStream, metricValue, sinkContext, streamOf } from '../../../test/fakes/sink-harness.js';
import { REDACTED, redactSecrets } from '../shared/schemas.js';
import { gcpStackdriverLogsSinkSchema } from './schema.js';
import { severityName } from './severity.js';
import { GcpStackdriverLogsSink } from './sink.js';

const fastRetries = { retry_initial_backoff_secs: 0.01, retry_max_duration_secs: 0.05 };
const EMAIL = 'sluice-writer@my-project.iam.gserviceaccount.com';
const account = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const dir = mkdtempSync(join(tmpdir(), 'sluice-gcp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A service-account key file as the Google Cloud console writes it, pointing at the fake's token endpoint. */
function keyFile(tokenUri: string, privateKey = account.privateKey, name = 'key.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ type: 'service_account', project_id: 'my-project', private_key_id: 'abc123', private_key: privateKey, client_email: EMAIL, token_uri: tokenUri }));
  return path;
}

function event(message: string, extra: Record<string, unknown> = {}) {
  return {
    message,
    timestamp: '2026-11-24T10:00:01.123456789Z',
    stream: 'stdout',
    level: 'warn',
    kubernetes: { pod_namespace: 'shop', pod_name: 'web-7d9f', container_name: 'nginx' },
    ...extra,
  };
}

const k8sResource = { type: 'k8s_container', location: 'europe-west1', cluster_name: 'prod' };

test('severity mapping: numbers rounded to the hundred, names and prefixes, case ignored', () => {
  assert.equal(severityName(0), 'DEFAULT');
  assert.equal(severityName(250), 'INFO');
  assert.equal(severityName('500'), 'ERROR');
  assert.equal(severityName(950), 'EMERGENCY');
  assert.equal(severityName('emergency'), 'EMERGENCY');
  assert.equal(severityName('FATAL'), 'EMERGENCY');
  assert.equal(severityName('Alert'), 'ALERT');
  assert.equal(severityName('critical'), 'CRITICAL');
  assert.equal(severityName('err'), 'ERROR');
  assert.equal(severityName('Warning'), 'WARNING');
  assert.equal(severityName('notice'), 'NOTICE');
  assert.equal(severityName('information'), 'INFO');
  assert.equal(severityName('trace'), 'DEBUG');
  assert.equal(severityName('verbose'), undefined);
  assert.equal(severityName(-1), undefined);
  assert.equal(severityName(null), undefined);
});

test('gcp_stackdriver_logs schema: exactly one parent, api_key or credentials, secrets redacted', () => {
  const base = { log_id: 'x', resource: { type: 'global' } };
  assert.equal(gcpStackdriverLogsSinkSchema.safeParse(base).success, false, 'no parent');
  assert.equal(gcpStackdriverLogsSinkSchema.safeParse({ ...base, project_id: 'p', folder_id: 'f' }).success, false, 'two parents');
  assert.equal(gcpStackdriverLogsSinkSchema.safeParse({ ...base, project_id: 'p', api_key: 'k', credentials_path: keyFile('http://x') }).success, false);
  assert.equal(gcpStackdriverLogsSinkSchema.safeParse({ ...base, project_id: 'p', resource: { type: 'global', zone: '{{ oops' } }).success, false, 'resource labels are templates');
  assert.equal(gcpStackdriverLogsSinkSchema.parse({ ...base, folder_id: 'f' }).endpoint, 'https://logging.googleapis.com');
  assert.deepEqual(redactSecrets({ api_key: 'AIzaSecret' }), { api_key: REDACTED });
});

describe('gcp_stackdriver_logs with a service-account key', () => {
  let gcp: FakeGcpLogging;
  let credentials_path: string;
  before(async () => {
    gcp = await new FakeGcpLogging({ serviceAccount: { clientEmail: EMAIL, publicKeyPem: account.publicKey } }).start();
    credentials_path = keyFile(gcp.tokenUri);
  });
  after(() => gcp.close());

  function build(options: Record<string, unknown>, logLines?: string[]) {
    const ctx = sinkContext('gcp', 'gcp_stackdriver_logs', logLines);
    const config = gcpStackdriverLogsSinkSchema.parse({ project_id: 'my-project', log_id: '{{ kubernetes.pod_namespace }}', resource: k8sResource, endpoint: gcp.url, credentials_path, ...options });
    return { sink: new GcpStackdriverLogsSink(config, ctx, {}), ctx };
  }

  test('entries:write with the documented body: logName, k8s_container resource from Kubernetes fields, jsonPayload, timestamp, severity, labels; a JWT-bearer token', async () => {
    const acks = new AckRecorder();
    const { sink } = build({ severity_key: 'level', labels: { app: '{{ kubernetes.pod_name }}' } });
    await sink.healthcheck();
    await sink.run(streamOf(acks.events([event('GET / 200'), event('boom', { level: 3, kubernetes: { pod_namespace: 'pay/v2', pod_name: 'api-1', container_name: 'app' } })])));
    assert.equal(acks.count('delivered'), 2);
    const write = gcp.receiver.requests.filter((r) => r.url === '/v2/entries:write').at(-1)!;
    assert.equal(write.headers['content-type'], 'application/json');
    assert.equal(write.headers.authorization, `Bearer ${gcp.issued[0]!.token}`);
    const body = JSON.parse(write.body) as { partialSuccess: boolean; entries: Entry[] };
    assert.equal(body.partialSuccess, true);
    assert.deepEqual(body.entries[0], {
      logName: 'projects/my-project/logs/shop',
      resource: { type: 'k8s_container', labels: { project_id: 'my-project', namespace_name: 'shop', pod_name: 'web-7d9f', container_name: 'nginx', location: 'europe-west1', cluster_name: 'prod' } },
      severity: 'WARNING',
      jsonPayload: { message: 'GET / 200', timestamp: '2026-11-24T10:00:01.123456789Z', stream: 'stdout', kubernetes: event('').kubernetes },
      timestamp: '2026-11-24T10:00:01.123456789Z',
      labels: { app: 'web-7d9f' },
    });
    assert.equal(body.entries[1]!.logName, 'projects/my-project/logs/pay%2Fv2', 'the log id is URL-encoded');
    assert.equal(body.entries[1]!.severity, 'DEFAULT', 'severity 3 rounds down to 0');
    assert.equal(gcp.entries.length, 2);
    assert.equal(gcp.assertions.length, 1, 'one token for the healthcheck and the write: cached');
    const claims = gcp.assertions[0]!;
    assert.equal(claims.iss, EMAIL);
    assert.equal(claims.aud, gcp.tokenUri);
    assert.equal(claims.scope, 'https://www.googleapis.com/auth/logging.write');
    assert.deepEqual(gcp.refusals, []);
  });

  test('text codec: textPayload; no severity_key: no severity (DEFAULT); a static resource', async () => {
    const before = gcp.entries.length;
    const acks = new AckRecorder();
    await build({ encoding: { codec: 'text' }, log_id: 'sluice', resource: { type: 'global', project_id: 'my-project' } }).sink.run(streamOf(acks.events([event('plain')])));
    assert.equal(acks.count('delivered'), 1);
    assert.deepEqual(gcp.entries.slice(before), [{ logName: 'projects/my-project/logs/sluice', resource: { type: 'global', labels: { project_id: 'my-project' } }, textPayload: 'plain', timestamp: '2026-11-24T10:00:01.123456789Z' }]);
  });

  test('partial failure: entries Cloud Logging refuses are rejected and counted, the others delivered once', async () => {
    const before = gcp.entries.length;
    const acks = new AckRecorder();
    const lines: string[] = [];
    const { sink, ctx } = build({ log_id: '{{ app }}', request: fastRetries }, lines);
    await sink.run(streamOf(acks.events([event('ok 1', { app: 'web' }), event('bad', { app: 'not a valid id!' }), event('ok 2', { app: 'web' })])));
    assert.deepEqual(acks.statuses, ['delivered', 'rejected', 'delivered']);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'invalid_entry' }), 1);
    assert.deepEqual(gcp.entries.slice(before).map((e) => (e.jsonPayload as { message: string }).message), ['ok 1', 'ok 2']);
    assert.match(lines.join('\n'), /refused 1 of 3 entries \(entry 1: code 3: log id/);
    assert.equal(gcp.receiver.requests.filter((r) => r.url === '/v2/entries:write' && r.status === 400).length, 1, 'not retried');
  });

  test('a revoked token: the 401 fetches a new one and the batch goes through; short-lived tokens are renewed before they expire', async () => {
    const acks = new AckRecorder();
    const { sink, ctx } = build({ request: fastRetries });
    const input = new ControlledStream();
    const running = sink.run(input);
    input.push(acks.events([event('one')]));
    await acks.waitForSettled(1);
    gcp.revoke(gcp.issued.at(-1)!.token);
    const issued = gcp.issued.length;
    input.push(acks.events([event('two')]));
    await acks.waitForSettled(2);
    input.end();
    await running;
    assert.equal(acks.count('delivered'), 2);
    assert.equal(gcp.issued.length, issued + 1, 'a new token after the 401');
    assert.equal(await metricValue(ctx.registry, 'sluice_sink_retries_total', { reason: 'http_401' }), 1);

    const shortLived = await new FakeGcpLogging({ serviceAccount: { clientEmail: EMAIL, publicKeyPem: account.publicKey }, tokenLifetimeSecs: 120 }).start();
    try {
      const config = gcpStackdriverLogsSinkSchema.parse({ project_id: 'p', log_id: 'x', resource: { type: 'global' }, endpoint: shortLived.url, credentials_path: keyFile(shortLived.tokenUri, account.privateKey, 'short.json') });
      const sink2 = new GcpStackdriverLogsSink(config, sinkContext(), {});
      await sink2.healthcheck();
      const more = new AckRecorder();
      await sink2.run(streamOf(more.events([event('a')])));
      assert.equal(more.count('delivered'), 1);
      assert.equal(shortLived.assertions.length, 2, 'a token within 5 minutes of expiry is renewed before use');
    } finally {
      await shortLived.close();
    }
  });

  test('429 and 503 are retried; 403 and a 400 without per-entry errors are rejected for good', async () => {
    const throttled = await new FakeGcpLogging({ serviceAccount: { clientEmail: EMAIL, publicKeyPem: account.publicKey }, throttleWrites: 2 }).start();
    try {
      const acks = new AckRecorder();
      const ctx = sinkContext('gcp', 'gcp_stackdriver_logs');
      const config = gcpStackdriverLogsSinkSchema.parse({ project_id: 'p', log_id: 'x', resource: { type: 'global' }, endpoint: throttled.url, credentials_path: keyFile(throttled.tokenUri, account.privateKey, 't.json'), request: fastRetries });
      const sink = new GcpStackdriverLogsSink(config, ctx, {});
      await sink.run(streamOf(acks.events([event('throttled')])));
      assert.equal(acks.count('delivered'), 1);
      assert.equal(await metricValue(ctx.registry, 'sluice_sink_retries_total', { reason: 'http_429' }), 2);
      assert.equal(throttled.entries.length, 1, 'once');
    } finally {
      await throttled.close();
    }
    // Retry-After: 0 replaces a backoff that would otherwise wait up to 10 minutes.
    const slow = build({ request: { retry_initial_backoff_secs: 600, retry_max_duration_secs: 600 } });
    await slow.sink.healthcheck(); // the token is fetched: the scripted answer goes to the write
    gcp.receiver.script({ kind: 'answer', status: 503, body: '{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}', headers: { 'retry-after': '0' } });
    const busy = new AckRecorder();
    await slow.sink.run(streamOf(busy.events([event('busy')])));
    assert.equal(busy.count('delivered'), 1);
    assert.equal(await metricValue(slow.ctx.registry, 'sluice_sink_retries_total', { reason: 'http_5xx' }), 1);

    for (const [status, body] of [
      [403, '{"error":{"code":403,"message":"Permission \'logging.logEntries.create\' denied on resource","status":"PERMISSION_DENIED"}}'],
      [400, '{"error":{"code":400,"message":"Invalid JSON payload received.","status":"INVALID_ARGUMENT"}}'],
    ] as const) {
      const lines: string[] = [];
      const { sink, ctx } = build({ request: fastRetries }, lines);
      await sink.healthcheck();
      gcp.receiver.script({ kind: 'answer', status, body });
      const refused = new AckRecorder();
      await sink.run(streamOf(refused.events([event('refused')])));
      assert.equal(refused.count('rejected'), 1, `HTTP ${status}`);
      assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'http_4xx' }), 1);
      assert.match(lines.join('\n'), new RegExp(`HTTP ${status}: .*${status === 403 ? 'PERMISSION_DENIED' : 'INVALID_ARGUMENT'}`));
    }
  });

  test('a key the token endpoint refuses: healthcheck fails, events rejected (auth_failed), the key never logged', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const lines: string[] = [];
    const { sink, ctx } = build({ credentials_path: keyFile(gcp.tokenUri, other.privateKey, 'wrong.json'), request: fastRetries }, lines);
    await assert.rejects(sink.healthcheck(), /HTTP 400.*Invalid JWT Signature/);
    const acks = new AckRecorder();
    await sink.run(streamOf(acks.events([event('x')])));
    assert.equal(acks.count('rejected'), 1);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'auth_failed' }), 1);
    const secretLine = other.privateKey.split('\n')[1]!;
    assert.ok(!lines.join('\n').includes(secretLine));
    assert.ok(gcp.refusals.includes('Invalid JWT Signature.'));
  });
});

describe('gcp_stackdriver_logs with Workload Identity (metadata server) and with an API key', () => {
  let gcp: FakeGcpLogging;
  before(async () => {
    gcp = await new FakeGcpLogging({ metadata: true, apiKey: 'AIzaFakeApiKey0123' }).start();
  });
  after(() => gcp.close());

  test('the token comes from GCE_METADATA_HOST with Metadata-Flavor: Google', async () => {
    const acks = new AckRecorder();
    const config = gcpStackdriverLogsSinkSchema.parse({ project_id: 'p', log_id: 'wi', resource: k8sResource, endpoint: gcp.url });
    const sink = new GcpStackdriverLogsSink(config, sinkContext(), { GCE_METADATA_HOST: new URL(gcp.url).host });
    await sink.healthcheck();
    await sink.run(streamOf(acks.events([event('workload identity')])));
    assert.equal(acks.count('delivered'), 1);
    assert.deepEqual(gcp.issued.map((i) => i.via), ['metadata']);
    const asked = gcp.receiver.requests.find((r) => r.url === '/computeMetadata/v1/instance/service-account/default/token')!;
    assert.equal(asked.headers['metadata-flavor'], 'Google');
    // The fake refuses what the real metadata server refuses.
    const bare = await fetch(`${gcp.url}/computeMetadata/v1/instance/service-account/default/token`);
    assert.equal(bare.status, 403);
  });

  test('an unreachable metadata server: the healthcheck says so, batches are retried (auth_unavailable) until the retry budget is spent', async () => {
    const lines: string[] = [];
    const ctx = sinkContext('gcp', 'gcp_stackdriver_logs', lines);
    const config = gcpStackdriverLogsSinkSchema.parse({ project_id: 'p', log_id: 'wi', resource: { type: 'global' }, endpoint: gcp.url, request: { ...fastRetries, retry_attempts: 2 } });
    const sink = new GcpStackdriverLogsSink(config, ctx, { GCE_METADATA_HOST: '127.0.0.1:1' });
    await assert.rejects(sink.healthcheck(), /healthcheck: token request to metadata server 127\.0\.0\.1:1 failed/);
    const acks = new AckRecorder();
    await sink.run(streamOf(acks.events([event('no token')])));
    assert.equal(acks.count('rejected'), 1);
    assert.equal(await metricValue(ctx.registry, 'sluice_sink_retries_total', { reason: 'auth_unavailable' }), 2);
    assert.equal(await metricValue(ctx.registry, 'sluice_component_discarded_events_total', { reason: 'retries_exhausted' }), 1);
  });

  test('api_key: sent as x-goog-api-key, no token asked, never logged', async () => {
    const issued = gcp.issued.length;
    const lines: string[] = [];
    const acks = new AckRecorder();
    const config = gcpStackdriverLogsSinkSchema.parse({ project_id: 'p', log_id: 'k', resource: { type: 'global' }, endpoint: gcp.url, api_key: 'AIzaFakeApiKey0123' });
    await new GcpStackdriverLogsSink(config, sinkContext('gcp', 'gcp_stackdriver_logs', lines), {}).run(streamOf(acks.events([event('keyed')])));
    assert.equal(acks.count('delivered'), 1);
    assert.equal(gcp.issued.length, issued);
    assert.equal(gcp.receiver.requests.at(-1)!.headers['x-goog-api-key'], 'AIzaFakeApiKey0123');
    assert.ok(!lines.join('\n').includes('AIzaFakeApiKey0123'));

    const wrong = new AckRecorder();
    const bad = gcpStackdriverLogsSinkSchema.parse({ project_id: 'p', log_id: 'k', resource: { type: 'global' }, endpoint: gcp.url, api_key: 'AIzaWrong' });
    await new GcpStackdriverLogsSink(bad, sinkContext(), {}).run(streamOf(wrong.events([event('x')])));
    assert.equal(wrong.count('rejected'), 1, '401 with an API key is not a stale token: rejected');
  });
});
