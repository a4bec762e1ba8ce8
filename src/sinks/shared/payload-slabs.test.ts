import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PayloadSlabs, type PayloadRef } from './payload-slabs.js';
import { ReusableBuffers } from './reusable-buffers.js';

function payload(slabs: PayloadSlabs, text: string): Buffer {
  slabs.begin();
  // Two pieces, so a payload can cross into a new slab half-written.
  slabs.append(text.slice(0, 3));
  slabs.appendBytes(Buffer.from(text.slice(3)));
  return slabs.end();
}

describe('PayloadSlabs', () => {
  it('never overwrites a payload that is not released, across slab changes and reuse', () => {
    const slabs = new PayloadSlabs(64, 4);
    const live = new Map<Buffer, string>();
    const slabsSeen = new Set<ArrayBufferLike>();
    let seq = 0;
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 5; i++) {
        const text = `event-${seq++}-${'x'.repeat(seq % 23)}`;
        const p = payload(slabs, text);
        slabsSeen.add(p.buffer);
        live.set(p, text);
      }
      // Release the oldest, like batches finishing in order, keeping ~15 payloads live.
      const oldest = [...live.keys()].slice(0, Math.max(0, live.size - 15));
      slabs.release(oldest);
      for (const p of oldest) live.delete(p);
      for (const [p, text] of live) assert.equal(p.toString(), text);
    }
    // ~15-20 payloads live, ~2-3 per slab: without reuse, 1000 payloads would need ~300 slabs.
    assert.ok(slabsSeen.size <= 16, `released slabs are reused (${slabsSeen.size} slabs for 1000 payloads)`);
  });

  it('reuses released slabs instead of allocating', () => {
    const slabs = new PayloadSlabs(64, 16);
    const first = Array.from({ length: 20 }, (_, i) => payload(slabs, `payload number ${i}`));
    const arrays = new Set(first.map((p) => p.buffer));
    slabs.release(first);
    const second = Array.from({ length: 20 }, (_, i) => payload(slabs, `payload number ${i}`));
    const reused = second.filter((p) => arrays.has(p.buffer)).length;
    assert.equal(reused, second.length, 'every new payload lands in an old slab');
    second.forEach((p, i) => assert.equal(p.toString(), `payload number ${i}`));
  });

  it('carries a payload larger than a slab', () => {
    const slabs = new PayloadSlabs(64, 4);
    const small = payload(slabs, 'before');
    const big = 'y'.repeat(1000);
    const large = payload(slabs, big);
    assert.equal(large.toString(), big);
    assert.equal(small.toString(), 'before');
    slabs.release([large, small]);
    assert.equal(payload(slabs, 'after').toString(), 'after');
  });
});

function payloadRef(slabs: PayloadSlabs, text: string): PayloadRef {
  slabs.begin();
  slabs.append(text.slice(0, 3));
  slabs.appendBytes(Buffer.from(text.slice(3)));
  return slabs.endRef();
}

describe('PayloadSlabs refs (numbers naming slab, start, length)', () => {
  it('never overwrites a ref that is not released, across slab changes and reuse; runs join adjacent refs', () => {
    const slabs = new PayloadSlabs(64, 4);
    const live = new Map<PayloadRef, string>();
    let seq = 0;
    for (let round = 0; round < 200; round++) {
      const batch: PayloadRef[] = [];
      for (let i = 0; i < 5; i++) {
        const text = `event-${seq++}-${'x'.repeat(seq % 23)}`;
        const ref = payloadRef(slabs, text);
        assert.equal(typeof ref, 'number');
        live.set(ref, text);
        batch.push(ref);
      }
      const texts = batch.map((ref) => live.get(ref)!);
      const runs = slabs.runsOf(batch);
      assert.ok(runs.length <= 5);
      assert.equal(Buffer.concat(runs).toString(), texts.join(''), 'runs are the payloads in order');
      const oldest = [...live.keys()].slice(0, Math.max(0, live.size - 15));
      slabs.releaseRefs(oldest);
      for (const ref of oldest) live.delete(ref);
      for (const [ref, text] of live) assert.equal(slabs.viewOf(ref).toString(), text);
    }
  });

  it('hands out a view for a payload too large for a number, and releases both kinds', () => {
    const slabs = new PayloadSlabs(64, 4);
    const small = payloadRef(slabs, 'before');
    const big = 'y'.repeat(5 * 1024 * 1024);
    const large = payloadRef(slabs, big);
    assert.ok(Buffer.isBuffer(large), 'a 5 MiB payload does not fit the 22-bit length');
    assert.equal(Buffer.concat(slabs.runsOf([small, large])).toString(), 'before' + big);
    slabs.releaseRefs([small, large]);
    assert.equal(slabs.viewOf(payloadRef(slabs, 'after')).toString(), 'after');
  });
});

describe('ReusableBuffers', () => {
  it('hands back a given buffer and ignores foreign ones', () => {
    const pool = new ReusableBuffers(2);
    const a = pool.take(1000);
    assert.ok(a.length >= 1000);
    pool.give(a.subarray(0, 10));
    assert.equal(pool.idleCount, 1);
    assert.equal(pool.take(900).buffer, a.buffer, 'a view given back returns its whole buffer');
    pool.give(Buffer.alloc(2000));
    assert.equal(pool.idleCount, 0, 'a buffer the pool did not make is not kept');
    const huge = pool.take(a.length + 1);
    assert.notEqual(huge.buffer, a.buffer);
  });
});
