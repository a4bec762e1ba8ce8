import assert from 'node:assert/strict';
import { connect, constants, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { metricValue } from '../../../test/agent-process.js';
import { startReceiver, type Receiver } from '../../../test/sluice-peer.js';
import { CONTENT_TYPE, EVENTS_PATH, HEALTH_PATH } from '../../sinks/sluice/protocol.js';
import { sluiceSourceSchema } from './schema.js';

function frames(...events: object[]): Buffer {
  return Buffer.concat(
    events.map((event) => {
      const json = Buffer.from(JSON.stringify(event));
      const header = Buffer.alloc(4);
      header.writeUInt32BE(json.length);
      return Buffer.concat([header, json]);
    }),
  );
}

function request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let text = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => resolve({ status, body: text }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

const post = (session: ClientHttp2Session, body: Buffer, headers: OutgoingHttpHeaders = {}) =>
  request(session, { ':method': 'POST', ':path': EVENTS_PATH, 'content-type': CONTENT_TYPE, ...headers }, body);

async function withReceiver(options: Record<string, unknown>, test: (receiver: Receiver, session: ClientHttp2Session) => Promise<void>): Promise<void> {
  const receiver = await startReceiver(options);
  const session = connect(`http://127.0.0.1:${receiver.port}`);
  session.on('error', () => undefined);
  try {
    await test(receiver, session);
  } finally {
    session.destroy();
    await receiver.stop();
  }
}

describe('sluice source', () => {
  it('answers 200 with the counts once the downstream finished, the rejected ones counted', async () => {
    await withReceiver({}, async (receiver, session) => {
      receiver.mode = 'hold';
      const answer = post(session, frames({ message: 'a' }, { message: 'b' }, { message: 'c' }));
      let answered = false;
      void answer.then(() => (answered = true));
      while (receiver.events.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(answered, false, 'no answer while the events are held downstream');
      receiver.events[0]!.ack('rejected');
      receiver.events[1]!.ack('delivered');
      receiver.events[2]!.ack('delivered');
      assert.deepEqual(await answer, { status: 200, body: '{"accepted":2,"rejected":1}' });
      assert.deepEqual(receiver.events.map((e) => e.fields.message), ['a', 'b', 'c']);
      assert.equal(metricValue(await receiver.metrics.registry.metrics(), 'sluice_component_received_events_total', {}), 3);
    });
  });

  it('refuses what it cannot take, with the reason: 404, 405, 415, 400 (frames, gzip), 413 (declared, streamed, inflated)', async () => {
    await withReceiver({ max_body_bytes: 4096 }, async (receiver, session) => {
      assert.equal((await request(session, { ':method': 'POST', ':path': '/v1/logs' }, Buffer.alloc(1))).status, 404);
      assert.equal((await request(session, { ':method': 'GET', ':path': EVENTS_PATH })).status, 405);
      const wrongType = await request(session, { ':method': 'POST', ':path': EVENTS_PATH, 'content-type': 'application/json' }, Buffer.from('{}'));
      assert.equal(wrongType.status, 415);
      assert.match(wrongType.body, /application\/vnd\.sluice\.events\.v1/);
      assert.equal((await post(session, frames({ a: 1 }), { 'content-encoding': 'br' })).status, 415);
      const bad = await post(session, Buffer.concat([frames({ a: 1 }), Buffer.from([0, 0, 0, 9, 0x7b])]));
      assert.equal(bad.status, 400);
      assert.match(bad.body, /frame 1 .* declares 9 bytes/);
      const badGzip = await post(session, Buffer.from('not gzip'), { 'content-encoding': 'gzip' });
      assert.equal(badGzip.status, 400);
      assert.match(badGzip.body, /invalid gzip body/);
      assert.equal((await post(session, Buffer.alloc(5000), { 'content-length': 5000 })).status, 413);
      assert.equal((await post(session, Buffer.alloc(5000))).status, 413, 'no content-length: cut while reading');
      const bomb = await post(session, gzipSync(frames({ message: 'x'.repeat(100_000) })), { 'content-encoding': 'gzip' });
      assert.equal(bomb.status, 413);
      assert.match(bomb.body, /decompressed body exceeds max_body_bytes/);
      assert.equal(receiver.events.length, 0, 'nothing refused reached the downstream');
      // Still serving after all of that.
      assert.equal((await post(session, gzipSync(frames({ message: 'ok' })), { 'content-encoding': 'gzip' })).status, 200);
      assert.equal(receiver.events.length, 1);
      assert.ok(metricValue(await receiver.metrics.registry.metrics(), 'sluice_component_errors_total', { reason: 'invalid_body' })! >= 2);
    });
  });

  it('an agent that stalls mid-body gets 408 and a reset stream within body_timeout_secs; nothing half-read goes downstream; shutdown does not wait for it', async () => {
    const receiver = await startReceiver({ body_timeout_secs: 0.2 });
    const session = connect(`http://127.0.0.1:${receiver.port}`);
    session.on('error', () => undefined);
    try {
      const body = frames({ message: 'one' }, { message: 'two' });
      const stream = session.request({ ':method': 'POST', ':path': EVENTS_PATH, 'content-type': CONTENT_TYPE, 'content-length': body.length });
      stream.on('error', () => undefined);
      stream.write(body.subarray(0, body.length - 3)); // and then nothing: the end never comes
      const answered = new Promise<{ status: number; body: string }>((resolve) => {
        let status = 0;
        let text = '';
        stream.on('response', (h) => (status = Number(h[':status'])));
        stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
        stream.on('close', () => resolve({ status, body: text }));
      });
      // Not a timing check: a hang (what this guards against) fails here instead of at the suite timeout.
      const answer = await Promise.race([answered, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20_000).unref())]);
      assert.ok(answer, 'the stalled request was never answered');
      assert.equal(answer.status, 408);
      assert.match(answer.body, /body not received within body_timeout_secs \(0\.2\)/);
      assert.equal(receiver.events.length, 0, 'nothing of the half-sent batch reached the downstream');
      assert.equal(metricValue(await receiver.metrics.registry.metrics(), 'sluice_component_errors_total', { reason: 'body_timeout' }), 1);
      assert.equal((await post(session, frames({ message: 'next' }))).status, 200, 'the connection still serves');
      const stopped = await Promise.race([receiver.stop().then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 20_000).unref())]);
      assert.ok(stopped, 'shutdown waited for the stalled request');
    } finally {
      session.destroy();
    }
  });

  it('a stream the agent resets mid-body: no events downstream, no answer owed, the source keeps serving and shuts down', async () => {
    await withReceiver({}, async (receiver, session) => {
      const body = frames({ message: 'one' }, { message: 'two' });
      const stream = session.request({ ':method': 'POST', ':path': EVENTS_PATH, 'content-type': CONTENT_TYPE, 'content-length': body.length });
      stream.on('error', () => undefined);
      stream.write(body.subarray(0, 10));
      await new Promise((resolve) => setTimeout(resolve, 50)); // the first bytes are read
      const closed = new Promise<void>((resolve) => stream.on('close', () => resolve()));
      stream.close(constants.NGHTTP2_CANCEL);
      await closed;
      assert.equal((await post(session, frames({ message: 'after' }))).status, 200);
      assert.deepEqual(receiver.events.map((event) => event.fields.message), ['after'], 'only the complete batch');
    });
  });

  it('health is 200; a batch still held downstream at shutdown is answered 503 when the source closes', async () => {
    const receiver = await startReceiver();
    const session = connect(`http://127.0.0.1:${receiver.port}`);
    session.on('error', () => undefined);
    try {
      assert.deepEqual(await request(session, { ':method': 'GET', ':path': HEALTH_PATH }), { status: 200, body: 'ok\n' });
      receiver.mode = 'hold';
      const held = post(session, frames({ message: 'held' }));
      while (receiver.events.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
      await receiver.stop();
      const answer = await held;
      assert.equal(answer.status, 503);
      assert.match(answer.body, /shutting down before the events were acknowledged/);
    } finally {
      session.destroy();
    }
  });

  it('keepalive: a connection older than max_connection_age_secs gets GOAWAY after its in-flight batch', async () => {
    await withReceiver({ keepalive: { max_connection_age_secs: 0.3, max_connection_age_jitter_factor: 0 } }, async (receiver, session) => {
      const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
      assert.equal((await post(session, frames({ message: 'before' }))).status, 200);
      await goaway;
      assert.equal(receiver.events.length, 1);
    });
  });

  it('config: tls needs crt_file and key_file unless disabled; address must be host:port', () => {
    assert.match(JSON.stringify(sluiceSourceSchema.safeParse({ tls: {} }).error!.issues), /crt_file and tls.key_file are required/);
    assert.equal(sluiceSourceSchema.safeParse({ tls: { enabled: false } }).success, true);
    assert.equal(sluiceSourceSchema.safeParse({ address: '6000' }).success, false);
    assert.equal(sluiceSourceSchema.parse({}).address, '0.0.0.0:6000');
  });
});
