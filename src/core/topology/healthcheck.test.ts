import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import '../../components.js';
import { silentLogger, tempDir } from '../../../test/harness.js';
import { loadConfig } from '../config/load.js';
import { MetricsRegistry } from '../metrics.js';
import { checkSinkHealth, healthcheckWithin } from './healthcheck.js';

const dir = tempDir();
let server: Server;
let up: string;
let refused: string;

before(async () => {
  server = createServer((req, res) => res.writeHead(req.url === '/down' ? 503 : 200).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  up = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  refused = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise((resolve) => closed.close(resolve));
});
after(() => {
  server.close();
  dir.cleanup();
});

describe('sink healthchecks without running the topology', () => {
  it('reports each sink: passed, failed with the reason, disabled, or without a healthcheck', async () => {
    const file = join(dir.path, 'hc.toml');
    writeFileSync(
      file,
      [
        '[sources.in]', 'type = "demo_logs"',
        '[sinks.ok]', 'type = "http"', 'inputs = ["in"]', `uri = "${up}/ingest"`,
        '[sinks.down]', 'type = "http"', 'inputs = ["in"]', `uri = "${up}/down"`,
        '[sinks.gone]', 'type = "http"', 'inputs = ["in"]', `uri = "${refused}/ingest"`,
        '[sinks.off]', 'type = "http"', 'inputs = ["in"]', `uri = "${refused}/ingest"`, 'healthcheck.enabled = false',
        '[sinks.bh]', 'type = "blackhole"', 'inputs = ["in"]',
      ].join('\n') + '\n',
    );
    const results = await checkSinkHealth(loadConfig({ files: [file] }), { logger: silentLogger, metrics: new MetricsRegistry() });
    assert.deepEqual(
      results.map((r) => [r.id, r.status]),
      [['ok', 'passed'], ['down', 'failed'], ['gone', 'failed'], ['off', 'disabled'], ['bh', 'none']],
    );
    assert.match(results[1]!.error!, /answered HTTP 503/);
    assert.match(results[2]!.error!, /ECONNREFUSED/);
    assert.ok(results.every((r) => r.file === file));
  });

  it('a healthcheck that never answers fails with the limit rather than hanging', async () => {
    const never = { healthcheck: () => new Promise<void>(() => {}), run: async () => {} };
    await assert.rejects(healthcheckWithin(never, 20), /no answer within 20 ms/);
  });
});
