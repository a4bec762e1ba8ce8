// One JavaScript function per VRL program (new Function over generated source) instead of a tree
// of closures: paths are property reads, locals are JS variables, a fallible call whose error `??`
// discards costs a branch, not an Error. The closure compiler (compiler.ts) stays the fallback for
// what this does not cover (closures `-> |..|`, `return`, `unnest`, REPL variables): `generate`
// returns undefined for those. Safety: program text reaches the source only through
// JSON.stringify (keys, strings, finite numbers) or as an index into the constants array; event
// data never does (it is only ever a value the function reads).
import type { Expr, Segment, Target } from './ast.js';
import type { CallPlan, CheckResult } from './checker.js';
import * as runtime from './codegen-runtime.js';
import { defaultFor, position, type Code } from './compiler.js';
import { NUMBER, T } from './value.js';
import { INHERITED_NAMES } from '../../core/no-proto-accessor.js';

/** JS for the field `key` of the object `on`: a name every object inherits goes through `ownField` (one rule for both engines). */
function field(on: string, key: string): string {
  const name = JSON.stringify(key);
  return INHERITED_NAMES.has(key) ? `ownField(${on}, ${name})` : `${on}[${name}]`;
}

/** How a fallible expression's error is wanted: thrown, as a value nobody reads (`??`), or as a value whose message is read (`, err =`). */
type Mode = 'throw' | 'discard' | 'capture';

class Unsupported extends Error {}

const CONTAINER = T.object | T.array;

/** The type assertions (types.ts): `string(x)` returns x when its kind fits, else fails. */
const ASSERTIONS: Record<string, number> = { string: T.bytes, int: T.integer, float: T.float, bool: T.boolean, object: T.object, array: T.array, timestamp: T.timestamp };

