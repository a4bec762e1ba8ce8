import { ownField } from '../../core/no-proto-accessor.js';
import type { Expr, Segment, Target } from './ast.js';
import type { CallPlan, CheckResult } from './checker.js';
import { catchReturn, readCoalesced, ReturnSignal } from './coalesced.js';
import type { Impl, RunContext } from './function.js';
import { unnestCode } from './stdlib/unnest.js';
import { add, andLeft, andRight, compare, divide, divideByLiteral, mergeObjects, multiply, negate, not, remainder, subtract } from './operators.js';
import { copyContainer, isObject, kindOf, NUMBER, pathExists, share, T, Termination, typeName, valueEquals, VrlError, type Obj } from './value.js';

/** The state of one run: the event root and the local variables. */
export interface Frame {
  root: unknown;
  /**
   * The fields the run started with when a failed run must give them back unchanged (see
   * `keepOriginal` in program.ts), else undefined. While the root is this object and not frozen,
   * the two hot writes (`.key = v`, `. = merge(., x)` / `. |= x`) change it in place and note each
   * key's previous value in `undo`; any other change freezes it first (`detach`), after which
   * every write copies as usual (copy-on-write).
   */
  original: Obj | undefined;
  /** Pairs of key and previous value (undefined: the key was absent), in the order written. */
  undo: UndoLog;
  /** The event's metadata (`%`): an object, never shipped. */
  meta: unknown;
  vars: unknown[];
  ctx: RunContext;
  /**
   * Generated code only: the root is a plain, unfrozen object the run may change in place (its
   * `W`). Checked once before a run instead of at the run's first read and write, and left by the
   * run so that its end need not look at the root again.
   */
  writable: boolean;
}

export type Code = (f: Frame) => unknown;

/**
 * The undo log of one run, reused by the next: emptied by count, not by `length = 0`, which would
 * drop the array's storage and make every run grow it again (garbage per event).
 */
export class UndoLog {
  entries: unknown[] = [];
  size = 0;
  note(key: string, previous: unknown): void {
    this.entries[this.size++] = key;
    this.entries[this.size++] = previous;
  }
  clear(): void {
    const entries = this.entries;
    for (let i = 0; i < this.size; i++) entries[i] = undefined; // no old event's values kept alive
    this.size = 0;
  }
}

/**
 * Before a change to the root other than the two logged hot writes: an original root is frozen,
 * so the change copies it (and, shallowly, what it changes below) and the original stays as the
 * undo log can restore it.
 */
function detach(f: Frame): void {
  if (f.root === f.original) share(f.root);
}

// ---- paths: reads share the value (value semantics), writes copy what is shared ----

export function getPath(node: unknown, segments: readonly Segment[]): unknown {
  for (const seg of segments) {
    if (typeof seg === 'string') {
      if (!isObject(node)) return null;
      node = ownField(node, seg);
    } else {
      if (!Array.isArray(node)) return null;
      node = node[seg < 0 ? node.length + seg : seg];
    }
    if (node === undefined) return null;
  }
  return node === undefined ? null : node;
}

/** Returns the (possibly new) container with `value` at `segments`; a non-container on the way is replaced. */
export function setPath(node: unknown, segments: readonly Segment[], value: unknown, i = 0): unknown {
  if (i === segments.length) return value;
  const seg = segments[i]!;
  if (typeof seg === 'string') {
    let obj = (isObject(node) ? node : {}) as Obj;
    if (Object.isFrozen(obj)) obj = copyContainer(obj);
    obj[seg] = setPath(ownField(obj, seg), segments, value, i + 1);
    return obj;
  }
  let arr = (Array.isArray(node) ? node : []) as unknown[];
  if (Object.isFrozen(arr)) arr = copyContainer(arr);
  let index = seg < 0 ? arr.length + seg : seg;
  if (index < 0) {
    // VRL: a negative index before the start grows the array at the front.
    const pad = -index;
    arr = [...new Array(pad).fill(null), ...arr];
    index = 0;
  }
  while (arr.length < index) arr.push(null);
  arr[index] = setPath(arr[index], segments, value, i + 1);
  return arr;
}

/**
 * A copy of `object` without `key`: `delete` would turn the object into a slow dictionary-mode
 * one. `owned`: nothing else holds `object` (it is dropped after), so its values move to the copy
 * as they are; otherwise they become shared between the two.
 */
