import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sourceOutcomes, startTopology, waitUntil } from '../../../test/harness.js';
import { Receiver } from '../../../test/fakes/receiver.js';
import './index.js';

// End to end through the runtime: test_counter source -> buffer -> http sink -> a real server.

let receiver: Receiver;
before(async () => {
  receiver = await new Receiver().start();
});
after(() => receiver.close());

const received = () => receiver.requests.filter((r) => r.url === '/e2e' && r.status === 200).flatMap((r) => JSON.parse(r.body) as Array<{ seq: number }>);

test('memory buffer: the source hears of its events only after the server accepted them', async () => {
  receiver.requests.length = 0;
  receiver.script({ kind: 'answer', status: 200, delayMs: 300 });
  const running = await startTopology({
    sources: { gen_mem: { type: 'test_counter', count: 30, batch_size: 10 } },
    sinks: { out: { type: 'http', inputs: ['gen_mem'], uri: `${receiver.url}/e2e`, batch: { max_events: 100, timeout_secs: 0.05 }, healthcheck: { enabled: false } } },
  });
  try {
    await receiver.waitForRequests(1);
    assert.deepEqual(sourceOutcomes.get('gen_mem'), [], 'no acknowledgement while the request is unanswered');
    await waitUntil(() => sourceOutcomes.get('gen_mem')!.length === 3, 5000, 'acks after the answer');
    assert.deepEqual(sourceOutcomes.get('gen_mem'), [{ rejected: 0 }, { rejected: 0 }, { rejected: 0 }]);
    assert.deepEqual(received().map((e) => e.seq).sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i));
  } finally {
    await running.stop();
  }
});

test('disk buffer: the source is acked once events are on disk, the sink delivers when the server recovers', async () => {
  receiver.requests.length = 0;
  // The server is "down" for over a second: ample time for the disk acks, even on a slow CI disk.
  receiver.script(...Array.from({ length: 3 }, () => ({ kind: 'answer' as const, status: 503, delayMs: 400 })));
  const running = await startTopology({
    sources: { gen_disk: { type: 'test_counter', count: 40, batch_size: 10 } },
    sinks: {
      out: {
        type: 'http',
        inputs: ['gen_disk'],
        uri: `${receiver.url}/e2e`,
        buffer: { type: 'disk', max_size: 1048576 },
        batch: { max_events: 100, timeout_secs: 0.05 },
        request: { retry_initial_backoff_secs: 0.05, retry_max_duration_secs: 0.1 },
        healthcheck: { enabled: false },
      },
    },
  });
  try {
    await waitUntil(() => sourceOutcomes.get('gen_disk')!.length === 4, 5000, 'acks from the disk buffer');
    assert.equal(received().length, 0, 'acked before the server accepted anything');
    assert.ok(existsSync(join(running.dir, 'data', 'buffer', 'out')));
    await waitUntil(() => received().length >= 40, 10_000, 'delivery after recovery');
    assert.deepEqual([...new Set(received().map((e) => e.seq))].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
  } finally {
    await running.stop();
  }
});
