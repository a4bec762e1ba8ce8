import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection } from 'nats';
import { collector, startTopology, waitUntil } from '../../../test/harness.js';
import { addStream, NatsServer } from '../../../test/nats-server.js';
import { natsSourceSchema } from './config.js';
import './index.js';

describe('nats source (real nats-server)', () => {
  const server = new NatsServer();
  let nc: NatsConnection;
  before(async () => {
    await server.start();
    nc = await server.client();
    await addStream(nc, 'IN', ['in.>']);
  });
  after(async () => {
    await nc.close();
    await server.close();
  });

  const publish = async (subject: string, payloads: string[]) => {
    const js = nc.jetstream();
    for (const payload of payloads) await js.publish(subject, new TextEncoder().encode(payload));
  };
  const consumerInfo = async (name: string) => (await nc.jetstreamManager()).consumers.info('IN', name);
  const until = async (name: string, done: (info: Awaited<ReturnType<typeof consumerInfo>>) => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const info = await consumerInfo(name);
      if (done(info)) return info;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify({ ack_pending: info.num_ack_pending, pending: info.num_pending, redelivered: info.num_redelivered })}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const topology = (id: string, subject: string, extra: Record<string, unknown> = {}) =>
    startTopology({
      sources: { [id]: { type: 'nats', url: server.url, stream: 'IN', durable_name: id, subject, ack_wait_secs: 30, ...extra } },
      sinks: { out: { type: 'test_collect', inputs: [id], name: id } },
    });

  it('json codec: object keys become fields with the subject; a non-object is terminated, not redelivered', async () => {
    await publish('in.json', ['{"message":"a","level":"info"}', 'not json', '[1,2]']);
    const running = await topology('json', 'in.json', { decoding: { codec: 'json' } });
    try {
      await collector('json').waitFor(1);
      const info = await until('json', (i) => i.num_ack_pending === 0 && i.num_pending === 0, 'all three settled');
      assert.equal(info.num_redelivered, 0);
      const [event] = collector('json').events;
      assert.equal(collector('json').events.length, 1);
      assert.equal(event!.fields.message, 'a');
      assert.equal(event!.fields.level, 'info');
      assert.equal(event!.fields.subject, 'in.json');
      assert.equal(event!.fields.source_type, 'nats');
    } finally {
      await running.stop();
    }
  });

  it('on_rejected = "term" (default): a message whose event a sink rejected is settled, never redelivered', async () => {
    await publish('in.term', ['x1', 'x2', 'x3']);
    collector('term').mode = 'reject';
    const running = await topology('term', 'in.term');
    try {
      await collector('term').waitFor(3);
      const info = await until('term', (i) => i.num_ack_pending === 0 && i.num_pending === 0, 'terminated');
      assert.equal(info.num_redelivered, 0);
      assert.deepEqual(collector('term').messages.sort(), ['x1', 'x2', 'x3']);
    } finally {
      await running.stop();
    }
  });

  it('on_rejected = "nak": the message is delivered again, and acked once a sink accepts it', async () => {
    await publish('in.nak', ['n1']);
    const c = collector('nak');
    c.mode = 'reject';
    const running = await topology('nak', 'in.nak', { on_rejected: 'nak', nak_delay_secs: 0 });
    try {
      await c.waitFor(2);
      c.mode = 'ack';
      await c.waitFor(c.events.length + 1);
      await until('nak', (i) => i.num_ack_pending === 0 && i.num_pending === 0, 'acked after redelivery');
      // One message published; three or more deliveries: two nak'd, then the accepted one.
      assert.ok(c.events.length >= 3, `${c.events.length} deliveries`);
      assert.ok(c.messages.every((m) => m === 'n1'));
    } finally {
      await running.stop();
    }
  });

  it('config: a durable name with "." is refused', () => {
    assert.throws(() => natsSourceSchema.parse({ url: server.url, stream: 'IN', durable_name: 'a.b' }), /consumer name/);
  });
});