export function withoutField(object: Obj, key: string, owned: boolean): Obj {
  const rest: Obj = {};
  if (owned) {
    for (const k in object) if (k !== key) rest[k] = object[k];
  } else {
    for (const k in object) if (k !== key) rest[k] = share(object[k]);
  }
  return rest;
}

/** Remove the value at `segments`; returns [new container, removed value]. */
export function deletePath(node: unknown, segments: readonly Segment[], i = 0): [unknown, unknown] {
  const seg = segments[i]!;
  const last = i === segments.length - 1;
  if (typeof seg === 'string') {
    if (!isObject(node) || !Object.hasOwn(node, seg)) return [node, null];
    if (last) {
      const frozen = Object.isFrozen(node);
      // The removed value stays reachable from the shared original: a write through it must copy.
      const removed = frozen ? share(node[seg]) : node[seg];
      return [withoutField(node, seg, !frozen), removed ?? null];
    }
    const obj = Object.isFrozen(node) ? copyContainer(node as Obj) : (node as Obj);
    const [child, removed] = deletePath(obj[seg], segments, i + 1);
    obj[seg] = child;
    return [obj, removed];
  }
  if (!Array.isArray(node)) return [node, null];
  const index = seg < 0 ? node.length + seg : seg;
  if (index < 0 || index >= node.length) return [node, null];
  const arr = Object.isFrozen(node) ? copyContainer(node) : node;
  if (last) {
    const [removed] = arr.splice(index, 1);
    return [arr, removed ?? null];
  }
  const [child, removed] = deletePath(arr[index], segments, i + 1);
  arr[index] = child;
  return [arr, removed];
}

export function defaultFor(type: number): unknown {
  switch (type) {
    case T.bytes:
      return '';
    case T.integer:
    case T.float:
      return 0;
    case T.boolean:
      return false;
    case T.object:
      return {};
    case T.array:
      return [];
    default:
      return null;
  }
}

export function position(source: string, span: { start: number; end: number }): string {
  void source;
  return `(${span.start}:${span.end})`;
}

// ---- the compiler ----

export class Compiler {
  constructor(
    private readonly checked: CheckResult,
    private readonly source: string,
  ) {}

  /** `resultUnused`: the caller wants the event, not the program's value (the transform). */
  program(body: Expr[], resultUnused = false): Code {
    // A statement before the last one is run for its effect: its value is dropped.
    const codes = body.map((e, i) => ((i < body.length - 1 || resultUnused) && e.kind === 'assign' ? this.assign(e, true) : this.expr(e)));
    if (codes.length === 1) return codes[0]!;
    return (f) => {
      let last: unknown = null;
      for (let i = 0; i < codes.length; i++) last = codes[i]!(f);
      return last;
    };
  }

  /** The whole program: a top-level `return` ends it with its value. */
  main(body: Expr[], resultUnused = false): Code {
    const code = this.program(body, resultUnused);
    return this.checked.returns ? catchReturn(code) : code;
  }

  expr(e: Expr): Code {
    const info = this.checked.infos.get(e);
    if (info?.literal && e.kind !== 'call' && e.kind !== 'assign') {
      const value = info.literal.value;
      return () => value;
    }
    switch (e.kind) {
      case 'literal': {
        const value = e.value;
        return () => value;
      }
      case 'timestamp':
      case 'regex':
        throw new Error('literal without a value'); // the checker reported it
      case 'array': {
        const items = e.items.map((i) => this.expr(i));
        const n = items.length;
        return (f) => {
          const out = new Array<unknown>(n);
          for (let i = 0; i < n; i++) out[i] = items[i]!(f);
          return out;
        };
      }
      case 'object': {
        const keys = e.entries.map(([k]) => k);
        const values = e.entries.map(([, v]) => this.expr(v));
        return (f) => {
          const out: Obj = {};
          for (let i = 0; i < keys.length; i++) out[keys[i]!] = values[i]!(f);
          return out;
        };
      }
      case 'query':
        return this.query(e);
      case 'template': {
        const parts = e.parts.map((p) => (typeof p === 'string' ? p : this.checked.slots.get(p.name)!));
        return (f) => {
          let out = '';
          for (let i = 0; i < parts.length; i++) {
            const p = parts[i]!;
            out += typeof p === 'string' ? p : (f.vars[p] as string);
          }
          return out;
        };
      }
      case 'assign':
        return this.assign(e);
      case 'block': {
        const body = this.program(e.body);
        return body;
      }
      case 'if': {
        const cond = this.expr(e.cond);
        const then = this.expr(e.then);
        const otherwise = e.else ? this.expr(e.else) : () => null;
        return (f) => (cond(f) === true ? then(f) : otherwise(f));
      }
      case 'abort': {
        const message = e.message ? this.expr(e.message) : undefined;
        const where = position(this.source, e.span);
        return (f) => {
          throw new Termination('abort', message ? String(message(f)) : `aborted at ${where}`);
        };
      }
      case 'unary':
        return this.unary(e);
      case 'binary':
        return this.binary(e);
      case 'call':
        return this.call(e);
      case 'return': {
        const value = this.expr(e.value);
        return (f) => {
          throw new ReturnSignal(value(f));
        };
      }
      case 'coalesced': {
        const base = e.base;
        const slot = base.kind === 'var' ? this.checked.slots.get(base.name)! : -1;
        const inner = base.kind === 'expr' ? this.expr(base.expr) : undefined;
        const start: Code = base.kind === 'event' ? (f) => f.root : base.kind === 'meta' ? (f) => f.meta : inner ?? ((f) => f.vars[slot]);
        const steps = e.steps;
        return (f) => share(readCoalesced(start(f), steps));
      }
    }
  }

