// auth.strategy nkey and credentials_file against a real nats-server configured for each, for the
// nats sink (publish) and the nats source (durable consumer).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { credsAuthenticator, nkeyAuthenticator } from 'nats';
import { collector, silentLogger, sourceOutcomes, startTopology, tempDir, waitUntil } from '../../../test/harness.js';
import { nkeyServerConfig, operatorServerConfig } from '../../../test/nats-auth.js';
import { addStream, NatsServer, readStream } from '../../../test/nats-server.js';
import { MetricsRegistry } from '../../core/metrics.js';
import { natsSourceSchema } from '../../sources/nats/config.js';
import { natsSinkSchema } from './schema.js';
import { NatsSink } from './sink.js';

const fastRetries = { retry_initial_backoff_secs: 0.05, retry_max_duration_secs: 0.5, timeout_secs: 2 };
const dir = tempDir('sluice-nats-auth-');
after(() => dir.cleanup());

function sinkWith(url: string, auth: Record<string, unknown>, subject: string): NatsSink {
  return new NatsSink(natsSinkSchema.parse({ url, subject, request: { timeout_secs: 2 }, auth }), {
    id: 'auth',
    logger: silentLogger,
    metrics: new MetricsRegistry().forComponent('sink', 'auth', 'nats'),
    dataDir: '',
  });
}

/** gen -> nats sink (auth) -> stream; then nats source (auth) -> collector: both directions logged in. */
async function roundTrip(server: NatsServer, name: string, auth: Record<string, unknown>): Promise<void> {
  const subject = `${name}.x`;
  const nc = await server.client();
  await addStream(nc, name.toUpperCase(), [`${name}.>`]);
  const out = await startTopology({
    sources: { [`gen_${name}`]: { type: 'test_counter', count: 30, batch_size: 10 } },
    sinks: { out: { type: 'nats', inputs: [`gen_${name}`], url: server.url, subject, request: fastRetries, auth } },
  });
  try {
    await waitUntil(() => sourceOutcomes.get(`gen_${name}`)!.length === 3, 15_000, 'publishes acknowledged');
    assert.deepEqual(sourceOutcomes.get(`gen_${name}`), [{ rejected: 0 }, { rejected: 0 }, { rejected: 0 }]);
  } finally {
    await out.stop();
  }
  assert.equal((await readStream(nc, name.toUpperCase())).length, 30);
  await nc.close();
  const back = await startTopology({
    sources: { in: { type: 'nats', url: server.url, stream: name.toUpperCase(), durable_name: `sluice-${name}`, auth } },
    sinks: { got: { type: 'test_collect', inputs: ['in'], name: `auth-${name}` } },
  });
  try {
    await collector(`auth-${name}`).waitFor(30, 15_000);
    assert.equal(new Set(collector(`auth-${name}`).messages).size, 30);
  } finally {
    await back.stop();
  }
}

describe('nats auth.strategy = "nkey" (real nats-server with an nkey user)', () => {
  const { configFile, seed, otherSeed } = nkeyServerConfig(dir.path);
  const server = new NatsServer(['-c', configFile], { authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)) });
  before(() => server.start());
  after(() => server.close());

  it('the sink publishes and the source consumes, logged in with the seed', async () => {
    await roundTrip(server, 'nkey', { strategy: 'nkey', seed });
  });

  it('another user\'s seed is refused at the healthcheck', async () => {
    const nc = await server.client();
    await addStream(nc, 'NKEYHC', ['nkeyhc.>']);
    await nc.close();
    await assert.rejects(sinkWith(server.url, { strategy: 'nkey', seed: otherSeed }, 'nkeyhc.x').healthcheck(), /cannot connect to NATS.*(Authorization Violation|authorization)/i);
    await sinkWith(server.url, { strategy: 'nkey', seed }, 'nkeyhc.x').healthcheck();
  });

  it('config: a seed that is not a user nkey seed is refused when the config loads, without echoing it', () => {
    const bad = natsSinkSchema.safeParse({ url: server.url, subject: 'a', auth: { strategy: 'nkey', seed: 'SUnotaseed' } });
    assert.equal(bad.success, false);
    assert.match(JSON.stringify(bad.error!.issues), /user NKey seed/);
    assert.doesNotMatch(JSON.stringify(bad.error!.issues), /SUnotaseed/);
    const publicKey = natsSourceSchema.safeParse({ url: server.url, stream: 'S', durable_name: 'd', auth: { strategy: 'nkey', seed: 'U' + seed.slice(2) } });
    assert.equal(publicKey.success, false);
  });
});

describe('nats auth.strategy = "credentials_file" (real nats-server in operator mode)', () => {
  const { configFile, credsFile, foreignCredsFile } = operatorServerConfig(dir.path);
  const server = new NatsServer(['-c', configFile], { authenticator: credsAuthenticator(new Uint8Array(readFileSync(credsFile))) });
  before(() => server.start());
  after(() => server.close());

  it('the sink publishes and the source consumes with a .creds file (JWT + seed)', async () => {
    await roundTrip(server, 'creds', { strategy: 'credentials_file', path: credsFile });
  });

  it('credentials of an account the server does not trust are refused at the healthcheck', async () => {
    const nc = await server.client();
    await addStream(nc, 'CREDSHC', ['credshc.>']);
    await nc.close();
    await assert.rejects(sinkWith(server.url, { strategy: 'credentials_file', path: foreignCredsFile }, 'credshc.x').healthcheck(), /cannot connect to NATS/);
    await sinkWith(server.url, { strategy: 'credentials_file', path: credsFile }, 'credshc.x').healthcheck();
  });

  it('config: a credentials file that cannot be read fails when the config loads, naming the path', () => {
    const missing = `${dir.path}/nope.creds`;
    const result = natsSinkSchema.safeParse({ url: server.url, subject: 'a', auth: { strategy: 'credentials_file', path: missing } });
    assert.equal(result.success, false);
    assert.match(JSON.stringify(result.error!.issues), /nope\.creds/);
  });
});
