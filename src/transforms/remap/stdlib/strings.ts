import { defineFunctions } from '../function.js';
import { ANY, kindOf, T, VrlRegex, type Obj } from '../value.js';
import { fail, optBool, optInt } from './util.js';

const S = T.bytes;

const isWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigits = (s: string) => s.length > 0 && [...s].every((c) => c >= '0' && c <= '9');

/** Expand `$1`, `${1}`, `$name`, `${name}` and `$$` in a regex replacement (Rust regex syntax, as VRL). */
function expand(template: string, group: (ref: string) => string): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '$') {
      out += c;
      continue;
    }
    const next = template[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '{') {
      const close = template.indexOf('}', i);
      if (close < 0) {
        out += c;
        continue;
      }
      out += group(template.slice(i + 2, close));
      i = close;
    } else {
      let j = i + 1;
      while (j < template.length && isWordChar(template.charCodeAt(j))) j++;
      if (j === i + 1) out += c;
      else {
        out += group(template.slice(i + 1, j));
        i = j - 1;
      }
    }
  }
  return out;
}

export function regexReplace(value: string, re: VrlRegex, replacement: string, count: number): string {
  const m = re.re.matcher(value);
  const named = re.re.namedGroups();
  let out = '';
  let last = 0;
  let pos = 0;
  let done = 0;
  while ((count < 0 || done < count) && pos <= value.length && m.find(pos)) {
    const start = m.start();
    const end = m.end();
    out += value.slice(last, start);
    out += expand(replacement, (ref) => (isDigits(ref) ? m.group(Number(ref)) : named[ref] !== undefined ? m.group(ref) : null) ?? '');
    last = end;
    done++;
    pos = end > start ? end : end + 1;
  }
  return out + value.slice(last);
}

export function regexSplit(value: string, re: VrlRegex, limit: number): string[] {
  const parts: string[] = [];
  const m = re.re.matcher(value);
  let last = 0;
  let from = 0;
  while ((limit <= 0 || parts.length < limit - 1) && from <= value.length && m.find(from)) {
    if (m.end() === m.start()) {
      if (m.start() >= value.length) break;
      if (m.start() === 0) {
        from = 1;
        continue;
      }
    }
    parts.push(value.slice(last, m.start()));
    last = m.end();
    from = m.end() > m.start() ? m.end() : m.end() + 1;
  }
  parts.push(value.slice(last));
  return parts;
}

function truncateString(s: string, limit: number, suffix: string): string {
  if (s.length <= limit) return s; // code units >= characters
  // Past `limit` characters (code points, as the string iterator counts them), without an array of them.
  let i = 0;
  for (let n = 0; n < limit && i < s.length; n++) i += isSurrogatePair(s, i) ? 2 : 1;
  return i >= s.length ? s : s.slice(0, i) + suffix;
}

function isSurrogatePair(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
}

function sliceOf<V extends string | unknown[]>(v: V, start: number, end: number | undefined): V {
  const len = typeof v === 'string' ? [...v].length : v.length;
  const s = start < 0 ? Math.max(0, len + start) : start;
  const e = end === undefined ? len : end < 0 ? len + end : end;
  if (s > len || e < s || e > len) fail(`"start" must be between 0 and ${len} and "end" between "start" and ${len}`);
  if (typeof v === 'string') return [...v].slice(s, e).join('') as V;
  return v.slice(s, e) as V;
}

// ESC [ ... final byte, and OSC sequences; matched by hand (content never meets JS RegExp).
function stripAnsi(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x1b || c === 0x9b) {
      let j = c === 0x9b ? i + 1 : i + 1;
      const kind = c === 0x9b ? '[' : s[j];
      if (c === 0x1b) j++;
      if (kind === '[') {
        while (j < s.length && !(s.charCodeAt(j) >= 0x40 && s.charCodeAt(j) <= 0x7e)) j++;
        i = j;
        continue;
      }
      if (kind === ']') {
        while (j < s.length && s.charCodeAt(j) !== 7 && !(s[j] === '\x1b' && s[j + 1] === '\\')) j++;
        i = s.charCodeAt(j) === 7 ? j : j + 1;
        continue;
      }
      i = j - 1;
      continue;
    }
    out += s[i];
  }
  return out;
}

const SSN = new VrlRegex('\\b\\d{3}-\\d{2}-\\d{4}\\b');

