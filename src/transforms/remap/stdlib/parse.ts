import { ownField } from '../../../core/no-proto-accessor.js';
import { defineFunctions } from '../function.js';
import { isBigInteger, parseI64, T, VrlRegex, type Obj } from '../value.js';
import { fail, failed, optBool } from './util.js';

const JSON_TYPES = T.bytes | T.integer | T.float | T.boolean | T.null | T.object | T.array;

function depthLimit(value: unknown, max: number, depth = 1): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= max) return JSON.stringify(value);
  if (Array.isArray(value)) return value.map((v) => depthLimit(v, max, depth + 1));
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) out[k] = depthLimit(v, max, depth + 1);
  return out;
}

export function regexCaptures(re: VrlRegex, m: ReturnType<VrlRegex['re']['matcher']>, numeric: boolean): Obj {
  const out: Obj = {};
  if (numeric) for (let g = 0; g <= m.groupCount(); g++) out[String(g)] = m.group(g);
  for (const name of Object.keys(re.re.namedGroups())) out[name] = m.group(name);
  return out;
}

/** key=value pairs; values may be "quoted" (with \" escapes); a bare key is `true` when allowed. */
export function parseKeyValue(text: string, kvDelim: string, fieldDelim: string, standalone: boolean, strict: boolean): Obj {
  if (kvDelim === '' || fieldDelim === '') fail('key_value_delimiter and field_delimiter must not be empty'); // (an empty one never advances)
  const out: Obj = {};
  const add = (k: string, v: unknown) => {
    if (k === '') return;
    const existing = ownField(out, k);
    if (existing === undefined) out[k] = v;
    else if (Array.isArray(existing)) existing.push(v);
    else out[k] = [existing, v];
  };
  let i = 0;
  const n = text.length;
  const readToken = (stop: string[]): string => {
    if (text[i] === '"') {
      i++;
      let s = '';
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < n) {
          s += text[i + 1];
          i += 2;
        } else s += text[i++];
      }
      i++;
      return s;
    }
    const start = i;
    while (i < n && !stop.some((d) => text.startsWith(d, i))) i++;
    return text.slice(start, i);
  };
  while (i < n) {
    while (i < n && text.startsWith(fieldDelim, i)) i += fieldDelim.length;
    if (fieldDelim !== ' ') while (i < n && text[i] === ' ') i++;
    if (i >= n) break;
    const keyQuoted = text[i] === '"'; // a quoted key or value keeps its spaces
    const key = keyQuoted ? readToken([kvDelim, fieldDelim]) : readToken([kvDelim, fieldDelim]).trim();
    if (text.startsWith(kvDelim, i)) {
      i += kvDelim.length;
      const valueQuoted = text[i] === '"';
      const value = readToken([fieldDelim]);
      add(key, fieldDelim === ' ' || valueQuoted ? value : value.trim());
    } else if (standalone) add(key, true);
    else if (strict) fail(`could not parse "${key}" as a key-value pair`);
  }
  return out;
}

function parseQuery(text: string): Obj {
  const out: Obj = {};
  const q = text.startsWith('?') ? text.slice(1) : text;
  if (q === '') return out;
  for (const part of q.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s.replaceAll('+', ' '));
      } catch {
        return s;
      }
    };
    const k = decode(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : decode(part.slice(eq + 1));
    const existing = ownField(out, k);
    if (existing === undefined) out[k] = v;
    else if (Array.isArray(existing)) existing.push(v);
    else out[k] = [existing, v];
  }
  return out;
}

/**
 * Rules out non-JSON text cheaply, without paying for a SyntaxError (its stack trace cost ~10 µs a
 * line: log lines that start with a timestamp or a word are most of a node's lines). The first and
 * last non-blank characters must fit (`{...}`, `[...]`, `"..."`), a number must be one, and
 * `true`/`false`/`null` must be exactly that. What passes is parsed by JSON.parse, which decides.
 */
