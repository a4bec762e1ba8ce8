import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ComponentExample, ComponentKind } from '../component.js';
import { findDefinition, knownTypes } from '../registry.js';
import { COMPONENT_KINDS, componentJsonSchema, globalOptionsJsonSchema, KIND_TABLES, type JsonSchemaNode } from './json-schema.js';

/**
 * The configuration reference, rendered from the JSON Schema that `sluice generate-schema` prints
 * (itself converted from the zod schemas that validate configs). Walking the JSON Schema rather
 * than zod keeps one conversion: defaults, required keys and enums are shown exactly as editors
 * see them, and zod's wrappers (optional, default, prefault, pipe) are already resolved.
 */

/** One documented option. */
export interface ReferenceOption {
  key: string;
  type: string;
  default?: unknown;
  required: boolean;
  enum?: unknown[];
  description?: string;
  examples?: unknown[];
}

const isNode = (value: unknown): value is JsonSchemaNode => typeof value === 'object' && value !== null && !Array.isArray(value);
const code = (value: unknown): string => '`' + (typeof value === 'string' && value !== '' ? value : JSON.stringify(value)) + '`';

function typeOf(node: JsonSchemaNode): string {
  if ('const' in node) return code(node.const);
  if (Array.isArray(node.enum)) return node.enum.every((v) => typeof v === 'string') ? 'string' : node.enum.map(code).join(' \\| ');
  const branches = (node.anyOf ?? node.oneOf) as unknown;
  if (Array.isArray(branches)) return [...new Set(branches.filter(isNode).map(typeOf))].join(' \\| ');
  const type = Array.isArray(node.type) ? node.type.join(' | ') : (node.type as string | undefined);
  if (type === 'array') return isNode(node.items) ? `array of ${typeOf(node.items)}` : 'array';
  if (type === 'object' && !isNode(node.properties) && isNode(node.additionalProperties)) return `map of ${typeOf(node.additionalProperties)}`;
  if (type === 'integer' || type === 'number') {
    // z.int() bounds every integer by the safe-integer range: not worth a mention.
    const bound = (value: unknown) => (value === Number.MAX_SAFE_INTEGER || value === Number.MIN_SAFE_INTEGER ? undefined : value);
    const [min, exclusiveMin, max, exclusiveMax] = [node.minimum, node.exclusiveMinimum, node.maximum, node.exclusiveMaximum].map(bound);
    const bounds = [
      min !== undefined ? `≥ ${min}` : exclusiveMin !== undefined ? `> ${exclusiveMin}` : '',
      max !== undefined ? `≤ ${max}` : exclusiveMax !== undefined ? `< ${exclusiveMax}` : '',
    ].filter(Boolean);
    return bounds.length ? `${type} (${bounds.join(', ')})` : type;
  }
  return type ?? 'any';
}

function enumOf(node: JsonSchemaNode): unknown[] | undefined {
  if (Array.isArray(node.enum)) return node.enum;
  const branches = (node.anyOf ?? node.oneOf) as unknown;
  if (Array.isArray(branches)) {
    const values = branches.filter(isNode).flatMap((b) => ('const' in b ? [b.const] : (enumOf(b) ?? [])));
    return values.length ? [...new Set(values)] : undefined;
  }
  return undefined;
}

/** Every option under `node`, nested objects flattened as `a.b.c`, arrays of objects as `a[].b`. */
export function flattenOptions(node: JsonSchemaNode, prefix = ''): ReferenceOption[] {
  const byKey = new Map<string, ReferenceOption>();
  const add = (option: ReferenceOption) => {
    const seen = byKey.get(option.key);
    if (!seen) return void byKey.set(option.key, option);
    // The same key in several branches of a union (e.g. `auth.strategy`): one entry.
    const types = new Set([...seen.type.split(' \\| '), ...option.type.split(' \\| ')]);
    seen.type = [...types].join(' \\| ');
    if (option.enum) seen.enum = [...new Set([...(seen.enum ?? []), ...option.enum])];
    if (option.description && !seen.description?.includes(option.description)) {
      seen.description = seen.description ? `${seen.description} ${option.description}` : option.description;
    }
    seen.required &&= option.required;
  };
  const visit = (object: JsonSchemaNode, path: string): void => {
    const branches = (object.anyOf ?? object.oneOf) as unknown;
    if (Array.isArray(branches)) for (const branch of branches.filter(isNode)) visit(branch, path);
    if (!isNode(object.properties)) return;
    const required = new Set(Array.isArray(object.required) ? (object.required as string[]) : []);
    for (const [name, child] of Object.entries(object.properties)) {
      if (!isNode(child)) continue;
      const key = path + name;
      const values = enumOf(child);
      add({
        key,
        type: typeOf(child),
        required: required.has(name) && !('default' in child),
        ...('default' in child ? { default: child.default } : {}),
        ...(values && values.length > 1 ? { enum: values } : {}),
        ...(typeof child.description === 'string' ? { description: child.description } : {}),
        ...(Array.isArray(child.examples) ? { examples: child.examples } : {}),
      });
      visit(child, `${key}.`);
      if (isNode(child.items)) visit(child.items, `${key}[].`);
      if (isNode(child.additionalProperties)) visit(child.additionalProperties, `${key}.<name>.`);
    }
  };
  visit(node, prefix);
  return [...byKey.values()];
}

