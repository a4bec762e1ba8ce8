// Why the pod runs as uid 0 with every capability dropped (docs/kubernetes.md, "Why uid 0"): the
// container runtime writes log files root:root 0640. Shown with real processes: setpriv (util-linux)
// runs `cat` / `touch` with the securityContext's identity (uid, gid, no capabilities, no_new_privs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const scratch = mkdtempSync(join(tmpdir(), 'sluice-log-permissions-'));
chmodSync(scratch, 0o755); // like /var/log/pods: every uid may traverse it
after(() => rmSync(scratch, { recursive: true, force: true }));

const nobody = 65534;
const canRun = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;

/** Runs a command as `uid` with no capabilities at all, as the hardened container does. */
function asHardened(uid: number, command: string[]): boolean {
  const result = spawnSync('setpriv', [
    `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups',
    '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--', ...command,
  ]);
  return result.status === 0;
}

function file(name: string, owner: number, mode: number): string {
  const path = join(scratch, name);
  writeFileSync(path, 'line\n');
  chownSync(path, owner, owner);
  chmodSync(path, mode);
  return path;
}

function directory(name: string, owner: number): string {
  const path = join(scratch, name);
  mkdirSync(path);
  chownSync(path, owner, owner);
  chmodSync(path, 0o755);
  return path;
}

describe('log file permissions and the agent\'s identity', { skip: canRun ? false : 'needs root and setpriv (util-linux)' }, () => {
  it('uid 0 without capabilities reads a root:root 0640 log file; a non-root uid cannot', () => {
    const log = file('0.log', 0, 0o640);
    assert.equal(asHardened(0, ['cat', log]), true);
    assert.equal(asHardened(nobody, ['cat', log]), false);
  });

  it('the read works through ownership, not a capability: a file of another owner stays closed', () => {
    const foreign = file('foreign.log', nobody, 0o600);
    assert.equal(asHardened(0, ['cat', foreign]), false);
  });

  it('uid 0 without capabilities writes checkpoints in the root-owned data directory only', () => {
    assert.equal(asHardened(0, ['touch', join(directory('data', 0), 'checkpoints.json')]), true);
    assert.equal(asHardened(0, ['touch', join(directory('elsewhere', nobody), 'x')]), false);
  });
});
