import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BodyError, decodeBody } from './decode.js';

const body = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('http_server body decoding', () => {
  it('json: an object is one event with its keys unchanged; an array is one event per element', () => {
    assert.deepEqual(decodeBody(body({ kind: 'Event', message: 'x', nested: { a: 1 } }), 'json'), [{ kind: 'Event', message: 'x', nested: { a: 1 } }]);
    assert.deepEqual(decodeBody(body([{ a: 1 }, { b: 2 }, 'plain']), 'json'), [{ a: 1 }, { b: 2 }, { message: 'plain' }]);
  });

  it('json: only kind EventList has its items split', () => {
    const list = { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [{ auditID: 'a' }, { auditID: 'b' }] };
    assert.deepEqual(decodeBody(body(list), 'json'), [{ auditID: 'a' }, { auditID: 'b' }]);
    const other = { kind: 'PodList', items: [{ a: 1 }] };
    assert.deepEqual(decodeBody(body(other), 'json'), [other]);
  });

  it('ndjson: one event per non-empty line; a bad line names its number', () => {
    assert.deepEqual(decodeBody(body('{"a":1}\n\n{"b":2}\r\n'), 'ndjson'), [{ a: 1 }, { b: 2 }]);
    assert.throws(() => decodeBody(body('{"a":1}\n{oops\n'), 'ndjson'), (error: Error) => error instanceof BodyError && /line 2/.test(error.message));
  });

  it('json: invalid or empty bodies are errors; bytes keeps the body as the message', () => {
    assert.throws(() => decodeBody(body('{"a":'), 'json'), BodyError);
    assert.throws(() => decodeBody(body('  '), 'json'), BodyError);
    assert.deepEqual(decodeBody(body('line one\nline two'), 'bytes'), [{ message: 'line one\nline two' }]);
    assert.deepEqual(decodeBody(Buffer.alloc(0), 'bytes'), []);
  });
});
