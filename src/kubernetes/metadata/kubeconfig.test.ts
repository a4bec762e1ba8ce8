import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { pod } from '../../../test/k8s/fixtures.js';
import { cleanUpAfterEach, startStore } from '../../../test/k8s/store-setup.js';
import { readStaticKubeconfig } from './kubeconfig.js';

cleanUpAfterEach();
const dir = mkdtempSync(join(tmpdir(), 'sluice-kubeconfig-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
      ...extra,
    }),
  );
  return path;
}

describe('kubeconfig (static credentials)', () => {
  it('reads CA, client certificate and key from files relative to the kubeconfig, and TLS options', () => {
    mkdirSync(join(dir, 'pki'), { recursive: true });
    writeFileSync(join(dir, 'pki', 'ca.crt'), 'CA PEM');
    writeFileSync(join(dir, 'pki', 'client.crt'), 'CERT PEM');
    writeFileSync(join(dir, 'pki', 'client.key'), 'KEY PEM');
    const path = kubeconfig(
      'files',
      { server: 'https://api.example:6443/', 'certificate-authority': 'pki/ca.crt', 'tls-server-name': 'kubernetes', 'insecure-skip-tls-verify': true },
      { 'client-certificate': 'pki/client.crt', 'client-key': join(dir, 'pki', 'client.key') },
    );
    const config = readStaticKubeconfig(path)!;
    assert.equal(config.server, 'https://api.example:6443');
    assert.equal(config.tls.ca?.toString(), 'CA PEM');
    assert.equal(config.tls.cert?.toString(), 'CERT PEM');
    assert.equal(config.tls.key?.toString(), 'KEY PEM');
    assert.equal(config.tls.servername, 'kubernetes');
    assert.equal(config.tls.rejectUnauthorized, false);
    assert.equal(config.auth, undefined, 'a client certificate needs no header');
  });

  it('inline data, static token, token-file spelling and basic auth', () => {
    const cluster = { server: 'https://k', 'certificate-authority-data': Buffer.from('CA').toString('base64') };
    assert.deepEqual(readStaticKubeconfig(kubeconfig('token', cluster, { token: 'abc' }))!.auth, { token: 'abc' });
    assert.equal(readStaticKubeconfig(kubeconfig('token', cluster, { token: 'abc' }))!.tls.ca?.toString(), 'CA');
    assert.deepEqual(readStaticKubeconfig(kubeconfig('tokenfile', cluster, { 'token-file': 'tok' }))!.auth, { tokenFile: join(dir, 'tok') });
    assert.deepEqual(readStaticKubeconfig(kubeconfig('basic', cluster, { username: 'a', password: 'b' }))!.auth, { basic: Buffer.from('a:b').toString('base64') });
  });

  it('leaves exec and auth-provider users to client-node', () => {
    assert.equal(readStaticKubeconfig(kubeconfig('exec', { server: 'https://k' }, { exec: { command: 'x', apiVersion: 'client.authentication.k8s.io/v1' } })), undefined);
    assert.equal(readStaticKubeconfig(kubeconfig('provider', { server: 'https://k' }, { 'auth-provider': { name: 'oidc' } })), undefined);
  });

  it('names the file and the broken reference', () => {
    const noContext = kubeconfig('no-current', { server: 'https://k' }, {}, { 'current-context': '' });
    assert.throws(() => readStaticKubeconfig(noContext), new RegExp(`${noContext}: current-context is not set`));
    assert.throws(() => readStaticKubeconfig(kubeconfig('typo', { server: 'https://k' }, {}, { 'current-context': 'ctz' })), /current-context "ctz" names no entry of contexts/);
    assert.throws(() => readStaticKubeconfig(kubeconfig('no-server', {}, {})), /no-server: cluster "c" has no server/);
  });

  it('an exec plugin user still connects (through client-node) and lists pods', async () => {
    const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: 'test-token' } });
    const { store } = await startStore({
      seed: (s) => s.upsert('pods', pod({ name: 'via-exec', uid: 'uid-exec' })),
      kubeconfig: (s) =>
        kubeconfig(
          'exec-live',
          { server: s.url, 'certificate-authority-data': Buffer.from(s.caPem).toString('base64') },
          { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: process.execPath, args: ['-e', `process.stdout.write(${JSON.stringify(credential)})`], interactiveMode: 'Never' } },
        ),
    });
    assert.equal(store.getPod('uid-exec')?.name, 'via-exec');
  });
});
