import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { AnyDefinition, ComponentKind } from '../component.js';
import type { BufferOptions } from '../buffers/options.js';
import { findDefinition, knownTypes, loadComponents } from '../registry.js';
import { withEnvironmentChecks } from './environment.js';
import { ConfigError, formatIssues } from './errors.js';
import { testsSchema, type LoadedTest } from './tests-schema.js';
import { interpolateEnv } from './interpolate.js';
import { formatOf, parseConfigText, syntaxLocation, syntaxSnippet } from './parse.js';
import {
  ALWAYS_ACKNOWLEDGES,
  DEFAULT_API_ADDRESS,
  DEFAULT_DATA_DIR,
  componentIdPattern,
  fileSchema,
  inputsSchema,
  sinkCoreSchema,
} from './schema.js';

export interface ComponentConfig {
  readonly kind: ComponentKind;
  readonly id: string;
  readonly type: string;
  /** The file that defined it, for messages. */
  readonly file: string;
  readonly definition: AnyDefinition;
  /** Options validated by the component's own schema (defaults applied). */
  readonly options: unknown;
  readonly inputs: readonly string[];
  readonly buffer?: BufferOptions;
  readonly healthcheck: boolean;
}

export interface AgentConfig {
  readonly files: readonly string[];
  readonly dataDir: string;
  readonly api: { readonly enabled: boolean; readonly address: string; readonly tapFromNetwork: boolean };
  readonly components: readonly ComponentConfig[];
  /** `[[tests]]`, only with `LoadOptions.tests` (a run ignores them). */
  readonly tests: readonly LoadedTest[];
}

export interface LoadOptions {
  /** Check this machine's files the config names (default true; `validate --no-environment` turns it off). */
  environment?: boolean;
  /** Check the shape of `[[tests]]` and return them (`validate`, `test`); default false. */
  tests?: boolean;
}

export interface ConfigSources {
  files?: readonly string[];
  dirs?: readonly string[];
}

/** Issues then carry the value they refused, so a wrong type says what it got (never printed: secrets). */
const REPORT_INPUT = { reportInput: true } as const;

const TABLES = [
  ['sources', 'source'],
  ['transforms', 'transform'],
  ['sinks', 'sink'],
] as const;

/** Read, parse, interpolate and validate every file; throw a ConfigError listing every problem. */
export function loadConfig(sources: ConfigSources, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): AgentConfig {
  return withEnvironmentChecks(options.environment ?? true, () => load(sources, env, options.tests ?? false));
}

