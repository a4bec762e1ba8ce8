import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LogEvent, deleteField, getField, parsePath, setField } from './event.js';
import { Finalizer } from './finalizer.js';
import { FieldTemplate } from './template.js';
import { EventEncoder } from '../sinks/shared/encoding.js';
import { PayloadSlabs } from '../sinks/shared/payload-slabs.js';
import { ByteBatch } from '../sinks/shared/byte-batch.js';

/** The encoder's bytes for `fields`, into a ByteBatch and into payload slabs, are JSON.stringify's. */
function encodesAsStringify(encoder: EventEncoder, slabs: PayloadSlabs, fields: Record<string, unknown>): void {
  const bytes = new ByteBatch(8);
  encoder.encodeInto(new LogEvent(fields), bytes);
  assert.equal(bytes.bytes().toString(), JSON.stringify(fields));
  slabs.begin();
  encoder.encodeInto(new LogEvent(fields), slabs);
  assert.equal(slabs.end().toString(), JSON.stringify(fields));
}

describe('events', () => {
  it('parses dotted and quoted paths', () => {
    assert.deepEqual(parsePath('kubernetes.pod_labels."app.kubernetes.io/name"'), ['kubernetes', 'pod_labels', 'app.kubernetes.io/name']);
    assert.throws(() => parsePath('a..b'), /invalid field path/);
  });

  it('copies a frozen shared object before writing into it', () => {
    const shared = Object.freeze({ pod_name: 'web-0', pod_labels: Object.freeze({ app: 'web' }) });
    const a = new LogEvent({ kubernetes: shared });
    const b = new LogEvent({ kubernetes: shared });
    setField(a.fields, parsePath('kubernetes.pod_labels.team'), 'x');
    assert.equal(getField(a.fields, parsePath('kubernetes.pod_labels.team')), 'x');
    assert.equal(getField(b.fields, parsePath('kubernetes.pod_labels.team')), undefined);
    deleteField(b.fields, parsePath('kubernetes.pod_name'));
    assert.equal(shared.pod_name, 'web-0');
    assert.equal(b.get(parsePath('kubernetes.pod_name')), undefined);
  });

  it('acks once per event copy, and the finalizer completes after all deliveries', () => {
    const outcomes: unknown[] = [];
    const finalizer = new Finalizer(2, (o) => outcomes.push(o));
    const e1 = new LogEvent({ message: 'a' }, finalizer);
    const e2 = new LogEvent({ message: 'b' }, finalizer);
    e1.ack();
    e1.ack();
    assert.equal(outcomes.length, 0);
    e2.ack('rejected');
    assert.deepEqual(outcomes, [{ rejected: 1 }]);
  });

  it('keeps nanosecond timestamps untouched through JSON encoding', () => {
    const encoder = new EventEncoder({ codec: 'json' });
    const line = encoder.encode(new LogEvent({ timestamp: '2026-11-24T10:00:00.123456789Z', message: 'x' }));
    assert.equal(line, '{"timestamp":"2026-11-24T10:00:00.123456789Z","message":"x"}');
  });

  it('produces exactly what JSON.stringify would, escapes and surrogates included', () => {
    const encoder = new EventEncoder({ codec: 'json' });
    const cases: Record<string, unknown>[] = [
      { message: 'plain' },
      { message: 'quote" backslash\\ newline\n tab\t control\u0001' },
      { message: 'emoji 😀 ünïcödé', '"odd key"': 1 },
      { message: 'lone surrogate \ud800 here' },
      { n: 1.5, b: true, z: null, list: [1, 'a', { x: 2 }], nested: { y: 'q"' } },
      {},
      { skipped: undefined, message: 'x' },
    ];
    cases.push({ message: 'shared', kubernetes: Object.freeze({ pod_name: 'p', pod_labels: Object.freeze({ 'app.kubernetes.io/name': 'ü"x' }) }) });
    // A small batch buffer so encodeInto also crosses a grow mid-event.
    const bytes = new ByteBatch(8);
    for (const fields of cases) {
      assert.equal(encoder.encode(new LogEvent(fields)), JSON.stringify(fields));
      bytes.reset();
      encoder.encodeInto(new LogEvent(fields), bytes);
      assert.equal(bytes.bytes().toString(), JSON.stringify(fields));
    }
  });

  it('writes numbers, booleans, null and arrays as JSON.stringify does (non-finite, -0, holes, dates, long arrays)', () => {
    const encoder = new EventEncoder({ codec: 'json' });
    const long = Array.from({ length: 100 }, (_, i) => i);
    const fields: Record<string, unknown> = {
      a: 0, b: -0, c: 1e21, d: 1.5e-7, e: Number.NaN, f: Number.POSITIVE_INFINITY, g: -12.25, h: false, i: true, j: null,
      k: ['k8s', 'app"x', 3, null, true, undefined, [1, [2, 'three']], { x: 'y' }, new Date(0)],
      l: [], m: long, n: [Object.freeze({ shared: 1 })],
    };
    for (const order of [fields, Object.fromEntries(Object.entries(fields).reverse())]) {
      const bytes = new ByteBatch(8);
      encoder.encodeInto(new LogEvent(order), bytes);
      assert.equal(bytes.bytes().toString(), JSON.stringify(order));
    }
  });

  it('encodes repeated and shifted field values exactly (per-position string cache)', () => {
    const encoder = new EventEncoder({ codec: 'json' });
    const sequence: Record<string, unknown>[] = [
      { message: 'a', stream: 'stdout', file: '/p/0.log' },
      { message: 'b', stream: 'stdout', file: '/p/0.log' },
      { message: 'b"q', stream: 'stderr', file: '/p/0.log' },
      { stream: 'stderr', message: '/p/0.log', file: 'b"q' },
      { n: 1, message: 'stdout', file: '/p/0.log' },
      { message: 'a', stream: 'stdout', file: '/p/0.log' },
    ];
    const bytes = new ByteBatch(64);
    for (const fields of sequence) {
      bytes.reset();
      encoder.encodeInto(new LogEvent(fields), bytes);
      assert.equal(bytes.bytes().toString(), JSON.stringify(fields));
    }
  });

  it('encodes exactly when a cached run of repeated fields changes inside, shrinks or moves (run cache)', () => {
    const encoder = new EventEncoder({ codec: 'json' });
    const meta = Object.freeze({ pod_name: 'p', labels: Object.freeze({ a: 'b' }) });
    const other = Object.freeze({ pod_name: 'q' });
    const mutable: Record<string, unknown> = { n: 1 };
    const sequence: Record<string, unknown>[] = [
      { message: 'a', stream: 'stdout', file: 'f', source_type: 'k', kubernetes: meta },
      { message: 'b', stream: 'stdout', file: 'f', source_type: 'k', kubernetes: meta },
      { message: 'b2', stream: 'stderr', file: 'h', source_type: 'k', kubernetes: meta },
      { message: 'b3', stream: 'stderr', file: 'h', source_type: 'k', kubernetes: meta },
      { message: 'c', stream: 'stdout', file: 'g', source_type: 'k', kubernetes: meta },
      { message: 'd', stream: 'stdout', file: 'f', source_type: 'k', kubernetes: meta },
      { message: 'e', stream: 'stdout', file: 'f', source_type: 'k', kubernetes: other },
      { message: 'e', stream: 'stdout', file: 'f', source_type: 'k', kubernetes: meta },
      { message: 'e', stream: 'stdout', file: 'f', source_type: 'k', kubernetes: meta, extra: 'x' },
      { message: 'e', stream: 'stdout', file: 'f', source_type: 'k', kubernetes: meta },
      { message: 'e', stream: undefined, file: 'f', source_type: 'k', kubernetes: meta },
      { message: 'e', file: 'f', source_type: 'k', kubernetes: meta },
      { message: 'e', stream: 'stdout', file: 'f', source_type: 'k', kubernetes: meta },
      { stream: 'stdout', message: 'e', file: 'f', source_type: 'k', kubernetes: meta },
      { mutable, message: 'x' },
      { mutable, message: 'x' },
    ];
    const bytes = new ByteBatch(16);
    for (const [i, fields] of sequence.entries()) {
      if (i === sequence.length - 1) mutable.n = 2; // the same mutable object, changed: never served from a cache
      bytes.reset();
      encoder.encodeInto(new LogEvent(fields), bytes);
      assert.equal(bytes.bytes().toString(), JSON.stringify(fields), `event ${i}`);
    }
  });

  it('treats `__proto__` from a log line as a field name: set, copied, encoded, never a prototype', () => {
    const parsed = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const fields: Record<string, unknown> = { message: 'm' };
    for (const key in parsed) fields[key] = parsed[key]; // what every merge does
    setField(fields, parsePath('__proto__.extra'), 2);
    assert.equal(Object.getPrototypeOf(fields), Object.prototype);
    assert.equal(fields.polluted, undefined);
    assert.equal(getField(fields, parsePath('constructor')), undefined, 'an inherited method is no field');
    assert.equal(getField(fields, parsePath('a.toString')), undefined);
    assert.deepEqual(getField(fields, parsePath('__proto__')), { polluted: true, extra: 2 });
    assert.equal(new EventEncoder({ codec: 'json' }).encode(new LogEvent({ ...fields })), '{"message":"m","__proto__":{"polluted":true,"extra":2},"a":1}');
  });

  it('encodes any field tree as JSON.stringify does, into a ByteBatch and into payload slabs (property)', () => {
    // Any UTF-16 (lone surrogates included), short and past the ASCII loop's bound, numbers of every
    // kind; and a clean ASCII run (copied natively from 32 units) before anything.
    const special = fc.string({ unit: fc.constantFrom('a', '"', '\\', '\n', '\u0001', 'é', '\ud800', '😀'), maxLength: 100 });
    const cleanThenAny = fc.tuple(fc.string({ unit: fc.constantFrom('a', ' ', '~', '\u007f'), maxLength: 80 }), special).map(([clean, rest]) => clean + rest);
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), special, cleanThenAny);
    const value = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.oneof(text, fc.double(), fc.constant(null)), { maxLength: 4 }));
    const tree = fc.dictionary(text, fc.oneof(value, fc.dictionary(text, value, { maxKeys: 3 })), { maxKeys: 8 });
    const encoder = new EventEncoder({ codec: 'json' });
    const slabs = new PayloadSlabs(64, 2);
    fc.assert(
      fc.property(tree, (fields) => {
        encodesAsStringify(encoder, slabs, fields);
      }),
      { numRuns: 400, seed: 20261202 },
    );
  });

  it('encodes a field named "" (JSON allows it) at any position, first event or not', () => {
    const slabs = new PayloadSlabs(64, 2);
    for (const fields of [{ '': 1 }, { a: 1, '': {} }, { a: [], b: null, '': '' }, { '': 'x', a: { '': 2 } }]) {
      encodesAsStringify(new EventEncoder({ codec: 'json' }), slabs, fields);
    }
  });

  it('escapes strings in place exactly as JSON.stringify: every ASCII character, U+FFFD, lone surrogates, long strings', () => {
    const encoder = new EventEncoder({ codec: 'json' });
    const ascii = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)).join('');
    const values = [
      ascii,
      `a"b\\c${ascii}`,
      'genuine \ufffd replacement "quoted"',
      'lone \udc00 low "and" high \ud83d',
      'pair 😀 "x"',
      '"' + 'é'.repeat(20000) + '\n',
      '\u0000\u001f"',
    ];
    const slabs = new PayloadSlabs(256, 2);
    for (const value of values) {
      encodesAsStringify(encoder, slabs, { message: value, other: `${value}!` });
    }
  });

  it('encodes with only_fields / except_fields and text codec', () => {
    const event = new LogEvent({ message: 'hi', kubernetes: Object.freeze({ pod_name: 'p', pod_uid: 'u' }), secret: 's' });
    assert.equal(new EventEncoder({ codec: 'json', except_fields: ['secret', 'kubernetes.pod_uid'] }).encode(event), '{"message":"hi","kubernetes":{"pod_name":"p"}}');
    assert.equal(new EventEncoder({ codec: 'json', only_fields: ['kubernetes.pod_name'] }).encode(event), '{"kubernetes":{"pod_name":"p"}}');
    assert.equal(new EventEncoder({ codec: 'text' }).encode(event), 'hi');
    assert.equal(event.fields.secret, 's', 'encoding never mutates the event');
  });

  it('renders field templates and reports missing fields', () => {
    const template = new FieldTemplate('/out/{{ kubernetes.pod_namespace }}/{{kubernetes.pod_name}}.ndjson');
    const missing: string[] = [];
    assert.equal(template.render({ kubernetes: { pod_namespace: 'ns' } }, (p) => missing.push(p)), '/out/ns/.ndjson');
    assert.deepEqual(missing, ['kubernetes.pod_name']);
    assert.equal(new FieldTemplate('static').isDynamic, false);
  });
});