/** The generated function for `body`, or undefined when it uses something only the closure compiler covers. */
export function generate(checked: CheckResult, source: string, body: Expr[], resultUnused = false): { code: Code; text: string } | undefined {
  if (checked.returns) return undefined;
  try {
    return new Generator(checked, source).program(body, resultUnused);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

class Generator {
  private readonly constants: unknown[] = [];
  private readonly constantIndex = new Map<unknown, number>();
  private readonly lines: string[] = [];
  private temps = 0;

  constructor(
    private readonly checked: CheckResult,
    private readonly source: string,
  ) {}

  program(body: Expr[], resultUnused: boolean): { code: Code; text: string } {
    const last = this.sequence(body, resultUnused);
    const locals = [...new Set(this.checked.slots.values())].map((slot) => `v${slot} = null`);
    const temps = Array.from({ length: this.temps }, (_, i) => `t${i}`);
    const text = [
      '"use strict";',
      `const { ${Object.keys(runtime).join(', ')} } = H;`,
      ...this.constants.map((_, i) => `const k${i} = K[${i}];`),
      'return function vrlProgram(f) {',
      // W: R is known to be a writable object of this run's (set by a root write, cleared by anything else that replaces or shares R).
      'let R = f.root, M = f.meta, W = f.writable;',
      'const O = f.original, U = f.undo;',
      ...(locals.length > 0 ? [`let ${locals.join(', ')};`] : []),
      ...(temps.length > 0 ? [`let ${temps.join(', ')};`] : []),
      ...this.lines,
      'f.root = R;',
      'f.meta = M;',
      'f.writable = W;',
      `return ${last};`,
      '};',
    ].join('\n');
    let factory: (constants: unknown[], helpers: typeof runtime) => Code;
    try {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the text is built from the AST only (see the file comment)
      factory = new Function('K', 'H', text) as typeof factory;
    } catch (error) {
      // node --disallow-code-generation-from-strings: the closures run instead.
      if (error instanceof EvalError) throw new Unsupported('code generation from strings is disallowed');
      throw error;
    }
    const code = factory(this.constants, runtime);
    return { code, text };
  }

  /** Statements run in order; the value is the last one's (null for none). Before the last, an assignment's value is dropped. */
  private sequence(body: Expr[], lastDiscarded = false): string {
    let last = 'null';
    body.forEach((e, i) => {
      last = this.expr(e, i < body.length - 1 || lastDiscarded);
    });
    return last;
  }

  private emit(line: string): void {
    this.lines.push(line);
  }

  private temp(): string {
    return `t${this.temps++}`;
  }

  private constant(value: unknown): string {
    let index = this.constantIndex.get(value);
    if (index === undefined) {
      index = this.constants.length;
      this.constants.push(value);
      this.constantIndex.set(value, index);
    }
    return `k${index}`;
  }

  /** A literal value as source: strings, finite numbers and booleans through JSON.stringify, anything else a constant. */
  private literal(value: unknown): string {
    if (value === null) return 'null';
    if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
    if (typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0)) return JSON.stringify(value);
    return this.constant(value);
  }

  private local(name: string): string {
    const slot = this.checked.slots.get(name);
    if (slot === undefined) throw new Unsupported(`unknown variable ${name}`);
    return `v${slot}`;
  }

  private mayBeContainer(e: Expr): boolean {
    const info = this.checked.infos.get(e);
    return info === undefined || (info.type & CONTAINER) !== 0;
  }

  /** Emits the statements of `e`; returns a source expression of its value: a literal, a constant or a temporary. */
  private expr(e: Expr, discarded = false): string {
    const info = this.checked.infos.get(e);
    if (info?.literal && e.kind !== 'call' && e.kind !== 'assign') return this.literal(info.literal.value);
    switch (e.kind) {
      case 'literal':
        return this.literal(e.value);
      case 'timestamp':
      case 'regex':
        throw new Unsupported('literal without a value');
      case 'array': {
        const items = e.items.map((item) => this.expr(item));
        const t = this.temp();
        this.emit(`${t} = [${items.join(', ')}];`);
        return t;
      }
      case 'object': {
        const entries = e.entries.map(([key, value]) => [key, this.expr(value)] as const);
        const t = this.temp();
        // "__proto__" as a plain key would set the prototype; computed, it is an own property.
        const keyText = (key: string) => (key === '__proto__' ? `[${JSON.stringify(key)}]` : JSON.stringify(key));
        this.emit(`${t} = {${entries.map(([key, value]) => `${keyText(key)}: ${value}`).join(', ')}};`);
        return t;
      }
      case 'query':
        return this.query(e);
      case 'template': {
        const t = this.temp();
        const parts = e.parts.map((p) => (typeof p === 'string' ? JSON.stringify(p) : this.local(p.name)));
        this.emit(`${t} = "" + ${parts.length > 0 ? parts.join(' + ') : '""'};`);
        return t;
      }
      case 'assign':
        return this.assign(e, discarded);
      case 'block':
        return this.sequence(e.body);
      case 'if': {
        const cond = this.expr(e.cond);
        const t = this.temp();
        this.emit(`if (${cond} === true) {`);
        this.emit(`${t} = ${this.expr(e.then)};`);
        this.emit('} else {');
        this.emit(`${t} = ${e.else ? this.expr(e.else) : 'null'};`);
        this.emit('}');
        return t;
      }
      case 'abort': {
        const message = e.message ? `String(${this.expr(e.message)})` : JSON.stringify(`aborted at ${position(this.source, e.span)}`);
        this.emit(`throw new Termination("abort", ${message});`);
        return 'null';
      }
      case 'unary': {
        const inner = this.expr(e.expr);
        const t = this.temp();
        this.emit(e.op === '!' ? `${t} = typeof ${inner} === "boolean" ? !${inner} : not(${inner});` : `${t} = negate(${inner});`);
        return t;
      }
      case 'binary':
        return this.binary(e);
      case 'call':
        return this.call(e, 'throw');
      case 'return':
        throw new Unsupported('return');
      case 'coalesced': {
        const base = e.base.kind === 'event' ? 'R' : e.base.kind === 'meta' ? 'M' : e.base.kind === 'var' ? `(${this.local(e.base.name)} ?? null)` : this.expr(e.base.expr);
        const t = this.temp();
        this.emit(`${t} = share(readCoalesced(${base}, ${this.constant(e.steps)}));`);
        if (base === 'R') this.emit('W = false;');
        return t;
      }
    }
  }

  /** Emits `t = <value at segs below base>` (undefined where absent), without sharing it. */
  private readPath(t: string, base: string, segs: readonly Segment[]): void {
    let rest = segs;
    if (base === 'R' && typeof segs[0] === 'string') {
      this.emit(`${t} = W || isObject(R) ? ${field('R', segs[0])} : undefined;`);
      rest = segs.slice(1);
    } else this.emit(`${t} = ${base};`);
    for (const seg of rest) {
      if (typeof seg === 'string') this.emit(`${t} = isObject(${t}) ? ${field(t, seg)} : undefined;`);
      else this.emit(`${t} = Array.isArray(${t}) ? ${t}[${seg < 0 ? `${t}.length - ${JSON.stringify(-seg)}` : JSON.stringify(seg)}] : undefined;`);
    }
  }

  private query(e: Extract<Expr, { kind: 'query' }>): string {
    const segs = e.segments;
    const base = e.base.kind === 'event' ? 'R' : e.base.kind === 'meta' ? 'M' : e.base.kind === 'var' ? `(${this.local(e.base.name)} ?? null)` : this.expr(e.base.expr);
    const t = this.temp();
    const info = this.checked.infos.get(e);
    if (e.base.kind === 'event' && segs.length > 0 && info?.seeded) {
      // Typed by the sources' schema: checked, not trusted (an event changed upstream fails the run).
      this.readPath(t, base, segs);
      const want = info.type;
      const fast = want === T.bytes ? `typeof ${t} !== "string" && ` : '';
      this.emit(`if (${t} === undefined) ${t} = null;`);
      this.emit(`if (${fast}(kindOf(${t}) & ${JSON.stringify(want)}) === 0) throw seededMismatch(${t}, ${JSON.stringify(want)}, ${JSON.stringify(segs.join('.'))});`);
      return t;
    }
    this.readPath(t, base, segs);
    if (base === 'R' && segs.length === 0) this.emit('W = false;');
    const shared = this.mayBeContainer(e) ? `share(${t})` : t;
    this.emit(`${t} = ${t} === undefined ? null : ${shared};`);
    return t;
  }

  /** Emits the write of `value` to a target (copy on write below the root; the root's own keys logged for undo). */
  private write(target: Target, value: string): void {
    const segs = target.segments;
    if (target.kind === 'event') {
      if (segs.length === 0) this.emit(`R = ${value}; W = false;`);
      else if (segs.length === 1 && typeof segs[0] === 'string') {
        const key = JSON.stringify(segs[0]);
        this.emit(`if (!W) { if (!isObject(R)) R = {}; else if (Object.isFrozen(R)) R = copyContainer(R); W = true; }`);
        this.emit(`if (R === O) U.note(${key}, R[${key}]);`);
        this.emit(`R[${key}] = ${value};`);
      } else {
        this.emit('if (R === O) share(R);');
        this.emit(`R = setPath(R, ${this.constant(segs)}, ${value}); W = false;`);
      }
      return;
    }
    const name = target.kind === 'meta' ? 'M' : this.local(target.name);
    this.emit(segs.length === 0 ? `${name} = ${value};` : `${name} = setPath(${name}, ${this.constant(segs)}, ${value});`);
  }

  private assign(e: Extract<Expr, { kind: 'assign' }>, discarded: boolean): string {
    const merged = this.rootMerge(e, discarded);
    if (merged !== undefined) return merged;
    const t = this.temp();
    if (e.errTarget) {
      const fallback = defaultFor(this.checked.infos.get(e.value)?.type ?? 0);
      const fallbackText = Array.isArray(fallback) ? '[]' : typeof fallback === 'object' && fallback !== null ? '{}' : this.literal(fallback);
      const v = this.orError(e.value, 'capture');
      const message = this.temp();
      this.emit(`if (${v} instanceof VrlError) {`);
      this.emit(`${message} = ${v}.message;`);
      this.emit(`${t} = ${fallbackText};`);
      this.write(e.target, t);
      this.write(e.errTarget, message);
      this.emit('} else {');
      this.emit(`${t} = ${v};`);
      this.write(e.target, t);
      this.write(e.errTarget, 'null');
      this.emit('}');
      return t;
    }
    if (e.op === '??=') {
      const v = this.orError(e.value, 'discard');
      this.emit(`if (${v} instanceof VrlError) ${t} = null; else {`);
      this.emit(`${t} = ${v};`);
      this.write(e.target, t);
      this.emit('}');
      return t;
    }
    if (e.op === '|=') {
      const base = e.target.kind === 'event' ? 'R' : e.target.kind === 'meta' ? 'M' : this.local(e.target.name);
      const current = this.temp();
      this.readPath(current, base, e.target.segments);
      const add = this.expr(e.value);
      this.emit(`${t} = mergeAssigned(${current} ?? null, ${add});`);
      this.write(e.target, t);
      return t;
    }
    const v = this.expr(e.value);
    this.emit(`${t} = ${v};`);
    this.write(e.target, t);
    return t;
  }

  /** `. = merge(., x)` and `. |= x`: merged into the root in place when nothing else holds it (see the closure compiler's). */
  private rootMerge(e: Extract<Expr, { kind: 'assign' }>, discarded: boolean): string | undefined {
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
    const add = this.expr(from);
    this.emit(`R = mergeIntoRoot(R, ${add}, O, U, ${JSON.stringify(`"merge" at ${position(this.source, e.value.span)}`)}); W = true;`);
    if (discarded) return 'null';
    const t = this.temp();
    this.emit(`${t} = share(R); W = false;`);
    return t;
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>): string {
    const t = this.temp();
    if (e.op === '??') return this.coalesce(e, 'throw', t);
    if (e.op === '||') {
      this.emit(`${t} = ${this.expr(e.left)};`);
      this.emit(`if (${t} === null || ${t} === false) {`);
      this.emit(`${t} = ${this.expr(e.right)};`);
      this.emit('}');
      return t;
    }
    if (e.op === '&&') {
      this.emit(`if (andLeft(${this.expr(e.left)})) {`);
      this.emit(`${t} = andRight(${this.expr(e.right)});`);
      this.emit(`} else ${t} = false;`);
      return t;
    }
    const rightLiteral = this.checked.infos.get(e.right)?.literal;
    if (e.op === '/' && rightLiteral && typeof rightLiteral.value === 'number' && rightLiteral.value !== 0) {
      const l = this.expr(e.left);
      const d = this.literal(rightLiteral.value);
      this.emit(`${t} = typeof ${l} === "number" ? ${l} / ${d} : divideByLiteral(${l}, ${d});`);
      return t;
    }
    const l = this.expr(e.left);
    const r = this.expr(e.right);
    switch (e.op) {
      case '==':
      case '!=': {
        // Against a string or boolean literal VRL's equality is JS identity.
        const leftLiteral = this.checked.infos.get(e.left)?.literal;
        const strict = [leftLiteral, rightLiteral].some((lit) => lit !== undefined && (typeof lit.value === 'string' || typeof lit.value === 'boolean'));
        if (strict) this.emit(`${t} = ${l} ${e.op === '==' ? '===' : '!=='} ${r};`);
        else this.emit(`${t} = ${e.op === '==' ? '' : '!'}valueEquals(${l}, ${r});`);
        return t;
      }
      case '<':
      case '<=':
      case '>':
      case '>=':
        this.emit(`${t} = compare(${l}, ${r}, ${JSON.stringify(e.op)});`);
        return t;
      case '+':
        this.emit(`${t} = add(${l}, ${r});`);
        return t;
      case '-':
        this.emit(`${t} = subtract(${l}, ${r});`);
        return t;
      case '*':
        this.emit(`${t} = multiply(${l}, ${r});`);
        return t;
      case '/':
        this.emit(`${t} = divide(${l}, ${r});`);
        return t;
      case '%':
        this.emit(`${t} = remainder(${l}, ${r});`);
        return t;
      case '|':
        this.emit(`${t} = mergeObjects(${l}, ${r});`);
        return t;
      default:
        throw new Unsupported(`operator ${e.op}`);
    }
  }

  /** `a ?? b`: b runs when a fails; `mode` is how b's own error is wanted. */
  private coalesce(e: Extract<Expr, { kind: 'binary' }>, mode: Mode, t = this.temp()): string {
    const left = this.orError(e.left, 'discard');
    this.emit(`if (${left} instanceof VrlError) {`);
    const rightFails = this.checked.infos.get(e.right)?.failure !== undefined;
    this.emit(`${t} = ${mode !== 'throw' && rightFails ? this.orError(e.right, mode) : this.expr(e.right)};`);
    this.emit(`} else ${t} = ${left};`);
    return t;
  }

  /** A fallible expression whose error is wanted as a value (the left of `??`, the right of `, err =` and `??=`). */
  private orError(e: Expr, mode: Mode): string {
    if (e.kind === 'call' && !e.bang && !this.checked.infos.get(e)?.literal) return this.call(e, mode);
    // `a ?? b ?? c` handled as a whole: b's error is the value too, for the outer `??` (no try).
    if (e.kind === 'binary' && e.op === '??' && !this.checked.infos.get(e)?.literal) return this.coalesce(e, mode);
    const t = this.temp();
    this.emit('try {');
    this.emit(`${t} = ${this.expr(e)};`);
    this.emit(`} catch (e_) { if (!(e_ instanceof VrlError)) throw e_; ${t} = e_; }`);
    return t;
  }

  private call(e: Extract<Expr, { kind: 'call' }>, mode: Mode): string {
    if (e.closure) throw new Unsupported('closure');
    const plan = this.checked.calls.get(e) as CallPlan;
    if (e.name === 'del' || e.name === 'exists' || e.name === 'unnest') return this.pathCall(e, plan);
    const t = this.temp();
    const kind = ASSERTIONS[e.name];
    if (kind !== undefined && plan.args.length === 1 && plan.args[0]) {
      const v = this.expr(plan.args[0]);
      if (!plan.fallible) return v; // the checker proved the kind
      if (mode === 'discard' && !e.bang) {
        // `string(.level) ?? "info"`: a failure is a branch to a shared error nobody reads.
        const fast = kind === T.bytes ? `typeof ${v} === "string" || ` : kind === T.object ? `isObject(${v}) || ` : '';
        this.emit(`${t} = ${fast}(kindOf(${v}) & ${JSON.stringify(kind)}) !== 0 ? ${v} : DISCARDED;`);
        return t;
      }
      return this.invoke(e, plan, [v], mode, t);
    }
    if ((e.name === 'downcase' || e.name === 'upcase') && !plan.fallible && plan.runtimeChecks.every((c) => c === undefined) && plan.args[0]) {
      const v = this.expr(plan.args[0]);
      this.emit(`${t} = String(${v}).${e.name === 'downcase' ? 'toLowerCase' : 'toUpperCase'}();`);
      return t;
    }
    const args = plan.args.map((a) => (a ? this.expr(a) : 'undefined'));
    return this.invoke(e, plan, args, mode, t);
  }

  /** A call through the function's implementation, with an argument array per call site (filled, called, emptied). */
  private invoke(e: Extract<Expr, { kind: 'call' }>, plan: CallPlan, args: string[], mode: Mode, t: string): string {
    const impl = plan.def.compile ? plan.def.compile(plan.infos) : plan.def.call!;
    const values = this.constant(new Array<unknown>(args.length).fill(undefined));
    args.forEach((arg, i) => {
      // A number-only parameter of a function written for JS numbers gets an i64 beyond 2^53 as the nearest double.
      const param = plan.def.params[i];
      const literal = plan.infos[i]?.literal === true && typeof plan.infos[i]?.value !== 'bigint';
      const toNumber = param && !literal && !plan.def.bigints && (param.type & ~NUMBER) === 0 && ((plan.infos[i]?.type ?? 0) & T.integer) !== 0;
      this.emit(`${values}[${i}] = ${toNumber ? `typeof ${arg} === "bigint" ? Number(${arg}) : ${arg}` : arg};`);
    });
    const checks = plan.runtimeChecks;
    const guard = checks.some((c) => c !== undefined) ? `if (!argumentsMatch(${values}, ${this.constant(checks)})) ${t} = argumentError(${values}, ${this.constant(checks)}); else ` : '';
    this.emit(`${guard}try { ${t} = ${this.constant(impl)}(${values}, f.ctx); } catch (e_) { if (!(e_ instanceof VrlError)) throw e_; ${t} = e_; }`);
    if (args.length > 0) this.emit(args.map((_, i) => `${values}[${i}] = undefined;`).join(' '));
    if (mode === 'discard' && !e.bang) return t;
    const where = JSON.stringify(`"${e.name}" at ${position(this.source, e.span)}`);
    const onError = e.bang ? `throw new Termination("error", ${t}.message);` : mode === 'throw' ? `throw ${t};` : '';
    this.emit(`if (${t} instanceof VrlError) { ${t}.where ??= ${where}; ${onError} }`);
    return t;
  }

  /** `del`, `exists` (`unnest` is left to the closure compiler): they take a path, not a value. */
  private pathCall(e: Extract<Expr, { kind: 'call' }>, plan: CallPlan): string {
    const arg = plan.args[0];
    if (e.name === 'unnest' || !arg || arg.kind !== 'query' || arg.base.kind === 'expr') throw new Unsupported(e.name);
    const segs = arg.segments;
    const base = arg.base.kind === 'event' ? 'R' : arg.base.kind === 'meta' ? 'M' : this.local(arg.base.name);
    const t = this.temp();
    if (e.name === 'exists') {
      this.emit(`${t} = pathExists(${base}, ${this.constant(segs)}, ${arg.base.kind === 'var'});`);
      return t;
    }
    if (segs.length === 0) {
      this.emit(`${t} = ${base} ?? null;`);
      this.emit(`${base} = ${arg.base.kind === 'var' ? 'null' : '{}'};`);
      if (base === 'R') this.emit('W = false;');
      return t;
    }
    const first = segs[0];
    if (base === 'R' && segs.length === 1 && typeof first === 'string') {
      // A root field: one copy of the root without it, which the run owns after (W). The original
      // is left as it is (the undo log restores it on failure), so only its values become shared.
      const key = JSON.stringify(first);
      this.emit(`if (isObject(R) && Object.hasOwn(R, ${key})) { ${t} = R === O || Object.isFrozen(R) ? share(R[${key}]) : R[${key}]; R = withoutField(R, ${key}, W && R !== O); W = true; if (${t} === undefined) ${t} = null; } else ${t} = null;`);
      return t;
    }
    if (arg.base.kind === 'event') this.emit('if (R === O) share(R);');
    this.emit(`${t} = deletePath(${base}, ${this.constant(segs)});`);
    this.emit(`${base} = ${t}[0];`);
    this.emit(`${t} = ${t}[1];`);
    if (base === 'R') this.emit('W = false;');
    return t;
  }
}
