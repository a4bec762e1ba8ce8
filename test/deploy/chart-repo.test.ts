// The chart repository built by `npm run chart-repo`, served as-is by a plain static HTTP server on
// 127.0.0.1, used by the real helm as `helm repo add` / `helm pull` / `helm template` would.
import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, normalize } from 'node:path';
import { after, describe, it } from 'node:test';
import YAML from 'yaml';
import { chartRepo, daemonSet, parseManifests, repoRoot, tool } from './kube.js';

const scratch = mkdtempSync(join(tmpdir(), 'sluice-chart-repo-'));
let server: Server | undefined;
after(async () => {
  if (server) await new Promise((resolve) => server!.close(resolve));
  rmSync(scratch, { recursive: true, force: true });
});

/** A static file server for a folder, as S3 or GitHub Pages would be. */
async function serveFolder(folder: string): Promise<string> {
  server = createServer((request, response) => {
    const path = normalize(join(folder, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(folder) || !existsSync(path)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200);
    createReadStream(path).pipe(response);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

describe('chart repository', () => {
  it('packages the chart and indexes it with relative URLs, merging an existing index', async () => {
    const outDir = join(scratch, 'charts');
    const { packagePath, indexPath } = await (await chartRepo()).buildChartRepo({ outDir });
    assert.equal(basename(packagePath), `sluice-${version}.tgz`);
    const index = YAML.parse(readFileSync(indexPath, 'utf8')) as { entries: Record<string, { version: string; urls: string[] }[]> };
    assert.deepEqual(index.entries['sluice']?.map((entry) => [entry.version, entry.urls]), [[version, [`sluice-${version}.tgz`]]]);
    // A second build into the same folder (a re-release) keeps one entry per version.
    await (await chartRepo()).buildChartRepo({ outDir });
    const again = YAML.parse(readFileSync(indexPath, 'utf8')) as typeof index;
    assert.equal(again.entries['sluice']?.length, 1);
  });

  it('serves as-is: helm repo add, search, pull and template the pulled chart', async () => {
    const url = await serveFolder(join(scratch, 'charts'));
    const helmHome = join(scratch, 'helm-home');
    mkdirSync(helmHome);
    const env = {
      ...process.env,
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_DATA_HOME: join(helmHome, 'data'),
    };
    await tool('helm', ['repo', 'add', 'sluice', url], env);
    const found = JSON.parse(await tool('helm', ['search', 'repo', 'sluice/sluice', '--output', 'json'], env)) as { version: string; app_version: string }[];
    assert.deepEqual(found.map((chart) => [chart.version, chart.app_version]), [[version, version]]);
    const pulled = join(scratch, 'pulled');
    await tool('helm', ['pull', 'sluice/sluice', '--version', version, '--untar', '--destination', pulled], env);
    const objects = parseManifests(await tool('helm', ['template', 'sluice', join(pulled, 'sluice'), '--namespace', 'sluice'], env));
    assert.match(daemonSet(objects).spec.template.spec.containers[0]!.image, new RegExp(`:${version.replace(/\./g, '\\.')}$`));
    assert.equal(existsSync(join(pulled, 'sluice', 'ci')), false, 'test value sets stay out of the package');
  });
});
