import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { LogEvent } from '../../core/event.js';
import { Finalizer, type FinalizerOutcome } from '../../core/finalizer.js';
import { registerSource } from '../../core/registry.js';
import { sourceOutcomes, startTopology, waitUntil } from '../../../test/harness.js';
import { addStream, NatsServer, readStream } from '../../../test/nats-server.js';
import { natsSinkSchema } from './schema.js';
import { NatsSink } from './sink.js';
import { silentLogger } from '../../../test/harness.js';
import { MetricsRegistry } from '../../core/metrics.js';
import { createTestPki } from '../../../test/fakes/tls.js';
import './index.js';

/** Test source: emits `count` numbered events in batches; pauses after `pause_after` until `gates` releases it. */
const gates = new Map<string, { release: () => void; opened: Promise<void> }>();
const gateOutcomes = new Map<string, FinalizerOutcome[]>();
registerSource({
  type: 'test_nats_gate',
  description: 'Test only: numbered events, paused half way until the test releases it.',
  schema: z.strictObject({ count: z.number().int(), pause_after: z.number().int(), batch_size: z.number().int().default(10), kind: z.string() }),
  build(config, ctx) {
    let release!: () => void;
    const opened = new Promise<void>((resolve) => (release = resolve));
    gates.set(ctx.id, { release, opened });
    const outcomes: FinalizerOutcome[] = [];
    gateOutcomes.set(ctx.id, outcomes);
    return {
      async run({ out }) {
        for (let n = 0; n < config.count; n += config.batch_size) {
          if (n === config.pause_after) await opened;
          const size = Math.min(config.batch_size, config.count - n);
          const finalizer = new Finalizer(size, (outcome) => outcomes.push(outcome));
          const events = Array.from({ length: size }, (_, i) => new LogEvent({ message: `event ${n + i}`, seq: n + i, kind: config.kind }, finalizer));
          await out.send(events);
        }
      },
    };
  },
});

const fastRetries = { retry_initial_backoff_secs: 0.05, retry_max_duration_secs: 0.5, timeout_secs: 2 };

