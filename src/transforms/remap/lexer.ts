import { syntaxError, type Span } from './diagnostic.js';
import { parseI64 } from './value.js';

export type TokenKind =
  | 'ident' // names, keywords
  | 'int'
  | 'float'
  | 'string' // "..." (escapes processed) and s'...'
  | 'template' // "... {{ name }} ...": value is the JSON of its parts
  | 'regex' // r'...' with flags
  | 'timestamp' // t'...'
  | 'field' // a path segment after `.`: name or quoted
  | 'punct'
  | 'newline'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** The processed value of literals (string contents, numbers). */
  readonly value?: string | number | bigint;
  readonly span: Span;
  /** Whitespace came right before: `.a .b` versus `.a.b`. */
  readonly spaced: boolean;
}

const PUNCT = ['??=', '|=', '??', '==', '!=', '<=', '>=', '&&', '||', '->', '+', '-', '*', '/', '%', '<', '>', '!', '=', '|', ',', ':', ';', '(', ')', '[', ']', '{', '}', '.', '@'];

const isIdentStart = (c: string) => /[A-Za-z_]/.test(c);
const isIdentChar = (c: string) => /[A-Za-z0-9_]/.test(c);
const isFieldChar = (c: string) => /[A-Za-z0-9_@$]/.test(c);
const isDigit = (c: string) => c >= '0' && c <= '9';

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let spaced = true;
  const push = (kind: TokenKind, start: number, value?: string | number | bigint) => {
    tokens.push({ kind, text: source.slice(start, i), value, span: { start, end: i }, spaced });
    spaced = false;
  };
  while (i < source.length) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      spaced = true;
      continue;
    }
    if (c === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (c === '\n') {
      i++;
      push('newline', start);
      spaced = true;
      continue;
    }
    // A path segment right after `.` or a metadata `%`: `.foo`, `.@timestamp`, `."key with space"`, `%kubernetes`.
    const prev = tokens[tokens.length - 1];
    if (prev && prev.kind === 'punct' && (prev.text === '.' || (prev.text === '%' && prev.value === 'meta')) && prev.span.end === start) {
      if (c === '"') {
        const value = readString(source, i);
        i = value.end;
        push('field', start, value.text);
        continue;
      }
      if (isFieldChar(c)) {
        while (i < source.length && isFieldChar(source[i]!)) i++;
        push('field', start, source.slice(start, i));
        continue;
      }
    }
    if ((c === 's' || c === 'r' || c === 't') && source[i + 1] === "'") {
      i += 2;
      let text = '';
      while (i < source.length && source[i] !== "'") {
        if (source[i] === '\\' && source[i + 1] === "'") {
          text += "'";
          i += 2;
        } else text += source[i++];
      }
      if (i >= source.length) throw syntaxError({ start, end: i }, 'unterminated literal');
      i++;
      if (c === 'r') {
        let flags = '';
        while (i < source.length && /[imx]/.test(source[i]!)) flags += source[i++];
        tokens.push({ kind: 'regex', text: flags, value: text, span: { start, end: i }, spaced });
        spaced = false;
        continue;
      }
      push(c === 's' ? 'string' : 'timestamp', start, text);
      continue;
    }
    if (isIdentStart(c)) {
      while (i < source.length && isIdentChar(source[i]!)) i++;
      push('ident', start, source.slice(start, i));
      continue;
    }
    if (isDigit(c)) {
      while (i < source.length && (isDigit(source[i]!) || source[i] === '_')) i++;
      let isFloat = false;
      if (source[i] === '.' && isDigit(source[i + 1] ?? '')) {
        isFloat = true;
        i++;
        while (i < source.length && (isDigit(source[i]!) || source[i] === '_')) i++;
      }
      if ((source[i] === 'e' || source[i] === 'E') && /[0-9+-]/.test(source[i + 1] ?? '')) {
        isFloat = true;
        i += 2;
        while (i < source.length && isDigit(source[i]!)) i++;
      }
      const text = source.slice(start, i).replaceAll('_', '');
      let n: number | bigint = Number(text);
      if (!isFloat && !Number.isSafeInteger(n)) {
        // Beyond 2^53 an integer is a BigInt, exact to i64 as in VRL.
        const big = parseI64(text);
        if (big === undefined) throw syntaxError({ start, end: i }, 'integer literal out of range', ['integers are 64-bit: -9223372036854775808 to 9223372036854775807']);
        n = big;
      }
      push(isFloat ? 'float' : 'int', start, n);
      continue;
    }
    if (c === '"') {
      const value = readString(source, i);
      i = value.end;
      if (value.parts) push('template', start, JSON.stringify(value.parts));
      else push('string', start, value.text);
      continue;
    }
    // `%` where an expression starts is the metadata root (`%foo`, `%`); after a value it is the remainder.
    if (c === '%' && !endsValue(prev)) {
      i++;
      tokens.push({ kind: 'punct', text: '%', value: 'meta', span: { start, end: i }, spaced });
      spaced = false;
      continue;
    }
    const punct = PUNCT.find((p) => source.startsWith(p, i));
    if (punct) {
      i += punct.length;
      push('punct', start);
      continue;
    }
    throw syntaxError({ start, end: start + 1 }, `unexpected character ${JSON.stringify(c)}`);
  }
  const end = source.length;
  tokens.push({ kind: 'eof', text: '', span: { start: end, end }, spaced: true });
  return tokens;
}

