#!/usr/bin/env node
// Renders the raw Kubernetes YAML in deploy/kubernetes/ from the Helm chart (one source of truth):
// `helm template` with the chart's default values, once per role (Agent in deploy/kubernetes,
// Cluster in deploy/kubernetes/cluster, Aggregator in deploy/kubernetes/aggregator), then regrouped
// into the files of the RFC's layout: <release>-global.yaml (cluster-scoped, when there is any),
// <release>-namespaced.yaml (everything in the namespace), a kustomization.yaml, and an example of
// the user's part (<release>-custom with a sink). Helm hooks (the `helm test` Pod) are left out.
// It also writes the minimal supported Kubernetes version from .meta/mskv into the chart and the docs.
//
//   node scripts/render-deploy.mjs           write the files
//   node scripts/render-deploy.mjs --check   exit 1 when a committed file differs from a fresh render
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { kubeTools, repoRoot } from './kube-tools.mjs';

const run = promisify(execFile);
export const chartDir = join(repoRoot, 'charts', 'sluice');
export const deployDir = join(repoRoot, 'deploy', 'kubernetes');
/** The release and namespace names the raw YAML is rendered for (the tutorial's names). */
export const releaseName = 'sluice';
export const namespace = 'sluice';

/** The minimal supported Kubernetes version, "major.minor", from .meta/mskv. */
export function readMskv() {
  const mskv = readFileSync(join(repoRoot, '.meta', 'mskv'), 'utf8').trim();
  if (!/^1\.\d+$/.test(mskv)) throw new Error(`.meta/mskv must hold "1.<minor>", found ${JSON.stringify(mskv)}`);
  return mskv;
}

/** The chart's Chart.yaml with kubeVersion set from the MSKV. */
export function chartYamlWithMskv(chartYaml, mskv) {
  const line = /^kubeVersion: .*$/m;
  if (!line.test(chartYaml)) throw new Error('charts/sluice/Chart.yaml has no kubeVersion line');
  return chartYaml.replace(line, `kubeVersion: ">=${mskv}.0-0"`);
}

/** Documents that name the MSKV between <!-- mskv --> markers. */
export const docsNamingMskv = [join('docs', 'kubernetes.md'), join('charts', 'sluice', 'README.md')];

/** The docs with the MSKV written between its <!-- mskv --> markers. */
export function docsWithMskv(docs, mskv) {
  return docs.replace(/<!-- mskv -->[^<]*<!-- \/mskv -->/g, `<!-- mskv -->${mskv}<!-- /mskv -->`);
}

/** The example sink of the RFC tutorial: the user's part of the configuration (role Agent). */
export const exampleCustomConfig = {
  sinks: {
    aws_s3: {
      type: 'aws_s3',
      inputs: ['kubernetes_logs'],
      bucket: 'my-bucket',
      region: 'us-east-1',
      key_prefix: 'date=%F/',
      compression: 'gzip',
    },
  },
};

/**
 * The chart's roles and their raw YAML: each in its own folder of deploy/kubernetes, rendered with
 * its own release name, so that the roles can run side by side in one namespace (the object names
 * differ). `files` names the files after the release.
 */
export const roles = [
  { role: 'Agent', dir: '', release: 'sluice', workload: 'DaemonSet', exampleConfig: exampleCustomConfig },
  {
    role: 'Cluster',
    dir: 'cluster',
    release: 'sluice-cluster',
    workload: 'Deployment',
    exampleConfig: {
      sinks: {
        aws_s3: { ...exampleCustomConfig.sinks.aws_s3, inputs: ['kubernetes_events', 'audit_webhook'], key_prefix: 'cluster/date=%F/' },
      },
    },
  },
  {
    role: 'Aggregator',
    dir: 'aggregator',
    release: 'sluice-aggregator',
    workload: 'StatefulSet',
    exampleConfig: {
      sinks: {
        aws_s3: {
          ...exampleCustomConfig.sinks.aws_s3,
          inputs: ['agents'],
          // On the replica's PersistentVolumeClaim: survives restarts while the bucket is unreachable.
          buffer: { type: 'disk', max_size: 4 * 1024 ** 3, when_full: 'block' },
        },
      },
    },
  },
].map((entry) => ({
  ...entry,
  files: {
    global: `${entry.release}-global.yaml`,
    namespaced: `${entry.release}-namespaced.yaml`,
    custom: `${entry.release}-custom.example.yaml`,
    kustomization: 'kustomization.yaml',
  },
}));

