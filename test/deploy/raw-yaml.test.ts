// The raw YAML in deploy/kubernetes: fresh from the chart, usable with kubectl and kustomize as the
// tutorial in docs/kubernetes.md says, and stable across releases (`kubectl apply` again works).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import YAML from 'yaml';
import { chartDir, daemonSet, deployDir, parseManifests, rawRoleObjects, renderDeploy, roles, roleTemplate, tool, withoutHooks, workload, type KubeObject } from './kube.js';

const scratch = mkdtempSync(join(tmpdir(), 'sluice-raw-yaml-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const clusterScoped = new Set(['ClusterRole', 'ClusterRoleBinding']);
const rawFile = (name: string): KubeObject[] => parseManifests(readFileSync(join(deployDir, name), 'utf8'));
const names = (objects: KubeObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();

/** A user's kustomization directory, as in the tutorial: the base plus their sluice-custom. */
function userKustomization(dir: string, extra: Record<string, unknown> = {}): string {
  const userDir = mkdtempSync(join(scratch, dir));
  cpSync(join(deployDir, 'sluice-custom.example.yaml'), join(userDir, 'sluice-custom.yaml'));
  writeFileSync(
    join(userDir, 'kustomization.yaml'),
    YAML.stringify({ namespace: 'sluice', resources: [relative(userDir, deployDir), 'sluice-custom.yaml'], ...extra }),
  );
  return userDir;
}

describe('raw YAML', () => {
  it('is what the chart renders now (run `npm run render-deploy` after changing the chart)', async () => {
    assert.deepEqual(await (await renderDeploy()).staleFiles(), []);
  });

  it('splits the objects as the RFC says: cluster-scoped, namespaced, the user\'s part', () => {
    assert.deepEqual(names(rawFile('sluice-global.yaml')), ['ClusterRole/sluice']);
    assert.deepEqual(names(rawFile('sluice-namespaced.yaml')), [
      'ClusterRoleBinding/sluice', 'ConfigMap/sluice-common', 'DaemonSet/sluice', 'ServiceAccount/sluice',
    ]);
    assert.deepEqual(names(rawFile('sluice-custom.example.yaml')), ['Secret/sluice-custom']);
    for (const object of ['sluice-global.yaml', 'sluice-namespaced.yaml', 'sluice-custom.example.yaml'].flatMap(rawFile)) {
      // `kubectl apply --namespace X` must be free to place them; Helm's bookkeeping labels must be gone.
      assert.equal(object.metadata.namespace, undefined, object.kind);
      assert.equal(object.metadata.labels?.['app.kubernetes.io/managed-by'], undefined, object.kind);
      assert.equal(object.metadata.labels?.['helm.sh/chart'], undefined, object.kind);
    }
  });

  it('kubectl kustomize deploy/kubernetes renders the base into namespace sluice', async () => {
    const objects = parseManifests(await tool('kubectl', ['kustomize', deployDir]));
    assert.deepEqual(names(objects), names([...rawFile('sluice-global.yaml'), ...rawFile('sluice-namespaced.yaml')]));
    for (const object of objects) {
      assert.equal(object.metadata.namespace, clusterScoped.has(object.kind) ? undefined : 'sluice', object.kind);
    }
  });

  it('the tutorial\'s kustomize flow: the base plus the user\'s sluice-custom, mounted by the DaemonSet', async () => {
    const objects = parseManifests(await tool('kubectl', ['kustomize', userKustomization('tutorial-')]));
    const secret = objects.find((o) => o.kind === 'Secret');
    assert.equal(secret?.metadata.name, 'sluice-custom');
    assert.equal(secret?.metadata.namespace, 'sluice');
    const volume = daemonSet(objects).spec.template.spec.volumes.find((v) => v.name === 'config-custom');
    assert.equal(volume?.secret?.secretName, secret?.metadata.name);
    const key = Object.keys(secret?.['stringData'] as object)[0];
    assert.ok(daemonSet(objects).spec.template.spec.containers[0]!.args?.includes(`/etc/sluice/custom/${key}`));
  });

  it('another namespace with kustomize: the documented patch moves the binding\'s subject too', async () => {
    const docs = readFileSync(join(chartDir, '..', '..', 'docs', 'kubernetes.md'), 'utf8');
    const snippet = /<!-- kustomize-namespace-patch -->\s*```yaml\n([\s\S]*?)```/.exec(docs)?.[1];
    assert.ok(snippet, 'docs/kubernetes.md holds the namespace patch snippet');
    const userDir = userKustomization('other-namespace-');
    const kustomization = YAML.parse(readFileSync(join(userDir, 'kustomization.yaml'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(userDir, 'kustomization.yaml'), YAML.stringify({ ...kustomization, ...YAML.parse(snippet) }));
    const objects = parseManifests(await tool('kubectl', ['kustomize', userDir]));
    const binding = objects.find((o) => o.kind === 'ClusterRoleBinding');
    assert.deepEqual(binding?.['subjects'], [{ kind: 'ServiceAccount', name: 'sluice', namespace: 'logging' }]);
    assert.ok(objects.filter((o) => !clusterScoped.has(o.kind)).every((o) => o.metadata.namespace === 'logging'));
  });

  it('keeps names and the immutable selector across releases, so `kubectl apply` upgrades in place', async () => {
    const nextChart = join(mkdtempSync(join(scratch, 'next-')), 'sluice');
    cpSync(chartDir, nextChart, { recursive: true });
    const chartYaml = join(nextChart, 'Chart.yaml');
    writeFileSync(chartYaml, readFileSync(chartYaml, 'utf8').replace(/^version: .*$/m, 'version: 9.8.7').replace(/^appVersion: .*$/m, 'appVersion: "9.8.7"'));
    const next = withoutHooks(parseManifests(await tool('helm', ['template', 'sluice', nextChart, '--namespace', 'sluice'])));
    const current = [...rawFile('sluice-global.yaml'), ...rawFile('sluice-namespaced.yaml')];
    assert.deepEqual(names(next), names(current));
    const [nextDs, currentDs] = [daemonSet(next), daemonSet(current)];
    assert.match(nextDs.spec.template.spec.containers[0]!.image, /:9\.8\.7$/);
    assert.deepEqual(nextDs.spec.selector, currentDs.spec.selector);
    const selector = currentDs.spec.selector.matchLabels;
    assert.equal(selector['app.kubernetes.io/version'], undefined, 'no version in the selector');
    for (const [label, value] of Object.entries(selector)) {
      assert.equal(currentDs.spec.template.metadata.labels[label], value, `pod template carries selector label ${label}`);
    }
    for (const object of current) {
      assert.ok(object.metadata.name, 'named (no generateName: apply needs a name)');
      assert.equal(object['status'], undefined);
    }
  });
});

describe('raw YAML of every role', async () => {
  const expected: Record<string, { global: string[]; namespaced: string[] }> = {
    Cluster: {
      global: ['ClusterRole/sluice-cluster'],
      namespaced: [
        'ClusterRoleBinding/sluice-cluster', 'ConfigMap/sluice-cluster-common', 'Deployment/sluice-cluster',
        'PodDisruptionBudget/sluice-cluster', 'Role/sluice-cluster-leases', 'RoleBinding/sluice-cluster-leases',
        'Service/sluice-cluster', 'ServiceAccount/sluice-cluster',
      ],
    },
    Aggregator: {
      global: [],
      namespaced: [
        'ConfigMap/sluice-aggregator-common', 'PodDisruptionBudget/sluice-aggregator', 'Service/sluice-aggregator',
        'Service/sluice-aggregator-headless', 'ServiceAccount/sluice-aggregator', 'StatefulSet/sluice-aggregator',
      ],
    },
  };
  for (const entry of (await roles()).filter((r) => r.role !== 'Agent')) {
    const dir = join(deployDir, entry.dir);
    const file = (name: string) => parseManifests(readFileSync(join(dir, name), 'utf8'));

    it(`${entry.role}: deploy/kubernetes/${entry.dir} holds the chart's default render, split as for the Agent`, async () => {
      const globalObjects = expected[entry.role]!.global.length > 0 ? file(entry.files.global) : [];
      assert.deepEqual(names(globalObjects), expected[entry.role]!.global);
      assert.deepEqual(names(file(entry.files.namespaced)), expected[entry.role]!.namespaced);
      assert.deepEqual(names(file(entry.files.custom)), [`Secret/${entry.release}-custom`]);
      // The same objects as `helm template` of the role (without Helm's hooks and bookkeeping).
      assert.deepEqual(names(rawRoleObjects(entry)), names(withoutHooks(await roleTemplate(entry))));
      for (const object of [...rawRoleObjects(entry), ...file(entry.files.custom)]) {
        assert.equal(object.metadata.namespace, undefined, object.kind);
        assert.equal(object.metadata.labels?.['app.kubernetes.io/managed-by'], undefined, object.kind);
        assert.equal(object.metadata.labels?.['app.kubernetes.io/component'], entry.role.toLowerCase(), object.kind);
      }
    });

    it(`${entry.role}: its kustomize base renders into namespace sluice and, with the user's Secret, mounts it`, async () => {
      const base = parseManifests(await tool('kubectl', ['kustomize', dir]));
      assert.deepEqual(names(base), names(rawRoleObjects(entry)));
      for (const object of base) assert.equal(object.metadata.namespace, clusterScoped.has(object.kind) ? undefined : 'sluice', object.kind);
      const userDir = mkdtempSync(join(scratch, `${entry.dir}-user-`));
      cpSync(join(dir, entry.files.custom), join(userDir, 'custom.yaml'));
      writeFileSync(join(userDir, 'kustomization.yaml'), YAML.stringify({ namespace: 'logging', resources: [relative(userDir, dir), 'custom.yaml'] }));
      const objects = parseManifests(await tool('kubectl', ['kustomize', userDir]));
      const secret = objects.find((o) => o.kind === 'Secret')!;
      assert.equal(secret.metadata.namespace, 'logging');
      const volume = workload(objects).spec.template.spec.volumes.find((v) => v.name === 'config-custom');
      assert.equal(volume?.secret?.secretName, secret.metadata.name);
    });
  }

  it('the roles side by side in one namespace: no two objects share a kind and name', async () => {
    const all = (await roles()).flatMap((entry) => [
      ...rawRoleObjects(entry),
      ...parseManifests(readFileSync(join(deployDir, entry.dir, entry.files.custom), 'utf8')),
    ]);
    const seen = names(all);
    assert.deepEqual(seen, [...new Set(seen)]);
    // Nor do their selectors pick each other's pods.
    const selectors = (await roles()).map((entry) => JSON.stringify(workload(rawRoleObjects(entry)).spec.selector));
    assert.equal(new Set(selectors).size, selectors.length);
  });
});
