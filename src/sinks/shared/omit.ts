import type { Fields, FieldPath } from '../../core/event.js';

/**
 * A view of `fields` without the given paths, copying only the objects along each path: the
 * event itself (possibly shared with other sinks) is never changed.
 */
export function omitPaths(fields: Fields, paths: readonly FieldPath[]): Fields {
  if (paths.length === 0) return fields;
  const root: Fields = { ...fields };
  for (const path of paths) {
    let node: Record<string, unknown> = root;
    let ok = true;
    for (let i = 0; i < path.length - 1; i++) {
      const child = node[path[i]!];
      if (child === null || typeof child !== 'object' || Array.isArray(child)) {
        ok = false;
        break;
      }
      const copy = { ...(child as Record<string, unknown>) };
      node[path[i]!] = copy;
      node = copy;
    }
    if (ok) delete node[path[path.length - 1]!];
  }
  return root;
}