/** `helm template` of the chart; returns the multi-document YAML text. */
export async function helmTemplate({ values = [], set = [], kubeVersion, release = releaseName, ns = namespace } = {}) {
  const { helm } = await kubeTools();
  const args = ['template', release, chartDir, '--namespace', ns];
  if (kubeVersion) args.push('--kube-version', kubeVersion);
  for (const file of values) args.push('--values', file);
  for (const pair of set) args.push('--set', pair);
  const { stdout } = await run(helm, args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

const header = (what, usage) =>
  `# ${what}\n` +
  '# Generated from the Helm chart charts/sluice by scripts/render-deploy.mjs: do not edit by hand,\n' +
  '# change the chart (or fork this file: it is meant to be read and adapted).\n' +
  usage.map((line) => `# ${line}\n`).join('');

const helmOnlyLabels = ['helm.sh/chart', 'app.kubernetes.io/managed-by'];

/** Turns one rendered chart document into its raw-YAML form; returns its kind. */
function toRawDocument(doc) {
  const contents = doc.contents;
  if (contents?.commentBefore) {
    const kept = contents.commentBefore.split('\n').filter((line) => !line.startsWith(' Source: '));
    contents.commentBefore = kept.length > 0 ? kept.join('\n') : undefined;
  }
  // Raw YAML is not managed by Helm; saying so would confuse a later `helm install`.
  for (const label of helmOnlyLabels) doc.deleteIn(['metadata', 'labels', label]);
  // No namespace on namespaced objects: `kubectl apply --namespace X` and kustomize's `namespace:` set it.
  // An object meant for another namespace would land in the wrong one: refuse it.
  const objectNamespace = doc.getIn(['metadata', 'namespace']);
  if (objectNamespace !== undefined && objectNamespace !== namespace) {
    throw new Error(`render-deploy: ${doc.get('kind')} ${doc.getIn(['metadata', 'name'])} is in namespace ${objectNamespace}, not the release namespace ${namespace}`);
  }
  doc.deleteIn(['metadata', 'namespace']);
  return doc.get('kind');
}

function renderDocuments(docs) {
  const text = docs.map((doc) => doc.toString({ lineWidth: 0, flowCollectionPadding: false })).join('');
  return text.startsWith('---\n') ? text.slice(4) : text;
}

const namespacedOrder = [
  'ServiceAccount', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ConfigMap', 'Service',
  'DaemonSet', 'Deployment', 'StatefulSet', 'PodDisruptionBudget', 'HorizontalPodAutoscaler',
];
const globalKinds = ['ClusterRole'];

/** Helm hooks (the `helm test` Pod) belong to Helm releases only. */
const isHelmHook = (doc) => doc.getIn(['metadata', 'annotations', 'helm.sh/hook']) !== undefined;

/** The files of one role's folder, as { file name: content }. */
async function renderRoleFiles(entry, mskv) {
  const { role, release, files: names } = entry;
  const docs = YAML.parseAllDocuments(await helmTemplate({ kubeVersion: `${mskv}.0`, release, set: [`role=${role}`] }));
  const global = [];
  const namespaced = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw doc.errors[0];
    if (doc.contents === null || isHelmHook(doc)) continue;
    const kind = toRawDocument(doc);
    if (globalKinds.includes(kind)) global.push(doc);
    else if (namespacedOrder.includes(kind)) namespaced.push(doc);
    else throw new Error(`render-deploy: no file for kind ${kind}; add it to globalKinds or namespacedOrder`);
  }
  namespaced.sort((a, b) => namespacedOrder.indexOf(a.get('kind')) - namespacedOrder.indexOf(b.get('kind')));
  const kinds = [...new Set(namespaced.map((doc) => doc.get('kind')))];
  const bindings = namespaced.filter((doc) => /RoleBinding$/.test(doc.get('kind'))).map((doc) => doc.get('kind'));

  const files = {};
  if (global.length > 0) {
    files[names.global] =
      header(`sluice, role ${role}: cluster-scoped objects (the ClusterRole).`, [`kubectl apply -f ${names.global}`]) +
      renderDocuments(global);
  }
  files[names.namespaced] =
    header(`sluice, role ${role}: the objects in its namespace (${kinds.join(', ')}).`, [
      `kubectl apply --namespace ${namespace} -f ${names.namespaced}`,
      ...(bindings.length > 0
        ? [
            `The ${[...new Set(bindings)].join(' and ')} ${new Set(bindings).size > 1 ? 'name' : 'names'} the ServiceAccount in namespace "${namespace}": change the`,
            'subject\'s namespace when you deploy elsewhere (with kustomize: a patch, see docs/kubernetes.md).',
          ]
        : []),
      `The ${entry.workload} mounts the Secret ${release}-custom (your sinks): create it first (${names.custom}).`,
    ]) + renderDocuments(namespaced);
  files[names.kustomization] =
    header(`sluice, role ${role}: a kustomize base. Add your ${release}-custom Secret in your own kustomization (docs/kubernetes.md).`, [
      `kubectl kustomize deploy/kubernetes${entry.dir ? `/${entry.dir}` : ''}`,
    ]) + YAML.stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace,
      resources: Object.keys(files).filter((name) => name !== names.kustomization),
    });
  files[names.custom] =
    header(`sluice, role ${role}: an example of your part of the configuration, the Secret ${release}-custom with a sink.`, [
      `kubectl apply --namespace ${namespace} -f ${names.custom}`,
      'Not part of the kustomize base: copy it next to your own kustomization.yaml (docs/kubernetes.md).',
    ]) + renderDocuments(await renderCustomExample(entry, mskv));
  return files;
}

