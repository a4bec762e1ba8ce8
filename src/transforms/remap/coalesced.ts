import type { CoalesceStep } from './ast.js';
import { getPath, type Code } from './compiler.js';
import { ownField } from '../../core/no-proto-accessor.js';
import { isObject, type Obj } from './value.js';

/** Thrown by `return`: caught where the program or the closure invocation ends. */
export class ReturnSignal {
  constructor(readonly value: unknown) {}
}

/** A program or closure body with a `return`: the returned value is its result. */
export function catchReturn(code: Code): Code {
  return (f) => {
    try {
      return code(f);
    } catch (signal) {
      if (signal instanceof ReturnSignal) return signal.value;
      throw signal;
    }
  };
}

/**
 * Reads `.a.(b | c).d`: a coalesced group takes the first of its fields that the object holds (a
 * field set to null counts as present, as VRL's lookup did); a missing path is null.
 */
export function readCoalesced(node: unknown, steps: readonly CoalesceStep[]): unknown {
  for (const step of steps) {
    if (step.kind === 'first') {
      if (!isObject(node)) return null;
      const obj: Obj = node;
      const field = step.fields.find((name) => ownField(obj, name) !== undefined);
      if (field === undefined) return null;
      node = obj[field];
      continue;
    }
    node = getPath(node, step.segments);
  }
  return node ?? null;
}
