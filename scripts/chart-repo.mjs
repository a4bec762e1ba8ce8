#!/usr/bin/env node
// Builds a Helm chart repository in dist/charts (or --out DIR): `helm package` of charts/sluice and
// `helm repo index`. The folder can be served as-is by any static HTTP server (S3, GitHub Pages,
// nginx) and added with `helm repo add sluice <url>`. When DIR already holds an index.yaml (the
// published one, downloaded first), it is merged, so older chart versions stay installable.
//
//   node scripts/chart-repo.mjs [--out dist/charts] [--url https://charts.sluice.dev]
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { kubeTools, repoRoot } from './kube-tools.mjs';

const run = promisify(execFile);

/** Packages the chart into outDir and (re)writes outDir/index.yaml; returns both paths. */
export async function buildChartRepo({ outDir, url }) {
  const { helm } = await kubeTools();
  mkdirSync(outDir, { recursive: true });
  const chartDir = join(repoRoot, 'charts', 'sluice');
  await run(helm, ['lint', '--strict', chartDir]);
  const { stdout } = await run(helm, ['package', chartDir, '--destination', outDir]);
  // "Successfully packaged chart and saved it to: <path>"
  const packagePath = stdout.trim().split(': ').pop();
  const indexPath = join(outDir, 'index.yaml');
  const indexArgs = ['repo', 'index', outDir];
  if (url) indexArgs.push('--url', url);
  if (existsSync(indexPath)) indexArgs.push('--merge', indexPath);
  await run(helm, indexArgs);
  return { packagePath, indexPath };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, url: { type: 'string' } } });
  const outDir = resolve(values.out ?? join(repoRoot, 'dist', 'charts'));
  buildChartRepo({ outDir, url: values.url })
    .then(({ packagePath, indexPath }) => console.log(`chart: ${packagePath}\nindex: ${indexPath}`))
    .catch((error) => {
      console.error(error.stderr ?? error);
      process.exit(1);
    });
}