/** All files of deploy/kubernetes (every role), as { path relative to deploy/kubernetes: content }. */
export async function renderDeployFiles() {
  const mskv = readMskv();
  const files = {};
  for (const entry of roles) {
    for (const [name, content] of Object.entries(await renderRoleFiles(entry, mskv))) files[join(entry.dir, name)] = content;
  }
  return files;
}

async function renderCustomExample({ role, release, exampleConfig }, mskv) {
  const scratch = mkdtempSync(join(tmpdir(), 'sluice-render-'));
  try {
    const valuesFile = join(scratch, 'values.yaml');
    writeFileSync(valuesFile, YAML.stringify({ role, customConfig: { config: exampleConfig } }));
    const docs = YAML.parseAllDocuments(await helmTemplate({ values: [valuesFile], kubeVersion: `${mskv}.0`, release }));
    const secrets = docs.filter((doc) => doc.get('kind') === 'Secret');
    if (secrets.length !== 1) throw new Error(`render-deploy: expected one Secret for the custom example, got ${secrets.length}`);
    toRawDocument(secrets[0]);
    return secrets;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Every generated file, including the chart's kubeVersion, as { path from repo root: content }. */
export async function renderAll() {
  const files = {};
  for (const [path, content] of Object.entries(await renderDeployFiles())) {
    files[join('deploy', 'kubernetes', path)] = content;
  }
  const chartYamlPath = join('charts', 'sluice', 'Chart.yaml');
  files[chartYamlPath] = chartYamlWithMskv(readFileSync(join(repoRoot, chartYamlPath), 'utf8'), readMskv());
  for (const docsPath of docsNamingMskv) {
    files[docsPath] = docsWithMskv(readFileSync(join(repoRoot, docsPath), 'utf8'), readMskv());
  }
  return files;
}

/** Paths whose committed content differs from a fresh render. */
export async function staleFiles() {
  // The raw YAML is rendered with the MSKV: a Chart.yaml behind .meta/mskv would refuse it.
  const chartYamlPath = join('charts', 'sluice', 'Chart.yaml');
  const chartYaml = readFileSync(join(repoRoot, chartYamlPath), 'utf8');
  if (chartYamlWithMskv(chartYaml, readMskv()) !== chartYaml) return [chartYamlPath];
  const stale = [];
  for (const [path, content] of Object.entries(await renderAll())) {
    let committed = null;
    try {
      committed = readFileSync(join(repoRoot, path), 'utf8');
    } catch {
      // missing: stale
    }
    if (committed !== content) stale.push(path);
  }
  return stale;
}

async function main() {
  if (process.argv.includes('--check')) {
    const stale = await staleFiles();
    if (stale.length > 0) {
      console.error(`stale (run \`npm run render-deploy\`): ${stale.join(', ')}`);
      process.exit(1);
    }
    console.log('deploy files are fresh');
    return;
  }
  // Chart.yaml first: the raw YAML is rendered with the kubeVersion it declares.
  const chartYamlPath = join(repoRoot, 'charts', 'sluice', 'Chart.yaml');
  writeFileSync(chartYamlPath, chartYamlWithMskv(readFileSync(chartYamlPath, 'utf8'), readMskv()));
  for (const [path, content] of Object.entries(await renderAll())) {
    mkdirSync(dirname(join(repoRoot, path)), { recursive: true });
    writeFileSync(join(repoRoot, path), content);
    console.log(`wrote ${path}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error.stderr ?? error);
    process.exit(1);
  });
}
