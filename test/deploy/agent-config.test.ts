// The configuration the deployment files give the agent is valid for the agent itself: the common
// part (ConfigMap sluice-common) together with the user's part (the example Secret, and the chart's
// inline-config value set), checked by the real `sluice validate`, with the args the DaemonSet uses.
// Then every role: its raw YAML with its example Secret, and the chart's `helm test` Pod run as the
// kubelet would run it (its args, its volumes resolved to the ConfigMap and Secret of the render).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { agentContainer, chartDir, daemonSet, deployDir, helmTemplate, isHelmHook, only, parseManifests, rawRoleObjects, repoRoot, roles, roleTemplate, unregisteredComponents, workload, type KubeObject } from './kube.js';
import { resolveMountedArgs, testPod, type PodView } from './mounted.js';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'src', 'cli.js');
const scratch = mkdtempSync(join(tmpdir(), 'sluice-agent-config-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function sluice(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env: { ...process.env, SLUICE_NODE_NAME: 'node-1', ...env } });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

/** The files the pod would see, written where the DaemonSet's --config args point (re-rooted). */
function mountedFiles(objects: KubeObject[], custom: KubeObject): string[] {
  const common = only(objects, 'ConfigMap')['data'] as Record<string, string>;
  const customData = custom['stringData'] as Record<string, string>;
  const args = agentContainer(daemonSet(objects)).args ?? [];
  const configs = args.flatMap((arg, index) => (args[index - 1] === '--config' ? [arg] : []));
  assert.equal(configs.length, 2, 'two --config flags');
  const dir = mkdtempSync(join(scratch, 'pod-'));
  return configs.map((path) => {
    const key = path.split('/').pop()!;
    const content = path.startsWith('/etc/sluice/common/') ? common[key] : customData[key];
    assert.ok(content, `${path} is mounted from a ConfigMap or Secret key`);
    // data_dir must exist for validation to be meaningful here, not /var/lib/sluice on this machine.
    const file = join(dir, path.startsWith('/etc/sluice/common/') ? 'common-' + key : 'custom-' + key);
    writeFileSync(file, content.replace(/^data_dir: .*$/m, `data_dir: ${dir}`));
    return file;
  });
}

describe('agent configuration from the deployment files', () => {
  const cases: [string, () => Promise<{ objects: KubeObject[]; custom: KubeObject }>][] = [
    [
      'raw YAML with sluice-custom.example.yaml',
      async () => ({
        objects: parseManifests(readFileSync(join(deployDir, 'sluice-namespaced.yaml'), 'utf8')),
        custom: only(parseManifests(readFileSync(join(deployDir, 'sluice-custom.example.yaml'), 'utf8')), 'Secret'),
      }),
    ],
    [
      'chart with an inline custom config',
      async () => {
        const objects = await helmTemplate({ values: [join(chartDir, 'ci', 'inline-config-values.yaml')] });
        return { objects, custom: only(objects, 'Secret') };
      },
    ],
  ];

  for (const [name, load] of cases) {
    it(`sluice validate accepts the ${name}`, async () => {
      const { objects, custom } = await load();
      const files = mountedFiles(objects, custom);
      // A type sluice does not register is an error of the manifests, not a reason to skip the check.
      assert.deepEqual(await unregisteredComponents(files.map((file) => readFileSync(file, 'utf8'))), [], 'component types sluice does not register');
      const result = await sluice(['validate', ...files.flatMap((file) => ['--config', file])]);
      assert.equal(result.code, 0, result.output);
    });
  }

  it('sluice validate would catch a broken common part (the check can fail)', async () => {
    const objects = parseManifests(readFileSync(join(deployDir, 'sluice-namespaced.yaml'), 'utf8'));
    const [common] = mountedFiles(objects, only(parseManifests(readFileSync(join(deployDir, 'sluice-custom.example.yaml'), 'utf8')), 'Secret'));
    writeFileSync(common!, readFileSync(common!, 'utf8').replace('address: 0.0.0.0:8686', 'address: nowhere'));
    const result = await sluice(['validate', '--config', common!]);
    assert.equal(result.code, 78, result.output);
    assert.match(result.output, /api\.address/);
  });
});

describe('every role: the rendered configuration passes sluice validate --no-environment', async () => {
  for (const entry of await roles()) {
    it(`${entry.role}: the raw YAML with ${entry.files.custom}`, async () => {
      const objects = [...rawRoleObjects(entry), ...parseManifests(readFileSync(join(deployDir, entry.dir, entry.files.custom), 'utf8'))];
      const container = agentContainer(workload(objects));
      const args = resolveMountedArgs(scratch, workload(objects).spec.template.spec as unknown as PodView, container, objects);
      const configs = args.flatMap((arg, index) => (args[index - 1] === '--config' ? ['--config', arg] : []));
      assert.equal(configs.length, 4, 'two --config files');
      const result = await sluice(['validate', '--no-environment', ...configs]);
      assert.equal(result.code, 0, result.output);
    });

    it(`${entry.role}: the helm test Pod validates what the ${entry.workload} mounts, and passes`, async () => {
      const objects = await roleTemplate(entry);
      const withExample = await roleTemplate(entry, { values: [exampleValues(entry.role, entry.exampleConfig)] });
      for (const render of [objects, withExample]) {
        const { pod, container } = testPod(render);
        const agent = agentContainer(workload(render));
        assert.deepEqual(container.args?.slice(0, 2), ['validate', '--no-environment']);
        const configArgs = (args: string[] = []) => args.filter((arg, index) => args[index - 1] === '--config');
        assert.deepEqual(configArgs(container.args), configArgs(agent.args), 'the same files as the agent');
        const agentVolumes = (workload(render).spec.template.spec.volumes as PodView['volumes']).filter((v) => v.name.startsWith('config-'));
        assert.deepEqual(pod.volumes, agentVolumes, 'from the same ConfigMap and Secret');
        assert.equal((hookSpec(render))['automountServiceAccountToken'], false);
      }
      // Without a Secret in the release (the default) the kubelet would wait for it; with the example it runs.
      const { pod, container } = testPod(withExample);
      const result = await sluice(resolveMountedArgs(scratch, pod, container, withExample));
      assert.equal(result.code, 0, result.output);
    });
  }

  it('the helm test Pod of every CI value set passes (with the variables its envFrom would give)', async () => {
    for (const name of ['inline-config-values.yaml', 'cluster-values.yaml', 'aggregator-values.yaml']) {
      const objects = await helmTemplate({ values: [join(chartDir, 'ci', name)] });
      const { pod, container } = testPod(objects);
      const result = await sluice(resolveMountedArgs(scratch, pod, container, objects), { AUDIT_TOKEN: 'from-the-secret' });
      assert.equal(result.code, 0, `${name}: ${result.output}`);
    }
  });

  it('the helm test Pod fails on a broken configuration, naming the key', async () => {
    const entry = (await roles()).find((r) => r.role === 'Aggregator')!;
    const objects = await roleTemplate(entry, {
      values: [exampleValues('Aggregator', { sinks: { out: { type: 'console', inputs: ['agents'], encoding: { codec: 'json' }, bufer: {} } } })],
    });
    const { pod, container } = testPod(objects);
    const result = await sluice(resolveMountedArgs(scratch, pod, container, objects));
    assert.equal(result.code, 78, result.output);
    assert.match(result.output, /sinks\.out.*bufer/);
    const unknownInput = await roleTemplate(entry, { values: [exampleValues('Aggregator', { sinks: { out: { type: 'console', inputs: ['kubernetes_logs'], encoding: { codec: 'json' } } } })] });
    const missing = testPod(unknownInput);
    assert.equal((await sluice(resolveMountedArgs(scratch, missing.pod, missing.container, unknownInput))).code, 78, 'the Aggregator has no kubernetes_logs source');
  });
});

const hookSpec = (objects: KubeObject[]) => objects.find((o) => o.kind === 'Pod' && isHelmHook(o))!['spec'] as Record<string, unknown>;

function exampleValues(role: string, config: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(scratch, 'values-')), 'values.yaml');
  writeFileSync(file, JSON.stringify({ role, customConfig: { config } }));
  return file;
}
