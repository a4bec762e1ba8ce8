// Helpers for the deployment tests: the repository root, the real helm/kubectl binaries (through
// scripts/kube-tools.mjs) and the chart renderer (scripts/render-deploy.mjs), parsed manifests.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import YAML from 'yaml';

const run = promisify(execFile);

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'charts', 'sluice', 'Chart.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('repository root not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export const repoRoot = findRepoRoot();
export const chartDir = join(repoRoot, 'charts', 'sluice');
export const deployDir = join(repoRoot, 'deploy', 'kubernetes');

/** A Kubernetes object as parsed from YAML. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface HelmTemplateOptions {
  values?: string[];
  set?: string[];
  kubeVersion?: string;
  release?: string;
  ns?: string;
}

interface RenderDeployModule {
  readMskv(): string;
  helmTemplate(options?: HelmTemplateOptions): Promise<string>;
  staleFiles(): Promise<string[]>;
  renderDeployFiles(): Promise<Record<string, string>>;
  exampleCustomConfig: Record<string, unknown>;
  roles: RoleRender[];
  releaseName: string;
  namespace: string;
}

/** One role of the chart and where its raw YAML is (scripts/render-deploy.mjs). */
export interface RoleRender {
  role: 'Agent' | 'Cluster' | 'Aggregator';
  /** Folder under deploy/kubernetes ('' for the Agent). */
  dir: string;
  release: string;
  workload: 'DaemonSet' | 'Deployment' | 'StatefulSet';
  exampleConfig: Record<string, unknown>;
  files: { global: string; namespaced: string; custom: string; kustomization: string };
}

interface KubeToolsModule {
  kubeTools(): Promise<{ helm: string; kubectl: string }>;
}

interface ChartRepoModule {
  buildChartRepo(options: { outDir: string; url?: string }): Promise<{ packagePath: string; indexPath: string }>;
}

const importScript = async <T>(name: string): Promise<T> =>
  (await import(pathToFileURL(join(repoRoot, 'scripts', name)).href)) as T;

export const renderDeploy = (): Promise<RenderDeployModule> => importScript<RenderDeployModule>('render-deploy.mjs');
export const chartRepo = (): Promise<ChartRepoModule> => importScript<ChartRepoModule>('chart-repo.mjs');
export const kubeTools = async () => (await importScript<KubeToolsModule>('kube-tools.mjs')).kubeTools();

export const mskv = (): string => readFileSync(join(repoRoot, '.meta', 'mskv'), 'utf8').trim();

/** Runs helm (or kubectl) and returns stdout; rejects with stderr in the message. */
export async function tool(name: 'helm' | 'kubectl', args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const paths = await kubeTools();
  try {
    const { stdout } = await run(paths[name], args, { maxBuffer: 64 * 1024 * 1024, env });
    return stdout;
  } catch (error) {
    const failed = error as { stderr?: string; message: string };
    throw new Error(`${name} ${args.join(' ')} failed: ${failed.stderr || failed.message}`);
  }
}

/** Parses a multi-document manifest into objects, skipping empty documents. */
export function parseManifests(text: string): KubeObject[] {
  return YAML.parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw doc.errors[0];
      return doc.toJS() as KubeObject | null;
    })
    .filter((object): object is KubeObject => object !== null);
}

export async function helmTemplate(options: HelmTemplateOptions = {}): Promise<KubeObject[]> {
  return parseManifests(await (await renderDeploy()).helmTemplate(options));
}

/** A Helm hook (the `helm test` Pod): part of a Helm release, not of the deployed objects. */
export const isHelmHook = (object: KubeObject): boolean => object.metadata.annotations?.['helm.sh/hook'] !== undefined;
export const withoutHooks = (objects: KubeObject[]): KubeObject[] => objects.filter((object) => !isHelmHook(object));

export function only(objects: KubeObject[], kind: string): KubeObject {
  const found = objects.filter((object) => object.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0]!;
}

