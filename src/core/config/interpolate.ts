/**
 * `${VAR}` and `${VAR:-default}` in config text, replaced before parsing (as Vector does).
 * `$$` escapes a dollar sign. An unset variable without a default is an error naming the line.
 */
export function interpolateEnv(
  text: string,
  env: NodeJS.ProcessEnv,
): { text: string; errors: string[] } {
  const errors: string[] = [];
  const out = text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (match, name: string | undefined, fallback: string | undefined, offset: number) => {
    if (match === '$$') return '$';
    const value = env[name!];
    if (value !== undefined && !(value === '' && match.includes(':-'))) return value;
    if (fallback !== undefined) return fallback;
    const line = text.slice(0, offset).split('\n').length;
    errors.push(`line ${line}: environment variable ${name} is not set (use \${${name}:-default} for a default)`);
    return '';
  });
  return { text: out, errors };
}
