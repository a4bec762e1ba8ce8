import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { LogEvent } from '../event.js';
import { Finalizer } from '../finalizer.js';
import { DiskBuffer, type DiskBufferOptions } from './disk.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-disk-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function open(options: Partial<DiskBufferOptions> = {}) {
  return DiskBuffer.open({ dir, maxBytes: 16 * 1024 * 1024, whenFull: 'block', ...options });
}

/** Pod metadata as sources attach it: one frozen object shared by many events. */
const POD = Object.freeze({ pod_name: 'p' });

/** Events with ids, each recording its upstream ack into `acked`. */
function events(from: number, count: number, acked: Map<number, string>): LogEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const id = from + i;
    return new LogEvent(
      { id, message: `m${id}`, timestamp: '2026-11-24T10:00:00.123456789Z', kubernetes: POD },
      new Finalizer(1, ({ rejected }) => acked.set(id, rejected ? 'rejected' : 'delivered')),
    );
  });
}

/** Read batches until `count` are read; optionally release each batch's events. */
async function take(buffer: DiskBuffer, count: number, release = true): Promise<LogEvent[][]> {
  const batches: LogEvent[][] = [];
  if (count === 0) return batches;
  for await (const batch of buffer) {
    batches.push(batch);
    if (release) for (const event of batch) event.ack('delivered');
    if (batches.length === count) break;
  }
  return batches;
}

/** Read a closed buffer to its end, finishing every event; returns the ids read. */
async function drain(buffer: DiskBuffer): Promise<number[]> {
  const ids: number[] = [];
  for await (const batch of buffer) {
    for (const event of batch) {
      ids.push(event.fields.id as number);
      event.ack('delivered');
    }
  }
  return ids;
}

/** Everything left in a buffer directory, by reopening it and draining it. */
async function replay(options: Partial<DiskBufferOptions> = {}): Promise<number[]> {
  const buffer = await open(options);
  buffer.close();
  const ids = await drain(buffer);
  await buffer.whenFinished();
  return ids;
}

