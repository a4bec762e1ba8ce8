import type { Block, Expr, Segment, Target } from './ast.js';
import type { Diagnostic, Span } from './diagnostic.js';
import { findFunction, type ArgInfo, type FunctionDef } from './function.js';
import { parseTimestampLiteral } from './stdlib/time.js';
import { ANY, kindOf, NEVER, NUMBER, T, typeName, VrlRegex, type TypeSet } from './value.js';

/** Why an expression can fail at run time: reported where nothing handles it. */
export interface Failure {
  readonly code: number;
  readonly title: string;
  readonly span: Span;
  readonly label: string;
  readonly notes: readonly string[];
}

export interface Info {
  type: TypeSet;
  /** Defined when the expression can fail at run time with a recoverable error. */
  failure?: Failure;
  /** Compile-time value of literals (regex and timestamp literals included). */
  literal?: { value: unknown };
  /** A read of a path typed by the source schema: checked at run time. */
  seeded?: boolean;
  /**
   * A read of a variable that holds a literal here (`pattern = "..."` before): function arguments
   * take it as that literal (VRL's parse_grok compiles such a pattern once); nothing else does.
   */
  constant?: { value: unknown };
}

/** A call site resolved by the checker: parameters matched, which arguments need a run-time type check. */
export interface CallPlan {
  def: FunctionDef;
  /** Argument expressions in parameter order. */
  args: (Expr | undefined)[];
  infos: (ArgInfo | undefined)[];
  /** Per parameter: the accepted kinds when the argument's static type is wider, to check at run time. */
  runtimeChecks: (TypeSet | undefined)[];
  /** The call can fail (itself or by argument type): `!` turns that into termination. */
  fallible: boolean;
}

export interface CheckResult {
  diagnostics: Diagnostic[];
  infos: WeakMap<Expr, Info>;
  calls: WeakMap<Expr, CallPlan>;
  /** Local variable -> slot. */
  slots: Map<string, number>;
  /** The program can terminate with an error (`!`, failed assertion) or abort. */
  canTerminate: boolean;
  canAbort: boolean;
  /**
   * An error or abort can end a run after it wrote to the event (in program order; anything in a
   * closure counts as after, as a closure repeats). Before a write the event is as it came, so a
   * failed run can pass it on without having kept a copy or an undo log.
   */
  canTerminateAfterWrite: boolean;
  canAbortAfterWrite: boolean;
  /** The type of the program's result: its last expression or a `return` value. */
  resultType: TypeSet;
  /** The program (`null` key: top level) or closure blocks that hold a `return` of their own. */
  returning: WeakSet<Expr>;
  /** A top-level `return` exists. */
  returns: boolean;
}

export interface CheckOptions {
  /** The event and its metadata cannot be changed (VRL conditions, as Vector's read-only target). */
  readOnly?: boolean;
}

const HANDLE_NOTE = 'handle the error case to ensure runtime success: add `!` to abort on error, `?? default` to coalesce, or `value, err = ...` to capture it';
const EXACT = (type: TypeSet) => type !== NEVER && (type & (type - 1)) === 0;

class Env {
  constructor(
    readonly vars: Map<string, TypeSet> = new Map(),
    readonly paths: Map<string, TypeSet> = new Map(),
    /** Paths whose type comes from the sources' schema, not from the program: checked when read. */
    readonly seeded: Set<string> = new Set(),
    /** Variables whose value is a literal at this point (assigned one, on every way here). */
    readonly constants: Map<string, unknown> = new Map(),
  ) {}
  clone(): Env {
    return new Env(new Map(this.vars), new Map(this.paths), new Set(this.seeded), new Map(this.constants));
  }
  /** Types after either branch ran. */
  static join(a: Env, b: Env): Env {
    const out = new Env();
    for (const [k, t] of a.vars) out.vars.set(k, t | (b.vars.get(k) ?? T.null));
    for (const [k, t] of b.vars) if (!a.vars.has(k)) out.vars.set(k, t | T.null);
    for (const [k, t] of a.paths) if (b.paths.has(k)) out.paths.set(k, t | b.paths.get(k)!);
    for (const k of a.seeded) if (b.seeded.has(k)) out.seeded.add(k);
    for (const [k, v] of a.constants) if (b.constants.has(k) && b.constants.get(k) === v) out.constants.set(k, v);
    return out;
  }
}