export function mayBeJson(text: string): boolean {
  let i = 0;
  let end = text.length - 1;
  let c = text.charCodeAt(0);
  while (c === 32 || c === 9 || c === 10 || c === 13) c = text.charCodeAt(++i);
  let last = text.charCodeAt(end);
  while (end > i && (last === 32 || last === 9 || last === 10 || last === 13)) last = text.charCodeAt(--end);
  switch (c) {
    case 123: // {
      return last === 125;
    case 91: // [
      return last === 93;
    case 34: // "
      return last === 34 && end > i;
    case 116:
    case 102:
    case 110: {
      const word = text.slice(i, end + 1);
      return word === 'true' || word === 'false' || word === 'null';
    }
    default:
      if (c === 45 || (c >= 48 && c <= 57)) return isJsonNumber(text, i, end + 1);
      return false;
  }
}

/** JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? over text[start, end). */
function isJsonNumber(text: string, start: number, end: number): boolean {
  let i = start;
  if (text.charCodeAt(i) === 45) i++;
  if (!isDigit(text, i)) return false;
  if (text.charCodeAt(i) === 48) i++;
  else while (i < end && isDigit(text, i)) i++;
  if (i < end && text.charCodeAt(i) === 46) {
    i++;
    if (!isDigit(text, i)) return false;
    while (i < end && isDigit(text, i)) i++;
  }
  if (i < end && (text.charCodeAt(i) === 101 || text.charCodeAt(i) === 69)) {
    i++;
    if (text.charCodeAt(i) === 43 || text.charCodeAt(i) === 45) i++;
    if (!isDigit(text, i)) return false;
    while (i < end && isDigit(text, i)) i++;
  }
  return i === end;
}

function isDigit(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/**
 * An integer beyond 2^53 has 16 digits or more in a row; JSON.parse also rounds `1e20` to an
 * integer, which VRL reads as a float: the walk finds a candidate, this confirms it. Walk first:
 * over a parsed line it costs a tenth of this scan of the text (0.04 against 0.43 µs measured on
 * W1's JSON lines). A fixed pattern with a bounded repeat: linear in the text.
 */
const LONG_DIGIT_RUN = /\d{16}/;

/** Whether JSON.parse rounded an integer (an i64 beyond 2^53): then `parseJsonExact` reads it again. */
function hasBigInteger(value: unknown, depth = 0): boolean {
  if (typeof value === 'number') return isBigInteger(value);
  if (value === null || typeof value !== 'object' || depth > 64) return false;
  if (Array.isArray(value)) return value.some((v) => hasBigInteger(v, depth + 1));
  for (const k in value as Obj) if (hasBigInteger((value as Obj)[k], depth + 1)) return true;
  return false;
}

/**
 * JSON already known to be valid, read again with integers as i64 (BigInt beyond 2^53; beyond
 * i64 a float, as VRL). Strings go through JSON.parse; nesting deeper than 256 keeps the rounded value.
 */
function parseJsonExact(text: string, fallback: unknown): unknown {
  let i = 0;
  const ws = () => {
    for (let c = text.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13; c = text.charCodeAt(++i));
  };
  const TOO_DEEP = {};
  const value = (depth: number): unknown => {
    if (depth > 256) throw TOO_DEEP;
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Obj = {};
      ws();
      if (text[i] === '}') return i++, out;
      for (;;) {
        ws();
        const key = string();
        ws();
        i++; // :
        out[key] = value(depth + 1);
        ws();
        if (text[i++] === '}') return out;
      }
    }
    if (c === '[') {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === ']') return i++, out;
      for (;;) {
        out.push(value(depth + 1));
        ws();
        if (text[i++] === ']') return out;
      }
    }
    if (c === '"') return string();
    if (text.startsWith('true', i)) return (i += 4), true;
    if (text.startsWith('false', i)) return (i += 5), false;
    if (text.startsWith('null', i)) return (i += 4), null;
    const start = i;
    let integral = true;
    for (; i < text.length; i++) {
      const d = text[i]!;
      if (d === '.' || d === 'e' || d === 'E') integral = false;
      else if (!(d === '-' || d === '+' || (d >= '0' && d <= '9'))) break;
    }
    const lexeme = text.slice(start, i);
    const n = Number(lexeme);
    return integral && !Number.isSafeInteger(n) ? (parseI64(lexeme) ?? n) : n;
  };
  const string = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  try {
    return value(0);
  } catch (error) {
    if (error === TOO_DEEP) return fallback;
    throw error;
  }
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'ws:': 80, 'wss:': 443, 'ftp:': 21 };

