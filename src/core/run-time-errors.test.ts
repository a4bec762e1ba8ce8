import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { pino } from 'pino';
import { MetricsRegistry } from './metrics.js';
import { RunTimeErrors } from './run-time-errors.js';

function setup(limits = { perWindow: 2, windowMs: 60_000 }) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const registry = new MetricsRegistry();
  const metrics = registry.forComponent('source', 'logs', 'file');
  return { lines, metrics, errors: new RunTimeErrors(metrics, logger, limits), registry };
}

async function errorsTotal(registry: MetricsRegistry, reason: string): Promise<number> {
  const text = await registry.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith('sluice_component_errors_total{') && l.includes(`reason="${reason}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

test('every occurrence is counted; the log is bounded per group and tells how many it left out', async () => {
  const { lines, errors, registry } = setup();
  for (let i = 0; i < 5; i++) errors.report('read_failed', { path: `/f${i}` }, 'read failed');
  errors.report('open_failed', { path: '/g' }, 'cannot open file');
  assert.equal(await errorsTotal(registry, 'read_failed'), 5);
  assert.equal(await errorsTotal(registry, 'open_failed'), 1);
  assert.deepEqual(lines.map((l) => [l.msg, l.path, l.level]), [
    ['read failed', '/f0', 40],
    ['read failed', '/f1', 40],
    ['cannot open file', '/g', 40],
  ]);
});

test('a shared group shares one budget; the next line after the window carries the suppressed count', async () => {
  // A mocked clock: with a real one, a loaded machine could let the window pass between /a and /b.
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  try {
    const { lines, errors, registry } = setup({ perWindow: 1, windowMs: 1000 });
    errors.report('symlink_escape', { path: '/a' }, 'refused', { group: 'refusal' });
    mock.timers.tick(999);
    errors.report('not_regular_file', { path: '/b' }, 'refused', { group: 'refusal' });
    mock.timers.tick(1);
    errors.report('not_regular_file', { path: '/c' }, 'refused', { group: 'refusal' });
    assert.equal(await errorsTotal(registry, 'not_regular_file'), 2);
    assert.deepEqual(lines.map((l) => [l.path, l.suppressed]), [['/a', undefined], ['/c', 1]]);
  } finally {
    mock.timers.reset();
  }
});

test('once: logged the first time only, at the level asked; count() counts without a line', async () => {
  const { lines, errors, registry } = setup();
  for (let i = 0; i < 3; i++) errors.report('watch_limit_reached', { dir: `/d${i}` }, 'limit reached', { once: true, level: 'error' });
  errors.count('file_truncated');
  errors.count('malformed_line', 7);
  errors.count('invalid_utf8', 0);
  assert.equal(await errorsTotal(registry, 'watch_limit_reached'), 3);
  assert.equal(await errorsTotal(registry, 'file_truncated'), 1);
  assert.equal(await errorsTotal(registry, 'malformed_line'), 7);
  assert.equal(await errorsTotal(registry, 'invalid_utf8'), 0);
  assert.deepEqual(lines.map((l) => [l.dir, l.level]), [['/d0', 50]]);
});
