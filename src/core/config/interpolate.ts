/**
 * `${VAR}` and `${VAR:-default}` in config text, replaced before parsing (as Vector does).
 * `$$` escapes a dollar sign. An unset variable without a default is an error naming the line.
 * Whole-line comments (`# ...`, TOML and YAML) are left alone: documenting `${SLUICE_NODE_NAME}`
 * in a comment must not make the file invalid where the variable is unset.
 */
export function interpolateEnv(
  text: string,
  env: NodeJS.ProcessEnv,
): { text: string; errors: string[] } {
  const errors: string[] = [];
  let lineNumber = 0;
  const lines = text.split('\n').map((line) => {
    lineNumber++;
    return /^\s*#/.test(line) ? line : interpolateLine(line, lineNumber, env, errors);
  });
  return { text: lines.join('\n'), errors };
}

function interpolateLine(text: string, line: number, env: NodeJS.ProcessEnv, errors: string[]): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return '$';
    const value = env[name!];
    if (value !== undefined && !(value === '' && match.includes(':-'))) return value;
    if (fallback !== undefined) return fallback;
    errors.push(`line ${line}: environment variable ${name} is not set (use \${${name}:-default} for a default)`);
    return '';
  });
}
