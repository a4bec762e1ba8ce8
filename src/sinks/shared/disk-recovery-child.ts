/**
 * Test helper process (run by disk-recovery.test.ts, killed with SIGKILL): a source writing
 * numbered events into a DiskBuffer, and a real sink of the given type consuming that buffer
 * towards a destination that refuses connections. Prints `acked <id>` when the disk buffer has
 * the event durably (the ack a source would move its checkpoint on).
 */
import pino from 'pino';
import { DiskBuffer } from '../../core/buffers/disk.js';
import { LogEvent } from '../../core/event.js';
import { Finalizer } from '../../core/finalizer.js';
import { MetricsRegistry } from '../../core/metrics.js';
import { buildTestSink } from './disk-recovery-sinks.js';

const [dir, type, destination] = process.argv.slice(2);
const buffer = await DiskBuffer.open({ dir: dir!, maxBytes: 64 * 1024 * 1024, whenFull: 'block', ackPersistIntervalMs: 5 });
const sink = buildTestSink(type!, destination!, {
  id: 'out',
  logger: pino({ level: 'silent' }),
  metrics: new MetricsRegistry().forComponent('sink', 'out', type!),
  dataDir: dir!,
});
void sink.run(buffer);

const out: string[] = [];
setInterval(() => {
  if (out.length > 0) process.stdout.write(out.splice(0).join(''));
}, 2);
let next = 0;
for (;;) {
  const events = Array.from({ length: 20 }, () => {
    const id = next++;
    const fields = { id, message: `event ${id}`, timestamp: new Date().toISOString(), kubernetes: { pod_namespace: 'ns' } };
    return new LogEvent(fields, new Finalizer(1, () => void out.push(`acked ${id}\n`)));
  });
  await buffer.push(events);
  await new Promise((resolve) => setTimeout(resolve, 1));
}