defineFunctions([
  { name: 'upcase', params: [{ name: 'value', type: S, required: true }], returns: S, call: ([v]) => String(v).toUpperCase() },
  { name: 'downcase', params: [{ name: 'value', type: S, required: true }], returns: S, call: ([v]) => String(v).toLowerCase() },
  {
    name: 'contains',
    params: [{ name: 'value', type: S, required: true }, { name: 'substring', type: S, required: true }, { name: 'case_sensitive', type: T.boolean }],
    returns: T.boolean,
    call: ([v, sub, cs]) => (optBool(cs, true) ? String(v).includes(String(sub)) : String(v).toLowerCase().includes(String(sub).toLowerCase())),
  },
  {
    name: 'starts_with',
    params: [{ name: 'value', type: S, required: true }, { name: 'substring', type: S, required: true }, { name: 'case_sensitive', type: T.boolean }],
    returns: T.boolean,
    call: ([v, sub, cs]) => (optBool(cs, true) ? String(v).startsWith(String(sub)) : String(v).toLowerCase().startsWith(String(sub).toLowerCase())),
  },
  {
    name: 'ends_with',
    params: [{ name: 'value', type: S, required: true }, { name: 'substring', type: S, required: true }, { name: 'case_sensitive', type: T.boolean }],
    returns: T.boolean,
    call: ([v, sub, cs]) => (optBool(cs, true) ? String(v).endsWith(String(sub)) : String(v).toLowerCase().endsWith(String(sub).toLowerCase())),
  },
  {
    name: 'replace',
    params: [
      { name: 'value', type: S, required: true },
      { name: 'pattern', type: S | T.regex, required: true },
      { name: 'with', type: S, required: true },
      { name: 'count', type: T.integer },
    ],
    returns: S,
    call: ([v, pattern, replacement, count]) => {
      const n = optInt(count, -1);
      if (pattern instanceof VrlRegex) return regexReplace(String(v), pattern, String(replacement), n);
      if (n < 0) return String(v).split(String(pattern)).join(String(replacement));
      let out = String(v);
      let from = 0;
      for (let i = 0; i < n; i++) {
        const at = out.indexOf(String(pattern), from);
        if (at < 0) break;
        out = out.slice(0, at) + String(replacement) + out.slice(at + String(pattern).length);
        from = at + String(replacement).length;
      }
      return out;
    },
  },
  {
    name: 'split',
    params: [{ name: 'value', type: S, required: true }, { name: 'pattern', type: S | T.regex, required: true }, { name: 'limit', type: T.integer }],
    returns: T.array,
    call: ([v, pattern, limit]) => {
      const n = optInt(limit, 0);
      if (pattern instanceof VrlRegex) return regexSplit(String(v), pattern, n);
      const parts = String(v).split(String(pattern));
      if (n > 0 && parts.length > n) return [...parts.slice(0, n - 1), parts.slice(n - 1).join(String(pattern))];
      return parts;
    },
  },
  {
    name: 'join',
    params: [{ name: 'value', type: T.array, required: true }, { name: 'separator', type: S }],
    returns: S,
    fallible: true,
    call: ([v, sep]) => {
      const items = v as unknown[];
      for (const item of items) if (typeof item !== 'string') fail('all array items must be strings');
      return items.join(sep === undefined ? '' : String(sep));
    },
  },
  { name: 'strip_whitespace', params: [{ name: 'value', type: S, required: true }], returns: S, call: ([v]) => String(v).trim() },
  {
    name: 'truncate',
    params: [{ name: 'value', type: S, required: true }, { name: 'limit', type: T.integer | T.float, required: true }, { name: 'ellipsis', type: T.boolean }, { name: 'suffix', type: S }],
    returns: S,
    call: ([v, limit, ellipsis, suffix]) => truncateString(String(v), Math.max(0, Math.floor(limit as number)), suffix !== undefined ? String(suffix) : ellipsis === true ? '...' : ''),
  },
  {
    name: 'slice',
    params: [{ name: 'value', type: S | T.array, required: true }, { name: 'start', type: T.integer, required: true }, { name: 'end', type: T.integer }],
    returns: (args) => (args[0]?.type ?? S | T.array) & (S | T.array),
    fallible: true,
    call: ([v, start, end]) => sliceOf(v as string | unknown[], start as number, end as number | undefined),
  },
  {
    name: 'length',
    params: [{ name: 'value', type: S | T.array | T.object, required: true }],
    returns: T.integer,
    call: ([v]) => (typeof v === 'string' ? Buffer.byteLength(v) : Array.isArray(v) ? v.length : Object.keys(v as Obj).length),
  },
  { name: 'strlen', params: [{ name: 'value', type: S, required: true }], returns: T.integer, call: ([v]) => [...String(v)].length },
  { name: 'strip_ansi_escape_codes', params: [{ name: 'value', type: S, required: true }], returns: S, call: ([v]) => stripAnsi(String(v)) },
  {
    name: 'match',
    params: [{ name: 'value', type: S, required: true }, { name: 'pattern', type: T.regex, required: true }],
    returns: T.boolean,
    call: ([v, re]) => (re as VrlRegex).test(String(v)),
  },
  {
    name: 'match_any',
    params: [{ name: 'value', type: S, required: true }, { name: 'patterns', type: T.array, required: true }],
    returns: T.boolean,
    check: (args) => (args[1]?.literal && !(args[1].value as unknown[]).every((p) => p instanceof VrlRegex) ? 'match_any takes an array of regular expressions' : undefined),
    call: ([v, patterns]) => (patterns as unknown[]).some((re) => re instanceof VrlRegex && re.test(String(v))),
  },
  {
    name: 'redact',
    params: [{ name: 'value', type: S | T.object | T.array, required: true }, { name: 'filters', type: T.array, required: true }, { name: 'redactor', type: S | T.object }],
    returns: (args) => args[0]?.type ?? ANY,
    call: ([v, filters, redactor]) => {
      const text = typeof redactor === 'string' ? redactor : '[REDACTED]';
      const res = (filters as unknown[]).map((f) => (f instanceof VrlRegex ? f : f === 'us_social_security_number' || (kindOf(f) === T.object && (f as Obj).type === 'us_social_security_number') ? SSN : f && kindOf(f) === T.object && (f as Obj).type === 'pattern' ? null : null)).filter((r): r is VrlRegex => r !== null);
      const redactValue = (x: unknown): unknown => {
        if (typeof x === 'string') return res.reduce((s, re) => regexReplace(s, re, text.replaceAll('$', '$$'), -1), x);
        if (Array.isArray(x)) return x.map(redactValue);
        if (kindOf(x) === T.object) return Object.fromEntries(Object.entries(x as Obj).map(([k, y]) => [k, redactValue(y)]));
        return x;
      };
      return redactValue(v);
    },
  },
]);
