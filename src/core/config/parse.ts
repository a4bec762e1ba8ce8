import { extname } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';

export type ConfigFormat = 'toml' | 'yaml' | 'json';

export function formatOf(path: string): ConfigFormat | undefined {
  switch (extname(path).toLowerCase()) {
    case '.toml':
      return 'toml';
    case '.yaml':
    case '.yml':
      return 'yaml';
    case '.json':
      return 'json';
    default:
      return undefined;
  }
}

/** Parse one file's text (interpolation comes after, into string values); syntax errors carry the parser's line/column. */
export function parseConfigText(text: string, format: ConfigFormat): unknown {
  switch (format) {
    case 'toml':
      return parseToml(text);
    case 'yaml':
      return parseYaml(text, { prettyErrors: true }) ?? {};
    case 'json':
      return JSON.parse(text);
  }
}
