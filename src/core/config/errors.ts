import type { z } from 'zod';
import { suggest } from './suggest.js';

/** All problems found in a set of config files, each already prefixed with file and key path. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export interface FormatContext {
  /** The schema the issues came from: unknown keys then get a "did you mean" from its option names. */
  readonly schema?: z.ZodType;
  /** Keys valid at the schema's top level besides its own (those the core takes out: type, inputs...). */
  readonly extraKeys?: readonly string[];
}

/**
 * Render zod issues as `file: a.b.c: message`, one line per problem. Parse with
 * `{ reportInput: true }` so a wrong type says what it got rather than "missing".
 */
export function formatIssues(
  file: string,
  prefix: readonly (string | number)[],
  issues: readonly z.core.$ZodIssue[],
  context: FormatContext = {},
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path.map((p) => String(p))];
    if (issue.code === 'unrecognized_keys') {
      const known = context.schema ? optionNamesAt(context.schema, issue.path) : [];
      if (issue.path.length === 0) known.push(...(context.extraKeys ?? []));
      for (const key of issue.keys) lines.push(`${file}: ${[...path, key].join('.')}: unknown option${suggest(key, known)}`);
      continue;
    }
    lines.push(`${file}: ${path.join('.') || '(top level)'}: ${describeIssue(issue)}`);
  }
  return lines;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_type': {
      if (!('input' in issue) || issue.input === undefined) return `required option is missing (expected ${issue.expected})`;
      const received = issue.input;
      return `expected ${issue.expected}, got ${received === null ? 'null' : Array.isArray(received) ? 'array' : typeof received}`;
    }
    default:
      return issue.message;
  }
}

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType): SchemaDef => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/** The option names of the object(s) at `path` inside `schema` (every branch of a union). */
export function optionNamesAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current = [schema];
  for (const segment of path) current = current.flatMap((s) => unwrap(s)).flatMap((s) => child(s, segment));
  const names = new Set<string>();
  for (const s of current.flatMap((s) => unwrap(s))) {
    const def = defOf(s);
    if (def.type === 'object' && def.shape) for (const key of Object.keys(def.shape)) names.add(key);
  }
  return [...names];
}

/** Look through wrappers (optional, default, prefault, pipe, lazy...) and unions to the concrete schemas. */
function unwrap(schema: z.ZodType, depth = 0): z.ZodType[] {
  if (depth > 20) return [];
  const def = defOf(schema);
  if (def.type === 'union' && def.options) return def.options.flatMap((o) => unwrap(o, depth + 1));
  if (def.type === 'pipe' && def.in) return unwrap(def.in, depth + 1);
  if (def.type === 'lazy' && def.getter) return unwrap(def.getter(), depth + 1);
  if (def.innerType) return unwrap(def.innerType, depth + 1);
  return [schema];
}

function child(schema: z.ZodType, segment: PropertyKey): z.ZodType[] {
  const def = defOf(schema);
  if (def.type === 'object' && def.shape && typeof segment === 'string' && segment in def.shape) return [def.shape[segment]!];
  if (def.type === 'array' && def.element) return [def.element];
  if (def.type === 'record' && def.valueType) return [def.valueType];
  return [];
}
