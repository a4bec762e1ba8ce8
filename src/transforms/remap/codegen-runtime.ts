// What the generated programs (codegen.ts) call: each export is a name in the generated source.
import { readCoalesced } from './coalesced.js';
import { argumentError, argumentsMatch, deletePath, setPath, withoutField, type UndoLog } from './compiler.js';
import { add, andLeft, andRight, compare, divide, divideByLiteral, mergeObjects, multiply, negate, not, remainder, subtract } from './operators.js';
import { copyContainer, isObject, kindOf, share, Termination, typeName, valueEquals, VrlError, type Obj } from './value.js';

export { add, andLeft, andRight, argumentError, argumentsMatch, compare, copyContainer, deletePath, divide, divideByLiteral, isObject, kindOf, mergeObjects, multiply, negate, not, readCoalesced };
export { remainder, setPath, share, subtract, Termination, valueEquals, VrlError, withoutField };

/** The error a failure discarded by `??` stands for: nothing reads it, so none is made per failure. */
export const DISCARDED = new VrlError('failed (discarded by ??)');

/** A read of a field typed by the sources' schema found another kind (the event was changed upstream). */
export function seededMismatch(value: unknown, want: number, name: string): Termination {
  return new Termination('error', `.${name} is ${typeName(kindOf(value))}, not the ${typeName(want)} every source sets (changed upstream?)`);
}

/** `x |= y` below the root: a copy of the current value with y's fields over it. */
export function mergeAssigned(current: unknown, add: unknown): Obj {
  if (!isObject(current) || !isObject(add)) throw new VrlError(`can't merge type ${typeName(kindOf(current))} with ${typeName(kindOf(add))}: both must be objects`);
  const merged = copyContainer(current);
  for (const k in add) merged[k] = share(add[k]);
  return merged;
}

/**
 * `. = merge(., x)` / `. |= x`: x's fields written into the root in place (logged in `undo` when
 * the root is the run's original), or into a copy when the root is shared. Returns the root.
 */
export function mergeIntoRoot(current: unknown, add: unknown, original: Obj | undefined, undo: UndoLog, where: string): Obj {
  if (!isObject(add) || !isObject(current)) {
    const error = new VrlError(`can't merge type ${typeName(kindOf(add))} into ${typeName(kindOf(current))}: both must be objects`);
    error.where = where;
    throw error;
  }
  const frozen = Object.isFrozen(current);
  const root: Obj = frozen ? copyContainer(current) : current;
  const logged = !frozen && root === original;
  for (const k in add) {
    const v = add[k];
    if (v === undefined) continue;
    if (logged) undo.note(k, root[k]);
    root[k] = share(v);
  }
  return root;
}

export { pathExists } from './value.js';
export { ownField } from '../../core/no-proto-accessor.js';