/** loadConfig, after importing the modules of the component types the files name (and only those). */
export async function loadConfigAndComponents(sources: ConfigSources, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Promise<AgentConfig> {
  await loadComponents(configuredTypes(sources, env));
  return loadConfig(sources, env, options);
}

/** The `[kind, type]` of every component the files define; what is wrong with them is loadConfig's to report. */
function configuredTypes(sources: ConfigSources, env: NodeJS.ProcessEnv): Array<[ComponentKind, string]> {
  const ignored: string[] = [];
  const types: Array<[ComponentKind, string]> = [];
  for (const file of listFiles(sources, ignored)) {
    const parsed = readFile(file, env, ignored) as Record<string, unknown> | undefined;
    for (const [table, kind] of TABLES) {
      const entries = parsed?.[table];
      if (entries === null || typeof entries !== 'object') continue;
      for (const raw of Object.values(entries)) {
        const type = (raw as { type?: unknown } | null)?.type;
        if (typeof type === 'string') types.push([kind, type]);
      }
    }
  }
  return types;
}

function load(sources: ConfigSources, env: NodeJS.ProcessEnv, withTests: boolean): AgentConfig {
  const problems: string[] = [];
  const files = listFiles(sources, problems);
  if (files.length === 0 && problems.length === 0) problems.push('no config file given (use --config FILE or --config-dir DIR)');

  const globals = new GlobalSettings(problems);
  const components: ComponentConfig[] = [];
  const definedIn = new Map<string, string>();
  const tests: LoadedTest[] = [];

  for (const file of files) {
    const parsed = readFile(file, env, problems);
    if (parsed === undefined) continue;
    const top = fileSchema.safeParse(parsed, REPORT_INPUT);
    if (!top.success) {
      problems.push(...formatIssues(file, [], top.error.issues, { schema: fileSchema }));
      continue;
    }
    if (withTests && top.data.tests !== undefined) {
      const result = testsSchema.safeParse(top.data.tests, REPORT_INPUT);
      if (result.success) tests.push(...result.data.map((test, index) => ({ file, index, test })));
      else problems.push(...formatIssues(file, ['tests'], result.error.issues));
    }
    globals.take(file, 'data_dir', top.data.data_dir);
    globals.take(file, 'api.enabled', top.data.api?.enabled);
    globals.take(file, 'api.address', top.data.api?.address);
    globals.take(file, 'api.tap_from_network', top.data.api?.tap_from_network);

    for (const [table, kind] of TABLES) {
      for (const [id, raw] of Object.entries(top.data[table] ?? {})) {
        const key = `${table}.${id}`;
        if (!componentIdPattern.test(id)) {
          problems.push(`${file}: ${key}: component ids may use letters, digits, "_" and "-" only`);
          continue;
        }
        const earlier = definedIn.get(id);
        if (earlier !== undefined) {
          problems.push(`component "${id}" is defined twice: in ${earlier} and in ${file} (${key})`);
          continue;
        }
        definedIn.set(id, `${file} (${key})`);
        const component = validateComponent(file, kind, table, id, raw, problems);
        if (component) components.push(component);
      }
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    files,
    dataDir: (globals.get('data_dir') as string | undefined) ?? DEFAULT_DATA_DIR,
    api: {
      enabled: (globals.get('api.enabled') as boolean | undefined) ?? false,
      address: (globals.get('api.address') as string | undefined) ?? DEFAULT_API_ADDRESS,
      tapFromNetwork: (globals.get('api.tap_from_network') as boolean | undefined) ?? false,
    },
    components,
    tests,
  };
}

function listFiles(sources: ConfigSources, problems: string[]): string[] {
  const files = [...(sources.files ?? [])];
  for (const dir of sources.dirs ?? []) {
    try {
      const entries = readdirSync(dir)
        .filter((name) => formatOf(name) !== undefined && !name.startsWith('.'))
        .sort()
        .map((name) => join(dir, name))
        .filter((path) => statSync(path).isFile());
      files.push(...entries);
    } catch (error) {
      problems.push(`${dir}: cannot read config directory: ${(error as Error).message}`);
    }
  }
  return files;
}

function readFile(file: string, env: NodeJS.ProcessEnv, problems: string[]): unknown {
  const format = formatOf(file);
  if (format === undefined) {
    problems.push(`${file}: unknown config format (use .toml, .yaml, .yml or .json)`);
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = parseConfigText(text, format);
  } catch (error) {
    const at = syntaxLocation(error, text, format);
    problems.push(
      at
        ? `${file}:${at.line}:${at.column}: syntax error: ${at.reason}${syntaxSnippet(text, at)}`
        : `${file}: syntax error: ${(error as Error).message.split('\n')[0]}`,
    );
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(`${file}: expected a table/mapping at the top level`);
    return undefined;
  }
  // Parse first, then interpolate string values: the environment cannot change the shape.
  const errors = interpolateEnv(parsed, env);
  if (errors.length > 0) {
    problems.push(...errors.map((e) => `${file}: ${e}`));
    return undefined;
  }
  return parsed;
}

function validateComponent(
  file: string,
  kind: ComponentKind,
  table: string,
  id: string,
  raw: unknown,
  problems: string[],
): ComponentConfig | undefined {
  const key = `${table}.${id}`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${file}: ${key}: expected a table with at least "type"`);
    return undefined;
  }
  const { type, inputs, buffer, healthcheck, ...rest } = raw as Record<string, unknown>;
  if ('acknowledgements' in rest) {
    if (kind === 'transform') problems.push(`${file}: ${key}.acknowledgements: only sources and sinks take acknowledgements`);
    const own = takeAcknowledgementsEnabled(file, key, rest.acknowledgements, problems);
    if (own === undefined) delete rest.acknowledgements;
    else rest.acknowledgements = own;
  }
  if (typeof type !== 'string') {
    problems.push(`${file}: ${key}.type: required (one of ${knownTypes(kind).join(', ')})`);
    return undefined;
  }
  const definition = findDefinition(kind, type);
  if (!definition) {
    problems.push(`${file}: ${key}.type: unknown ${kind} type "${type}" (known: ${knownTypes(kind).join(', ')})`);
    return undefined;
  }
  const before = problems.length;

  let parsedInputs: string[] = [];
  if (kind === 'source') {
    if (inputs !== undefined) problems.push(`${file}: ${key}.inputs: sources take no inputs`);
  } else {
    const result = inputsSchema.safeParse(inputs ?? [], REPORT_INPUT);
    if (result.success) parsedInputs = result.data;
    else problems.push(...formatIssues(file, [table, id, 'inputs'], result.error.issues));
  }

  let core: { buffer?: BufferOptions; healthcheck: { enabled: boolean } } = { healthcheck: { enabled: true } };
  if (kind === 'sink') {
    const result = sinkCoreSchema.safeParse({ buffer, healthcheck }, REPORT_INPUT);
    if (result.success) core = result.data;
    else problems.push(...formatIssues(file, [table, id], result.error.issues, { schema: sinkCoreSchema }));
  } else {
    if (buffer !== undefined) problems.push(`${file}: ${key}.buffer: only sinks have a buffer`);
    if (healthcheck !== undefined) problems.push(`${file}: ${key}.healthcheck: only sinks have a healthcheck`);
  }

  const options = (definition.schema as z.ZodType).safeParse(rest, REPORT_INPUT);
  const coreKeys = kind === 'source' ? ['type', 'acknowledgements'] : kind === 'transform' ? ['type', 'inputs'] : ['type', 'inputs', 'buffer', 'healthcheck', 'acknowledgements'];
  if (!options.success) problems.push(...formatIssues(file, [table, id], options.error.issues, { schema: definition.schema as z.ZodType, extraKeys: coreKeys }));
  if (problems.length > before || !options.success) return undefined;

  return {
    kind,
    id,
    type,
    file,
    definition,
    options: options.data,
    inputs: parsedInputs,
    buffer: core.buffer,
    healthcheck: core.healthcheck.enabled,
  };
}

/**
 * Vector's `acknowledgements.enabled` (or the older `acknowledgements = <bool>`) on a component,
 * checked and removed here for every type: true is what sluice always does, false cannot be
 * honoured. Returns what is left for the component's own schema (splunk_hec_logs has its own
 * `acknowledgements` options), or undefined when nothing is.
 */
function takeAcknowledgementsEnabled(file: string, key: string, value: unknown, problems: string[]): unknown {
  let enabled: unknown;
  let rest: Record<string, unknown> = {};
  if (typeof value === 'boolean') enabled = value;
  else if (value !== null && typeof value === 'object' && !Array.isArray(value)) ({ enabled, ...rest } = value as Record<string, unknown>);
  else return value;
  if (enabled === false) problems.push(`${file}: ${key}.acknowledgements.enabled: ${ALWAYS_ACKNOWLEDGES}`);
  else if (enabled !== undefined && enabled !== true) problems.push(`${file}: ${key}.acknowledgements.enabled: expected true (sluice always acknowledges end to end)`);
  return Object.keys(rest).length === 0 ? undefined : rest;
}

/** Top-level options may be split across files, but two files must not disagree. */
class GlobalSettings {
  private readonly values = new Map<string, { value: unknown; file: string }>();

  constructor(private readonly problems: string[]) {}

  take(file: string, key: string, value: unknown): void {
    if (value === undefined) return;
    const existing = this.values.get(key);
    if (existing && JSON.stringify(existing.value) !== JSON.stringify(value)) {
      this.problems.push(`${key} is set differently in ${existing.file} and ${file}`);
      return;
    }
    this.values.set(key, { value, file });
  }

  get(key: string): unknown {
    return this.values.get(key)?.value;
  }
}