/** Stands for an expression already reported as wrong: silences follow-on diagnostics. */
const POISON: Failure = { code: 0, title: '', span: { start: 0, end: 0 }, label: '', notes: [] };

const pathKey = (segments: readonly Segment[]) => JSON.stringify(segments);

/**
 * What every sluice source guarantees (core/event.ts): `message` is the log line, a string. As
 * Vector types fields from its sources' schemas, `.message` starts out typed as a string; a read
 * checks it at run time (an event changed upstream fails the program rather than lying).
 */
export const SOURCE_SCHEMA: ReadonlyMap<string, TypeSet> = new Map([[JSON.stringify(['message']), T.bytes]]);

/** `variables`: ones defined before the program (the REPL's earlier lines), with their types. */
export function check(program: Expr[], source = '', variables?: ReadonlyMap<string, TypeSet>, options: CheckOptions = {}): CheckResult {
  const checker = new Checker(source, options);
  let env = new Env(new Map(variables), new Map(SOURCE_SCHEMA), new Set(SOURCE_SCHEMA.keys()));
  for (const name of variables?.keys() ?? []) checker.slot(name);
  checker.env = env;
  let last: TypeSet = T.null;
  for (const stmt of program) {
    const info = checker.expr(stmt, env);
    env = checker.env;
    last = info.type;
    if (info.failure) checker.report(info.failure);
  }
  const returned = checker.returnTypes.pop()!;
  return {
    diagnostics: checker.diagnostics,
    infos: checker.infos,
    calls: checker.calls,
    slots: checker.slots,
    canTerminate: checker.canTerminate,
    canAbort: checker.canAbort,
    canTerminateAfterWrite: checker.canTerminateAfterWrite,
    canAbortAfterWrite: checker.canAbortAfterWrite,
    resultType: last | (returned ?? NEVER),
    returning: checker.returning,
    returns: returned !== undefined,
  };
}

class Checker {
  constructor(
    private readonly source: string,
    private readonly options: CheckOptions = {},
  ) {}
  /** Per program / closure being checked: the types its `return`s give (undefined: none yet). */
  returnTypes: (TypeSet | undefined)[] = [undefined];
  returning = new WeakSet<Expr>();
  diagnostics: Diagnostic[] = [];
  infos = new WeakMap<Expr, Info>();
  calls = new WeakMap<Expr, CallPlan>();
  slots = new Map<string, number>();
  canTerminate = false;
  canAbort = false;
  canTerminateAfterWrite = false;
  canAbortAfterWrite = false;
  /** A write to the event was checked (the checker visits in evaluation order). */
  private wroteEvent = false;
  private closureDepth = 0;
  env = new Env();

  private terminates(): void {
    this.canTerminate = true;
    if (this.wroteEvent || this.closureDepth > 0) this.canTerminateAfterWrite = true;
  }

  private aborts(): void {
    this.canAbort = true;
    if (this.wroteEvent || this.closureDepth > 0) this.canAbortAfterWrite = true;
  }

  report(f: Failure): void {
    if (f.code === POISON.code) return; // already reported where it started
    this.diagnostics.push({ code: f.code, title: f.title, span: f.span, label: f.label, notes: f.notes });
  }
  error(code: number, title: string, span: Span, label: string, notes: string[] = []): void {
    this.diagnostics.push({ code, title, span, label, notes });
  }

  expr(e: Expr, env: Env): Info {
    this.env = env;
    const info = this.inner(e);
    this.infos.set(e, info);
    return info;
  }

  private sub(e: Expr): Info {
    const env = this.env;
    const info = this.expr(e, env);
    return info;
  }

