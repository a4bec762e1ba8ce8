// Every object the chart renders (defaults of every role, every value set, the helm test Pod) and
// every raw YAML file of every role, validated
// against the Kubernetes API of the minimal supported version (.meta/mskv) and of the newest one
// with schemas here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { chartDir, deployDir, helmTemplate, mskv, parseManifests, roles, roleTemplate, type KubeObject } from './kube.js';
import { checkFieldsWithTypes, isCustomResource, schemaVersions, validateWithModels } from './kube-schemas.js';

/** The .yaml files of deploy/kubernetes and its role folders, except the kustomizations. */
function rawFiles(dir = deployDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return rawFiles(path);
    return entry.name.endsWith('.yaml') && entry.name !== 'kustomization.yaml' ? [path] : [];
  });
}

async function everyRenderedObject(): Promise<KubeObject[]> {
  const valueSets = readdirSync(join(chartDir, 'ci')).filter((name) => name.endsWith('-values.yaml'));
  const renders = [await helmTemplate()];
  // Every role with its defaults, and with every pod-spec passthrough.
  for (const role of await roles()) {
    renders.push(await roleTemplate(role));
    renders.push(await roleTemplate(role, { values: [join(chartDir, 'ci', 'passthrough-values.yaml')] }));
  }
  renders.push(await helmTemplate({ values: [join(chartDir, 'ci', 'aggregator-values.yaml')], set: ['persistence.enabled=false'] }));
  for (const name of valueSets) renders.push(await helmTemplate({ values: [join(chartDir, 'ci', name)] }));
  const raw = rawFiles().map((path) => parseManifests(readFileSync(path, 'utf8')));
  return [...renders, ...raw].flat();
}

describe('Kubernetes API schemas', () => {
  let objects: KubeObject[] = [];
  let versions: string[] = [];
  before(async () => {
    objects = (await everyRenderedObject()).filter((object) => !isCustomResource(object));
    versions = [mskv(), schemaVersions().at(-1)!];
  });

  it('has schemas for the MSKV and a newer version', () => {
    assert.ok(schemaVersions().includes(mskv()), `add the devDependency kubernetes-models-${mskv()} (an npm alias of the kubernetes-models release for Kubernetes ${mskv()})`);
    assert.notEqual(versions[0], versions[1], 'a schema package newer than the MSKV');
    assert.ok(objects.length >= 20, `objects to validate: ${objects.length}`);
    const kinds = [
      'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ServiceAccount', 'ConfigMap', 'Secret', 'Service',
      'DaemonSet', 'Deployment', 'StatefulSet', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'Pod',
    ];
    for (const kind of kinds) {
      assert.ok(objects.some((object) => object.kind === kind), kind);
    }
  });

  for (const which of ['MSKV', 'newest'] as const) {
    it(`every object is valid for the ${which} (types, enums, required fields)`, () => {
      const version = which === 'MSKV' ? versions[0]! : versions[1]!;
      assert.deepEqual(validateWithModels(version, objects), [], `Kubernetes ${version}`);
    });

    it(`every field of every object exists in the ${which}`, async () => {
      const version = which === 'MSKV' ? versions[0]! : versions[1]!;
      assert.equal(await checkFieldsWithTypes(version, objects), '', `Kubernetes ${version}`);
    });
  }

  it('the checks catch a field newer than the MSKV, an unknown field and a bad enum', async () => {
    const [daemonSet] = (await helmTemplate()).filter((object) => object.kind === 'DaemonSet');
    const withField = (path: string[], value: unknown): KubeObject => {
      const copy = structuredClone(daemonSet!) as Record<string, unknown>;
      let node = copy;
      for (const key of path.slice(0, -1)) node = (Array.isArray(node) ? node[Number(key)] : node[key]) as Record<string, unknown>;
      node[path.at(-1)!] = value;
      return copy as KubeObject;
    };
    const containerContext = ['spec', 'template', 'spec', 'containers', '0', 'securityContext'];
    // appArmorProfile exists since Kubernetes 1.30.
    const appArmor = withField([...containerContext, 'appArmorProfile'], { type: 'RuntimeDefault' });
    assert.match(await checkFieldsWithTypes('1.25', [appArmor]), /appArmorProfile/);
    assert.equal(await checkFieldsWithTypes('1.33', [appArmor]), '');
    const typo = withField([...containerContext, 'readOnlyRootFileSystem'], true);
    assert.match(await checkFieldsWithTypes(versions[1]!, [typo]), /readOnlyRootFileSystem/);
    const badEnum = withField([...containerContext, 'seccompProfile'], { type: 'Bogus' });
    assert.equal(validateWithModels(versions[0]!, [badEnum]).length, 1);
  });
});
