import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../../../test/harness.js';
import { readableFile, unreadableFile, withEnvironmentChecks } from './environment.js';

const dir = tempDir();
after(() => dir.cleanup());

describe('environment checks', () => {
  const present = join(dir.path, 'ca.pem');
  writeFileSync(present, 'pem');
  const folder = join(dir.path, 'certs');
  mkdirSync(folder);
  const missing = join(dir.path, 'nope', 'ca.pem');

  it('say why a path cannot be read as a file', () => {
    assert.equal(unreadableFile(present), undefined);
    assert.equal(unreadableFile(missing), `"${missing}" does not exist`);
    assert.equal(unreadableFile(folder), `"${folder}" is not a file`);
  });

  it('refuse a missing file in a schema, unless the checks are off for this load', () => {
    const schema = readableFile();
    assert.equal(schema.safeParse(present).success, true);
    const result = schema.safeParse(missing);
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0]!.message, /does not exist \(a check of this machine: validate --no-environment skips it\)/);
    assert.equal(withEnvironmentChecks(false, () => schema.safeParse(missing).success), true);
    assert.equal(schema.safeParse(missing).success, false, 'the flag holds for one load only');
  });
});