  private inner(e: Expr): Info {
    switch (e.kind) {
      case 'literal':
        // `1.0` is a float even though its JS value is integral.
        return { type: e.float ? T.float : kindOf(e.value), literal: { value: e.value } };
      case 'timestamp': {
        const date = parseTimestampLiteral(e.text);
        if (date === undefined) {
          this.error(601, 'invalid timestamp', e.span, 'this is not an RFC 3339 timestamp', ["e.g. t'2021-02-11T10:32:50.553955473Z'"]);
          return { type: T.timestamp };
        }
        return { type: T.timestamp, literal: { value: date } };
      }
      case 'regex': {
        try {
          return { type: T.regex, literal: { value: new VrlRegex(e.source, e.flags) } };
        } catch (error) {
          this.error(203, 'invalid regular expression', e.span, (error as Error).message);
          return { type: T.regex };
        }
      }
      case 'array': {
        const infos = e.items.map((item) => this.sub(item));
        const literal = infos.every((i) => i.literal) ? { value: Object.freeze(infos.map((i) => i.literal!.value)) } : undefined;
        return { type: T.array, failure: infos.find((i) => i.failure)?.failure, literal };
      }
      case 'object': {
        const infos = e.entries.map(([, item]) => this.sub(item));
        const literal = infos.every((i) => i.literal)
          ? { value: Object.freeze(Object.fromEntries(e.entries.map(([k], n) => [k, infos[n]!.literal!.value]))) }
          : undefined;
        return { type: T.object, failure: infos.find((i) => i.failure)?.failure, literal };
      }
      case 'query':
        return this.query(e);
      case 'template':
        for (const part of e.parts) {
          if (typeof part === 'string') continue;
          const type = this.env.vars.get(part.name);
          if (type === undefined) {
            this.error(701, 'call to undefined variable', part.span, `undefined variable "${part.name}"`, ['assign it before use: name = value']);
            continue;
          }
          this.slot(part.name);
          if (type !== T.bytes && type !== NEVER) {
            this.error(110, 'invalid argument type', part.span, `a template segment must be a string, "${part.name}" resolves to ${typeName(type)}`, [
              `convert it first: ${part.name} = to_string(${part.name}) (or string!(...))`,
            ]);
          }
        }
        return { type: T.bytes };
      case 'assign':
        return this.assign(e);
      case 'block':
        return this.block(e);
      case 'if':
        return this.ifExpr(e);
      case 'abort': {
        this.aborts();
        if (e.message) {
          const m = this.sub(e.message);
          if ((m.type & T.bytes) === 0) this.error(110, 'invalid argument type', e.message.span, `abort takes a string message, this is ${typeName(m.type)}`);
          return { type: NEVER, failure: m.failure };
        }
        return { type: NEVER };
      }
      case 'unary':
        return this.unary(e);
      case 'binary':
        return this.binary(e);
      case 'call':
        return this.call(e);
      case 'return':
        return this.returnExpr(e);
      case 'coalesced':
        return this.coalesced(e);
    }
  }

  private returnExpr(e: Extract<Expr, { kind: 'return' }>): Info {
    const value = this.sub(e.value);
    if (value.failure && value.failure.code !== POISON.code) {
      this.error(631, 'unhandled fallible expression', e.value.span, 'return only accepts an infallible expression argument', [
        'handle errors before using the expression as a return value: `!`, `?? default` or `value, err = ...` first',
      ]);
    }
    const top = this.returnTypes.length - 1;
    this.returnTypes[top] = (this.returnTypes[top] ?? NEVER) | value.type;
    return { type: NEVER };
  }

  private coalesced(e: Extract<Expr, { kind: 'coalesced' }>): Info {
    const base = e.base;
    if (base.kind === 'var') {
      if (!this.env.vars.has(base.name)) {
        this.error(701, 'call to undefined variable', e.span, `undefined variable "${base.name}"`, ['assign it before use: name = value']);
      } else this.slot(base.name);
      return { type: ANY };
    }
    if (base.kind === 'expr') return { type: ANY, failure: this.sub(base.expr).failure };
    return { type: ANY };
  }

  private query(e: Extract<Expr, { kind: 'query' }>): Info {
    const base = e.base;
    if (base.kind === 'event') {
      if (e.segments.length === 0) return { type: this.env.paths.get('[]') ?? T.object };
      const key = pathKey(e.segments);
      if (this.env.seeded.has(key)) {
        this.terminates();
        return { type: this.env.paths.get(key)!, seeded: true };
      }
      return { type: this.env.paths.get(key) ?? ANY };
    }
    if (base.kind === 'meta') return { type: e.segments.length === 0 ? T.object : ANY };
    if (base.kind === 'var') {
      const type = this.env.vars.get(base.name);
      if (type === undefined) {
        this.error(701, 'call to undefined variable', e.span, `undefined variable "${base.name}"`, ['assign it before use: name = value']);
        return { type: ANY };
      }
      this.slot(base.name);
      if (e.segments.length > 0) return { type: ANY };
      return this.env.constants.has(base.name) ? { type, constant: { value: this.env.constants.get(base.name) } } : { type };
    }
    const inner = this.sub(base.expr);
    return { type: ANY, failure: inner.failure };
  }

