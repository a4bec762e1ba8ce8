import { getField, type Fields, type FieldPath } from '../../core/event.js';

/**
 * A string equal for two events exactly when the compared fields are equal: JSON with object keys
 * sorted (key order is not content), and missing distinct from null.
 */
export function fingerprintOf(fields: Fields, paths: readonly FieldPath[]): string {
  let out = '';
  for (const path of paths) {
    const value = getField(fields, path);
    out += value === undefined ? '-' : `+${canonical(value)}`;
    out += '\n';
  }
  return out;
}

/** The whole event except the `ignored` paths (and what is under them). */
export function fingerprintIgnoring(fields: Fields, ignored: readonly FieldPath[]): string {
  const skip = new Set(ignored.map((path) => path.join('\0')));
  return canonical(fields, skip, '');
}

function canonical(value: unknown, skip?: ReadonlySet<string>, prefix = ''): string {
  if (value === null || typeof value !== 'object') return value === undefined ? 'null' : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonical(item)).join(',')}]`;
  const keys = Object.keys(value).sort();
  let out = '{';
  for (const key of keys) {
    const path = prefix === '' ? key : `${prefix}\0${key}`;
    if (skip?.has(path)) continue;
    const child = (value as Record<string, unknown>)[key];
    if (child === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonical(child, skip, path)}`;
  }
  return `${out}}`;
}

/** A set of the last `capacity` distinct strings seen; seeing one again makes it the most recent. */
export class LruSet {
  private readonly entries = new Set<string>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Whether `key` was already in the set; either way it is now the most recent. */
  touch(key: string): boolean {
    const had = this.entries.delete(key);
    this.entries.add(key);
    if (!had && this.entries.size > this.capacity) this.entries.delete(this.entries.values().next().value!);
    return had;
  }
}