function renderOptions(options: ReferenceOption[]): string {
  return options
    .map((option) => {
      const facts = [
        `type: ${option.type}`,
        option.required ? 'required' : 'optional',
        ...('default' in option ? [`default: ${code(option.default)}`] : []),
      ];
      const lines = [`### \`${option.key}\``, '', `- ${facts.join('; ')}`];
      if (option.enum) lines.push(`- one of: ${option.enum.map(code).join(', ')}`);
      if (option.examples) lines.push(`- example${option.examples.length > 1 ? 's' : ''}: ${option.examples.map(code).join(', ')}`);
      lines.push('', option.description ?? '_No description._');
      return lines.join('\n');
    })
    .join('\n\n');
}

function renderExamples(examples: readonly ComponentExample[]): string[] {
  if (examples.length === 0) return [];
  const lines = [examples.length > 1 ? '## Examples' : '## Example', ''];
  for (const example of examples) {
    lines.push(`### ${example.title}`, '');
    if (example.description) lines.push(example.description, '');
    lines.push('```toml', example.toml.trimEnd(), '```', '');
  }
  return lines;
}

const GENERATED = '<!-- Generated by `sluice generate-docs` (npm run docs:reference) from the config schemas; do not edit. -->';

/** The path of a component's page under the reference directory. */
export const referencePath = (kind: ComponentKind, type: string): string => `${KIND_TABLES[kind]}/${type}.md`;

/** Every page of the reference, by path relative to its directory (sorted, deterministic). */
export function renderReferenceDocs(): Map<string, string> {
  const pages = new Map<string, string>();
  const index = [GENERATED, '', '# Configuration reference', '', '- [Global options](global.md)'];
  const globals = globalOptionsJsonSchema();
  pages.set(
    'global.md',
    [GENERATED, '', '# Global options', '', 'Top-level keys of a config file, beside the `sources`, `transforms` and `sinks` tables.', '', renderOptions(flattenOptions(globals)), ''].join('\n'),
  );
  for (const kind of COMPONENT_KINDS) {
    index.push('', `## ${KIND_TABLES[kind][0]!.toUpperCase()}${KIND_TABLES[kind].slice(1)}`, '');
    for (const type of knownTypes(kind)) {
      const definition = findDefinition(kind, type)!;
      const path = referencePath(kind, type);
      index.push(`- [\`${type}\`](${path}): ${definition.description}`);
      const body = [
        GENERATED,
        '',
        `# \`${type}\` ${kind}`,
        '',
        definition.description,
        '',
        `Configured as \`[${KIND_TABLES[kind]}.<id>]\` with \`type = "${type}"\`.`,
        '',
        ...renderExamples(definition.examples ?? []),
        '## Options',
        '',
        renderOptions(flattenOptions(componentJsonSchema(kind, type))),
        '',
      ];
      pages.set(path, body.join('\n'));
    }
  }
  pages.set('README.md', index.join('\n') + '\n');
  return new Map([...pages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Options without a description, as `sinks/http.md: tls.ca_file` (for the completeness test). */
export function undescribedOptions(): string[] {
  const missing: string[] = [];
  const check = (page: string, node: JsonSchemaNode) => {
    for (const option of flattenOptions(node)) if (!option.description?.trim()) missing.push(`${page}: ${option.key}`);
  };
  check('global.md', globalOptionsJsonSchema());
  for (const kind of COMPONENT_KINDS) for (const type of knownTypes(kind)) check(referencePath(kind, type), componentJsonSchema(kind, type));
  return missing;
}

/**
 * Write the reference into `dir`, and remove the pages of components no longer registered
 * (only generated `.md` pages, recognised by their first line). Returns the number of pages.
 */
export function writeReferenceDocs(dir: string): number {
  const pages = renderReferenceDocs();
  for (const table of Object.values(KIND_TABLES)) {
    const sub = join(dir, table);
    if (!existsSync(sub)) continue;
    for (const name of readdirSync(sub)) {
      const path = join(sub, name);
      if (name.endsWith('.md') && !pages.has(`${table}/${name}`) && readFileSync(path, 'utf8').startsWith(GENERATED)) rmSync(path);
    }
  }
  for (const [path, text] of pages) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return pages.size;
}