  slot(name: string): number {
    let slot = this.slots.get(name);
    if (slot === undefined) {
      slot = this.slots.size;
      this.slots.set(name, slot);
    }
    return slot;
  }

  private setTarget(target: Target, type: TypeSet): void {
    if (target.kind === 'event') this.wroteEvent = true;
    if (target.kind === 'meta') return; // metadata is untyped: reads are `any`
    if (target.kind === 'var') {
      this.slot(target.name);
      this.env.constants.delete(target.name);
      if (target.segments.length === 0) this.env.vars.set(target.name, type);
      else this.env.vars.set(target.name, typeof target.segments[0] === 'number' ? T.array : T.object);
      return;
    }
    if (target.segments.length === 0) {
      this.env.paths.clear();
      this.env.seeded.clear();
      this.env.paths.set('[]', type & (T.object | T.array) || T.object);
      return;
    }
    const key = pathKey(target.segments);
    // Anything under or above the path changes.
    for (const k of [...this.env.paths.keys()]) {
      if (k === '[]') continue;
      const segs = JSON.parse(k) as Segment[];
      const prefix = segs.length <= target.segments.length ? segs : target.segments;
      const other = segs.length <= target.segments.length ? target.segments : segs;
      if (prefix.every((s, i) => s === other[i])) {
        this.env.paths.delete(k);
        this.env.seeded.delete(k);
      }
    }
    this.env.paths.set(key, type);
  }

  /** VRL conditions see the event read-only: a write is a compile error. */
  private readOnlyTarget(kind: string, span: Span): void {
    if (!this.options.readOnly || (kind !== 'event' && kind !== 'meta')) return;
    this.error(315, 'mutation of read-only value', span, 'a condition cannot change the event or its metadata', ['copy the value into a variable and change that: x = .field']);
  }

  private assign(e: Extract<Expr, { kind: 'assign' }>): Info {
    const value = this.sub(e.value);
    const t = e.target;
    this.readOnlyTarget(t.kind, t.span);
    if (e.errTarget) this.readOnlyTarget(e.errTarget.kind, e.errTarget.span);
    if (e.errTarget) {
      if (!value.failure) {
        this.error(104, 'unnecessary error assignment', e.errTarget.span, 'this error assignment is unnecessary', ['the expression on the right cannot fail, assign with "=" alone']);
      }
      if (e.errTarget.kind === 'event' && e.errTarget.segments.length === 0) this.error(315, 'invalid assignment target', e.errTarget.span, 'the error message cannot be the root of the event');
      this.setTarget(t, value.type);
      this.setTarget(e.errTarget, T.bytes | T.null);
      return { type: value.type };
    }
    let type = value.type;
    let failure = value.failure;
    if (e.op === '|=') {
      const current = t.kind === 'event' && t.segments.length === 0 ? T.object : t.kind === 'var' && t.segments.length === 0 ? (this.env.vars.get(t.name) ?? ANY) : ANY;
      if ((value.type & T.object) === 0 || (current & T.object) === 0) {
        this.error(110, 'invalid argument type', e.value.span, `"|=" merges objects, this is ${typeName(value.type)}`);
      } else if (!failure && (value.type !== T.object || current !== T.object)) {
        failure = { code: 100, title: 'unhandled error', span: e.span, label: 'this merge fails when either side is not an object', notes: [HANDLE_NOTE] };
      }
      type = T.object;
    } else if (e.op === '??=') {
      if (!value.failure) this.error(651, 'unnecessary error coalescing operation', e.span, 'the expression on the right cannot fail: use "="');
      failure = undefined;
    }
    if (t.kind === 'meta' && t.segments.length === 0 && (type & T.object) === 0 && type !== NEVER) {
      this.error(315, 'invalid assignment target', e.span, `the metadata root must be an object, this is ${typeName(type)}`);
    }
    if (t.kind === 'event' && t.segments.length === 0 && (type & (T.object | T.array)) === 0 && type !== NEVER) {
      this.error(315, 'invalid assignment target', e.span, `the root of the event must be an object (or an array of events), this is ${typeName(type)}`);
    }
    if (failure && failure.code !== POISON.code) {
      const text = (span: Span) => this.source.slice(span.start, span.end);
      const rewrite = e.op === '=' ? [`or change this to an infallible assignment: ${text(t.span)}, err = ${text(e.value.span)}`] : [];
      failure = {
        ...failure,
        code: failure.code === 100 ? 103 : failure.code,
        title: failure.code === 100 ? 'unhandled fallible assignment' : failure.title,
        notes: [...failure.notes, ...rewrite],
      };
    }
    this.setTarget(t, type);
    if (t.kind === 'var' && t.segments.length === 0 && e.op === '=' && value.literal) this.env.constants.set(t.name, value.literal.value);
    return { type, failure };
  }

