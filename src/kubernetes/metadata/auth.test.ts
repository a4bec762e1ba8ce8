import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { eventually } from '../../../test/k8s/eventually.js';
import { pod } from '../../../test/k8s/fixtures.js';
import { writeKubeconfig } from '../../../test/k8s/kubeconfig.js';
import { cleanUpAfterEach, metricValue, startStore } from '../../../test/k8s/store-setup.js';

cleanUpAfterEach();

/** Replace a file atomically, as kubelet does for projected tokens. */
function rotate(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

describe('credentials', () => {
  it('in-cluster: re-reads the rotated service-account token and recovers after 401s', async () => {
    let tokenPath = '';
    const { server, store, registry } = await startStore({
      seed: (s) => s.upsert('pods', pod({ name: 'a', uid: 'uid-a' })),
      inCluster: (s, dir) => {
        const serviceAccountDir = join(dir, 'serviceaccount');
        mkdirSync(serviceAccountDir);
        writeFileSync(join(serviceAccountDir, 'ca.crt'), s.caPem);
        tokenPath = join(serviceAccountDir, 'token');
        writeFileSync(tokenPath, 'test-token\n'); // a trailing newline must not end up in the header
        return { serviceAccountDir, env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(s.url).port } };
      },
    });
    assert.equal(store.getPod('uid-a')?.name, 'a');

    // The old token expires before kubelet has written the new one: 401s for a while.
    server.setAcceptedTokens('rotated-token');
    server.dropWatches();
    // Retried with backoff (not a fixed window: a loaded machine may fit fewer tries in one).
    await eventually(async () => assert.ok((await metricValue(registry, 'sluice_kubernetes_api_requests_total', { code: '401' })) >= 3));
    assert.equal(store.getPod('uid-a')?.name, 'a', 'cache kept through the 401s');

    rotate(tokenPath, 'rotated-token');
    server.upsert('pods', pod({ name: 'b', uid: 'uid-b' }));
    assert.ok(await store.waitForPod('uid-b', 5000), 'recovered with the new token');
  });

  it('kubeconfig tokenFile: a rotated token is picked up on the next request, without a restart', async () => {
    let tokenPath = '';
    const { server, store, registry } = await startStore({
      kubeconfig: (s, dir) => {
        tokenPath = join(dir, 'token');
        writeFileSync(tokenPath, 'test-token');
        return writeKubeconfig(dir, { server: s.url, caPem: s.caPem, tokenFile: tokenPath });
      },
    });
    rotate(tokenPath, 'second-token');
    server.setAcceptedTokens('second-token');
    server.dropWatches();
    server.upsert('pods', pod({ name: 'c', uid: 'uid-c' }));
    assert.ok(await store.waitForPod('uid-c', 5000));
    // A request racing the rotation may see one 401: it is retried at once with the re-read token.
    assert.equal(await metricValue(registry, 'sluice_kubernetes_watch_restarts_total', { reason: 'unauthorized' }), 0);
  });

  it('answers a wrong static token with 401s and backoff, never a crash', async () => {
    await assert.rejects(
      startStore({ kubeconfig: (s, dir) => writeKubeconfig(dir, { server: s.url, caPem: s.caPem, token: 'wrong' }) }),
      /initial sync/,
    );
  });
});
