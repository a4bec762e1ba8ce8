import type { Zone } from './stdlib/zones.js';
import type { Expr } from './ast.js';
import type { TypeSet } from './value.js';

/** What the checker knows of an argument at compile time. */
export interface ArgInfo {
  readonly type: TypeSet;
  /** Set when the argument is a literal (or a literal array/object/regex): its value. */
  readonly literal: boolean;
  readonly value?: unknown;
  readonly expr?: Expr;
}

export interface Param {
  readonly name: string;
  readonly type: TypeSet;
  readonly required?: boolean;
}

export interface RunContext {
  log(level: string, message: string): void;
  env: NodeJS.ProcessEnv;
  /** The zone of timestamps parsed without an offset (the remap's `timezone`); UTC when absent. */
  timezone?: Zone;
}

export interface FunctionDef {
  readonly name: string;
  readonly params: readonly Param[];
  readonly returns: TypeSet | ((args: readonly (ArgInfo | undefined)[]) => TypeSet);
  /** Whether the function itself can fail (argument types aside). */
  readonly fallible?: boolean | ((args: readonly (ArgInfo | undefined)[]) => boolean);
  /** Compile-time check of literal arguments: return an error message to reject the program. */
  readonly check?: (args: readonly (ArgInfo | undefined)[]) => string | undefined;
  /**
   * Prepare per call site (literal arguments known, e.g. a format compiled once); returns the
   * run-time implementation. Without it, `call` runs.
   */
  readonly compile?: (args: readonly (ArgInfo | undefined)[]) => Impl;
  readonly call?: Impl;
  /** Takes i64 values beyond 2^53 (BigInt) in its number parameters; without it they arrive as the nearest double. */
  readonly bigints?: boolean;
  /** Iterating functions take a closure `-> |a, b| { ... }`: its variables' types, and what its block must return. */
  readonly closure?: { readonly params: readonly TypeSet[] | ((args: readonly (ArgInfo | undefined)[]) => readonly TypeSet[]); readonly returns?: TypeSet };
}

/**
 * Arguments positional, in parameter order; an omitted optional one is undefined. Throw a VrlError
 * to fail, or return a fresh one (`failed(...)`: cheaper where failures are common).
 */
export type Impl = (args: unknown[], ctx: RunContext, closure?: (...values: unknown[]) => unknown) => unknown;

const registry = new Map<string, FunctionDef>();

export function defineFunctions(defs: FunctionDef[]): void {
  for (const def of defs) {
    if (registry.has(def.name)) throw new Error(`VRL function ${def.name} defined twice`);
    registry.set(def.name, def);
  }
}

export function findFunction(name: string): FunctionDef | undefined {
  return registry.get(name);
}

export function functionNames(): string[] {
  return [...registry.keys()].sort();
}
