/** A source span: byte offsets into the program text. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface Diagnostic {
  readonly code: number;
  readonly title: string;
  readonly span: Span;
  /** Under the caret. */
  readonly label: string;
  /** Extra lines: how to fix it. */
  readonly notes: readonly string[];
}

export function lineColumn(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Render like VRL: title, `┌─ name:line:col`, the source line and a caret under the span. */
export function formatDiagnostic(source: string, d: Diagnostic, name = ''): string {
  const { line, column } = lineColumn(source, d.span.start);
  const lineText = source.split('\n')[line - 1] ?? '';
  const gutter = ' '.repeat(String(line).length);
  const width = Math.max(1, Math.min(d.span.end, d.span.start + lineText.length - (column - 1)) - d.span.start);
  const out = [
    `error[E${d.code}]: ${d.title}`,
    `${gutter} ┌─ ${name}:${line}:${column}`,
    `${gutter} │`,
    `${line} │ ${lineText}`,
    `${gutter} │ ${' '.repeat(column - 1)}${'^'.repeat(width)} ${d.label}`,
  ];
  if (d.notes.length > 0) out.push(`${gutter} │`, ...d.notes.map((n) => `${gutter} = ${n}`));
  return out.join('\n');
}

export class CompileError extends Error {
  constructor(
    readonly source: string,
    readonly diagnostics: readonly Diagnostic[],
    name = '',
  ) {
    super(diagnostics.map((d) => formatDiagnostic(source, d, name)).join('\n\n'));
    this.name = 'CompileError';
  }
}

/** Thrown by the lexer and parser at the first syntax error. */
export class SyntaxFailure extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.title);
  }
}

export function syntaxError(span: Span, label: string, notes: string[] = []): SyntaxFailure {
  return new SyntaxFailure({ code: 203, title: 'syntax error', span, label, notes });
}
