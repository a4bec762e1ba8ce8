// The configuration the deployment files give the agent is valid for the agent itself: the common
// part (ConfigMap sluice-common) together with the user's part (the example Secret, and the chart's
// inline-config value set), checked by the real `sluice validate`, with the args the DaemonSet uses.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { agentContainer, chartDir, daemonSet, deployDir, helmTemplate, only, parseManifests, repoRoot, unregisteredComponents, type KubeObject } from './kube.js';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'src', 'cli.js');
const scratch = mkdtempSync(join(tmpdir(), 'sluice-agent-config-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function sluice(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env: { ...process.env, SLUICE_NODE_NAME: 'node-1' } });
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
