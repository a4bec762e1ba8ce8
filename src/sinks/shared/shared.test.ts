import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { awsCloudwatchLogsSinkSchema } from '../aws_cloudwatch_logs/schema.js';
import { awsS3SinkSchema } from '../aws_s3/schema.js';
import { gcpStackdriverLogsSinkSchema } from '../gcp_stackdriver_logs/schema.js';
import { elasticsearchSinkSchema } from '../elasticsearch/schema.js';
import { httpSinkSchema } from '../http/schema.js';
import { lokiSinkSchema } from '../loki/schema.js';
import { ConcurrencyLimit } from './concurrency.js';
import { EventRejected } from './driver.js';
import { redactUrl } from './http-client.js';
import { omitPaths } from './omit.js';
import { Backoff, parseRetryAfter } from './retry.js';
import { REDACTED, redactSecrets, SECRET_OPTION_NAMES } from './schemas.js';
import { strftime } from './strftime.js';
import { EventTemplate } from './templating.js';
import { parsePath } from '../../core/event.js';

const sinkSchemas = { http: httpSinkSchema, elasticsearch: elasticsearchSinkSchema, loki: lokiSinkSchema, aws_s3: awsS3SinkSchema, aws_cloudwatch_logs: awsCloudwatchLogsSinkSchema, gcp_stackdriver_logs: gcpStackdriverLogsSinkSchema };

/** Property names whose JSON Schema carries `secret: true`, anywhere in the tree. */
function secretKeys(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const child of node) secretKeys(child, found);
  else if (node && typeof node === 'object') {
    const properties = (node as { properties?: Record<string, { secret?: boolean }> }).properties;
    if (properties) for (const [key, value] of Object.entries(properties)) if (value.secret) found.add(key);
    for (const child of Object.values(node)) secretKeys(child, found);
  }
  return found;
}

test('every option marked secret is one that redactSecrets blanks, and the schemas mark them', () => {
  const all = new Set<string>();
  for (const [type, schema] of Object.entries(sinkSchemas)) {
    for (const key of secretKeys(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }))) {
      assert.ok(SECRET_OPTION_NAMES.has(key), `${type}: secret option "${key}" is not redacted`);
      all.add(key);
    }
  }
  assert.deepEqual([...all].sort(), ['api_key', 'key_pass', 'password', 'secret_access_key', 'session_token', 'token']);
});

test('redactSecrets blanks secrets at any depth and leaves the rest', () => {
  const config = {
    sinks: { es: { type: 'elasticsearch', auth: { strategy: 'basic', user: 'elastic', password: 'hunter2' }, tls: { key_pass: 'pp' } } },
    list: [{ token: 't' }],
    http: { headers: { 'X-Api-Key': 'k1', Authorization: 'Bearer b', 'x-team': 'logs' }, request: { headers: { 'x-auth-token': 'k2' } } },
  };
  const redacted = redactSecrets(config);
  assert.equal(redacted.sinks.es.auth.password, REDACTED);
  assert.equal(redacted.sinks.es.auth.user, 'elastic');
  assert.equal(redacted.sinks.es.tls.key_pass, REDACTED);
  assert.equal(redacted.list[0]!.token, REDACTED);
  assert.equal(config.sinks.es.auth.password, 'hunter2', 'the original is untouched');
  assert.deepEqual(redacted.http.headers, { 'X-Api-Key': REDACTED, Authorization: REDACTED, 'x-team': 'logs' });
  assert.equal(redacted.http.request.headers['x-auth-token'], REDACTED);
  assert.ok(!JSON.stringify(redacted).includes('hunter2'));
});

test('endpoints with credentials in the URL are refused at config load', () => {
  const es = elasticsearchSinkSchema.safeParse({ endpoints: ['https://elastic:pw@es:9200'] });
  assert.equal(es.success, false);
  assert.match(JSON.stringify(es.error?.issues), /credentials in the URL are not allowed/);
  assert.equal(lokiSinkSchema.safeParse({ endpoint: 'http://u:p@loki:3100', labels: { a: 'b' } }).success, false);
  assert.equal(httpSinkSchema.safeParse({ uri: 'https://u:p@h/{{ x }}' }).success, false);
  assert.equal(httpSinkSchema.safeParse({ uri: 'https://h/path/{{ user }}@x' }).success, true);
  assert.equal(awsS3SinkSchema.safeParse({ bucket: 'b', endpoint: 'http://minio:9000' }).success, true);
});

