/**
 * Environment interpolation into the string values of an already parsed config (as Vector does).
 * Interpolating after parsing means a value from the environment can never change the config's
 * shape: quotes, brackets or `[sinks.evil]` in it stay characters of one string. Keys are not
 * interpolated (nor are they in Vector), and comments are gone before we look.
 *
 * Syntax: `${VAR}`, bare `$VAR`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset only),
 * `${VAR:?message}` (required, non-empty), `${VAR?message}` (required), `$$` for a literal `$`.
 * A `$` before anything else (`$1`, `$"`, `$` at the end) is literal, so regexes stay readable.
 */

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

type Env = NodeJS.ProcessEnv;

/**
 * Replace references in every string value of `tree` (plain objects and arrays, in place) and
 * return the problems as `key.path: message`. Other values (numbers, TOML dates) are left alone.
 */
export function interpolateEnv(tree: unknown, env: Env): string[] {
  const errors: string[] = [];
  walk(tree, [], env, errors);
  return errors;
}

function walk(node: unknown, path: string[], env: Env, errors: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, index) => visit(node, index, item, [...path, String(index)], env, errors));
    return;
  }
  if (!isPlainObject(node)) return;
  for (const key of Object.keys(node)) visit(node, key, node[key], [...path, key], env, errors);
}

function visit(parent: Record<string, unknown> | unknown[], key: string | number, value: unknown, path: string[], env: Env, errors: string[]): void {
  if (typeof value !== 'string') return walk(value, path, env, errors);
  if (!value.includes('$')) return;
  const result = interpolateString(value, env);
  if ('error' in result) errors.push(`${path.join('.')}: ${result.error}`);
  else (parent as Record<string | number, unknown>)[key] = result.text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null; // smol-toml tables have a null prototype
}

/** Interpolate one string value; the first problem found is the error. */
export function interpolateString(text: string, env: Env): { text: string } | { error: string } {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) break;
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (next === '{') {
      const close = text.indexOf('}', dollar + 2);
      if (close < 0) return { error: `unterminated "\${" (write $$ for a literal $)` };
      const reference = parseBraced(text.slice(dollar + 2, close));
      if (reference === undefined) return { error: `invalid reference "${text.slice(dollar, close + 1)}" (expected \${NAME}, \${NAME:-default} or \${NAME:?message}; write $$ for a literal $)` };
      const value = resolve(reference, env);
      if ('error' in value) return value;
      out += value.text;
      i = close + 1;
    } else if (next !== undefined && NAME_START.test(next)) {
      let end = dollar + 2;
      while (end < text.length && NAME_CHAR.test(text[end]!)) end++;
      const value = resolve({ name: text.slice(dollar + 1, end), operator: '', argument: '' }, env);
      if ('error' in value) return value;
      out += value.text;
      i = end;
    } else {
      out += '$';
      i = dollar + 1;
    }
  }
  return { text: out + text.slice(i) };
}

interface Reference {
  readonly name: string;
  readonly operator: '' | '-' | ':-' | '?' | ':?';
  readonly argument: string;
}

/** `NAME`, `NAME:-x`, `NAME-x`, `NAME:?x`, `NAME?x` (the text between `${` and `}`). */
function parseBraced(inner: string): Reference | undefined {
  if (inner.length === 0 || !NAME_START.test(inner[0]!)) return undefined;
  let end = 1;
  while (end < inner.length && NAME_CHAR.test(inner[end]!)) end++;
  const name = inner.slice(0, end);
  const rest = inner.slice(end);
  for (const operator of [':-', ':?', '-', '?'] as const) {
    if (rest.startsWith(operator)) return { name, operator, argument: rest.slice(operator.length) };
  }
  return rest === '' ? { name, operator: '', argument: '' } : undefined;
}

function resolve({ name, operator, argument }: Reference, env: Env): { text: string } | { error: string } {
  const value = env[name];
  const missing = value === undefined || (value === '' && operator.startsWith(':'));
  if (missing) {
    if (operator === '-' || operator === ':-') return { text: argument };
    const state = value === undefined ? 'is not set' : 'is empty';
    if (operator === '?' || operator === ':?') return { error: `environment variable ${name} ${state}${argument ? `: ${argument}` : ''}` };
    return { error: `environment variable ${name} is not set (use \${${name}:-default} for a default)` };
  }
  // After parsing, a newline can no longer add keys or tables; we still reject it everywhere, as
  // Vector does: values end up in HTTP headers, paths and CEL conditions, where a line break is
  // structure too, and a config that validates here then means the same thing under Vector.
  if (/[\r\n]/.test(value)) return { error: `environment variable ${name} contains a line break (values from the environment must be a single line)` };
  return { text: value };
}