  private query(e: Extract<Expr, { kind: 'query' }>): Code {
    const segs = e.segments;
    const base = e.base;
    if (base.kind === 'event') {
      if (segs.length === 0) return (f) => share(f.root);
      const info = this.checked.infos.get(e);
      if (info?.seeded) {
        const want = info.type;
        const name = segs.join('.');
        return (f) => {
          const v = getPath(f.root, segs);
          if ((kindOf(v) & want) === 0) throw new Termination('error', `.${name} is ${typeName(kindOf(v))}, not the ${typeName(want)} every source sets (changed upstream?)`);
          return v;
        };
      }
      if (segs.length === 1 && typeof segs[0] === 'string') {
        const key = segs[0];
        return (f) => {
          const root = f.root as Obj;
          const v = isObject(root) ? ownField(root, key) : undefined;
          return v === undefined ? null : share(v);
        };
      }
      return (f) => share(getPath(f.root, segs));
    }
    if (base.kind === 'meta') {
      if (segs.length === 0) return (f) => share(f.meta);
      return (f) => share(getPath(f.meta, segs));
    }
    if (base.kind === 'var') {
      const slot = this.checked.slots.get(base.name)!;
      if (segs.length === 0) return (f) => share(f.vars[slot] ?? null);
      return (f) => share(getPath(f.vars[slot], segs));
    }
    const inner = this.expr(base.expr);
    return (f) => share(getPath(inner(f), segs));
  }

  private writer(t: Target): (f: Frame, value: unknown) => void {
    const segs = t.segments;
    if (t.kind === 'event') {
      if (segs.length === 0) return (f, v) => void (f.root = v);
      if (segs.length === 1 && typeof segs[0] === 'string') {
        const key = segs[0];
        return (f, v) => {
          let root = f.root as Obj;
          if (!isObject(root)) root = f.root = {};
          else if (Object.isFrozen(root)) root = f.root = copyContainer(root);
          else if (root === f.original) f.undo.note(key, root[key]);
          root[key] = v;
        };
      }
      return (f, v) => {
        detach(f);
        f.root = setPath(f.root, segs, v);
      };
    }
    if (t.kind === 'meta') {
      if (segs.length === 0) return (f, v) => void (f.meta = v);
      return (f, v) => void (f.meta = setPath(f.meta, segs, v));
    }
    const slot = this.checked.slots.get(t.name)!;
    if (segs.length === 0) return (f, v) => void (f.vars[slot] = v);
    return (f, v) => void (f.vars[slot] = setPath(f.vars[slot], segs, v));
  }

  private targetReader(t: Target): Code {
    if (t.kind === 'event') return (f) => getPath(f.root, t.segments);
    if (t.kind === 'meta') return (f) => getPath(f.meta, t.segments);
    const slot = this.checked.slots.get(t.name)!;
    return (f) => getPath(f.vars[slot], t.segments);
  }

