import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { LogEvent } from '../event.js';
import { Finalizer } from '../finalizer.js';
import { MetricsRegistry } from '../metrics.js';
import { DiskBuffer } from './disk.js';
import { MemoryBuffer } from './memory.js';
import { bufferOptionsSchema, createBuffer } from './options.js';

test('buffer options: defaults, disk needs max_size, unknown keys refused', () => {
  assert.deepEqual(bufferOptionsSchema.parse(undefined), { type: 'memory', max_events: 500, when_full: 'block' });
  const missing = bufferOptionsSchema.safeParse({ type: 'disk' });
  assert.equal(missing.success, false);
  assert.match(JSON.stringify(missing.error?.issues), /max_size is required/);
  assert.equal(bufferOptionsSchema.safeParse({ type: 'disk', max_size: 1024 }).success, false, 'below the 1 MiB minimum');
  assert.equal(bufferOptionsSchema.safeParse({ type: 'memory', max_event: 5 }).success, false);
  assert.equal(bufferOptionsSchema.parse({ type: 'disk', max_size: 268435456, when_full: 'drop_newest' }).when_full, 'drop_newest');
});

test('createBuffer: memory buffer drops newest with a rejected ack and a buffer_full count', async () => {
  const registry = new MetricsRegistry();
  const metrics = registry.forComponent('sink', 'out', 'http');
  const buffer = await createBuffer(bufferOptionsSchema.parse({ max_events: 1, when_full: 'drop_newest' }), {
    dataDir: '/nonexistent',
    sinkId: 'out',
    metrics,
    logger: pino({ level: 'silent' }),
  });
  assert.ok(buffer instanceof MemoryBuffer);
  const outcomes: number[] = [];
  const event = () => new LogEvent({ message: 'x' }, new Finalizer(1, ({ rejected }) => outcomes.push(rejected)));
  buffer.push([event()]);
  buffer.push([event()]);
  assert.deepEqual(outcomes, [1]);
  const discarded = await registry.registry.getSingleMetric('sluice_component_discarded_events_total')!.get();
  assert.equal(discarded.values.find((v) => v.labels.reason === 'buffer_full')?.value, 1);
});

test('createBuffer: disk buffer lives under <data_dir>/buffer/<sink id>/', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-data-'));
  try {
    const registry = new MetricsRegistry();
    const buffer = await createBuffer(bufferOptionsSchema.parse({ type: 'disk', max_size: 2 * 1024 * 1024 }), {
      dataDir,
      sinkId: 'es_out',
      metrics: registry.forComponent('sink', 'es_out', 'elasticsearch'),
      logger: pino({ level: 'silent' }),
    });
    assert.ok(buffer instanceof DiskBuffer);
    assert.ok(existsSync(join(dataDir, 'buffer', 'es_out', 'segment-000000000001.log')));
    let delivered = 0;
    buffer.push([new LogEvent({ message: 'kept on disk' }, new Finalizer(1, () => delivered++))]);
    while (delivered === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const gauge = await registry.registry.getSingleMetric('sluice_component_buffer_bytes')!.get();
    assert.ok(gauge.values[0]!.value > 12, 'bytes gauge follows the disk buffer');
    await buffer.shutdown();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('createBuffer: a damaged disk buffer read pointer is logged and counted (buffer_disk), and nothing kept is skipped', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-data-'));
  try {
    const registry = new MetricsRegistry();
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const dir = join(dataDir, 'buffer', 'out');
    const first = await DiskBuffer.open({ dir, maxBytes: 2 * 1024 * 1024, whenFull: 'block' });
    let acked = 0;
    first.push([new LogEvent({ message: 'kept on disk' }, new Finalizer(1, () => acked++))]);
    while (acked === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await first.shutdown();
    writeFileSync(join(dir, 'ack-pointer.bin'), Buffer.alloc(64, 0xab));
    const buffer = await createBuffer(bufferOptionsSchema.parse({ type: 'disk', max_size: 2 * 1024 * 1024 }), {
      dataDir,
      sinkId: 'out',
      metrics: registry.forComponent('sink', 'out', 'http'),
      logger,
    });
    assert.equal(buffer.size, 1, 'the event is replayed');
    const errors = await registry.registry.getSingleMetric('sluice_component_errors_total')!.get();
    assert.equal(errors.values.find((v) => v.labels.reason === 'buffer_disk')?.value, 1);
    assert.match(lines.join(''), /disk buffer: ack-pointer\.bin holds no valid pointer/);
    await (buffer as DiskBuffer).shutdown();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
