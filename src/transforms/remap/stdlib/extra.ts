import { createHash, createHmac } from 'node:crypto';
import { hostname } from 'node:os';
import { defineFunctions } from '../function.js';
import { T, I64_MAX, I64_MIN, normInt } from '../value.js';
import { fail, optBool } from './util.js';

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Integer text in a base, with 0b/0o/0x prefixes when no base is given (VRL's parse_int). */
function parseInt(text: string, base: number | undefined): number | bigint {
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  let b = base;
  if (b === undefined) {
    b = 10;
    const prefix = s.slice(0, 2).toLowerCase();
    if (prefix === '0b') (b = 2), (s = s.slice(2));
    else if (prefix === '0o') (b = 8), (s = s.slice(2));
    else if (prefix === '0x') (b = 16), (s = s.slice(2));
  }
  if (b < 2 || b > 36) fail('invalid base: must be between 2 and 36 (inclusive)');
  if (s === '' || s.length > 64) fail(`could not parse integer: ${JSON.stringify(text)}`);
  let n = 0n;
  const big = BigInt(b);
  for (const c of s.toLowerCase()) {
    const d = DIGITS.indexOf(c);
    if (d < 0 || d >= b) fail(`could not parse integer: ${JSON.stringify(text)}`);
    n = n * big + BigInt(d);
  }
  if (negative) n = -n;
  if (n > I64_MAX || n < I64_MIN) fail(`integer out of range: ${text}`);
  return normInt(n, false);
}

/** One CSV record (RFC 4180 quoting). */
function parseCsv(text: string, delimiter: string): string[] {
  const fields: string[] = [];
  let i = 0;
  const line = text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) fail('unterminated quoted field');
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== delimiter) fail('invalid csv: data after a closing quote');
    } else {
      const end = line.indexOf(delimiter, i);
      field = line.slice(i, end < 0 ? line.length : end);
      i = end < 0 ? line.length : end;
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i += delimiter.length;
  }
}

const SHA3: Record<string, string> = { 'SHA3-224': 'sha3-224', 'SHA3-256': 'sha3-256', 'SHA3-384': 'sha3-384', 'SHA3-512': 'sha3-512' };
const HMAC: Record<string, string> = { SHA1: 'sha1', 'SHA-224': 'sha224', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

defineFunctions([
  {
    name: 'parse_int',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'base', type: T.integer }],
    returns: T.integer,
    fallible: true,
    call: ([v, base]) => parseInt(String(v), base as number | undefined),
  },
  {
    name: 'parse_float',
    params: [{ name: 'value', type: T.bytes, required: true }],
    returns: T.float,
    fallible: true,
    call: ([v]) => {
      const s = String(v).trim();
      const n = s === '' || [...s].some((c) => !'0123456789+-.eE'.includes(c)) ? NaN : Number(s);
      return Number.isNaN(n) ? fail(`could not parse float: ${JSON.stringify(v)}`) : n;
    },
  },
  {
    name: 'parse_csv',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'delimiter', type: T.bytes }],
    returns: T.array,
    fallible: true,
    call: ([v, d]) => {
      const delimiter = d === undefined ? ',' : String(d);
      if (delimiter.length !== 1) fail('delimiter must be a single character');
      return parseCsv(String(v), delimiter);
    },
  },
  { name: 'get_hostname', params: [], returns: T.bytes, fallible: true, call: () => hostname() },
  {
    name: 'contains_all',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'substrings', type: T.array, required: true }, { name: 'case_sensitive', type: T.boolean }],
    returns: T.boolean,
    fallible: true,
    call: ([v, subs, cs]) => {
      const sensitive = optBool(cs, true);
      const text = sensitive ? String(v) : String(v).toLowerCase();
      return (subs as unknown[]).every((s) => {
        if (typeof s !== 'string') fail('substrings must be strings');
        return text.includes(sensitive ? s : s.toLowerCase());
      });
    },
  },
  { name: 'pop', params: [{ name: 'value', type: T.array, required: true }], returns: T.array, call: ([v]) => (v as unknown[]).slice(0, -1) },
  { name: 'encode_percent', params: [{ name: 'value', type: T.bytes, required: true }, { name: 'ascii_set', type: T.bytes }], returns: T.bytes, call: ([v]) => encodeURIComponent(String(v)) },
  {
    name: 'decode_percent',
    params: [{ name: 'value', type: T.bytes, required: true }],
    returns: T.bytes,
    call: ([v]) => {
      try {
        return decodeURIComponent(String(v));
      } catch {
        return unescape(String(v));
      }
    },
  },
  {
    name: 'sha3',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'variant', type: T.bytes }],
    returns: T.bytes,
    check: (args) => (args[1]?.literal && SHA3[String(args[1].value)] === undefined ? `unknown sha3 variant (one of ${Object.keys(SHA3).join(', ')})` : undefined),
    call: ([v, variant]) => createHash(SHA3[variant === undefined ? 'SHA3-512' : String(variant)] ?? 'sha3-512').update(String(v)).digest('hex'),
  },
  {
    name: 'hmac',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'key', type: T.bytes, required: true }, { name: 'algorithm', type: T.bytes }],
    returns: T.bytes,
    check: (args) => (args[2]?.literal && HMAC[String(args[2].value)] === undefined ? `unknown hmac algorithm (one of ${Object.keys(HMAC).join(', ')})` : undefined),
    // VRL returns the raw digest bytes; strings here are text, so this is base64 of them (encode_base64(hmac(...)) in VRL).
    call: ([v, key, algorithm]) => createHmac(HMAC[algorithm === undefined ? 'SHA-256' : String(algorithm)] ?? 'sha256', String(key)).update(String(v)).digest('base64'),
  },
]);
