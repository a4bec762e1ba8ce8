import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PathPrefix, sanitizePathValue } from './safe-path.js';

describe('file sink path safety', () => {
  it('turns a value into one harmless segment part', () => {
    assert.equal(sanitizePathValue('../../etc'), '.._.._etc');
    assert.equal(sanitizePathValue('..'), '__');
    assert.equal(sanitizePathValue('.'), '_');
    assert.equal(sanitizePathValue('a\0b/c'), 'a_b_c');
    assert.equal(sanitizePathValue('web-7d9f.v2'), 'web-7d9f.v2');
  });

  it('confines paths to the literal prefix, including a prefix that ends inside a file name', () => {
    const prefix = new PathPrefix('/out/app-{{ kubernetes.pod_name }}.log');
    assert.equal(prefix.contains('/out/app-web.log'), true);
    assert.equal(prefix.contains('/out/app-../secret.log'), true); // "app-.." is a name, not a segment
    assert.equal(prefix.contains('/out/other.log'), false);
    assert.equal(prefix.contains('/out/app-x/../../etc/passwd'), false);
    assert.equal(prefix.contains('/out'), false);
    const relativePrefix = new PathPrefix('logs/{{ ns }}/x.log');
    assert.equal(relativePrefix.contains('logs/ns/x.log'), true);
    assert.equal(relativePrefix.contains('logs/../x.log'), false);
  });
});
