/**
 * Test helper process for disk buffer crash tests (run by disk.test.ts, then killed with SIGKILL):
 * writes numbered events into a DiskBuffer forever, printing `acked <id>` when the buffer acks an
 * event upstream (on disk) and, with `consume`, appending the id of each event its consumer
 * finishes to the file `done` (just before it does).
 */
import { openSync, writeSync } from 'node:fs';
import { LogEvent } from '../event.js';
import { Finalizer } from '../finalizer.js';
import { DiskBuffer } from './disk.js';

const [dir, mode, done, persistMs] = process.argv.slice(2);
const doneFd = done === undefined ? undefined : openSync(done, 'a');
const buffer = await DiskBuffer.open({ dir: dir!, maxBytes: 64 * 1024 * 1024, whenFull: 'block', segmentBytes: 16 * 1024, ackPersistIntervalMs: Number(persistMs ?? 5) });
const out: string[] = [];
const flushOut = () => {
  if (out.length > 0) process.stdout.write(out.splice(0).join(''));
};
setInterval(flushOut, 2);

if (mode === 'consume') {
  void (async () => {
    for await (const batch of buffer) {
      // Recorded before the acks, synchronously: the parent knows every event that may be finished.
      writeSync(doneFd!, batch.map((event) => `${String(event.fields.id)}\n`).join(''));
      for (const event of batch) event.ack('delivered');
    }
  })();
}

let next = 0;
for (;;) {
  const events = Array.from({ length: 10 }, () => {
    const id = next++;
    return new LogEvent({ id, message: `event number ${id}`, timestamp: new Date().toISOString() }, new Finalizer(1, () => void out.push(`acked ${id}\n`)));
  });
  await buffer.push(events);
  await new Promise((resolve) => setImmediate(resolve));
}
