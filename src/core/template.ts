import { getField, parsePath, type Fields } from './event.js';

/**
 * Field templates such as `/out/{{ kubernetes.pod_namespace }}.ndjson`, compiled once.
 * A missing field renders as an empty string and is reported through `missing`, so a sink can
 * count (and route) events whose template could not be filled.
 */
export class FieldTemplate {
  private readonly parts: Array<string | readonly string[]>;
  readonly isDynamic: boolean;

  constructor(readonly source: string) {
    const problem = templateProblem(source);
    if (problem) throw new Error(problem);
    this.parts = [];
    const pattern = /\{\{\s*([^}\s]+)\s*\}\}/g;
    let last = 0;
    for (let match = pattern.exec(source); match; match = pattern.exec(source)) {
      if (match.index > last) this.parts.push(source.slice(last, match.index));
      this.parts.push(parsePath(match[1]!));
      last = match.index + match[0].length;
    }
    if (last < source.length) this.parts.push(source.slice(last));
    this.isDynamic = this.parts.some((p) => typeof p !== 'string');
  }

  /** `escape` rewrites each rendered field value (not the literal parts), e.g. to keep it one path segment. */
  render(fields: Fields, missing?: (path: string) => void, escape?: (value: string) => string): string {
    if (!this.isDynamic) return this.source;
    let out = '';
    for (const part of this.parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const value = getField(fields, part);
      if (value === undefined || value === null) missing?.(part.join('.'));
      else {
        const text = typeof value === 'string' ? value : JSON.stringify(value);
        out += escape ? escape(text) : text;
      }
    }
    return out;
  }
}

/**
 * Why `source` is not a valid field template (an unclosed `{{`, `{{ }}` holding no field path),
 * or undefined. Config schemas refine template options with it, so `validate` catches what the
 * first event would otherwise render as literal braces.
 */
export function templateProblem(source: string): string | undefined {
  for (let open = source.indexOf('{{'); open !== -1; open = source.indexOf('{{', open + 2)) {
    const close = source.indexOf('}}', open + 2);
    if (close === -1) return `unclosed "{{" at character ${open + 1} of "${source}" (a field reference is "{{ field.path }}")`;
    const inner = source.slice(open + 2, close).trim();
    const reference = source.slice(open, close + 2);
    if (!/^[^{}\s]+$/.test(inner)) return `"${reference}" in "${source}" is not a field reference (expected "{{ field.path }}")`;
    try {
      parsePath(inner);
    } catch (error) {
      return `${(error as Error).message} in "${source}"`;
    }
    open = close;
  }
  return undefined;
}