  private assign(e: Extract<Expr, { kind: 'assign' }>, discarded = false): Code {
    const inPlace = this.rootMerge(e, discarded);
    if (inPlace) return inPlace;
    const write = this.writer(e.target);
    if (e.errTarget) {
      const writeErr = this.writer(e.errTarget);
      const fallback = defaultFor(this.checked.infos.get(e.value)?.type ?? 0);
      const valueOrError = this.exprOrError(e.value);
      return (f) => {
        let v = valueOrError(f);
        if (!(v instanceof VrlError)) {
          write(f, v);
          writeErr(f, null);
          return v;
        }
        const message = v.message;
        v = typeof fallback === 'object' && fallback !== null ? (Array.isArray(fallback) ? [] : {}) : fallback;
        write(f, v);
        writeErr(f, message);
        return v;
      };
    }
    if (e.op === '??=') {
      const valueOrError = this.exprOrError(e.value);
      return (f) => {
        const v = valueOrError(f);
        if (v instanceof VrlError) return null;
        write(f, v);
        return v;
      };
    }
    const value = this.expr(e.value);
    if (e.op === '|=') {
      const read = this.targetReader(e.target);
      return (f) => {
        const current = read(f);
        const add = value(f);
        if (!isObject(current) || !isObject(add)) throw new VrlError(`can't merge type ${typeName(kindOf(current))} with ${typeName(kindOf(add))}: both must be objects`);
        const merged = copyContainer(current);
        for (const k in add) merged[k] = share(add[k]);
        write(f, merged);
        return merged;
      };
    }
    return (f) => {
      const v = value(f);
      write(f, v);
      return v;
    };
  }

  /**
   * `. = merge(., x)` and `. |= x`, the usual first statement: merge into the root in place when
   * nothing else holds it (not frozen), instead of reading `.` (which shares, hence freezes, it)
   * and copying it. `x` runs first, so a root it captured is frozen by then and gets copied.
   */
  private rootMerge(e: Extract<Expr, { kind: 'assign' }>, discarded: boolean): Code | undefined {
    if (e.errTarget || e.target.kind !== 'event' || e.target.segments.length > 0) return undefined;
    let from: Expr;
    if (e.op === '|=') from = e.value;
    else if (e.op === '=' && e.value.kind === 'call' && e.value.name === 'merge' && !e.value.bang) {
      const plan = this.checked.calls.get(e.value);
      const [to, add, deep] = plan?.args ?? [];
      if (!plan || plan.fallible || deep !== undefined || !to || !add) return undefined;
      if (to.kind !== 'query' || to.base.kind !== 'event' || to.segments.length > 0) return undefined;
      from = add;
    } else return undefined;
    const value = this.expr(from);
    const where = `"merge" at ${position(this.source, e.value.span)}`;
    return (f) => {
      const add = value(f);
      const current = f.root;
      if (!isObject(add) || !isObject(current)) {
        const error = new VrlError(`can't merge type ${typeName(kindOf(add))} into ${typeName(kindOf(current))}: both must be objects`);
        error.where = where;
        throw error;
      }
      const frozen = Object.isFrozen(current);
      const root: Obj = frozen ? (f.root = copyContainer(current)) : current;
      const logged = !frozen && root === f.original;
      for (const k in add) {
        const v = add[k];
        if (v === undefined) continue;
        if (logged) f.undo.note(k, root[k]);
        root[k] = share(v);
      }
      // As a value (`x = (. |= y)`, the program's result) the root is shared like any read of `.`.
      return discarded ? null : share(root);
    };
  }

