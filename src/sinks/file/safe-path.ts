import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * Rendered field values come from log content and pod metadata, i.e. from whoever runs a pod: a
 * value must neither add path segments (`/`, NUL) nor be a `.`/`..` segment of its own.
 */
export function sanitizePathValue(value: string): string {
  const flat = value.replace(/[/\0]/g, '_');
  return flat === '.' || flat === '..' ? flat.replace(/\./g, '_') : flat;
}

/**
 * The literal part of a path template before its first `{{` or strftime `%` is the operator's; a rendered path
 * must resolve to a file under it (in its directory, and starting with its file-name part).
 * Defence in depth behind `sanitizePathValue`, e.g. against a template that itself climbs out
 * (`/out/{{ pod }}/../../x`).
 */
export class PathPrefix {
  private readonly dir: string;
  private readonly namePrefix: string;
  readonly source: string;

  constructor(template: string) {
    const cuts = [template.indexOf('{{'), template.indexOf('%')].filter((i) => i >= 0);
    this.source = cuts.length === 0 ? template : template.slice(0, Math.min(...cuts));
    const cut = this.source.lastIndexOf('/');
    this.dir = resolve(this.source.slice(0, cut + 1) || '.');
    this.namePrefix = this.source.slice(cut + 1);
  }

  contains(path: string): boolean {
    const rel = relative(this.dir, resolve(path));
    if (rel === '' || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) return false;
    return rel.startsWith(this.namePrefix);
  }
}
