import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// The common Vector Kubernetes configs of docs/migrating-from-vector.md: each `<name>.sluice.*` (the
// original `<name>.vector.*` after the documented edits) passes `sluice validate --no-environment`.

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DIR = join(ROOT, 'test', 'deploy', 'vector-configs');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');

function validate(file: string) {
  return spawnSync(process.execPath, [CLI, 'validate', '--no-environment', '--config', join(DIR, file)], { encoding: 'utf8' });
}

const files = readdirSync(DIR).sort();
const edited = files.filter((f) => /\.sluice\.(toml|ya?ml|json)$/.test(f));

describe('Vector configs after the documented edits', () => {
  it('every original has its edited version', () => {
    const originals = files.filter((f) => /\.vector\./.test(f)).map((f) => f.replace('.vector.', '.sluice.'));
    assert.deepEqual(originals, edited);
    assert.equal(edited.length, 3);
  });

  for (const file of edited) {
    it(`${file} is valid`, () => {
      const result = validate(file);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /^valid: 1 file\(s\)/m);
    });
  }

  it('the original that needs edits is refused naming what to edit; the others run unchanged', () => {
    assert.match(validate('helm-agent.vector.yaml').stderr, /api\.playground: unknown option/);
    for (const unchanged of ['docs-kubernetes-logs.vector.toml', 'loki-agent.vector.yaml']) {
      const result = validate(unchanged);
      assert.equal(result.status, 0, `${unchanged}: ${result.stderr}`);
    }
  });
});
