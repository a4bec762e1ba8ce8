import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, describe, it } from 'node:test';
import type { ComponentContext, Source } from '../../core/component.js';
import { createLogger } from '../../core/logger.js';
import type { MetricsRegistry } from '../../core/metrics.js';
import { findDefinition } from '../../core/registry.js';
import { CollectingOutput, startSource, testContext, waitFor } from '../../../test/source-driver.js';
import { tempDir } from '../../../test/harness.js';
import './index.js';
import { internalLogsSchema } from './index.js';

const dir = tempDir();
after(() => dir.cleanup());

function build(options: Record<string, unknown>, downstream: string[] = []): { source: Source; metrics: MetricsRegistry } {
  const { ctx, metrics } = testContext(dir.path, 'agent_logs', 'internal_logs');
  const withDownstream: ComponentContext = { ...ctx, downstream: () => new Set(downstream) };
  const source = findDefinition('source', 'internal_logs')!.build(internalLogsSchema.parse(options), withDownstream) as Source;
  return { source, metrics };
}

async function discarded(metrics: MetricsRegistry, reason: string): Promise<number> {
  const metric = metrics.registry.getSingleMetric('sluice_component_discarded_events_total');
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => v.labels.reason === reason).reduce((sum, v) => sum + v.value, 0);
}

describe('internal_logs source', () => {
  it('turns each log record into an event: message, level, timestamp, pino fields, pid and host', async () => {
    const { source } = build({});
    const out = new CollectingOutput();
    const running = startSource(source, out);
    const logger = createLogger('info').child({ component_kind: 'sink', component_id: 'es', component_type: 'elasticsearch' });
    logger.warn({ err: 'connection refused', events: 5 }, 'request failed: retrying');
    await waitFor(() => out.events.length === 1, 'one event');
    await running.stop();
    const fields = out.events[0]!.fields;
    assert.equal(fields.message, 'request failed: retrying');
    assert.equal(fields.level, 'warn');
    assert.ok(!Number.isNaN(Date.parse(String(fields.timestamp))));
    assert.equal(fields.component_id, 'es');
    assert.equal(fields.component_kind, 'sink');
    assert.equal(fields.err, 'connection refused');
    assert.equal(fields.events, 5);
    assert.equal(fields.pid, process.pid);
    assert.equal(fields.host, hostname());
    assert.equal(fields.source_type, 'internal_logs');
    assert.equal(fields.msg, undefined);
    assert.equal(fields.time, undefined);
  });

  it('host_key and pid_key rename the fields; "" leaves them out', async () => {
    const { source } = build({ host_key: 'node', pid_key: '' });
    const out = new CollectingOutput();
    const running = startSource(source, out);
    createLogger('info').info('hello');
    await waitFor(() => out.events.length === 1, 'one event');
    await running.stop();
    const fields = out.events[0]!.fields;
    assert.equal(fields.node, hostname());
    assert.equal(fields.host, undefined);
    assert.equal(fields.pid, undefined);
  });

  it('bounds the queue: a burst beyond max_queued_records is dropped and counted', async () => {
    const { source, metrics } = build({ max_queued_records: 10 });
    const out = new CollectingOutput();
    const running = startSource(source, out);
    const logger = createLogger('info');
    for (let i = 0; i < 50; i++) logger.info({ i }, 'burst'); // synchronous: the source cannot take any meanwhile
    await waitFor(() => out.events.length === 10, 'the queued records');
    await running.stop();
    assert.equal(out.events.length, 10);
    assert.deepEqual(
      out.events.map((e) => e.fields.i),
      Array.from({ length: 10 }, (_, i) => i),
    );
    assert.equal(await discarded(metrics, 'queue_full'), 40);
  });

  it('leaves out records of the components it feeds and its own: no feedback loop', async () => {
    const { source, metrics } = build({}, ['out', 'parse']);
    const out = new CollectingOutput();
    const running = startSource(source, out);
    const logger = createLogger('info');
    logger.child({ component_id: 'out' }).error('request failed');
    logger.child({ component_id: 'parse' }).warn('bad event');
    logger.child({ component_id: 'agent_logs' }).warn('own record');
    logger.child({ component_id: 'other' }).warn('kept');
    logger.info('sluice started');
    await waitFor(() => out.events.length === 2, 'the kept records');
    await running.stop();
    assert.deepEqual(
      out.events.map((e) => e.fields.message),
      ['kept', 'sluice started'],
    );
    assert.equal(await discarded(metrics, 'own_pipeline'), 3);
  });

  it('listens only while running', async () => {
    const { source } = build({});
    const out = new CollectingOutput();
    createLogger('info').info('before');
    const running = startSource(source, out);
    createLogger('info').info('during');
    await waitFor(() => out.events.length === 1, 'one event');
    await running.stop();
    createLogger('info').info('after');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      out.events.map((e) => e.fields.message),
      ['during'],
    );
  });
});
