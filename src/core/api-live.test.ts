import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { collector, silentLogger, startTopology, waitUntil } from '../../test/harness.js';
import { ApiServer } from './api.js';
import { LiveRoutes } from './api-live.js';
import { MetricsRegistry } from './metrics.js';
import { TapHub } from './tap.js';

/** Open a tap; resolve with the response once its first line (the subscription notice) came. */
function openTap(port: number, query: string): Promise<{ res: IncomingMessage; first: string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = get(`http://127.0.0.1:${port}/tap${query}`, (res) => {
      res.setEncoding('utf8');
      let text = '';
      const onData = (chunk: string): void => {
        text += chunk;
        if (res.statusCode !== 200 || text.includes('\n')) {
          res.off('data', onData);
          res.pause();
          resolve({ res, first: text.split('\n')[0]!, close: () => req.destroy() });
        }
      };
      res.on('data', onData);
      res.on('end', () => resolve({ res, first: text, close: () => req.destroy() }));
    });
    req.on('error', reject);
  });
}

describe('API live routes', () => {
  const hub = new TapHub();
  const api = new ApiServer(new MetricsRegistry(), silentLogger);
  let port = 0;
  before(async () => {
    api.live = new LiveRoutes({ hub, tapFromNetwork: false, components: () => [], maxClients: 2, maxQueued: 1000 });
    port = (await api.listen('127.0.0.1:0')).port;
  });
  after(() => api.close());

  it('rejects a bad limit or max_rate with 400', async () => {
    for (const query of ['?limit=0', '?limit=x', '?max_rate=-1']) {
      const { res, first } = await openTap(port, query);
      assert.equal(res.statusCode, 400, query);
      assert.match(first, /must be a positive integer/);
    }
  });

  it('serves at most maxClients taps at once (503 past that) and frees a place when one disconnects', async () => {
    const a = await openTap(port, '');
    const b = await openTap(port, '?outputs_of=x');
    assert.equal(a.res.statusCode, 200);
    assert.deepEqual(JSON.parse(b.first), { notice: 'tapping', outputs_of: ['x'], inputs_of: [] });
    const c = await openTap(port, '');
    assert.equal(c.res.statusCode, 503);
    assert.match(c.first, /2 tap clients are connected already/);
    assert.equal(hub.active, true);
    a.close();
    b.close();
    await waitUntil(() => !hub.active, 5000, 'both taps unsubscribed');
    const d = await openTap(port, '');
    assert.equal(d.res.statusCode, 200);
    d.close();
    await waitUntil(() => !hub.active, 5000, 'tap unsubscribed');
  });

  it('a real client that never reads its socket does not hold the pipeline back', async () => {
    const stalled = await openTap(port, '?max_rate=1000000'); // paused after the first line: reads nothing more
    const sink = collector('api-live-stalled');
    const running = await startTopology(
      {
        // ~1 KiB events, 100 every millisecond (so the tap's flushes run between batches): 20 MiB
        // in all, far more than socket buffers take. The queue (1000) holds 10 batches: drops
        // come only from the socket backing up.
        sources: { src: { type: 'demo_logs', format: 'shuffle', lines: ['x'.repeat(1000)], count: 20_000, batch_size: 100, interval_secs: 0.001 } },
        sinks: { out: { type: 'test_collect', inputs: ['src'], name: 'api-live-stalled' } },
      },
      { tap: hub },
    );
    await running.finished();
    assert.equal(sink.events.length, 20_000);
    assert.ok(hub.droppedTotal > 0, 'the stalled client had events dropped, not waited for');
    await running.stop();
    stalled.close();
  });
});