/** Minimal typed views of the parts of a DaemonSet the tests read. */
export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPathExpr?: string }[];
  securityContext?: Record<string, unknown>;
  resources?: unknown;
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
}

export interface PodSpec {
  containers: Container[];
  volumes: { name: string; hostPath?: { path: string; type?: string }; persistentVolumeClaim?: { claimName: string }; secret?: { secretName: string }; configMap?: { name: string }; emptyDir?: Record<string, unknown> }[];
  securityContext?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface DaemonSetView {
  metadata: KubeObject['metadata'];
  spec: {
    selector: { matchLabels: Record<string, string> };
    updateStrategy: { type: string; rollingUpdate?: Record<string, unknown> };
    [key: string]: unknown;
    template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  };
}

export const daemonSet = (objects: KubeObject[]): DaemonSetView => only(objects, 'DaemonSet') as unknown as DaemonSetView;
/** The one workload of a render (DaemonSet, Deployment or StatefulSet): the parts read here are the same. */
export const workload = (objects: KubeObject[]): DaemonSetView => {
  const found = objects.filter((object) => ['DaemonSet', 'Deployment', 'StatefulSet'].includes(object.kind));
  if (found.length !== 1) throw new Error(`expected one workload, found ${found.map((o) => o.kind).join(', ') || 'none'}`);
  return found[0] as unknown as DaemonSetView;
};

/** The chart's roles, their release names and raw YAML folders. */
export const roles = async (): Promise<RoleRender[]> => (await renderDeploy()).roles;
/** The raw YAML objects of one role (global and namespaced files; not the custom example). */
export function rawRoleObjects(role: RoleRender): KubeObject[] {
  return [role.files.global, role.files.namespaced].flatMap((name) => {
    const path = join(deployDir, role.dir, name);
    return existsSync(path) ? parseManifests(readFileSync(path, 'utf8')) : [];
  });
}
/** The default chart render of one role, as the raw YAML is rendered (its release name). */
export const roleTemplate = (role: RoleRender, options: HelmTemplateOptions = {}): Promise<KubeObject[]> =>
  helmTemplate({ release: role.release, ...options, set: [`role=${role.role}`, ...(options.set ?? [])] });
export const agentContainer = (ds: DaemonSetView): Container => {
  const container = ds.spec.template.spec.containers.find((c) => c.name === 'sluice');
  if (!container) throw new Error('no container named sluice');
  return container;
};

type ComponentKind = 'sources' | 'transforms' | 'sinks';
const componentKinds: ComponentKind[] = ['sources', 'transforms', 'sinks'];

/** The component types this build of the agent registers, from its own configuration schema. */
export async function registeredComponentTypes(): Promise<Record<ComponentKind, Set<string>>> {
  const { stdout } = await run(process.execPath, [join(repoRoot, 'dist', 'src', 'cli.js'), 'generate-schema'], { maxBuffer: 64 * 1024 * 1024 });
  // Each table's entries are selected by `type`, whose enum lists the registered types.
  const schema = JSON.parse(stdout) as { properties: Record<string, { additionalProperties?: { properties?: { type?: { enum?: string[] } } } }> };
  const typesOf = (kind: ComponentKind) => new Set(schema.properties[kind]?.additionalProperties?.properties?.type?.enum ?? []);
  return { sources: typesOf('sources'), transforms: typesOf('transforms'), sinks: typesOf('sinks') };
}

/** "sources.x: type y" for every component of these configuration texts whose type is not registered. */
export async function unregisteredComponents(configTexts: string[]): Promise<string[]> {
  const registered = await registeredComponentTypes();
  const missing: string[] = [];
  for (const text of configTexts) {
    const config = YAML.parse(text) as Partial<Record<ComponentKind, Record<string, { type: string }>>>;
    for (const kind of componentKinds) {
      for (const [id, component] of Object.entries(config[kind] ?? {})) {
        if (!registered[kind].has(component.type)) missing.push(`${kind}.${id}: ${component.type}`);
      }
    }
  }
  return missing;
}