  private block(e: Block): Info {
    let last: Info = { type: T.null };
    let failure: Failure | undefined;
    for (const stmt of e.body) {
      last = this.sub(stmt);
      failure ??= last.failure;
    }
    return { type: last.type, failure };
  }

  private ifExpr(e: Extract<Expr, { kind: 'if' }>): Info {
    const cond = this.sub(e.cond);
    if (cond.type !== T.boolean && cond.type !== NEVER) {
      this.error(102, 'non-boolean predicate', e.cond.span, `this predicate resolves to ${typeName(cond.type)}`, [
        'an if-predicate must resolve to a boolean: coerce with bool!(...), compare (== true), or test with is_boolean/exists',
      ]);
    }
    const before = this.env;
    const thenEnv = before.clone();
    const thenInfo = this.expr(e.then, thenEnv);
    const elseEnv = before.clone();
    const elseInfo = e.else ? this.expr(e.else, elseEnv) : { type: T.null };
    this.env = Env.join(thenEnv, elseEnv);
    return { type: thenInfo.type | elseInfo.type, failure: cond.failure ?? thenInfo.failure ?? (elseInfo as Info).failure };
  }

  private unary(e: Extract<Expr, { kind: 'unary' }>): Info {
    const inner = this.sub(e.expr);
    const want = e.op === '!' ? T.boolean : NUMBER;
    const result = e.op === '!' ? T.boolean : inner.type & NUMBER || NUMBER;
    return { type: result, failure: inner.failure ?? this.operandFailure(e.span, e.expr.span, inner.type, want, e.op) };
  }