const EXPRESSION_KEYWORDS = new Set(['if', 'else', 'abort', 'return', 'in']);

/** Whether a token ends an operand (then `%` is the remainder operator). */
function endsValue(t: Token | undefined): boolean {
  if (t === undefined || t.kind === 'newline') return false;
  if (t.kind === 'punct') return t.text === ')' || t.text === ']' || t.text === '}';
  // After `if`, `else`, `abort` ... an expression starts: `if %level == "debug" { ... }`.
  if (t.kind === 'ident') return !EXPRESSION_KEYWORDS.has(t.text);
  return true;
}

type TemplatePart = string | { name: string; start: number; end: number };

/**
 * A double-quoted string from `start` (at the quote): VRL escapes, `\u{1F600}` included. With
 * `{{ name }}` segments it is a template: `parts` holds the text and the variables (`\{{` is a literal `{{`).
 */
function readString(source: string, start: number): { text: string; end: number; parts?: TemplatePart[] } {
  let i = start + 1;
  let text = '';
  let parts: TemplatePart[] | undefined;
  while (i < source.length && source[i] !== '"') {
    const c = source[i]!;
    if (c === '{' && source[i + 1] === '{') {
      const close = source.indexOf('}}', i + 2);
      const quote = source.indexOf('"', i + 2);
      if (close < 0 || (quote >= 0 && quote < close)) throw syntaxError({ start: i, end: i + 2 }, 'unterminated template segment', ['close it with "}}", or write a literal "{{" as "\\{{"']);
      const inner = source.slice(i + 2, close);
      const name = inner.trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw syntaxError({ start: i, end: close + 2 }, 'a template segment holds a variable name', ['assign the value to a variable first: x = to_string(.field); "{{ x }}"']);
      }
      parts ??= [];
      parts.push(text);
      text = '';
      const offset = i + 2 + inner.indexOf(name);
      parts.push({ name, start: offset, end: offset + name.length });
      i = close + 2;
      continue;
    }
    if (c !== '\\') {
      text += c;
      i++;
      continue;
    }
    const e = source[i + 1];
    i += 2;
    switch (e) {
      case 'n': text += '\n'; break;
      case 't': text += '\t'; break;
      case 'r': text += '\r'; break;
      case '0': text += '\0'; break;
      case '\\': text += '\\'; break;
      case '"': text += '"'; break;
      case "'": text += "'"; break;
      case '{': text += '{'; break;
      case '}': text += '}'; break;
      case '\n':
        while (i < source.length && /\s/.test(source[i]!)) i++;
        break;
      case 'u': {
        const close = source.indexOf('}', i);
        if (source[i] !== '{' || close < 0) throw syntaxError({ start: i - 2, end: i }, 'invalid unicode escape (use \\u{1F600})');
        const code = Number.parseInt(source.slice(i + 1, close), 16);
        if (!Number.isFinite(code) || code > 0x10ffff) throw syntaxError({ start: i - 2, end: close + 1 }, 'invalid unicode escape');
        text += String.fromCodePoint(code);
        i = close + 1;
        break;
      }
      default:
        throw syntaxError({ start: i - 2, end: i }, `invalid escape character: \\${e ?? ''}`);
    }
  }
  if (i >= source.length) throw syntaxError({ start, end: source.length }, 'unterminated string literal');
  if (parts) {
    parts.push(text);
    return { text: '', end: i + 1, parts: parts.filter((p) => p !== '') };
  }
  return { text, end: i + 1 };
}
