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

/** Where a syntax error is (1-based), and why, as the parsers report it. */
export interface SyntaxLocation {
  readonly line: number;
  readonly column: number;
  readonly reason: string;
}

/** smol-toml and yaml carry line/column on their errors; JSON.parse gives an offset, turned into one. */
export function syntaxLocation(error: unknown, text: string, format: ConfigFormat): SyntaxLocation | undefined {
  const err = error as Error & { line?: number; column?: number; linePos?: Array<{ line: number; col: number }> };
  const firstLine = String(err.message).split('\n')[0]!;
  switch (format) {
    case 'toml':
      if (typeof err.line !== 'number' || typeof err.column !== 'number') return undefined;
      return { line: err.line, column: err.column, reason: firstLine.replace(/^Invalid TOML document: /, '') };
    case 'yaml': {
      const at = err.linePos?.[0];
      if (!at) return undefined;
      return { line: at.line, column: at.col, reason: firstLine.replace(/ at line \d+, column \d+:?$/, '') };
    }
    case 'json': {
      const position = /at position (\d+)/.exec(firstLine);
      const offset = position ? Number(position[1]) : /end of JSON input/.test(firstLine) ? text.length : undefined;
      if (offset === undefined) return undefined;
      const before = text.slice(0, offset).split('\n');
      return { line: before.length, column: before.at(-1)!.length + 1, reason: firstLine.replace(/ (in JSON )?at position \d+.*$/, '') };
    }
  }
}

/** The offending line and a caret under the column, indented to sit under a problem line; empty when unhelpful. */
export function syntaxSnippet(text: string, { line, column }: SyntaxLocation): string {
  const lines = text.split(/\r?\n/);
  const source = lines[line - 1];
  if (source === undefined || source.length > 200) return '';
  const gutter = String(line);
  // A blank offending line (an unclosed bracket reported at the end of the file): the line before gives the context.
  const previous = source.trim() === '' && line > 1 ? lines[line - 2] : undefined;
  const context = previous !== undefined && previous.length <= 200 ? `\n    ${String(line - 1).padStart(gutter.length)} | ${previous}` : '';
  // Tabs are kept in the padding so the caret lines up however the terminal renders them.
  const pad = [...source.slice(0, Math.max(0, column - 1))].map((c) => (c === '\t' ? '\t' : ' ')).join('');
  return `${context}\n    ${gutter} | ${source}\n    ${' '.repeat(gutter.length)} | ${pad}^`;
}
