// Versions in step (RFC "Changes to the release process"): package.json version = chart version =
// chart appVersion = the image tag in the raw YAML; the MSKV from .meta/mskv everywhere it is named.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { chartDir, daemonSet, deployDir, mskv, parseManifests, renderDeploy, repoRoot } from './kube.js';

const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  engines: { node: string };
};
const chart = YAML.parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, string>;
const values = YAML.parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as { image: { repository: string } };

describe('versions', () => {
  it('package.json version = chart version = chart appVersion', () => {
    assert.equal(chart['version'], packageJson.version);
    assert.equal(chart['appVersion'], packageJson.version);
  });

  it('the raw YAML runs the image of this version and labels it so', () => {
    const roleFiles = ['cluster/sluice-cluster-global.yaml', 'cluster/sluice-cluster-namespaced.yaml', 'aggregator/sluice-aggregator-namespaced.yaml'];
    for (const file of ['sluice-global.yaml', 'sluice-namespaced.yaml', 'sluice-custom.example.yaml', ...roleFiles]) {
      for (const object of parseManifests(readFileSync(join(deployDir, file), 'utf8'))) {
        assert.equal(object.metadata.labels?.['app.kubernetes.io/version'], packageJson.version, `${file} ${object.kind}`);
      }
    }
    const ds = daemonSet(parseManifests(readFileSync(join(deployDir, 'sluice-namespaced.yaml'), 'utf8')));
    assert.equal(ds.spec.template.spec.containers[0]!.image, `${values.image.repository}:${packageJson.version}`);
  });

  it('the MSKV of .meta/mskv is the chart\'s kubeVersion floor and is named in the docs', async () => {
    assert.match(mskv(), /^1\.\d+$/);
    assert.equal(chart['kubeVersion'], `>=${mskv()}.0-0`);
    for (const path of ['docs/kubernetes.md', 'charts/sluice/README.md']) {
      const docs = readFileSync(join(repoRoot, path), 'utf8');
      const named = [...docs.matchAll(/<!-- mskv -->([^<]*)<!-- \/mskv -->/g)].map((match) => match[1]);
      assert.ok(named.length > 0, `${path} names the MSKV between <!-- mskv --> markers`);
      assert.deepEqual(new Set(named), new Set([mskv()]), path);
    }
    const { chartYamlWithMskv } = (await renderDeploy()) as unknown as { chartYamlWithMskv(text: string, v: string): string };
    assert.match(chartYamlWithMskv('name: x\nkubeVersion: ">=1.2.0-0"\n', '1.31'), /^kubeVersion: ">=1\.31\.0-0"$/m);
  });

  it('the image runs the package\'s bin as its entry point, on a Node.js the package supports', () => {
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    assert.ok(entrypoint, 'ENTRYPOINT in exec form: node is PID 1 and receives SIGTERM itself');
    const argv = JSON.parse(entrypoint) as string[];
    assert.match(argv[0]!, /\/node$/);
    // Node's own flags (the fixed young generation) come between node and the script.
    const script = argv.slice(1).find((arg) => !arg.startsWith('-'));
    assert.equal(script, `/app/${packageJson.bin['sluice']}`);
    const nodeMajor = Number(/^ARG NODE_MAJOR=(\d+)$/m.exec(dockerfile)?.[1]);
    const minimumMajor = Number(/>=(\d+)/.exec(packageJson.engines.node)?.[1]);
    assert.ok(nodeMajor >= minimumMajor && nodeMajor % 2 === 0, `Node ${nodeMajor}: an LTS line the engines allow`);
  });
});