test('redactUrl hides user info and query strings', () => {
  assert.equal(redactUrl('https://user:pw@es:9200/_bulk?token=abc'), 'https://redacted@es:9200/_bulk?redacted');
  assert.equal(redactUrl('http://loki:3100/ready'), 'http://loki:3100/ready');
});

test('backoff doubles up to the cap, full jitter scales it, Retry-After wins', () => {
  const none = new Backoff({ retry_initial_backoff_secs: 1, retry_max_duration_secs: 5, retry_jitter_mode: 'none' });
  assert.deepEqual([1, 2, 3, 4, 5].map(() => none.nextDelayMs()), [1000, 2000, 4000, 5000, 5000]);
  const full = new Backoff({ retry_initial_backoff_secs: 1, retry_max_duration_secs: 5, retry_jitter_mode: 'full' }, () => 0.5);
  assert.deepEqual([full.nextDelayMs(), full.nextDelayMs()], [500, 1000]);
  assert.equal(full.nextDelayMs(7000), 7000);
  assert.equal(full.nextDelayMs(24 * 3600 * 1000), 5 * 60 * 1000, 'absurd Retry-After capped');
});

test('Retry-After as seconds or HTTP date', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
});

test('adaptive concurrency grows while saturated and halves on push-back; fixed stays fixed', () => {
  const adaptive = new ConcurrencyLimit('adaptive', 4);
  assert.equal(adaptive.current, 1);
  for (let round = 0; round < 6; round++) {
    while (adaptive.tryAcquire());
    adaptive.observe(false);
    while (adaptive.inFlight > 0) adaptive.release();
  }
  assert.equal(adaptive.current, 4, 'capped by adaptive_max_concurrency');
  adaptive.observe(true);
  assert.equal(adaptive.current, 2);
  const fixed = new ConcurrencyLimit(3, 64);
  fixed.observe(true);
  assert.equal(fixed.current, 3);
  assert.ok(fixed.tryAcquire() && fixed.tryAcquire() && fixed.tryAcquire() && !fixed.tryAcquire());
});

test('strftime in UTC', () => {
  const date = new Date('2026-02-03T04:05:06.789Z');
  assert.equal(strftime('logs-%Y.%m.%d', date), 'logs-2026.02.03');
  assert.equal(strftime('date=%F/%H%M%S-%j-%y-%T-%%', date), 'date=2026-02-03/040506-034-26-04:05:06-%');
  assert.equal(strftime('%s', date), '1770091506');
});

test('EventTemplate renders dates from the event timestamp and refuses missing fields', () => {
  const template = new EventTemplate('logs-{{ k.ns }}-%Y.%m.%d', 'bulk.index');
  assert.equal(template.render({ k: { ns: 'a' }, timestamp: '2026-11-24T23:59:59.999999999Z' }), 'logs-a-2026.11.24');
  assert.equal(template.render({ k: { ns: 'a' }, timestamp: '2026-11-25T00:00:00Z' }), 'logs-a-2026.11.25');
  assert.equal(template.render({ k: { ns: 'b' }, timestamp: '2026-11-25T01:00:00+02:00' }), 'logs-b-2026.11.24', 'offsets converted to UTC');
  assert.throws(() => template.render({ timestamp: '2026-11-25T00:00:00Z' }), (e: unknown) => e instanceof EventRejected && e.reason === 'template_field_missing');
  assert.throws(() => new EventTemplate('x-%Q', 'bulk.index'), /unsupported strftime directive %Q/);
});

test('omitPaths copies along the path and never changes the original', () => {
  const shared = Object.freeze({ pod: 'p', ns: 'n' });
  const fields = { message: 'm', k: shared, other: { a: 1, b: 2 } };
  const out = omitPaths(fields, [parsePath('k.ns'), parsePath('other.a'), parsePath('missing.x')]);
  assert.deepEqual(out, { message: 'm', k: { pod: 'p' }, other: { b: 2 } });
  assert.deepEqual(fields, { message: 'm', k: { pod: 'p', ns: 'n' }, other: { a: 1, b: 2 } });
});
