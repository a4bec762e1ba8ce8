import assert from 'node:assert/strict';
import { createServer } from 'node:http2';
import { describe, it } from 'node:test';
import type { FinalizerOutcome } from '../../core/finalizer.js';
import { MetricsRegistry } from '../../core/metrics.js';
import { silentLogger, waitUntil } from '../../../test/harness.js';
import { createTestPki } from '../../../test/fakes/tls.js';
import { freePort, makeSink, numberedEvents, startReceiver, streamOf } from '../../../test/sluice-peer.js';
import { EndpointPool } from './endpoints.js';
import { decodeFrames, parseAddress, FRAME_HEADER_BYTES } from './protocol.js';
import { sluiceSinkSchema } from './schema.js';
import { metricValue } from '../../../test/agent-process.js';

const total = (outcomes: FinalizerOutcome[]) => outcomes.length;
const rejectedIn = (outcomes: FinalizerOutcome[]) => outcomes.reduce((sum, o) => sum + o.rejected, 0);

describe('sluice protocol', () => {
  it('frames round-trip through decodeFrames; malformed bodies are refused with the frame named', () => {
    const frames = [{ message: 'héllo ✓', kubernetes: { pod_name: 'a' } }, { message: 'line\nwith "quotes"', n: 1.5, list: [1, null] }].map((fields) => {
      const json = Buffer.from(JSON.stringify(fields));
      const frame = Buffer.alloc(FRAME_HEADER_BYTES + json.length);
      frame.writeUInt32BE(json.length, 0);
      json.copy(frame, FRAME_HEADER_BYTES);
      return frame;
    });
    const body = Buffer.concat(frames);
    assert.deepEqual(decodeFrames(body), [{ message: 'héllo ✓', kubernetes: { pod_name: 'a' } }, { message: 'line\nwith "quotes"', n: 1.5, list: [1, null] }]);
    assert.deepEqual(decodeFrames(Buffer.alloc(0)), []);
    assert.throws(() => decodeFrames(body.subarray(0, body.length - 1)), /frame 1 at byte \d+ declares \d+ bytes/);
    assert.throws(() => decodeFrames(Buffer.concat([body, Buffer.from([0, 0])])), /truncated frame header/);
    const array = Buffer.from('[1]');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(array.length);
    assert.throws(() => decodeFrames(Buffer.concat([header, array])), /frame 0: not a JSON object/);
    assert.throws(() => decodeFrames(Buffer.concat([header, Buffer.from('{x}')])), /frame 0: invalid JSON/);
  });

  it('addresses: host:port, [v6]:port, http(s)://; the port is required, paths and other schemes refused', () => {
    assert.deepEqual(parseAddress('agg.sluice.svc:6000'), { host: 'agg.sluice.svc', port: 6000, tls: undefined });
    assert.deepEqual(parseAddress('https://10.0.0.1:6000'), { host: '10.0.0.1', port: 6000, tls: true });
    assert.deepEqual(parseAddress('http://[::1]:6000/'), { host: '::1', port: 6000, tls: false });
    assert.match(parseAddress('agg') as string, /port is required/);
    assert.match(parseAddress('http://agg:6000/x') as string, /no path/);
    assert.match(parseAddress('grpc://agg:6000') as string, /unsupported scheme/);
    assert.match(parseAddress('agg:70000') as string, /out of range/);
    const bad = sluiceSinkSchema.safeParse({ address: ['a:1', 'b'] });
    assert.equal(bad.success, false);
    assert.match(JSON.stringify(bad.error!.issues), /address \\"b\\": expected host:port/);
    assert.equal(sluiceSinkSchema.parse({ address: 'a:1' }).compression, false);
  });
});

