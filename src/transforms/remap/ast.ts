import type { Span } from './diagnostic.js';

export type Segment = string | number;

export type Expr =
  | { kind: 'literal'; span: Span; value: unknown; float?: boolean }
  | { kind: 'timestamp'; span: Span; text: string }
  | { kind: 'regex'; span: Span; source: string; flags: string }
  | { kind: 'array'; span: Span; items: Expr[] }
  | { kind: 'object'; span: Span; entries: [string, Expr][] }
  /** `.a.b` on the event (`base` undefined), on a variable, or on any expression. */
  | { kind: 'query'; span: Span; base: QueryBase; segments: Segment[] }
  | { kind: 'assign'; span: Span; op: '=' | '|=' | '??='; target: Target; errTarget?: Target; value: Expr }
  | { kind: 'if'; span: Span; cond: Expr; then: Block; else?: Block | Expr }
  | { kind: 'block'; span: Span; body: Expr[] }
  | { kind: 'call'; span: Span; name: string; nameSpan: Span; bang: boolean; args: Arg[]; closure?: Closure }
  | { kind: 'unary'; span: Span; op: '!' | '-'; expr: Expr }
  | { kind: 'binary'; span: Span; op: string; opSpan: Span; left: Expr; right: Expr }
  | { kind: 'abort'; span: Span; message?: Expr }
  /** `"4 red {{ thing }}s"`: literal text and variables that hold strings. */
  | { kind: 'template'; span: Span; parts: (string | { name: string; span: Span })[] }
  /** `return expr`: ends the program (or a closure's invocation) with the value; changes made so far stay. */
  | { kind: 'return'; span: Span; value: Expr }
  /** `.a.(b | c).d`: a path with coalesced segments (the first field that exists); read only. */
  | { kind: 'coalesced'; span: Span; base: QueryBase; steps: CoalesceStep[] };

/** A run of plain segments, or a coalesced group `(b | c)` picking the first field present. */
export type CoalesceStep = { kind: 'path'; segments: Segment[] } | { kind: 'first'; fields: string[] };

/** `.x` reads the event, `%x` its metadata (per event, never shipped). */
export type QueryBase = { kind: 'event' } | { kind: 'meta' } | { kind: 'var'; name: string } | { kind: 'expr'; expr: Expr };
export type Block = Extract<Expr, { kind: 'block' }>;
export type Target = { kind: 'event'; segments: Segment[]; span: Span } | { kind: 'meta'; segments: Segment[]; span: Span } | { kind: 'var'; name: string; segments: Segment[]; span: Span };

/** `-> |key, value| { ... }` after an iterating function's arguments. */
export interface Closure {
  params: { name: string; span: Span }[];
  body: Block;
  span: Span;
}

export interface Arg {
  name?: string;
  expr: Expr;
  span: Span;
}