describe('DiskBuffer', () => {
  test('acks upstream once written, yields the same fields back in order, persists the pointer', async () => {
    const buffer = await open();
    const acked = new Map<number, string>();
    assert.equal(buffer.push(events(0, 3, acked)), undefined);
    assert.equal(acked.size, 0, 'not acked before the fsync');
    buffer.push(events(3, 2, acked));
    const [first, second] = await take(buffer, 2);
    assert.deepEqual(first!.map((e) => e.fields), [0, 1, 2].map((id) => ({ id, message: `m${id}`, timestamp: '2026-11-24T10:00:00.123456789Z', kubernetes: { pod_name: 'p' } })));
    assert.deepEqual(second!.map((e) => e.fields.id), [3, 4]);
    const metadata = first!.map((e) => e.fields.kubernetes);
    assert.ok(metadata[0] === metadata[1] && Object.isFrozen(metadata[0]), 'shared frozen metadata comes back shared and frozen');
    assert.ok(!Object.isFrozen(first![0]!.fields), 'the events themselves stay writable');
    assert.deepEqual([...acked.values()], Array(5).fill('delivered'));
    assert.equal(buffer.size, 0);
    buffer.close();
    assert.deepEqual(await drain(buffer), []);
    await buffer.whenFinished();
    assert.deepEqual(await replay(), [], 'finished records are not replayed after a clean shutdown');
  });

  test('replays records the consumer had not finished, including ones behind an out-of-order ack', async () => {
    const buffer = await open();
    const acked = new Map<number, string>();
    for (let i = 0; i < 5; i++) buffer.push(events(i * 2, 2, acked));
    const batches = await take(buffer, 4, false);
    for (const event of batches[0]!) event.ack('delivered');
    for (const event of batches[2]!) event.ack('rejected'); // finished, but batch 1 is not: the pointer stays after batch 0
    assert.equal(buffer.size, 8);
    await buffer.shutdown();
    assert.deepEqual(await replay(), [2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('when_full=block makes the producer wait until the consumer frees room', async () => {
    const buffer = await open({ maxBytes: 1000 });
    const acked = new Map<number, string>();
    const big = (from: number) => events(from, 4, acked); // ~4 x 110 bytes of JSON per record
    assert.equal(buffer.push(big(0)), undefined);
    assert.equal(buffer.push(big(4)), undefined);
    const blocked = buffer.push(big(8));
    assert.ok(blocked instanceof Promise, 'third record does not fit in 1000 bytes');
    let admitted = false;
    void blocked.then(() => (admitted = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(admitted, false);
    await take(buffer, 1);
    await blocked;
    buffer.close();
    assert.deepEqual(await drain(buffer), [4, 5, 6, 7, 8, 9, 10, 11]);
    await buffer.whenFinished();
  });

  test('when_full=drop_newest hands the batch to onDrop', async () => {
    const dropped: LogEvent[][] = [];
    const buffer = await open({ maxBytes: 500, whenFull: 'drop_newest', onDrop: (e) => dropped.push(e) });
    const acked = new Map<number, string>();
    buffer.push(events(0, 4, acked));
    assert.equal(buffer.push(events(4, 4, acked)), undefined);
    assert.deepEqual(dropped.flat().map((e) => e.fields.id), [4, 5, 6, 7]);
    await buffer.shutdown();
  });

  test('an event that cannot be written as JSON is handed back; the rest of its batch is kept', async () => {
    const refused: LogEvent[] = [];
    const buffer = await open({ onUnencodable: (events) => refused.push(...events) });
    const acked = new Map<number, string>();
    const batch = events(0, 3, acked);
    batch[1]!.fields.size = 10n; // a BigInt: JSON.stringify throws
    buffer.push(batch);
    assert.deepEqual(refused.map((e) => e.fields.id), [1]);
    buffer.close();
    assert.deepEqual(await drain(buffer), [0, 2]);
  });

  test('rolls segments and deletes them once the pointer passes them', async () => {
    const buffer = await open({ segmentBytes: 400, ackPersistIntervalMs: 1 });
    const acked = new Map<number, string>();
    for (let i = 0; i < 20; i++) buffer.push(events(i * 2, 2, acked));
    while (acked.size < 40) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(readdirSync(dir).filter((n) => n.startsWith('segment-')).length, 20, 'one ~250-byte record per 400-byte segment');
    buffer.close();
    assert.equal((await drain(buffer)).length, 40);
    await buffer.whenFinished();
    assert.equal(readdirSync(dir).filter((n) => n.startsWith('segment-')).length, 1, 'only the current segment is left');
    assert.deepEqual(await replay(), []);
  });

  test('cuts a torn record at the tail and keeps working after it', async () => {
    const first = await open();
    const acked = new Map<number, string>();
    first.push(events(0, 3, acked));
    await first.shutdown();
    while (acked.size < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    const segment = readdirSync(dir).find((n) => n.startsWith('segment-'))!;
    appendFileSync(join(dir, segment), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0, 0x7b])); // header + 1 byte of a 200-byte payload

    const corruption: string[] = [];
    const second = await open({ onError: (m) => corruption.push(m) });
    assert.equal(second.size, 3);
    second.push(events(3, 1, acked));
    second.close();
    assert.deepEqual(await drain(second), [0, 1, 2, 3]);
    assert.deepEqual(corruption, [], 'a torn tail is expected after a crash, not reported as corruption');
    await second.whenFinished();
  });

  test('reports a corrupt record (bad checksum) and drops the rest of its segment', async () => {
    const first = await open();
    const acked = new Map<number, string>();
    first.push(events(0, 3, acked));
    await first.shutdown();
    while (acked.size < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    const segment = join(dir, readdirSync(dir).find((n) => n.startsWith('segment-'))!);
    const payload = Buffer.from('[{"id":99}]');
    const header = Buffer.alloc(12);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(12345, 4);
    header.writeUInt32LE(1, 8);
    appendFileSync(segment, Buffer.concat([header, payload]));
    const corruption: string[] = [];
    assert.deepEqual(await replay({ onError: (m) => corruption.push(m) }), [0, 1, 2]);
    assert.match(corruption[0]!, /checksum mismatch/);
  });
});

describe('DiskBuffer read pointer after a crash', () => {
  /** Ten 5-event records, one per segment; the consumer finishes those `finish` picks. */
  async function crashAfter(finish: (record: number) => boolean, options: Partial<DiskBufferOptions> = {}) {
    // A timer that never fires here: a crash happens before the pointer's first fdatasync.
    const first = await open({ segmentBytes: 400, ackPersistIntervalMs: 600_000, ...options });
    const acked = new Map<number, string>();
    for (let i = 0; i < 10; i++) first.push(events(i * 5, 5, acked));
    const batches = await take(first, 10, false);
    batches.forEach((batch, record) => {
      if (finish(record)) for (const event of batch) event.ack('delivered');
    });
    // The crash: `first` is never closed or shut down; the directory is opened again as is.
    return first;
  }

  const ids = (records: number[]) => records.flatMap((r) => [0, 1, 2, 3, 4].map((i) => r * 5 + i));

  test('a buffer abandoned without closing: reopening replays only the records the sink had not finished', async () => {
    const abandoned = await crashAfter((record) => record < 7);
    try {
      const errors: string[] = [];
      assert.deepEqual(await replay({ segmentBytes: 400, onError: (m) => errors.push(m) }), ids([7, 8, 9]));
      assert.deepEqual(errors, []);
      assert.ok(readdirSync(dir).filter((n) => n.startsWith('segment-')).length <= 4, 'segments behind the pointer are deleted at recovery');
    } finally {
      await abandoned.shutdown();
    }
  });

  test('out-of-order acks before the crash: the replay starts at the first unfinished record', async () => {
    const abandoned = await crashAfter((record) => record !== 4 && record !== 8);
    try {
      assert.deepEqual(await replay({ segmentBytes: 400 }), ids([4, 5, 6, 7, 8, 9]));
    } finally {
      await abandoned.shutdown();
    }
  });

  test('a torn slot (a write cut by a power loss) falls back to the previous pointer, reported', async () => {
    const abandoned = await crashAfter((record) => record < 7);
    try {
      // The newest slot is the one written last: spoil the slot holding the highest sequence.
      const path = join(dir, 'ack-pointer.bin');
      const bytes = readFileSync(path);
      const newest = bytes.readBigUInt64LE(4) > bytes.readBigUInt64LE(36) ? 0 : 32;
      bytes[newest + 20] = (bytes[newest + 20]! + 1) & 0xff;
      writeFileSync(path, bytes);
      const errors: string[] = [];
      const replayed = await replay({ segmentBytes: 400, onError: (m) => errors.push(m) });
      assert.deepEqual(replayed, ids([6, 7, 8, 9]), 'one record more: the pointer before the last move');
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0]!, /ack-pointer\.bin: a torn or corrupt slot, using the other one/);
      assert.deepEqual(await replay({ onError: (m) => errors.push(m) }), [], 'the pointer is whole again');
      assert.equal(errors.length, 1, 'reported once: both slots are rewritten at open');
    } finally {
      await abandoned.shutdown();
    }
  });

  test('a pointer file with no valid slot is reported and every segment kept is replayed: nothing lost', async () => {
    const abandoned = await crashAfter((record) => record < 7);
    try {
      writeFileSync(join(dir, 'ack-pointer.bin'), Buffer.from('garbage, not a pointer'));
      const errors: string[] = [];
      const replayed = await replay({ segmentBytes: 400, onError: (m) => errors.push(m) });
      assert.ok(ids([7, 8, 9]).every((id) => replayed.includes(id)), 'every unfinished event');
      assert.deepEqual(replayed, [...replayed].sort((a, b) => a - b), 'in order');
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0]!, /ack-pointer\.bin holds no valid pointer .*replaying every segment kept/);
    } finally {
      await abandoned.shutdown();
    }
  });

  test('a legacy ack-pointer.json is honoured once, then replaced; an invalid one is reported and replays everything', async () => {
    const first = await open({ segmentBytes: 400 });
    const acked = new Map<number, string>();
    for (let i = 0; i < 4; i++) first.push(events(i * 5, 5, acked));
    const batches = await take(first, 4, false);
    for (const event of batches[0]!) event.ack('delivered');
    await first.shutdown();
    // What the previous version wrote at this point: the pointer at the start of segment 2.
    rmSync(join(dir, 'ack-pointer.bin'));
    writeFileSync(join(dir, 'ack-pointer.json'), JSON.stringify({ segment: 2, offset: 0 }));
    const second = await open({ segmentBytes: 400 });
    assert.equal(second.size, 15);
    assert.ok(!readdirSync(dir).includes('ack-pointer.json') && readdirSync(dir).includes('ack-pointer.bin'));
    await second.shutdown();
    rmSync(join(dir, 'ack-pointer.bin'));
    writeFileSync(join(dir, 'ack-pointer.json'), '{}');
    const errors: string[] = [];
    assert.deepEqual(await replay({ onError: (m) => errors.push(m) }), ids([1, 2, 3]), 'segment 1 was deleted: all that is kept');
    assert.match(errors.join('\n'), /ack-pointer\.json is not a valid pointer/);
  });
});

describe('DiskBuffer, randomized', () => {
  /** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
  function prng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  for (const seed of [1, 2, 3]) {
    test(`restarts with out-of-order acks across segment rolls lose nothing (seed ${seed})`, async () => {
      const random = prng(seed);
      const pushed = new Set<number>();
      const finished = new Set<number>();
      let next = 0;
      for (let cycle = 0; cycle < 6; cycle++) {
        const buffer = await open({ segmentBytes: 2048, ackPersistIntervalMs: 1 });
        const acked = new Map<number, string>();
        const batches = 1 + Math.floor(random() * 12);
        for (let b = 0; b < batches; b++) {
          const size = 1 + Math.floor(random() * 8);
          buffer.push(events(next, size, acked));
          next += size;
        }
        while (acked.size < next - pushed.size) await new Promise((resolve) => setTimeout(resolve, 2));
        for (const id of acked.keys()) pushed.add(id);
        // Read some records (at most as many as this cycle pushed: those surely exist), finish a
        // random subset of them in a random order, leave the rest.
        const taken = await take(buffer, Math.floor(random() * (batches + 1)), false);
        const order = taken.map((batch) => ({ batch, key: random() })).sort((x, y) => x.key - y.key);
        for (const { batch } of order) {
          if (random() < 0.7) for (const event of batch) (finished.add(event.fields.id as number), event.ack('delivered'));
        }
        await new Promise((resolve) => setTimeout(resolve, random() * 5));
        await buffer.shutdown();
      }
      const left = new Set(await replay());
      const lost = [...pushed].filter((id) => !finished.has(id) && !left.has(id));
      assert.deepEqual(lost, []);
      assert.ok(readdirSync(dir).filter((n) => n.startsWith('segment-')).length <= 2, 'finished segments are deleted');
    });
  }
});

describe('DiskBuffer after kill -9', () => {
  const child = join(dirname(fileURLToPath(import.meta.url)), 'disk-crash-child.js');

  async function runAndKill(mode: 'produce' | 'consume', minAcks: number, persistMs = 5) {
    const doneFile = join(dir, '..', `${dir.split('/').pop()!}-done`);
    writeFileSync(doneFile, '');
    const proc = spawn(process.execPath, [child, dir, mode, doneFile, String(persistMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked = new Set<number>();
    let rest = '';
    try {
      await new Promise<void>((resolve, reject) => {
        proc.on('error', reject);
        proc.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited early: ${code ?? signal}`))));
        proc.stdout.on('data', (chunk: Buffer) => {
          const lines = (rest + chunk.toString()).split('\n');
          rest = lines.pop()!;
          for (const line of lines) acked.add(Number(line.split(' ')[1]));
          if (acked.size >= minAcks && !proc.killed) proc.kill('SIGKILL');
        });
      });
      // Every event the consumer may have finished (written before its ack).
      const done = new Set(readFileSync(doneFile, 'utf8').split('\n').filter(Boolean).map(Number));
      return { acked, done };
    } finally {
      rmSync(doneFile, { force: true });
    }
  }

  test('every event acked upstream before the kill is on disk after it', async () => {
    const { acked } = await runAndKill('produce', 3000);
    const replayed = new Set(await replay());
    const lost = [...acked].filter((id) => !replayed.has(id));
    assert.deepEqual(lost, []);
    assert.ok(acked.size >= 3000);
  });

  test('with a consumer finishing events: nothing acked and not finished is lost', async () => {
    const { acked, done } = await runAndKill('consume', 3000);
    assert.ok(done.size > 0, 'the consumer made progress');
    const replayed = new Set(await replay());
    const lost = [...acked].filter((id) => !done.has(id) && !replayed.has(id));
    assert.deepEqual(lost, []);
    // a second replay after a clean drain has nothing left
    assert.deepEqual(await replay(), []);
  });

  test('the replay after a kill -9 is what the consumer had not finished, even with no fdatasync of the pointer yet', async () => {
    // The pointer's timer (fdatasync, segment deletion) never fires in this run: what bounds the
    // replay is the pointer written in place on every move.
    const { acked, done } = await runAndKill('consume', 20_000, 600_000);
    assert.ok(done.size >= 1000, `the consumer made progress (${done.size})`);
    const ids = await replay();
    const replayed = new Set(ids);
    assert.deepEqual([...acked].filter((id) => !done.has(id) && !replayed.has(id)), [], 'nothing lost');
    // A record (10 events here) finished at most as the kill came: recorded as done, not acked yet.
    const again = ids.filter((id) => done.has(id));
    assert.ok(again.length <= 10, `${again.length} finished events replayed (of ${done.size} finished): more than the one record in hand at the kill`);
  });
});

describe('DiskBuffer file modes', () => {
  const modeOf = (path: string) => statSync(path).mode & 0o777;

  test('segments and the pointer are 0600 in a directory made 0700', async () => {
    const nested = join(dir, 'buffer', 'out');
    const buffer = await open({ dir: nested, segmentBytes: 1024, ackPersistIntervalMs: 1 });
    const acked = new Map<number, string>();
    for (let i = 0; i < 20; i++) buffer.push(events(i * 10, 10, acked));
    buffer.close();
    assert.equal((await drain(buffer)).length, 200);
    await buffer.whenFinished();
    assert.equal(modeOf(nested), 0o700);
    assert.equal(modeOf(join(dir, 'buffer')), 0o700);
    const names = readdirSync(nested);
    assert.ok(names.includes('ack-pointer.bin') && names.some((n) => n.startsWith('segment-')), names.join());
    for (const name of names) assert.equal(modeOf(join(nested, name)), 0o600, name);
  });

  test('a directory and files left world-readable are tightened when the buffer opens', async () => {
    const acked = new Map<number, string>();
    const first = await open();
    first.push(events(0, 3, acked));
    first.close();
    await drain(first);
    await first.whenFinished();
    chmodSync(dir, 0o755);
    for (const name of readdirSync(dir)) chmodSync(join(dir, name), 0o644);
    writeFileSync(join(dir, 'ack-pointer.json.0.tmp'), '{}', { mode: 0o666 });
    const untightened: string[] = [];
    const second = await open({ onUntightened: (paths) => untightened.push(...paths) });
    assert.deepEqual(untightened, []);
    assert.ok(!readdirSync(dir).includes('ack-pointer.json.0.tmp'), 'a temporary of the legacy pointer left by a crash is removed');
    assert.equal(modeOf(dir), 0o700);
    for (const name of readdirSync(dir)) assert.equal(modeOf(join(dir, name)), 0o600, name);
    await second.shutdown();
  });
});

describe('DiskBuffer when writes fail', () => {
  test('a failed write (ENOSPC) is retried: producers wait, nothing unwritten is acked, everything arrives once space returns', async () => {
    const failures: string[] = [];
    let recovered = 0;
    const buffer = await open({
      segmentBytes: 1024,
      writeRetryInitialMs: 5,
      writeRetryMaxMs: 20,
      onWriteFailed: (error) => failures.push(error.code ?? error.message),
      onWriteRecovered: () => recovered++,
    });
    // The next segment is /dev/full: every write to it fails with ENOSPC, as on a full disk.
    const nextSegment = join(dir, 'segment-000000000002.log');
    symlinkSync('/dev/full', nextSegment);
    const acked = new Map<number, string>();
    const batches = 40;
    for (let i = 0; i < batches; i++) buffer.push(events(i * 5, 5, acked));
    const deadline = Date.now() + 10_000;
    while (failures.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(failures.length >= 3, 'retried');
    assert.deepEqual([...new Set(failures)], ['ENOSPC']);
    assert.equal(recovered, 0);
    const ackedWhileFull = acked.size;
    assert.ok(ackedWhileFull > 0 && ackedWhileFull < batches * 5, `only what reached segment 1 is acked (${ackedWhileFull})`);
    assert.deepEqual([...acked.keys()], Array.from({ length: ackedWhileFull }, (_, i) => i), 'a contiguous prefix');
    rmSync(nextSegment); // space returns
    buffer.close();
    const ids = await drain(buffer);
    await buffer.whenFinished();
    assert.equal(recovered, 1);
    assert.deepEqual(ids, Array.from({ length: batches * 5 }, (_, i) => i), 'every event once, in order');
    assert.equal(acked.size, batches * 5);
    assert.ok([...acked.values()].every((status) => status === 'delivered'));
    assert.deepEqual(await replay(), [], 'nothing left behind');
  });

  test('shutdown while writes fail ends the retries; nothing unwritten is acked', async () => {
    let failures = 0;
    const buffer = await open({ segmentBytes: 1024, writeRetryInitialMs: 5, writeRetryMaxMs: 5, onWriteFailed: () => failures++ });
    symlinkSync('/dev/full', join(dir, 'segment-000000000002.log'));
    const acked = new Map<number, string>();
    for (let i = 0; i < 40; i++) buffer.push(events(i * 5, 5, acked));
    const deadline = Date.now() + 10_000;
    while (failures === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(failures > 0);
    await buffer.shutdown();
    const ackedAtShutdown = acked.size;
    assert.ok(ackedAtShutdown < 200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(acked.size, ackedAtShutdown, 'no write after shutdown');
    rmSync(join(dir, 'segment-000000000002.log'));
    assert.deepEqual(await replay(), Array.from({ length: ackedAtShutdown }, (_, i) => i), 'what was acked is on disk');
  });

  test('a pointer that cannot be written is reported once, retried on the next acks, and persisted once it can', async () => {
    const errors: string[] = [];
    symlinkSync('/dev/full', join(dir, 'ack-pointer.bin')); // every write to it fails with ENOSPC
    const buffer = await open({ ackPersistIntervalMs: 1, onError: (message) => errors.push(message) });
    const acked = new Map<number, string>();
    for (let i = 0; i < 5; i++) {
      buffer.push(events(i, 1, acked));
      await take(buffer, 1);
      await new Promise((resolve) => setTimeout(resolve, 3)); // the timer's retry too
      await (buffer as unknown as { persisting: Promise<void> }).persisting;
    }
    // /dev/full also reads as zeros: a pointer file with no valid slot (reported), then the failed writes.
    assert.match(errors[0]!, /ack-pointer\.bin holds no valid pointer/);
    assert.equal(errors.length, 2, errors.join('\n'));
    assert.match(errors[1]!, /cannot persist the read pointer .*ENOSPC/);
    rmSync(join(dir, 'ack-pointer.bin')); // space returns: the next write reopens (creates) the file
    buffer.push(events(5, 1, acked));
    buffer.close();
    assert.deepEqual(await drain(buffer), [5]);
    await buffer.whenFinished();
    assert.equal(errors.length, 2, errors.join('\n'));
    assert.ok(!lstatSync(join(dir, 'ack-pointer.bin')).isSymbolicLink());
    assert.deepEqual(await replay(), [], 'the pointer reached the end');
  });
});
