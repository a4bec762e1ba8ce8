// The Kubernetes example and the README's RBAC: valid objects for the MSKV and the newest schemas,
// a config that loads, and RBAC granting what the source does (and nothing more).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import YAML from 'yaml';
import { mskv, repoRoot, type KubeObject } from '../../../test/deploy/kube.js';
import { schemaVersions, validateWithModels } from '../../../test/deploy/kube-schemas.js';
import '../../components.js';
import { loadConfig } from '../../core/config/load.js';

const scratch = mkdtempSync(join(tmpdir(), 'sluice-events-example-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const example = YAML.parseAllDocuments(readFileSync(join(repoRoot, 'examples', 'kubernetes-events', 'sluice-events.yaml'), 'utf8')).map((d) => d.toJS() as KubeObject);
const readmeBlocks = [...readFileSync(join(repoRoot, 'src', 'sources', 'kubernetes_events', 'README.md'), 'utf8').matchAll(/^```yaml\n([\s\S]*?)^```/gm)].flatMap(([, body]) =>
  YAML.parseAllDocuments(body!).map((d) => d.toJS() as KubeObject),
);

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
/** "group/resource verb[ name]" per granted permission. */
const grants = (objects: KubeObject[]) =>
  objects
    .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
    .flatMap((o) => (o.rules as Rule[]).flatMap((r) => r.verbs.map((v) => `${o.kind} ${r.apiGroups[0]}/${r.resources[0]} ${v}${r.resourceNames ? ` ${r.resourceNames.join(',')}` : ''}`)))
    .sort();

const MINIMAL = [
  'ClusterRole events.k8s.io/events list',
  'ClusterRole events.k8s.io/events watch',
  'Role coordination.k8s.io/leases create',
  'Role coordination.k8s.io/leases get sluice-events',
  'Role coordination.k8s.io/leases update sluice-events',
];

describe('kubernetes_events deployment example', () => {
  it('its objects, and the README\'s RBAC, are valid for the MSKV and the newest schemas', () => {
    assert.deepEqual(example.map((o) => o.kind), ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ConfigMap', 'Deployment']);
    for (const version of [mskv(), schemaVersions().at(-1)!]) assert.deepEqual(validateWithModels(version, [...example, ...readmeBlocks]), [], version);
  });

  it('RBAC: events list/watch, the Lease get/create/update in one namespace, nothing else', () => {
    assert.deepEqual(grants(example), MINIMAL);
    assert.deepEqual(grants(readmeBlocks), MINIMAL);
    const role = example.find((o) => o.kind === 'Role')!;
    const config = example.find((o) => o.kind === 'ConfigMap')!;
    assert.equal(role.metadata.namespace, 'sluice');
    assert.ok(((config.data as Record<string, string>)['sluice.toml'] ?? '').includes('lease_name = "sluice-events"'));
  });

  it('its sluice config loads, with the lease namespace and identity left to the downward API', () => {
    const path = join(scratch, 'sluice.toml');
    writeFileSync(path, (example.find((o) => o.kind === 'ConfigMap')!.data as Record<string, string>)['sluice.toml']!);
    const loaded = loadConfig({ files: [path] });
    const source = loaded.components.find((c) => c.id === 'events')!;
    assert.equal(source.type, 'kubernetes_events');
    const options = source.options as { leader_election: Record<string, unknown> };
    assert.deepEqual(options.leader_election, { enabled: true, lease_name: 'sluice-events', lease_duration_secs: 15 });
    const deployment = example.find((o) => o.kind === 'Deployment')! as unknown as { spec: { replicas: number; template: { spec: { containers: { env: { name: string; valueFrom: { fieldRef: { fieldPath: string } } }[] }[] } } } };
    assert.equal(deployment.spec.replicas, 2);
    assert.deepEqual(
      deployment.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.valueFrom.fieldRef.fieldPath]),
      [['SLUICE_POD_NAME', 'metadata.name'], ['SLUICE_POD_NAMESPACE', 'metadata.namespace']],
    );
  });
});
