// The YAML in docs/kubernetes.md works as written: Kubernetes objects (the sidecar Deployment, the
// NetworkPolicy) are valid for the MSKV and the newest schemas, the Helm values (of every role) are
// accepted by the chart and pass its helm test Pod, the kustomize patches do what they say, and the
// agent configurations pass `sluice validate` once their component types exist.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import YAML from 'yaml';
import { helmTemplate, mskv, parseManifests, repoRoot, tool, unregisteredComponents, workload, type KubeObject } from './kube.js';
import { resolveMountedArgs, testPod } from './mounted.js';
import { checkFieldsWithTypes, schemaVersions, validateWithModels } from './kube-schemas.js';

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'sluice-docs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Every ```yaml block of a Markdown file, parsed (multi-document blocks give several values). */
function yamlBlocks(path: string): unknown[] {
  const markdown = readFileSync(join(repoRoot, path), 'utf8');
  return [...markdown.matchAll(/^( *)```yaml\n([\s\S]*?)^\1```/gm)].flatMap(([, indent, body]) => {
    const dedented = body!.split('\n').map((line) => line.slice(indent!.length)).join('\n');
    return YAML.parseAllDocuments(dedented).map((doc) => {
      assert.equal(doc.errors.length, 0, `${path}: ${doc.errors[0]?.message}\n${dedented}`);
      return doc.toJS() as unknown;
    });
  });
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const kubeObjects = (blocks: unknown[]) => blocks.filter((b): b is KubeObject => isObject(b) && 'apiVersion' in b && 'kind' in b);
const guide = 'docs/kubernetes.md';

describe('docs/kubernetes.md', () => {
  it('its Kubernetes objects are valid for the MSKV and the newest schemas', async () => {
    const objects = kubeObjects(yamlBlocks(guide));
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['ConfigMap', 'Deployment', 'NetworkPolicy']);
    for (const version of [mskv(), schemaVersions().at(-1)!]) {
      assert.deepEqual(validateWithModels(version, objects), [], version);
      assert.equal(await checkFieldsWithTypes(version, objects), '', version);
    }
  });

  it('its Helm values (guide and chart README) render with the chart, and the helm test Pod passes on them', async () => {
    const readme = yamlBlocks('charts/sluice/README.md');
    const valueFiles = [...yamlBlocks(guide), ...readme].filter((b) => isObject(b) && 'customConfig' in b) as Record<string, unknown>[];
    // The Helm install, the three roles (Cluster, Aggregator, the Agent sending to it), the README.
    assert.equal(valueFiles.length, 5);
    const workloads = { Agent: 'DaemonSet', Cluster: 'Deployment', Aggregator: 'StatefulSet' } as Record<string, string>;
    for (const role of Object.keys(workloads)) assert.ok(valueFiles.some((v) => (v['role'] ?? 'Agent') === role), `a values example for role ${role}`);
    for (const [index, values] of valueFiles.entries()) {
      const file = join(scratch, `values-${index}.yaml`);
      writeFileSync(file, YAML.stringify(values));
      const objects = await helmTemplate({ values: [file] });
      assert.ok(objects.some((o) => o.kind === 'Secret' && o.metadata.name === 'sluice-custom'));
      assert.equal((workload(objects) as unknown as KubeObject).kind, workloads[String(values['role'] ?? 'Agent')]);
      const { pod, container } = testPod(objects);
      const args = resolveMountedArgs(scratch, pod, container, objects);
      await run(process.execPath, [join(repoRoot, 'dist', 'src', 'cli.js'), ...args], {
        env: { ...process.env, SLUICE_NODE_NAME: 'node-1', AUDIT_TOKEN: 'from-the-secret' },
      });
    }
  });

  it('the Cluster role\'s namespace patch moves the subjects of both its bindings', async () => {
    const docs = readFileSync(join(repoRoot, guide), 'utf8');
    const snippet = /<!-- kustomize-namespace-patch-cluster -->\s*```yaml\n([\s\S]*?)```/.exec(docs)?.[1];
    assert.ok(snippet, 'docs/kubernetes.md holds the Cluster role\'s namespace patch snippet');
    const userDir = mkdtempSync(join(scratch, 'cluster-namespace-'));
    const base = join(repoRoot, 'deploy', 'kubernetes', 'cluster');
    writeFileSync(join(userDir, 'kustomization.yaml'), YAML.stringify({ resources: [relative(userDir, base)], ...YAML.parse(snippet) }));
    const objects = parseManifests(await tool('kubectl', ['kustomize', userDir]));
    const bindings = objects.filter((o) => o.kind.endsWith('RoleBinding'));
    assert.deepEqual(bindings.map((o) => o.kind).sort(), ['ClusterRoleBinding', 'RoleBinding']);
    for (const binding of bindings) assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'sluice-cluster', namespace: 'logging' }]);
  });

  it('its agent configurations pass sluice validate', async () => {
    const blocks = yamlBlocks(guide);
    const userPart = blocks.find((b) => isObject(b) && 'sinks' in b && !('apiVersion' in b)) as Record<string, unknown>;
    const sidecar = kubeObjects(blocks).find((o) => o.kind === 'ConfigMap')!['data'] as Record<string, string>;
    const common = YAML.parse(readFileSync(join(repoRoot, 'deploy', 'kubernetes', 'sluice-namespaced.yaml'), 'utf8').split('\n---\n')
      .find((doc) => doc.includes('kind: ConfigMap'))!)['data']['sluice.yaml'] as string;
    const configs: [string, string[]][] = [
      ['the user part with the common part', [common.replace(/^data_dir: .*$/m, `data_dir: ${scratch}`), YAML.stringify(userPart)]],
      ['the sidecar configuration', [sidecar['sluice.yaml']!.replace(/^data_dir: .*$/m, `data_dir: ${scratch}`)]],
    ];
    for (const [name, texts] of configs) {
      // A type sluice does not register is an error of the guide, not a reason to skip the check.
      assert.deepEqual(await unregisteredComponents(texts), [], `${name}: component types sluice does not register`);
      const files = texts.map((text, index) => {
        const file = join(scratch, `${name.replace(/\W+/g, '-')}-${index}.yaml`);
        writeFileSync(file, text);
        return file;
      });
      await run(process.execPath, [join(repoRoot, 'dist', 'src', 'cli.js'), 'validate', ...files.flatMap((f) => ['--config', f])], {
        env: { ...process.env, SLUICE_NODE_NAME: 'node-1' },
      });
    }
  });
});
