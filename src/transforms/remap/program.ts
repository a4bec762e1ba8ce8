import { check } from './checker.js';
import { Compiler, type Code, type Frame } from './compiler.js';
import { CompileError, SyntaxFailure } from './diagnostic.js';
import type { RunContext } from './function.js';
import { parseProgram } from './parser.js';
import './stdlib/index.js';
import { bigIntCount, isObject, kindOf, share, Termination, VrlError, withoutBigInts, type Obj, type TypeSet } from './value.js';

export type Outcome =
  | { kind: 'ok'; events: Obj[]; value: unknown; /** The metadata after the program (`NO_METADATA` when none was set). */ meta: Obj }
  | { kind: 'error' | 'abort'; message: string };

export interface Program {
  readonly source: string;
  /** Whether a run can end in a run-time error (`!`, assertions) or `abort`: then the original event must be kept. */
  readonly canFail: boolean;
  /** The type of the program's result (a VRL condition must give a boolean). */
  readonly resultType?: TypeSet;
  /**
   * Run on an event's fields (they may be changed in place; frozen sub-objects are copied first)
   * and its metadata (`%`, frozen by the run: a write copies it).
   */
  run(fields: Obj, ctx?: RunContext, meta?: Obj): Outcome;
}

/** The metadata of an event that has none: frozen, so a write to `%x` copies it. */
export const NO_METADATA: Obj = Object.freeze({});

export const defaultRunContext: RunContext = {
  log: (level, message) => process.stderr.write(`vrl ${level}: ${message}\n`),
  env: process.env,
};

/** Parse, type-check and compile a VRL program; throws CompileError with every diagnostic. */
export interface CompileOptions {
  /** Keep i64 values beyond 2^53 as BigInts in the resulting events (`sluice vrl` prints every digit). */
  exactIntegers?: boolean;
  /**
   * Variables that outlive one run (the REPL): the program sees them, and a run leaves their new
   * values here.
   */
  variables?: Map<string, unknown>;
  /** The event and its metadata are read only (VRL conditions): a write is a compile error. */
  readOnly?: boolean;
}

export function compileProgram(source: string, name = '', options: CompileOptions = {}): Program {
  let ast;
  try {
    ast = parseProgram(source);
  } catch (error) {
    if (error instanceof SyntaxFailure) throw new CompileError(source, [error.diagnostic], name);
    throw error;
  }
  const known = options.variables;
  const checked = check(ast, source, known && new Map([...known].map(([name, v]) => [name, kindOf(v)])), { readOnly: options.readOnly });
  if (checked.diagnostics.length > 0) throw new CompileError(source, checked.diagnostics, name);
  const code: Code = new Compiler(checked, source).main(ast);
  const slots = checked.slots.size;
  const bigLiterals = !options.exactIntegers && /\d{16}/.test(source); // program text, not event content
  const exact = options.exactIntegers === true;
  return {
    source,
    canFail: checked.canTerminate || checked.canAbort,
    resultType: checked.resultType,
    run(fields, ctx = defaultRunContext, meta = NO_METADATA) {
      const frame: Frame = { root: fields, meta: share(meta), vars: new Array(slots).fill(null), ctx };
      if (known) for (const [name, slot] of checked.slots) if (known.has(name)) frame.vars[slot] = share(known.get(name));
      let value: unknown;
      const bigBefore = bigIntCount.value;
      try {
        value = code(frame);
      } catch (error) {
        if (error instanceof Termination) return { kind: error.reason, message: error.message };
        // A recoverable error escaping is a checker gap; an exception is a bug: either fails this event only.
        if (error instanceof VrlError) return { kind: 'error', message: error.message };
        return { kind: 'error', message: `internal error: ${(error as Error).message}` };
      }
      if (known) for (const [name, slot] of checked.slots) if (frame.vars[slot] !== undefined) known.set(name, frame.vars[slot]);
      let events = rootEvents(frame.root);
      let after = isObject(frame.meta) ? frame.meta : NO_METADATA;
      if (!exact && (bigLiterals || bigIntCount.value !== bigBefore)) {
        events = events.map((e) => withoutBigInts(e) as Obj);
        after = withoutBigInts(after) as Obj;
      }
      return { kind: 'ok', events, value, meta: after };
    },
  };
}

/** The root after the program: an object is the event, an array is one event per element. */
function rootEvents(root: unknown): Obj[] {
  if (Array.isArray(root)) return root.map((item) => (isObject(item) ? writable(item) : { message: item }));
  if (isObject(root)) return [writable(root)];
  return [{ message: root }];
}

function writable(obj: Obj): Obj {
  return Object.isFrozen(obj) ? { ...obj } : obj;
}