defineFunctions([
  {
    name: 'parse_json',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'max_depth', type: T.integer }, { name: 'lossy', type: T.boolean }],
    returns: JSON_TYPES,
    fallible: true,
    call: ([v, maxDepth]) => {
      const text = String(v);
      if (!mayBeJson(text)) return failed('unable to parse json: expected a JSON value');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        return failed(`unable to parse json: ${(error as Error).message}`);
      }
      if (hasBigInteger(parsed) && LONG_DIGIT_RUN.test(text)) parsed = parseJsonExact(text, parsed);
      return typeof maxDepth === 'number' ? depthLimit(parsed, Math.max(1, Math.min(128, maxDepth))) : parsed;
    },
  },
  {
    name: 'parse_regex',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'pattern', type: T.regex, required: true }, { name: 'numeric_groups', type: T.boolean }],
    returns: T.object,
    fallible: true,
    call: ([v, re, numeric]) => {
      const m = (re as VrlRegex).re.matcher(String(v));
      if (!m.find()) return failed('could not find any pattern matches');
      return regexCaptures(re as VrlRegex, m, optBool(numeric, false));
    },
  },
  {
    name: 'parse_regex_all',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'pattern', type: T.regex, required: true }, { name: 'numeric_groups', type: T.boolean }],
    returns: T.array,
    fallible: true,
    call: ([v, re, numeric]) => {
      const text = String(v);
      const m = (re as VrlRegex).re.matcher(text);
      const out: Obj[] = [];
      let pos = 0;
      while (pos <= text.length && m.find(pos)) {
        out.push(regexCaptures(re as VrlRegex, m, optBool(numeric, false)));
        pos = m.end() > m.start() ? m.end() : m.end() + 1;
      }
      return out;
    },
  },
  {
    name: 'parse_key_value',
    params: [
      { name: 'value', type: T.bytes, required: true },
      { name: 'key_value_delimiter', type: T.bytes },
      { name: 'field_delimiter', type: T.bytes },
      { name: 'whitespace', type: T.bytes },
      { name: 'accept_standalone_key', type: T.boolean },
    ],
    returns: T.object,
    fallible: true,
    call: ([v, kv, fd, , standalone]) => parseKeyValue(String(v), kv === undefined ? '=' : String(kv), fd === undefined ? ' ' : String(fd), optBool(standalone, true), true),
  },
  {
    name: 'parse_logfmt',
    params: [{ name: 'value', type: T.bytes, required: true }],
    returns: T.object,
    fallible: true,
    call: ([v]) => parseKeyValue(String(v), '=', ' ', true, true),
  },
  {
    name: 'parse_query_string',
    params: [{ name: 'value', type: T.bytes, required: true }],
    returns: T.object,
    call: ([v]) => parseQuery(String(v)),
  },
  {
    name: 'parse_url',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'default_known_ports', type: T.boolean }],
    returns: T.object,
    fallible: true,
    call: ([v, knownPorts]) => {
      let url: URL;
      try {
        url = new URL(String(v));
      } catch {
        return fail(`unable to parse url: ${JSON.stringify(v)}`);
      }
      const port = url.port !== '' ? Number(url.port) : optBool(knownPorts, false) ? (DEFAULT_PORTS[url.protocol] ?? null) : null;
      return {
        scheme: url.protocol.endsWith(':') ? url.protocol.slice(0, -1) : url.protocol,
        username: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        host: url.hostname.startsWith('[') && url.hostname.endsWith(']') ? url.hostname.slice(1, -1) : url.hostname,
        port,
        path: url.pathname,
        query: parseQuery(url.search),
        fragment: url.hash ? url.hash.slice(1) : null,
      };
    },
  },
]);

