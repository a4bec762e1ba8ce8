// Validation of Kubernetes objects against the API schemas of a given Kubernetes version, from the
// `kubernetes-models` package installed once per version under the alias kubernetes-models-1.<minor>
// (package.json). Two checks, because each misses what the other finds:
// - the package's runtime validators (JSON schema: types, enums, required fields). They accept
//   unknown fields, like the OpenAPI schemas they come from;
// - the package's TypeScript declarations, through tsc's excess-property check on object literals:
//   a field that does not exist in that Kubernetes version (too new, or mistyped) is an error.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, type KubeObject } from './kube.js';

const run = promisify(execFile);
const requireFromRepo = createRequire(join(repoRoot, 'package.json'));

/** Objects of custom resources, which no Kubernetes schema describes. */
const customResourceKinds = new Set(['monitoring.coreos.com/v1/PodMonitor', 'monitoring.coreos.com/v1/ServiceMonitor']);

export const isCustomResource = (object: KubeObject) => customResourceKinds.has(`${object.apiVersion}/${object.kind}`);

/** The Kubernetes versions ("1.25") that have a kubernetes-models alias in package.json. */
export function schemaVersions(): string[] {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  return Object.keys(manifest.devDependencies)
    .map((name) => /^kubernetes-models-(1\.\d+)$/.exec(name)?.[1])
    .filter((version): version is string => version !== undefined)
    .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
}

const modelPackage = (version: string) => `kubernetes-models-${version}`;
const modelPath = (object: KubeObject) => `${object.apiVersion}/${object.kind}`;

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/** Runtime schema validation; returns one message per invalid object. */
export function validateWithModels(version: string, objects: KubeObject[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    let modelModule: Record<string, ModelClass>;
    try {
      modelModule = requireFromRepo(`${modelPackage(version)}/${modelPath(object)}`) as Record<string, ModelClass>;
    } catch {
      problems.push(`${describe(object)}: no ${object.apiVersion} ${object.kind} in Kubernetes ${version}`);
      continue;
    }
    const Model = modelModule[object.kind];
    if (!Model) throw new Error(`${modelPackage(version)}: ${modelPath(object)} exports no ${object.kind}`);
    try {
      new Model(object).validate();
    } catch (error) {
      problems.push(`${describe(object)}: ${(error as Error).message}`);
    }
  }
  return problems;
}

const describe = (object: KubeObject) => `${object.kind} ${object.metadata?.name}`;

/**
 * Field-level check with tsc: every object becomes a typed object literal. Returns tsc's
 * diagnostics (empty when every field exists in that version with the right type).
 */
export async function checkFieldsWithTypes(version: string, objects: KubeObject[]): Promise<string> {
  // Inside the repository, so that tsc resolves the kubernetes-models aliases from node_modules.
  const cache = join(repoRoot, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'sluice-schema-check-'));
  try {
    const lines: string[] = [];
    objects.forEach((object, index) => {
      const typeName = `I${object.kind}`;
      lines.push(`import type { ${typeName} as T${index} } from '${modelPackage(version)}/${modelPath(object)}';`);
    });
    objects.forEach((object, index) => {
      lines.push(`// ${describe(object)}`);
      lines.push(`export const object${index}: T${index} = ${JSON.stringify(object)};`);
    });
    writeFileSync(join(dir, 'objects.ts'), lines.join('\n') + '\n');
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          // The packages' exports map has no "types" condition: resolve their files directly.
          module: 'commonjs',
          moduleResolution: 'node10',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['objects.ts'],
      }),
    );
    const tsc = requireFromRepo.resolve('typescript/bin/tsc');
    try {
      await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { maxBuffer: 16 * 1024 * 1024 });
      return '';
    } catch (error) {
      const failed = error as { stdout?: string; message: string };
      const diagnostics = failed.stdout || failed.message;
      // Name the object each diagnostic points at (the comment line above it).
      const source = readFileSync(join(dir, 'objects.ts'), 'utf8').split('\n');
      return diagnostics.replace(/objects\.ts\((\d+),\d+\)/g, (match, line: string) => `${match} [${source[Number(line) - 2] ?? ''}]`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