  private unary(e: Extract<Expr, { kind: 'unary' }>): Code {
    const inner = this.expr(e.expr);
    if (e.op === '!') return (f) => not(inner(f));
    return (f) => negate(inner(f));
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>): Code {
    if (e.op === '??') {
      const left = this.exprOrError(e.left);
      const right = this.expr(e.right);
      return (f) => {
        const v = left(f);
        return v instanceof VrlError ? right(f) : v;
      };
    }
    const l = this.expr(e.left);
    const r = this.expr(e.right);
    const rightLiteral = this.checked.infos.get(e.right)?.literal;
    switch (e.op) {
      case '==':
        return (f) => valueEquals(l(f), r(f));
      case '!=':
        return (f) => !valueEquals(l(f), r(f));
      case '||':
        return (f) => {
          const a = l(f);
          return a === null || a === false ? r(f) : a;
        };
      case '&&':
        return (f) => andLeft(l(f)) && andRight(r(f));
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const op = e.op;
        return (f) => compare(l(f), r(f), op);
      }
      case '+':
        return (f) => add(l(f), r(f));
      case '-':
        return (f) => subtract(l(f), r(f));
      case '*':
        return (f) => multiply(l(f), r(f));
      case '/':
        if (rightLiteral && typeof rightLiteral.value === 'number' && rightLiteral.value !== 0) {
          const d = rightLiteral.value;
          return (f) => divideByLiteral(l(f), d);
        }
        return (f) => divide(l(f), r(f));
      case '%':
        return (f) => remainder(l(f), r(f));
      case '|':
        return (f) => mergeObjects(l(f), r(f));
      default:
        throw new Error(`unknown operator ${e.op}`);
    }
  }

  /**
   * Code for a fallible expression whose error is wanted as a value (the left of `??`, the right
   * of `, err =` and `??=`): a VrlError is returned, not thrown. Calls return it without a throw
   * (throwing and catching costs microseconds, and `parse_json(.message) ?? {}` fails on most
   * plain lines); any other expression is run under a catch.
   */
  exprOrError(e: Expr): Code {
    if (e.kind === 'call' && !e.bang && !this.checked.infos.get(e)?.literal) return this.call(e, true);
    const code = this.expr(e);
    return (f) => {
      try {
        return code(f);
      } catch (error) {
        if (error instanceof VrlError) return error;
        throw error;
      }
    };
  }

  private call(e: Extract<Expr, { kind: 'call' }>, errorAsValue = false): Code {
    const plan = this.checked.calls.get(e) as CallPlan;
    const special = this.specialForm(e, plan, errorAsValue);
    if (special) return special;
    const impl = plan.def.compile ? plan.def.compile(plan.infos) : plan.def.call!;
    if (e.closure) return this.closureCall(e, plan, impl, errorAsValue);
    const args = plan.args.map((a) => (a ? this.expr(a) : omitted));
    const checks = plan.runtimeChecks;
    const needsCheck = checks.some((c) => c !== undefined);
    const where = `"${e.name}" at ${position(this.source, e.span)}`;
    const bang = e.bang;
    const n = args.length;
    // A number-only parameter of a function written for JS numbers gets an i64 beyond 2^53 as the nearest double.
    const toNumber = plan.def.params.map((p, i) => !plan.def.bigints && (p.type & ~NUMBER) === 0 && ((plan.infos[i]?.type ?? 0) & T.integer) !== 0);
    const converts = toNumber.some(Boolean);
    /**
     * One argument array per call site, not one per call: a function reads its arguments on entry
     * and never keeps the array (closure calls, which run program code inside, have their own
     * path). The array is filled only once every argument is evaluated and emptied after the call.
     */
    const values = new Array<unknown>(n).fill(undefined);
    const invoke = (f: Frame): unknown => {
      if (converts) for (let i = 0; i < n; i++) if (toNumber[i] && typeof values[i] === 'bigint') values[i] = Number(values[i]);
      let result: unknown;
      if (needsCheck && !argumentsMatch(values, checks)) result = argumentError(values, checks);
      else {
        try {
          result = impl(values, f.ctx);
        } catch (error) {
          if (!(error instanceof VrlError)) throw error;
          result = error;
        }
      }
      for (let i = 0; i < n; i++) values[i] = undefined;
      if (!(result instanceof VrlError)) return result;
      result.where ??= where;
      if (bang) throw new Termination('error', result.message);
      if (errorAsValue) return result;
      throw result;
    };
    // Specialised by arity: no loop over the arguments, no array per call.
    const [a0, a1, a2] = args as [Code, Code, Code];
    switch (n) {
      case 0:
        return invoke;
      case 1:
        return (f) => {
          values[0] = a0(f);
          return invoke(f);
        };
      case 2:
        return (f) => {
          const v0 = a0(f);
          values[1] = a1(f);
          values[0] = v0;
          return invoke(f);
        };
      case 3:
        return (f) => {
          const v0 = a0(f);
          const v1 = a1(f);
          values[2] = a2(f);
          values[0] = v0;
          values[1] = v1;
          return invoke(f);
        };
      case 4: {
        const a3 = args[3]!;
        return (f) => {
          const v0 = a0(f);
          const v1 = a1(f);
          const v2 = a2(f);
          values[3] = a3(f);
          values[0] = v0;
          values[1] = v1;
          values[2] = v2;
          return invoke(f);
        };
      }
      default:
        // More arguments (rare): evaluated into an array of their own first.
        return (f) => {
          const evaluated = args.map((a) => a(f));
          for (let i = 0; i < n; i++) values[i] = evaluated[i];
          return invoke(f);
        };
    }
  }

  /** An iterating function: the closure's variables are slots, set per invocation and restored after. */
  private closureCall(e: Extract<Expr, { kind: 'call' }>, plan: CallPlan, impl: Impl, errorAsValue: boolean): Code {
    const args = plan.args.map((a) => (a ? this.expr(a) : undefined));
    const block = e.closure!.body;
    const body = this.checked.returning.has(block) ? catchReturn(this.expr(block)) : this.expr(block);
    const slots = e.closure!.params.map((p) => this.checked.slots.get(p.name)!);
    const checks = plan.runtimeChecks;
    const where = `"${e.name}" at ${position(this.source, e.span)}`;
    const bang = e.bang;
    return (f) => {
      const values = args.map((a) => (a === undefined ? undefined : a(f)));
      const saved = slots.map((s) => f.vars[s]);
      const invoke = (...vals: unknown[]) => {
        for (let i = 0; i < slots.length; i++) f.vars[slots[i]!] = vals[i];
        return body(f);
      };
      let result: unknown;
      try {
        result = argumentsMatch(values, checks) ? impl(values, f.ctx, invoke) : argumentError(values, checks);
      } catch (error) {
        if (!(error instanceof VrlError)) throw error;
        result = error;
      } finally {
        for (let i = 0; i < slots.length; i++) f.vars[slots[i]!] = saved[i];
      }
      if (!(result instanceof VrlError)) return result;
      result.where ??= where;
      if (bang) throw new Termination('error', result.message);
      if (errorAsValue) return result;
      throw result;
    };
  }

  /** Functions that take a path rather than a value. */
  private specialForm(e: Extract<Expr, { kind: 'call' }>, plan: CallPlan, errorAsValue = false): Code | undefined {
    if (e.name !== 'del' && e.name !== 'exists' && e.name !== 'unnest') return undefined;
    const arg = plan.args[0];
    if (!arg || arg.kind !== 'query' || arg.base.kind === 'expr') {
      throw new Error(`${e.name} takes a path`); // the checker rejects this first
    }
    const segs = arg.segments;
    const baseKind = arg.base.kind;
    const slot = arg.base.kind === 'var' ? this.checked.slots.get(arg.base.name)! : -1;
    // The container the path starts from, and how to replace it.
    const read = baseKind === 'event' ? (f: Frame) => f.root : baseKind === 'meta' ? (f: Frame) => f.meta : (f: Frame) => f.vars[slot];
    const write =
      baseKind === 'event' ? (f: Frame, v: unknown) => void (f.root = v) : baseKind === 'meta' ? (f: Frame, v: unknown) => void (f.meta = v) : (f: Frame, v: unknown) => void (f.vars[slot] = v);
    if (e.name === 'unnest') return unnestCode(read, segs, e.bang, errorAsValue, `"unnest" at ${position(this.source, e.span)}`);
    if (e.name === 'exists') {
      const isVar = baseKind === 'var';
      return (f) => pathExists(read(f), segs, isVar);
    }
    return (f) => {
      if (segs.length === 0) {
        const removed = read(f);
        write(f, baseKind === 'var' ? null : {});
        return removed ?? null;
      }
      if (baseKind === 'event') detach(f);
      const [container, removed] = deletePath(read(f), segs);
      write(f, container);
      return removed;
    };
  }
}

/** An optional argument left out: the function sees undefined. */
const omitted: Code = () => undefined;

export function argumentsMatch(values: readonly unknown[], checks: readonly (number | undefined)[]): boolean {
  for (let i = 0; i < checks.length; i++) {
    const want = checks[i];
    if (want !== undefined && (kindOf(values[i]) & want) === 0) return false;
  }
  return true;
}

export function argumentError(values: readonly unknown[], checks: readonly (number | undefined)[]): VrlError {
  const i = checks.findIndex((want, n) => want !== undefined && (kindOf(values[n]) & want) === 0);
  return new VrlError(`expected ${typeName(checks[i]!)}, got ${typeName(kindOf(values[i]))}`);
}