describe('sluice sink -> sluice source (in process)', () => {
  it('delivers every event with its fields, and acks the sender only after the receiver\'s downstream acked', async () => {
    const receiver = await startReceiver();
    receiver.mode = 'hold';
    const { sink } = makeSink({ address: `127.0.0.1:${receiver.port}`, batch: { max_events: 40, timeout_secs: 0.05 } });
    const outcomes: FinalizerOutcome[] = [];
    const running = sink.run(streamOf(numberedEvents(250, 25, outcomes, { kubernetes: Object.freeze({ pod_name: 'p', labels: Object.freeze({ app: 'x' }) }) })));
    try {
      await waitUntil(() => receiver.events.length === 250, 10_000, '250 events at the receiver');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(total(outcomes), 0, 'nothing acknowledged to the sender while the receiver\'s sinks hold the events');
      receiver.release();
      await running;
      assert.equal(total(outcomes), 10);
      assert.equal(rejectedIn(outcomes), 0);
      const seqs = receiver.events.map((e) => e.fields.seq as number).sort((a, b) => a - b);
      assert.deepEqual(seqs, Array.from({ length: 250 }, (_, i) => i));
      assert.deepEqual(receiver.events[0]!.fields.kubernetes, { pod_name: 'p', labels: { app: 'x' } });
    } finally {
      await receiver.stop();
    }
  });

  it('events the receiver\'s sinks reject for good are acked rejected at the sender (counted, not retried)', async () => {
    const receiver = await startReceiver();
    receiver.mode = 'reject';
    const { sink, metrics } = makeSink({ address: `127.0.0.1:${receiver.port}`, batch: { max_events: 10, timeout_secs: 0.05 } });
    const outcomes: FinalizerOutcome[] = [];
    await sink.run(streamOf(numberedEvents(30, 10, outcomes)));
    await receiver.stop();
    assert.deepEqual(outcomes, [{ rejected: 10 }, { rejected: 10 }, { rejected: 10 }]);
    assert.equal(receiver.events.length, 30, 'sent once each');
    assert.equal(metricValue(await metrics.registry.metrics(), 'sluice_component_discarded_events_total', { reason: 'rejected_downstream' }), 30);
  });

  it('gzip: the receiver reads fewer bytes than the frames and decodes the same events', async () => {
    const receiver = await startReceiver();
    const { sink } = makeSink({ address: `http://127.0.0.1:${receiver.port}`, compression: true, batch: { max_events: 100, timeout_secs: 0.05 } });
    const outcomes: FinalizerOutcome[] = [];
    await sink.run(streamOf(numberedEvents(200, 50, outcomes, { padding: 'x'.repeat(200) })));
    await receiver.stop();
    assert.equal(total(outcomes), 4);
    assert.equal(receiver.events.length, 200);
    const read = metricValue(await receiver.metrics.registry.metrics(), 'sluice_component_received_bytes_total', {})!;
    assert.ok(read > 0 && read < 200 * 200, `gzip on the wire: ${read} bytes for 200 events of > 200 bytes`);
  });

  it('a full downstream: a few batches wait for room, the rest get 503 and are sent again; nothing lost', async () => {
    const receiver = await startReceiver();
    receiver.block();
    const { sink } = makeSink({ address: `127.0.0.1:${receiver.port}`, batch: { max_events: 1, timeout_secs: 0.02 }, request: { concurrency: 12, retry_initial_backoff_secs: 0.05, retry_max_duration_secs: 0.1 } });
    const outcomes: FinalizerOutcome[] = [];
    const running = sink.run(streamOf(numberedEvents(30, 1, outcomes)));
    let duringBlock: number;
    try {
      await waitUntil(() => receiver.events.length >= 1, 5000, 'first batch');
      for (const deadline = Date.now() + 5000; ; ) {
        const refused = metricValue(await receiver.metrics.registry.metrics(), 'sluice_component_errors_total', { reason: 'buffer_full' }) ?? 0;
        if (refused >= 1) break;
        assert.ok(Date.now() < deadline, 'a 503 buffer_full beyond the waiting batches');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      duringBlock = receiver.events.length;
    } finally {
      receiver.unblock();
    }
    await running;
    await receiver.stop();
    assert.ok(duringBlock < 30, `batches that arrived after the downstream filled were held back (${duringBlock} taken while full)`);
    assert.equal(total(outcomes), 30);
    assert.equal(rejectedIn(outcomes), 0);
    assert.equal(new Set(receiver.events.map((e) => e.fields.seq)).size, 30);
  });

  it('a downstream full for a moment: the next batch waits for room instead of a 503', async () => {
    const receiver = await startReceiver();
    receiver.block();
    const { sink } = makeSink({ address: `127.0.0.1:${receiver.port}`, batch: { max_events: 10, timeout_secs: 0.02 }, request: { concurrency: 1 } });
    const outcomes: FinalizerOutcome[] = [];
    const running = sink.run(streamOf(numberedEvents(20, 10, outcomes)));
    let whileFull: number;
    try {
      await waitUntil(() => receiver.events.length >= 10, 5000, 'first batch');
      await new Promise((resolve) => setTimeout(resolve, 200));
      whileFull = receiver.events.length;
    } finally {
      receiver.unblock();
    }
    assert.equal(whileFull, 10, 'the second batch waits while the downstream is full');
    await running;
    const text = await receiver.metrics.registry.metrics();
    await receiver.stop();
    assert.equal(total(outcomes), 2);
    assert.equal(metricValue(text, 'sluice_component_errors_total', { reason: 'buffer_full' }), undefined, 'no 503');
  });
});

describe('sluice sink load balancing and failover', () => {
  it('balances batches over two aggregators; a dead address is taken out and everything reaches the live one', async () => {
    const a = await startReceiver();
    const b = await startReceiver();
    const dead = await freePort();
    const { sink, metrics } = makeSink({ address: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`, `127.0.0.1:${dead}`], batch: { max_events: 10, timeout_secs: 0.02 }, request: { concurrency: 2 } });
    const outcomes: FinalizerOutcome[] = [];
    await sink.run(streamOf(numberedEvents(400, 10, outcomes), 2));
    await Promise.all([a.stop(), b.stop()]);
    assert.equal(total(outcomes), 40);
    assert.equal(rejectedIn(outcomes), 0);
    assert.ok(a.events.length > 50 && b.events.length > 50, `both aggregators used: ${a.events.length} / ${b.events.length}`);
    assert.deepEqual(new Set([...a.events, ...b.events].map((e) => e.fields.seq)).size, 400);
    const text = await metrics.registry.metrics();
    assert.ok(metricValue(text, 'sluice_component_errors_total', { reason: 'endpoint_network' })! >= 1, 'the dead endpoint failed and was counted');
  });

  it('an aggregator that stops mid-stream: its batches move to the other one, none lost', async () => {
    const a = await startReceiver();
    const b = await startReceiver();
    const { sink } = makeSink({ address: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], batch: { max_events: 10, timeout_secs: 0.02 }, request: { concurrency: 2 } });
    const outcomes: FinalizerOutcome[] = [];
    const running = sink.run(streamOf(numberedEvents(600, 10, outcomes), 3));
    await waitUntil(() => a.events.length >= 50, 10_000, 'a has events');
    await a.stop();
    await running;
    await b.stop();
    assert.equal(total(outcomes), 60);
    assert.equal(rejectedIn(outcomes), 0);
    const seen = new Set([...a.events, ...b.events].map((e) => e.fields.seq));
    assert.equal(seen.size, 600, 'every event reached an aggregator');
  });

  it('an answer that is not the protocol\'s (204, a connection dropped mid-request) is retried elsewhere, never taken as a rejection', async () => {
    const good = await startReceiver();
    const odd = createServer();
    let dropped = 0;
    odd.on('stream', (stream) => {
      stream.on('error', () => undefined);
      if (dropped++ % 2 === 0) stream.session!.destroy();
      else stream.respond({ ':status': 204 }, { endStream: true });
    });
    await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
    const oddPort = (odd.address() as { port: number }).port;
    const { sink } = makeSink({ address: [`127.0.0.1:${oddPort}`, `127.0.0.1:${good.port}`], batch: { max_events: 10, timeout_secs: 0.02 }, request: { concurrency: 1 } });
    const outcomes: FinalizerOutcome[] = [];
    await sink.run(streamOf(numberedEvents(100, 10, outcomes), 60));
    await good.stop();
    odd.close();
    assert.ok(dropped >= 2, `the odd endpoint was tried (${dropped})`);
    assert.equal(rejectedIn(outcomes), 0, 'no event rejected');
    assert.equal(new Set(good.events.map((e) => e.fields.seq)).size, 100);
  });

  it('a DNS name with several addresses is one endpoint each (same port), re-resolved: added, kept on failure, removed', async () => {
    const port = await freePort();
    const one = await startReceiver({ address: `127.0.0.1:${port}` });
    const two = await startReceiver({ address: `127.0.0.2:${port}` });
    let answer: string[] | Error = ['127.0.0.1', '127.0.0.2'];
    const resolver = async (host: string) => {
      assert.equal(host, 'aggregators.test');
      if (answer instanceof Error) throw answer;
      return answer;
    };
    const { sink } = makeSink({ address: `aggregators.test:${port}`, batch: { max_events: 10, timeout_secs: 0.02 }, request: { concurrency: 2 } }, resolver);
    const outcomes: FinalizerOutcome[] = [];
    await sink.run(streamOf(numberedEvents(200, 10, outcomes), 2));
    await Promise.all([one.stop(), two.stop()]);
    assert.equal(total(outcomes), 20);
    assert.ok(one.events.length > 0 && two.events.length > 0, `both pods of the "headless Service" got batches: ${one.events.length} / ${two.events.length}`);

    const pool = new EndpointPool({
      addresses: [{ address: `aggregators.test:${port}`, parsed: { host: 'aggregators.test', port, tls: false }, tls: false }],
      tlsOptions: {},
      refreshMs: 60_000,
      resolver,
      logger: silentLogger,
      metrics: new MetricsRegistry().forComponent('sink', 'p', 'sluice'),
    });
    answer = ['127.0.0.1'];
    await pool.refresh();
    assert.deepEqual(pool.all().map((e) => e.key), [`127.0.0.1:${port}`]);
    answer = ['127.0.0.1', '127.0.0.3'];
    await pool.refresh();
    assert.deepEqual(pool.all().map((e) => e.key), [`127.0.0.1:${port}`, `127.0.0.3:${port}`]);
    answer = new Error('SERVFAIL');
    await pool.refresh();
    assert.equal(pool.all().length, 2, 'a failed resolution keeps the known endpoints');
    answer = ['127.0.0.3'];
    await pool.refresh();
    assert.deepEqual(pool.all().map((e) => e.key), [`127.0.0.3:${port}`]);
    pool.close();
  });

  it('an endpoint marked down is skipped until its backoff passes, doubling per failure', async () => {
    const pool = new EndpointPool({
      addresses: ['127.0.0.1:1', '127.0.0.2:1'].map((address) => ({ address, parsed: parseAddress(address) as never, tls: false })),
      tlsOptions: {},
      refreshMs: 60_000,
      logger: silentLogger,
      metrics: new MetricsRegistry().forComponent('sink', 'q', 'sluice'),
      random: () => 1,
    });
    await pool.refresh();
    const [x, y] = pool.all();
    pool.markDown(x!, 'network', 'refused');
    for (let i = 0; i < 5; i++) assert.equal(pool.pick(), y);
    assert.ok(x!.downUntil - Date.now() <= 500 && x!.downUntil - Date.now() > 400);
    pool.markDown(x!, 'network', 'refused');
    assert.ok(x!.downUntil - Date.now() > 900, 'second failure: about 1 s');
    pool.markDown(y!, 'http_5xx', 'busy', 2000);
    assert.equal(pool.pick(), undefined, 'nothing healthy');
    pool.markUp(x!);
    assert.equal(pool.pick(), x);
    pool.close();
  });
});

describe('sluice pair over TLS', () => {
  const pki = createTestPki();
  const serverTls = { crt_file: `${pki.dir}/server.crt`, key_file: `${pki.dir}/server.key` };

  it('h2 over TLS with mutual TLS: a trusted client certificate delivers; none, or an untrusted CA, fails the healthcheck', async () => {
    const receiver = await startReceiver({ tls: { ...serverTls, ca_file: pki.caFile } });
    try {
      const good = makeSink({ address: `https://localhost:${receiver.port}`, tls: { ca_file: pki.caFile, crt_file: pki.clientCertFile, key_file: pki.clientKeyFile } }).sink;
      await good.healthcheck();
      const outcomes: FinalizerOutcome[] = [];
      await good.run(streamOf(numberedEvents(20, 10, outcomes)));
      assert.deepEqual(outcomes, [{ rejected: 0 }, { rejected: 0 }]);
      assert.equal(receiver.events.length, 20);

      const noClientCert = makeSink({ address: `127.0.0.1:${receiver.port}`, tls: { ca_file: pki.caFile } }).sink;
      await assert.rejects(noClientCert.healthcheck(), /no aggregator endpoint is healthy/);
      const wrongCa = makeSink({ address: `https://127.0.0.1:${receiver.port}`, tls: { ca_file: pki.otherCaFile, crt_file: pki.clientCertFile, key_file: pki.clientKeyFile } }).sink;
      await assert.rejects(wrongCa.healthcheck(), /no aggregator endpoint is healthy: .*(certificate|self.signed|verify)/i);
      const plain = makeSink({ address: `http://127.0.0.1:${receiver.port}` }).sink;
      await assert.rejects(plain.healthcheck(), /no aggregator endpoint is healthy/);
      for (const sink of [noClientCert, wrongCa, plain, good]) sink.endpoints.close();
    } finally {
      await receiver.stop();
      pki.cleanup();
    }
  });
});
