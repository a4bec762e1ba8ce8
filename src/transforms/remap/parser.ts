import type { Arg, Block, Closure, CoalesceStep, Expr, QueryBase, Segment, Target } from './ast.js';
import { syntaxError, type Span } from './diagnostic.js';
import { tokenize, type Token } from './lexer.js';
import { normInt } from './value.js';

const KEYWORDS = new Set(['if', 'else', 'abort', 'true', 'false', 'null', 'return', 'for', 'while', 'loop', 'break', 'continue', 'let', 'in']);

/**
 * Binary operators, loosest first, as VRL's grammar: `??` (error coalescing), `||` and `&&`
 * (one level, left to right), `== !=`, `< <= > >=`, `|` (object merge), `+ -`, `* / %`, then
 * unary `!` and `-`.
 */
const LEVELS: string[][] = [['??'], ['||', '&&'], ['==', '!='], ['<', '<=', '>', '>='], ['|'], ['+', '-'], ['*', '/', '%']];

export function parseProgram(source: string): Expr[] {
  return new Parser(tokenize(source)).program();
}

class Parser {
  private pos = 0;
  /** Depth of (), [] and call arguments: newlines are insignificant inside them. */
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }
  private next(): Token {
    return this.tokens[this.pos++]!;
  }
  private isPunct(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'punct' && t.text === text;
  }
  private isIdent(text: string): boolean {
    const t = this.peek();
    return t.kind === 'ident' && t.text === text;
  }
  private expectPunct(text: string): Token {
    if (!this.isPunct(text)) throw syntaxError(this.peek().span, `expected "${text}", found ${describe(this.peek())}`);
    return this.next();
  }
  private skipNewlines(): void {
    while (this.peek().kind === 'newline') this.pos++;
  }

  program(): Expr[] {
    const body = this.statements('eof');
    return body;
  }

  /** Statements separated by newlines or `;`, up to `end` (`eof` or `}`). */
  private statements(end: 'eof' | '}'): Expr[] {
    const body: Expr[] = [];
    for (;;) {
      while (this.peek().kind === 'newline' || this.isPunct(';')) this.pos++;
      if (end === 'eof' ? this.peek().kind === 'eof' : this.isPunct('}')) return body;
      body.push(this.statement());
      const t = this.peek();
      if (t.kind === 'newline' || this.isPunct(';')) continue;
      if (end === 'eof' ? t.kind === 'eof' : this.isPunct('}')) return body;
      throw syntaxError(t.span, `unexpected ${describe(t)}`, ['statements are separated by a newline or ";"']);
    }
  }

  private statement(): Expr {
    const start = this.peek().span.start;
    const first = this.binary(0);
    if (this.isPunct(',') && assignable(first)) {
      this.next();
      const second = this.binary(0);
      if (!assignable(second)) throw syntaxError(second.span, 'expected a variable or path to receive the error');
      const op = this.peek();
      if (!(op.kind === 'punct' && op.text === '=')) throw syntaxError(op.span, 'expected "=" after "value, err"');
      this.next();
      this.skipNewlines();
      const value = this.expression();
      return { kind: 'assign', op: '=', target: toTarget(first), errTarget: toTarget(second), value, span: { start, end: value.span.end } };
    }
    return this.assignmentRest(first, start);
  }

  private expression(): Expr {
    const start = this.peek().span.start;
    return this.assignmentRest(this.binary(0), start);
  }

  private assignmentRest(lhs: Expr, start: number): Expr {
    const op = this.peek();
    if (op.kind === 'punct' && (op.text === '=' || op.text === '|=' || op.text === '??=')) {
      if (lhs.kind === 'coalesced') throw syntaxError(lhs.span, 'a coalesced path can be read, not assigned to', ['assign to the field itself: .a.b = value']);
      if (!assignable(lhs)) throw syntaxError(lhs.span, 'only a path (.field) or a variable can be assigned to');
      this.next();
      this.skipNewlines();
      const value = this.expression();
      return { kind: 'assign', op: op.text, target: toTarget(lhs), value, span: { start, end: value.span.end } };
    }
    return lhs;
  }

  private binary(level: number): Expr {
    if (level >= LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'punct' || !LEVELS[level]!.includes(t.text)) return left;
      this.next();
      this.skipNewlines();
      const right = this.binary(level + 1);
      left = { kind: 'binary', op: t.text, opSpan: t.span, left, right, span: { start: left.span.start, end: right.span.end } };
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind === 'punct' && (t.text === '!' || t.text === '-')) {
      this.next();
      const expr = this.unary();
      if (t.text === '-' && expr.kind === 'literal' && typeof expr.value === 'number') {
        return { kind: 'literal', value: -expr.value, float: expr.float, span: { start: t.span.start, end: expr.span.end } };
      }
      if (t.text === '-' && expr.kind === 'literal' && typeof expr.value === 'bigint') {
        return { kind: 'literal', value: normInt(-expr.value), span: { start: t.span.start, end: expr.span.end } };
      }
      return { kind: 'unary', op: t.text, expr, span: { start: t.span.start, end: expr.span.end } };
    }
    return this.postfix(this.primary());
  }

  /** `expr.field`, `expr[0]` written without spaces. */
  private postfix(expr: Expr): Expr {
    for (;;) {
      const t = this.peek();
      if (t.spaced) return expr;
      if (!(t.kind === 'punct' && (t.text === '.' || t.text === '['))) return expr;
      if (t.text === '.' && this.isCoalesceStart()) return this.coalesced(expr.kind === 'query' ? expr.base : { kind: 'expr', expr }, expr.kind === 'query' ? expr.segments : [], expr.span.start);
      if (t.text === '.' && this.peek(1).kind !== 'field') return expr;
      const segments = this.segments();
      if (expr.kind === 'query') {
        expr = { ...expr, segments: [...expr.segments, ...segments], span: { start: expr.span.start, end: this.peek(-1).span.end } };
      } else {
        expr = { kind: 'query', base: { kind: 'expr', expr }, segments, span: { start: expr.span.start, end: this.peek(-1).span.end } };
      }
    }
  }

  /** Path segments: `.name`, `."quoted"`, `[3]`, `[-1]`, adjacent to what precedes. */
  private segments(): Segment[] {
    const segments: Segment[] = [];
    for (;;) {
      const t = this.peek();
      if (t.spaced) return segments;
      if (t.kind === 'punct' && t.text === '.' && this.peek(1).kind === 'field' && !this.peek(1).spaced) {
        this.next();
        segments.push(String(this.next().value));
      } else if (t.kind === 'punct' && t.text === '[') {
        this.next();
        let sign = 1;
        if (this.isPunct('-')) {
          this.next();
          sign = -1;
        }
        const index = this.next();
        if (index.kind !== 'int') throw syntaxError(index.span, 'expected an integer index', ['an index is a literal integer: .list[0], .list[-1]']);
        segments.push(sign * Number(index.value));
        this.expectPunct(']');
      } else return segments;
    }
  }

  private primary(): Expr {
    const t = this.peek();
    const span = t.span;
    switch (t.kind) {
      case 'int':
      case 'float':
        this.next();
        return { kind: 'literal', value: t.value, float: t.kind === 'float', span };
      case 'string':
        this.next();
        return { kind: 'literal', value: t.value, span };
      case 'template': {
        this.next();
        const parts = (JSON.parse(String(t.value)) as (string | { name: string; start: number; end: number })[]).map((p) =>
          typeof p === 'string' ? p : { name: p.name, span: { start: p.start, end: p.end } },
        );
        return { kind: 'template', parts, span };
      }
      case 'regex':
        this.next();
        return { kind: 'regex', source: String(t.value), flags: t.text, span };
      case 'timestamp':
        this.next();
        return { kind: 'timestamp', text: String(t.value), span };
      case 'ident':
        return this.identifier();
      case 'punct':
        break;
      default:
        throw syntaxError(span, `unexpected ${describe(t)}`, ['expected an expression']);
    }
    switch (t.text) {
      case '%':
        return this.rootPath({ kind: 'meta' }, span.start);
      case '.':
        return this.rootPath({ kind: 'event' }, span.start);
      case '(': {
        this.next();
        this.skipNewlines();
        const inner = this.expression();
        this.skipNewlines();
        const close = this.expectPunct(')');
        // The group's span covers its parentheses (carets under `(a + b)`).
        return { ...inner, span: { start: span.start, end: close.span.end } } as Expr;
      }
      case '[': {
        this.next();
        const items: Expr[] = [];
        this.skipNewlines();
        while (!this.isPunct(']')) {
          items.push(this.expression());
          this.skipNewlines();
          if (!this.isPunct(']')) this.expectPunct(',');
          this.skipNewlines();
        }
        const end = this.next().span.end;
        return { kind: 'array', items, span: { start: span.start, end } };
      }
      case '{':
        return this.isObjectLiteral() ? this.object() : this.block();
      default:
        throw syntaxError(span, `unexpected ${describe(t)}`, ['expected an expression']);
    }
  }

  /** After `.` (the event) or `%` (its metadata): the root alone, or `.field...` / `.[0]...`. */
  private rootPath(base: { kind: 'event' } | { kind: 'meta' }, start: number): Expr {
    this.next();
    const next = this.peek();
    const segments: Segment[] = [];
    if (!next.spaced && next.kind === 'field') {
      segments.push(String(this.next().value));
      segments.push(...this.segments());
    } else if (!next.spaced && next.kind === 'punct' && next.text === '[') {
      segments.push(...this.segments());
    } else if (!next.spaced && next.kind === 'punct' && next.text === '(') {
      return this.coalesced(base, [], start, true);
    }
    if (this.isCoalesceStart()) return this.coalesced(base, segments, start);
    return { kind: 'query', base, segments, span: { start, end: this.peek(-1).span.end } };
  }

  /** `.(` right after a path: a coalesced group follows. */
  private isCoalesceStart(): boolean {
    const dot = this.peek();
    const open = this.peek(1);
    return dot.kind === 'punct' && dot.text === '.' && !dot.spaced && open.kind === 'punct' && open.text === '(' && !open.spaced;
  }

  /**
   * `.a.(b | "c d").e`: groups of alternative fields, each the first that exists in the object
   * (VRL before 0.16 removed the syntax; programs written for it still run here). `atGroup`: the
   * root's `.` is already consumed and `(` comes next.
   */
  private coalesced(base: QueryBase, prefix: Segment[], start: number, atGroup = false): Expr {
    const steps: CoalesceStep[] = prefix.length > 0 ? [{ kind: 'path', segments: prefix }] : [];
    for (;;) {
      if (!atGroup) this.next(); // the `.`
      atGroup = false;
      this.expectPunct('(');
      const fields: string[] = [];
      for (;;) {
        const t = this.next();
        if (t.kind !== 'ident' && t.kind !== 'string') throw syntaxError(t.span, 'expected a field name', ['a coalesced path lists fields: .(a | b)']);
        fields.push(t.kind === 'string' ? String(t.value) : t.text);
        if (this.isPunct(')')) break;
        this.expectPunct('|');
      }
      this.next();
      steps.push({ kind: 'first', fields });
      const more = this.segments();
      if (more.length > 0) steps.push({ kind: 'path', segments: more });
      if (!this.isCoalesceStart()) break;
    }
    return { kind: 'coalesced', base, steps, span: { start, end: this.peek(-1).span.end } };
  }

  private isObjectLiteral(): boolean {
    let i = 1;
    while (this.peek(i).kind === 'newline') i++;
    const t = this.peek(i);
    if (t.kind === 'punct' && t.text === '}') return true;
    return t.kind === 'string' && this.peek(i + 1).kind === 'punct' && this.peek(i + 1).text === ':';
  }

  private object(): Expr {
    const start = this.expectPunct('{').span.start;
    const entries: [string, Expr][] = [];
    this.skipNewlines();
    while (!this.isPunct('}')) {
      const key = this.next();
      if (key.kind !== 'string') throw syntaxError(key.span, 'expected a quoted key', ['object keys are strings: { "key": value }']);
      this.expectPunct(':');
      this.skipNewlines();
      entries.push([String(key.value), this.expression()]);
      this.skipNewlines();
      if (!this.isPunct('}')) this.expectPunct(',');
      this.skipNewlines();
    }
    const end = this.next().span.end;
    return { kind: 'object', entries, span: { start, end } };
  }

  private block(): Block {
    const start = this.expectPunct('{').span.start;
    const body = this.statements('}');
    const end = this.expectPunct('}').span.end;
    return { kind: 'block', body, span: { start, end } };
  }

  private identifier(): Expr {
    const t = this.next();
    const name = t.text;
    const span = t.span;
    if (name === 'true' || name === 'false') return { kind: 'literal', value: name === 'true', span };
    if (name === 'null') return { kind: 'literal', value: null, span };
    if (name === 'if') return this.ifRest(span);
    if (name === 'abort') {
      const next = this.peek();
      const ends = next.kind === 'newline' || next.kind === 'eof' || (next.kind === 'punct' && (next.text === ';' || next.text === '}'));
      if (ends) return { kind: 'abort', span };
      const message = this.expression();
      return { kind: 'abort', message, span: { start: span.start, end: message.span.end } };
    }
    if (name === 'return') {
      const next = this.peek();
      if (next.kind === 'newline' || next.kind === 'eof' || (next.kind === 'punct' && (next.text === ';' || next.text === '}'))) {
        throw syntaxError(span, '"return" needs a value', ['return the event as it is now with `return .`']);
      }
      const value = this.expression();
      return { kind: 'return', value, span: { start: span.start, end: value.span.end } };
    }
    // A call: `name(` or `name!(`, with no space before the parenthesis.
    let bang = false;
    if (this.isPunct('!') && !this.peek().spaced && this.isPunct('(', 1) && !this.peek(1).spaced) {
      this.next();
      bang = true;
    }
    if (this.isPunct('(') && !this.peek().spaced) return this.callRest(name, span, bang);
    if (KEYWORDS.has(name)) throw syntaxError(span, `"${name}" is a reserved word`);
    const segments = this.segments();
    if (this.isCoalesceStart()) return this.coalesced({ kind: 'var', name }, segments, span.start);
    if (segments.length === 0) return { kind: 'query', base: { kind: 'var', name }, segments, span };
    return { kind: 'query', base: { kind: 'var', name }, segments, span: { start: span.start, end: this.peek(-1).span.end } };
  }

  private callRest(name: string, nameSpan: Span, bang: boolean): Expr {
    this.expectPunct('(');
    const args: Arg[] = [];
    this.skipNewlines();
    while (!this.isPunct(')')) {
      const start = this.peek().span.start;
      let argName: string | undefined;
      if (this.peek().kind === 'ident' && this.isPunct(':', 1)) {
        argName = this.next().text;
        this.next();
        this.skipNewlines();
      }
      const expr = this.expression();
      args.push({ name: argName, expr, span: { start, end: expr.span.end } });
      this.skipNewlines();
      if (!this.isPunct(')')) this.expectPunct(',');
      this.skipNewlines();
    }
    let end = this.next().span.end;
    let closure: Closure | undefined;
    if (this.isPunct('->')) {
      const arrow = this.next();
      const params: Closure['params'] = [];
      if (this.isPunct('||')) this.next();
      else {
        this.expectPunct('|');
        while (!this.isPunct('|')) {
          const p = this.next();
          if (p.kind !== 'ident') throw syntaxError(p.span, 'expected a closure variable name');
          params.push({ name: p.text, span: p.span });
          if (!this.isPunct('|')) this.expectPunct(',');
        }
        this.next();
      }
      this.skipNewlines();
      const body = this.block();
      end = body.span.end;
      closure = { params, body, span: { start: arrow.span.start, end } };
    }
    return { kind: 'call', name, nameSpan, bang, args, closure, span: { start: nameSpan.start, end } };
  }

  private ifRest(ifSpan: Span): Expr {
    const cond = this.binary(0);
    const then = this.block();
    let elseBranch: Block | Expr | undefined;
    // `else` may follow on the same line as `}` only (VRL), but tolerate newlines before it.
    let look = 0;
    while (this.peek(look).kind === 'newline') look++;
    const maybeElse = this.peek(look);
    if (maybeElse.kind === 'ident' && maybeElse.text === 'else') {
      this.pos += look + 1;
      if (this.isIdent('if')) {
        const t = this.next();
        elseBranch = this.ifRest(t.span);
      } else elseBranch = this.block();
    }
    const end = (elseBranch ?? then).span.end;
    return { kind: 'if', cond, then, else: elseBranch, span: { start: ifSpan.start, end } };
  }
}

function assignable(expr: Expr): boolean {
  return expr.kind === 'query' && expr.base.kind !== 'expr';
}

function toTarget(expr: Expr): Target {
  if (expr.kind !== 'query' || expr.base.kind === 'expr') throw syntaxError(expr.span, 'not assignable');
  if (expr.base.kind === 'event') return { kind: 'event', segments: expr.segments, span: expr.span };
  if (expr.base.kind === 'meta') return { kind: 'meta', segments: expr.segments, span: expr.span };
  return { kind: 'var', name: expr.base.name, segments: expr.segments, span: expr.span };
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of program';
  if (t.kind === 'newline') return 'end of line';
  return `"${t.text}"`;
}
