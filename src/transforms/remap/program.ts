import { check } from './checker.js';
import { generate } from './codegen.js';
import { Compiler, UndoLog, type Code, type Frame } from './compiler.js';
import { CompileError, SyntaxFailure } from './diagnostic.js';
import type { RunContext } from './function.js';
import { parseProgram } from './parser.js';
import './stdlib/index.js';
import { bigIntCount, isObject, kindOf, share, Termination, VrlError, withoutBigInts, type Obj, type TypeSet } from './value.js';

export type Outcome =
  | { kind: 'ok'; events: Obj[]; value: unknown; /** The metadata after the program (`NO_METADATA` when none was set). */ meta: Obj }
  | { kind: 'error' | 'abort'; message: string; /** With `keepOriginal`: the fields as they were before the run (a new object). */ original?: Obj };

export interface Program {
  readonly source: string;
  /** Whether a run can end in a run-time error (`!`, assertions) or `abort`: then the original event must be kept. */
  readonly canFail: boolean;
  /** The type of the program's result (a VRL condition must give a boolean). */
  readonly resultType?: TypeSet;
  /** Whether a run can end in a run-time error (`!`, a failed assertion). */
  readonly canError: boolean;
  /** Whether a run can end in `abort`. */
  readonly canAbort: boolean;
  /**
   * Whether an error / an abort can end a run after it wrote to the event: only then must a run
   * that passes the failed event on keep the original (`keepOriginal`). Before any write the
   * fields are as they came.
   */
  readonly errorsAfterWrite: boolean;
  readonly abortsAfterWrite: boolean;
  /** How it was compiled: one generated JS function, or the closure compiler (for what the generator does not cover). */
  readonly engine: 'generated' | 'closures';
  /**
   * Run on an event's fields (they may be changed in place; frozen sub-objects are copied first)
   * and its metadata (`%`, frozen by the run: a write copies it). `keepOriginal`: a failed run
   * returns the fields as they were (`original`) although the run may have changed them in place.
   */
  run(fields: Obj, ctx?: RunContext, meta?: Obj, keepOriginal?: boolean): Outcome;
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
  /**
   * The caller reads the events, not the program's value (the remap transform): a last statement
   * `. = merge(., x)` then leaves the root unshared instead of handing it back as a value, which
   * would cost a copy of the event.
   */
  resultUnused?: boolean;
  /**
   * `closures`: skip the generator (tests run every program through both; the default is
   * SLUICE_VRL_ENGINE, else the generator wherever it covers the program).
   */
  engine?: 'auto' | 'closures';
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
  const engine = options.engine ?? (process.env.SLUICE_VRL_ENGINE === 'closures' ? 'closures' : 'auto');
  // The REPL's variables live in the frame across runs: the generated code keeps locals in JS variables.
  const generated = engine === 'auto' && !known ? generate(checked, source, ast, options.resultUnused) : undefined;
  const code: Code = generated?.code ?? new Compiler(checked, source).main(ast, options.resultUnused);
  const slots = checked.slots.size;
  const bigLiterals = !options.exactIntegers && /\d{16}/.test(source); // program text, not event content
  const exact = options.exactIntegers === true;
  // Runs are synchronous and do not nest: one frame serves them all (a nested run would make its own).
  let spare: Frame | undefined = newFrame(slots);
  return {
    source,
    canFail: checked.canTerminate || checked.canAbort,
    resultType: checked.resultType,
    canError: checked.canTerminate,
    canAbort: checked.canAbort,
    errorsAfterWrite: checked.canTerminateAfterWrite,
    abortsAfterWrite: checked.canAbortAfterWrite,
    engine: generated ? 'generated' : 'closures',
    run(fields, ctx = defaultRunContext, meta = NO_METADATA, keepOriginal = false) {
      const frame = spare ?? newFrame(slots);
      spare = undefined;
      frame.root = fields;
      // Only the generated code reads and leaves `writable`; the closures leave it false.
      frame.writable = generated !== undefined && isObject(fields) && !Object.isFrozen(fields);
      frame.meta = meta === NO_METADATA ? meta : share(meta);
      frame.ctx = ctx;
      frame.original = keepOriginal ? fields : undefined;
      if (known) for (const [name, slot] of checked.slots) if (known.has(name)) frame.vars[slot] = share(known.get(name));
      try {
        return runIn(frame);
      } finally {
        frame.root = frame.meta = frame.original = undefined;
        frame.writable = false;
        if (slots > 0 && !generated) frame.vars.fill(null); // the generated code keeps its locals in JS variables
        if (frame.undo.size > 0) frame.undo.clear();
        spare = frame;
      }
    },
  };

  function runIn(frame: Frame): Outcome {
    let value: unknown;
    const bigBefore = bigIntCount.value;
    try {
      value = code(frame);
    } catch (error) {
      const failure: Outcome =
        error instanceof Termination
          ? { kind: error.reason, message: error.message }
          : // A recoverable error escaping is a checker gap; an exception is a bug: either fails this event only.
            { kind: 'error', message: error instanceof VrlError ? error.message : `internal error: ${(error as Error).message}` };
      if (frame.original) failure.original = restore(frame.original, frame.undo);
      return failure;
    }
    if (known) for (const [name, slot] of checked.slots) if (frame.vars[slot] !== undefined) known.set(name, frame.vars[slot]);
    let events = frame.writable ? [frame.root as Obj] : rootEvents(frame.root);
    let after = frame.meta === NO_METADATA || !isObject(frame.meta) ? NO_METADATA : frame.meta;
    if (!exact && (bigLiterals || bigIntCount.value !== bigBefore)) {
      events = events.map((e) => withoutBigInts(e) as Obj);
      after = withoutBigInts(after) as Obj;
    }
    return { kind: 'ok', events, value, meta: after };
  }
}

function newFrame(slots: number): Frame {
  return { root: undefined, meta: undefined, vars: new Array(slots).fill(null), ctx: defaultRunContext, original: undefined, undo: new UndoLog(), writable: false };
}

/**
 * The fields a run started with, from the object it changed in place and the undo log of those
 * changes (see Frame): a new object, keys in their original order, keys the run added left out.
 */
function restore(original: Obj, undo: UndoLog): Obj {
  if (undo.size === 0 && !Object.isFrozen(original)) return original;
  const before = new Map<string, unknown>();
  const entries = undo.entries;
  for (let i = 0; i < undo.size; i += 2) if (!before.has(entries[i] as string)) before.set(entries[i] as string, entries[i + 1]);
  const out: Obj = {};
  for (const key in original) {
    const value = before.has(key) ? before.get(key) : original[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
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
