import type { Segment } from '../ast.js';
import { getPath, setPath, type Code, type Frame } from '../compiler.js';
import { defineFunctions } from '../function.js';
import { ANY, kindOf, share, T, Termination, typeName, VrlError } from '../value.js';

/**
 * `unnest(.path)`: copies of the object the path starts from (the event, a variable), one per
 * element of the array at the path, each with the path holding that element (VRL's `explode`).
 * `. = unnest!(.items)` emits one event per item. The copies share what they do not change.
 * A path-taking form (as `del`): the compiler hands it the container and the path.
 */
export function unnestCode(read: (f: Frame) => unknown, segs: readonly Segment[], bang: boolean, errorAsValue: boolean, where: string): Code {
  return (f) => {
    const root = share(read(f));
    const node = getPath(root, segs);
    if (!Array.isArray(node)) {
      const error = new VrlError(`expected array at the unnested path, got ${typeName(kindOf(node))}`);
      error.where = where;
      if (bang) throw new Termination('error', error.message);
      if (errorAsValue) return error;
      throw error;
    }
    return node.map((item) => setPath(root, segs, share(item)));
  };
}

defineFunctions([
  {
    name: 'unnest',
    params: [{ name: 'path', type: ANY, required: true }],
    returns: T.array,
    // Fails unless the path is known to hold an array.
    fallible: (args) => args[0]?.type !== T.array,
  },
]);