  /** Unhandled error when an operand may have the wrong kind; a compile error when it cannot be right. */
  private operandFailure(span: Span, operandSpan: Span, type: TypeSet, want: TypeSet, op: string): Failure | undefined {
    if (type === NEVER) return undefined;
    if ((type & want) === 0) {
      this.error(110, 'invalid argument type', operandSpan, `"${op}" does not apply to ${typeName(type)} (expects ${typeName(want)})`);
      return undefined;
    }
    if ((type & ~want) !== 0) {
      return { code: 100, title: 'unhandled error', span, label: `expression can result in runtime error: this operand resolves to ${typeName(type)}, "${op}" expects ${typeName(want)}`, notes: [HANDLE_NOTE] };
    }
    return undefined;
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>): Info {
    const l = this.sub(e.left);
    const r = this.sub(e.right);
    const op = e.op;
    const fail = (label: string): Failure => ({ code: 100, title: 'unhandled error', span: e.span, label: `expression can result in runtime error: ${label}`, notes: [HANDLE_NOTE] });
    switch (op) {
      case '??':
        if (!l.failure) {
          this.error(651, 'unnecessary error coalescing operation', e.opSpan, 'the left side cannot fail, so "??" never uses the right side', ['remove "??" and the right side']);
        }
        return { type: l.type | r.type, failure: r.failure };
      case '==':
      case '!=':
        if (e.left.kind === 'binary' && ['==', '!=', '<', '<=', '>', '>='].includes(e.left.op)) {
          this.error(650, "comparison operators can't be chained together", e.opSpan, 'this comparison follows another one', ['compare two values at a time, joined with && or ||']);
        }
        return { type: T.boolean, failure: l.failure ?? r.failure };
      case '&&':
      case '||': {
        const inner = l.failure ?? r.failure;
        const want = T.boolean | T.null;
        if (op === '||') return { type: (l.type & ~T.null & ~(l.type === T.boolean ? 0 : 0)) | r.type, failure: inner };
        return { type: T.boolean, failure: inner ?? this.operandFailure(e.span, e.left.span, l.type, want, op) ?? this.operandFailure(e.span, e.right.span, r.type, want, op) };
      }
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const inner = l.failure ?? r.failure;
        if (e.left.kind === 'binary' && ['==', '!=', '<', '<=', '>', '>='].includes(e.left.op)) {
          this.error(650, "comparison operators can't be chained together", e.opSpan, 'this comparison follows another one', ['compare two values at a time, joined with && or ||']);
        }
        const comparable = [NUMBER, T.bytes, T.timestamp];
        const exact = comparable.some((k) => (l.type & ~k) === 0 && (r.type & ~k) === 0);
        const possible = comparable.some((k) => (l.type & k) !== 0 && (r.type & k) !== 0);
        if (!possible && l.type !== NEVER && r.type !== NEVER) {
          this.error(110, 'invalid argument type', e.span, `cannot compare ${typeName(l.type)} with ${typeName(r.type)}`);
        }
        return { type: T.boolean, failure: inner ?? (exact || !possible ? undefined : fail(`comparing ${typeName(l.type)} with ${typeName(r.type)}`)) };
      }
      case '+':
      case '-':
      case '*': {
        const inner = l.failure ?? r.failure;
        const only = (t: TypeSet, k: TypeSet) => (t & ~k) === 0 && t !== NEVER;
        const both = (k: TypeSet) => only(l.type, k) && only(r.type, k);
        const some = (k: TypeSet) => (l.type & k) !== 0 && (r.type & k) !== 0;
        let type: TypeSet;
        let exact: boolean;
        let possible = some(NUMBER);
        if (op === '+' && (l.type === T.bytes || r.type === T.bytes)) {
          // String concatenation; null counts as an empty string.
          type = T.bytes;
          exact = both(T.bytes | T.null);
          possible = some(T.bytes | T.null);
        } else if (op === '*' && ((l.type === T.bytes && r.type === T.integer) || (l.type === T.integer && r.type === T.bytes))) {
          type = T.bytes; // "ab" * 3
          exact = true;
          possible = true;
        } else if (l.type === T.float || r.type === T.float) {
          type = T.float;
          exact = both(NUMBER);
        } else if (l.type === T.integer && r.type === T.integer) {
          type = T.integer;
          exact = true;
        } else {
          type = op === '-' ? NUMBER : NUMBER | T.bytes;
          exact = false;
          possible = possible || (op !== '-' && (l.type & (T.bytes | T.null)) !== 0 && (r.type & (T.bytes | T.null | T.integer)) !== 0);
        }
        if (!possible && l.type !== NEVER && r.type !== NEVER) this.error(110, 'invalid argument type', e.span, `"${op}" does not apply to ${typeName(l.type)} and ${typeName(r.type)}`);
        return { type, failure: inner ?? (exact || !possible ? undefined : fail(`"${op}" on ${typeName(l.type)} and ${typeName(r.type)}`)) };
      }
      case '/':
      case '%': {
        const inner = l.failure ?? r.failure;
        const literalDivisor = r.literal && typeof r.literal.value === 'number' && r.literal.value !== 0;
        if (r.literal && r.literal.value === 0) this.error(110, 'invalid argument type', e.right.span, 'division by zero');
        const exact = (l.type & ~NUMBER) === 0 && (r.type & ~NUMBER) === 0 && literalDivisor;
        const type = op === '/' ? T.float : l.type === T.integer && r.type === T.integer ? T.integer : NUMBER;
        if (((l.type & NUMBER) === 0 || (r.type & NUMBER) === 0) && l.type !== NEVER && r.type !== NEVER) {
          this.error(110, 'invalid argument type', e.span, `"${op}" does not apply to ${typeName(l.type)} and ${typeName(r.type)}`);
        }
        return { type, failure: inner ?? (exact ? undefined : fail(literalDivisor ? `"${op}" on ${typeName(l.type)}` : 'the divisor may be zero (only a non-zero literal divisor cannot fail)')) };
      }
      case '|': {
        const inner = l.failure ?? r.failure;
        if ((l.type !== T.object || r.type !== T.object) && l.type !== NEVER && r.type !== NEVER) {
          const which = l.type !== T.object ? e.left : e.right;
          this.error(652, 'only objects can be merged', which.span, `this resolves to ${typeName(this.infos.get(which)?.type ?? ANY)}, "|" merges objects only`, [
            'ensure both sides are objects, e.g. object!(...) or object(...) ?? {}',
          ]);
        }
        return { type: T.object, failure: inner };
      }
      default:
        this.error(203, 'syntax error', e.opSpan, `unknown operator ${op}`);
        return { type: ANY };
    }
  }

  private call(e: Extract<Expr, { kind: 'call' }>): Info {
    const def = findFunction(e.name);
    if (!def) {
      for (const arg of e.args) this.sub(arg.expr);
      this.error(105, 'call to undefined function', e.nameSpan, `undefined function "${e.name}"`);
      return { type: ANY, failure: POISON };
    }
    const args: (Expr | undefined)[] = def.params.map(() => undefined);
    let positional = 0;
    let bad = false;
    for (const arg of e.args) {
      let index: number;
      if (arg.name !== undefined) {
        index = def.params.findIndex((p) => p.name === arg.name);
        if (index < 0) {
          this.error(108, 'unknown function argument keyword', arg.span, `"${e.name}" has no parameter "${arg.name}"`, [`parameters: ${def.params.map((p) => p.name).join(', ')}`]);
          bad = true;
          continue;
        }
      } else {
        while (positional < args.length && args[positional] !== undefined) positional++;
        index = positional++;
        if (index >= def.params.length) {
          this.error(106, 'function argument arity mismatch', arg.span, `"${e.name}" takes at most ${def.params.length} argument(s)`);
          bad = true;
          continue;
        }
      }
      if (args[index] !== undefined) {
        this.error(106, 'function argument arity mismatch', arg.span, `argument "${def.params[index]!.name}" given twice`);
        bad = true;
      }
      args[index] = arg.expr;
    }
    const infos: (ArgInfo | undefined)[] = [];
    const runtimeChecks: (TypeSet | undefined)[] = [];
    let failure: Failure | undefined;
    let argTypeFailure: Failure | undefined;
    def.params.forEach((param, i) => {
      const expr = args[i];
      if (!expr) {
        if (param.required) {
          this.error(107, 'required argument missing', e.span, `"${e.name}" needs argument "${param.name}"`);
          bad = true;
        }
        infos.push(undefined);
        runtimeChecks.push(undefined);
        return;
      }
      const info = this.sub(expr);
      if (info.failure && info.failure.code !== POISON.code) {
        // VRL: an argument must not fail; handle its error first (`!` or `??` inside the argument).
        this.error(630, 'fallible argument', info.failure.span, 'this expression can fail, and a function argument must not', [
          'handle the error inside the argument: add `!` to abort on error, or `?? default` to coalesce',
        ]);
        bad = true;
      } else failure ??= info.failure;
      const known = info.literal ?? info.constant;
      infos.push({ type: info.type, literal: known !== undefined, value: known?.value, expr });
      if (info.type !== NEVER && (info.type & param.type) === 0) {
        this.error(110, 'invalid argument type', expr.span, `this expression resolves to ${typeName(info.type)} but the parameter "${param.name}" expects ${typeName(param.type)}`);
        bad = true;
        runtimeChecks.push(undefined);
      } else if ((info.type & ~param.type) !== 0) {
        runtimeChecks.push(param.type);
        argTypeFailure ??= {
          code: 110,
          title: 'invalid argument type',
          span: expr.span,
          label: `this expression resolves to ${typeName(info.type)} but the parameter "${param.name}" expects the exact type ${typeName(param.type)}`,
          notes: [coercionFor(param.type)],
        };
      } else runtimeChecks.push(undefined);
    });
    const returns = typeof def.returns === 'function' ? def.returns(infos) : def.returns;
    if (def.closure && !e.closure) {
      this.error(106, 'function argument arity mismatch', e.span, `"${e.name}" takes a closure: ${e.name}(...) -> |...| { ... }`);
      bad = true;
    } else if (!def.closure && e.closure) {
      this.error(106, 'function argument arity mismatch', e.closure.span, `"${e.name}" takes no closure`);
      bad = true;
    } else if (def.closure && e.closure) {
      const { returns: mustReturn } = def.closure;
      const params = typeof def.closure.params === 'function' ? def.closure.params(infos) : def.closure.params;
      if (e.closure.params.length !== params.length) {
        this.error(106, 'function argument arity mismatch', e.closure.span, `the closure of "${e.name}" takes ${params.length} variable(s)`);
        bad = true;
      } else {
        // Closure variables shadow outer ones for the block only.
        const saved = e.closure.params.map((p) => this.env.vars.get(p.name));
        e.closure.params.forEach((p, i) => {
          this.slot(p.name);
          this.env.vars.set(p.name, params[i]!);
        });
        this.returnTypes.push(undefined);
        this.closureDepth++;
        // A closure repeats: a variable it assigns may hold another value in its next call.
        this.env.constants.clear();
        const bodyInfo = this.sub(e.closure.body);
        this.env.constants.clear();
        this.closureDepth--;
        const returned = this.returnTypes.pop();
        if (returned !== undefined) this.returning.add(e.closure.body);
        const body = { ...bodyInfo, type: bodyInfo.type | (returned ?? NEVER) };
        e.closure.params.forEach((p, i) => (saved[i] === undefined ? this.env.vars.delete(p.name) : this.env.vars.set(p.name, saved[i]!)));
        failure ??= body.failure;
        if (mustReturn !== undefined && body.type !== NEVER && (body.type & ~mustReturn) !== 0) {
          this.error(110, 'invalid argument type', e.closure.body.span, `the closure of "${e.name}" must return ${typeName(mustReturn)}, this block resolves to ${typeName(body.type)}`);
          bad = true;
        }
      }
    }
    if (bad) return { type: returns };
    if (e.name === 'del' || e.name === 'exists' || e.name === 'unnest') {
      const target = args[0];
      if (!target || target.kind !== 'query' || target.base.kind === 'expr') {
        this.error(110, 'invalid argument type', args[0]?.span ?? e.span, `"${e.name}" takes a path (.field or variable.field)`);
        return { type: returns };
      }
      if (e.name === 'del') this.readOnlyTarget(target.base.kind, target.span);
      if (e.name === 'del' && target.base.kind === 'event') this.setTarget({ kind: 'event', segments: target.segments, span: target.span }, T.null);
      if (e.name === 'del' && target.base.kind === 'var') this.env.constants.delete(target.base.name); // changed in place
    }
    const problem = def.check?.(infos);
    if (problem) {
      this.error(110, 'invalid argument', e.span, problem);
      return { type: returns };
    }
    if (argTypeFailure && !e.bang) {
      // VRL: an argument whose type may not match is a compile error unless the call aborts on error (`f!(...)`).
      const f = argTypeFailure as Failure;
      this.error(110, f.title, f.span, f.label, [`ensure the type with a coercion or assertion, e.g. ${f.notes[0]}, or abort on error: ${e.name}!(...)`]);
      return { type: returns };
    }
    const intrinsic = typeof def.fallible === 'function' ? def.fallible(infos) : (def.fallible ?? false);
    const fallible = intrinsic || argTypeFailure !== undefined;
    this.calls.set(e, { def, args, infos, runtimeChecks, fallible });
    if (e.bang) {
      if (!fallible) {
        this.error(620, "can't abort infallible function", e.nameSpan, `"${e.name}" cannot fail here`, [`remove the "!": ${e.name}(...)`]);
      } else this.terminates();
      return { type: returns, failure };
    }
    if (fallible) failure ??= { code: 100, title: 'unhandled error', span: e.span, label: 'expression can result in runtime error', notes: [HANDLE_NOTE] };
    return { type: returns, failure };
  }
}

function coercionFor(type: TypeSet): string {
  const name = type === T.bytes ? 'string' : type === T.integer ? 'int' : type === T.float ? 'float' : type === T.boolean ? 'bool' : type === T.object ? 'object' : type === T.array ? 'array' : type === T.timestamp ? 'timestamp' : undefined;
  return name ? `${name}!(...) or ${name}(...) ?? default` : 'a type assertion such as string!(...)';
}