describe('nats sink (JetStream, real nats-server)', () => {
  const server = new NatsServer();
  before(async () => {
    await server.start();
    const nc = await server.client();
    await addStream(nc, 'LOGS', ['logs.>']);
    await addStream(nc, 'RESTART', ['restart.>']);
    await nc.close();
  });
  after(() => server.close());

  it('publishes every event once, on its rendered subject, and acks the source only after the PubAcks', async () => {
    const running = await startTopology({
      sources: { gen: { type: 'test_counter', count: 250, batch_size: 25, extra: { kind: 'app' } } },
      sinks: {
        out: { type: 'nats', inputs: ['gen'], url: server.url, subject: 'logs.{{ kind }}.x', batch: { max_events: 40, timeout_secs: 0.05 }, request: fastRetries },
      },
    });
    try {
      await waitUntil(() => sourceOutcomes.get('gen')!.length === 10, 10_000, 'acks of the 10 source batches');
      assert.deepEqual(sourceOutcomes.get('gen'), Array.from({ length: 10 }, () => ({ rejected: 0 })));
      const nc = await server.client();
      const stored = await readStream(nc, 'LOGS');
      await nc.close();
      assert.equal(stored.length, 250);
      assert.ok(stored.every((m) => m.subject === 'logs.app.x'), 'rendered subject');
      const seqs = stored.map((m) => (JSON.parse(m.data) as { seq: number }).seq).sort((a, b) => a - b);
      assert.deepEqual(seqs, Array.from({ length: 250 }, (_, i) => i));
    } finally {
      await running.stop();
    }
  });

  it('loses nothing and stores nothing twice across a server restart (kill -9, same port and store)', async () => {
    const running = await startTopology({
      sources: { gate: { type: 'test_nats_gate', count: 600, pause_after: 200, kind: 'r' } },
      sinks: {
        out: { type: 'nats', inputs: ['gate'], url: server.url, subject: 'restart.{{ kind }}', batch: { max_events: 20, timeout_secs: 0.05 }, request: { ...fastRetries, concurrency: 4 } },
      },
    });
    try {
      const outcomes = gateOutcomes.get('gate')!;
      await waitUntil(() => outcomes.length === 20, 10_000, 'first 200 events acknowledged');
      await server.kill('SIGKILL');
      // The rest is published to a dead server: the sink retries until it is back.
      gates.get('gate')!.release();
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.ok(outcomes.length < 60, 'nothing acked while the server is down');
      await server.start();
      await waitUntil(() => outcomes.length === 60, 30_000, 'all 60 source batches acknowledged');
      assert.ok(outcomes.every((o) => o.rejected === 0));
      const nc = await server.client();
      const stored = await readStream(nc, 'RESTART');
      await nc.close();
      const seqs = stored.map((m) => (JSON.parse(m.data) as { seq: number }).seq).sort((a, b) => a - b);
      assert.deepEqual(seqs, Array.from({ length: 600 }, (_, i) => i), 'each event stored exactly once');
    } finally {
      await running.stop();
    }
  });

  it('healthcheck: says no stream captures the subject; passes once one does', async () => {
    const config = natsSinkSchema.parse({ url: server.url, subject: 'nostream.here', request: { timeout_secs: 2 } });
    const sink = new NatsSink(config, { id: 'hc', logger: silentLogger, metrics: new MetricsRegistry().forComponent('sink', 'hc', 'nats'), dataDir: '' });
    await assert.rejects(sink.healthcheck(), /no JetStream stream on nats:\/\/127\.0\.0\.1:\d+ captures subject "nostream\.here"/);
    const nc = await server.client();
    await addStream(nc, 'NOSTREAM', ['nostream.>']);
    await nc.close();
    await sink.healthcheck();
  });

  it('healthcheck: names the server it cannot reach', async () => {
    const config = natsSinkSchema.parse({ url: 'nats://127.0.0.1:1', subject: 'a', request: { timeout_secs: 2 } });
    const sink = new NatsSink(config, { id: 'hc2', logger: silentLogger, metrics: new MetricsRegistry().forComponent('sink', 'hc2', 'nats'), dataDir: '' });
    await assert.rejects(sink.healthcheck(), /cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
  });

  it('config: refuses credentials in the URL and a non-NATS scheme', () => {
    assert.throws(() => natsSinkSchema.parse({ url: 'nats://u:p@h:4222', subject: 'a' }), /without credentials/);
    assert.throws(() => natsSinkSchema.parse({ url: 'http://h:4222', subject: 'a' }), /expected nats:\/\//);
  });
});

describe('nats sink: TLS and user/password against a real nats-server', () => {
  const pki = createTestPki();
  const server = new NatsServer(
    ['--tls', '--tlscert', `${pki.dir}/server.crt`, '--tlskey', `${pki.dir}/server.key`, '--user', 'sluice', '--pass', 's3cret'],
    { user: 'sluice', pass: 's3cret', tls: { ca: pki.ca.toString() } },
  );
  before(async () => {
    await server.start();
    const nc = await server.client();
    await addStream(nc, 'SECURE', ['secure.>']);
    await nc.close();
  });
  after(async () => {
    await server.close();
    pki.cleanup();
  });
  const sinkWith = (extra: Record<string, unknown>) =>
    new NatsSink(natsSinkSchema.parse({ url: server.url, subject: 'secure.x', request: { timeout_secs: 2 }, ...extra }), {
      id: 'tls',
      logger: silentLogger,
      metrics: new MetricsRegistry().forComponent('sink', 'tls', 'nats'),
      dataDir: '',
    });

  it('publishes over TLS with user/password; the stream holds the events', async () => {
    const running = await startTopology({
      sources: { gen_tls: { type: 'test_counter', count: 20, batch_size: 10 } },
      sinks: {
        out: {
          type: 'nats', inputs: ['gen_tls'], url: server.url, subject: 'secure.x', request: fastRetries,
          tls: { ca_file: pki.caFile }, auth: { strategy: 'user_password', user: 'sluice', password: 's3cret' },
        },
      },
    });
    try {
      await waitUntil(() => sourceOutcomes.get('gen_tls')!.length === 2, 10_000, 'acks');
      assert.deepEqual(sourceOutcomes.get('gen_tls'), [{ rejected: 0 }, { rejected: 0 }]);
      const nc = await server.client();
      const stored = await readStream(nc, 'SECURE');
      await nc.close();
      assert.equal(stored.length, 20);
    } finally {
      await running.stop();
    }
  });

  it('healthcheck fails on a wrong password and on an untrusted CA, passes with both right', async () => {
    await assert.rejects(sinkWith({ tls: { ca_file: pki.caFile }, auth: { strategy: 'user_password', user: 'sluice', password: 'wrong' } }).healthcheck(), /cannot connect to NATS/);
    await assert.rejects(sinkWith({ tls: { ca_file: pki.otherCaFile }, auth: { strategy: 'user_password', user: 'sluice', password: 's3cret' } }).healthcheck(), /cannot connect to NATS/);
    await sinkWith({ tls: { ca_file: pki.caFile }, auth: { strategy: 'user_password', user: 'sluice', password: 's3cret' } }).healthcheck();
  });
});
