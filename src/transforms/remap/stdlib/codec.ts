import { createHash, randomUUID } from 'node:crypto';
import { defineFunctions } from '../function.js';
import { ANY, isObject, kindOf, T, toJson, type Obj, jsonText } from '../value.js';
import { fail, optBool } from './util.js';

/** Quoted when empty or holding whitespace, a quote, a backslash, `=` or a delimiter; inside, only `"` and `\` are escaped (what parse_key_value reads). */
function quoteIfNeeded(s: string, kvDelim = '=', fieldDelim = ' '): string {
  const quote = s === '' || [...s].some((c) => c === '"' || c === '=' || c === '\\' || c.trim() === '') || s.includes(kvDelim) || s.includes(fieldDelim);
  return quote ? `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"` : s;
}

function flattenForKv(value: Obj, prefix = '', out: [string, unknown][] = []): [string, unknown][] {
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const key = prefix ? `${prefix}.${k}` : k;
    if (isObject(v)) flattenForKv(v, key, out);
    else if (Array.isArray(v)) v.forEach((x, i) => (isObject(x) ? flattenForKv(x, `${key}[${i}]`, out) : out.push([`${key}[${i}]`, x])));
    else out.push([key, v]);
  }
  return out;
}

function encodeKeyValue(value: Obj, ordering: unknown, kvDelim: string, fieldDelim: string, flagBools: boolean): string {
  const pairs = flattenForKv(value);
  const order = Array.isArray(ordering) ? (ordering as unknown[]).map(String) : [];
  const first = order.map((k) => pairs.find(([p]) => p === k)).filter((p): p is [string, unknown] => p !== undefined);
  const rest = pairs.filter(([k]) => !order.includes(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [...first, ...rest]
    .filter(([, v]) => !(flagBools && v === false))
    .map(([k, v]) => (flagBools && v === true ? quoteIfNeeded(k, kvDelim, fieldDelim) : `${quoteIfNeeded(k, kvDelim, fieldDelim)}${kvDelim}${quoteIfNeeded(kindOf(v) === T.bytes ? String(v) : v === null ? '' : JSON.stringify(toJson(v)), kvDelim, fieldDelim)}`))
    .join(fieldDelim);
}

function base64Charset(charset: unknown): 'base64' | 'base64url' {
  if (charset === undefined || charset === 'standard') return 'base64';
  if (charset === 'url_safe') return 'base64url';
  return fail(`unknown charset ${JSON.stringify(charset)} (standard or url_safe)`);
}

const SHA2: Record<string, string> = { 'SHA-224': 'sha224', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512', 'SHA-512/224': 'sha512-224', 'SHA-512/256': 'sha512-256' };

defineFunctions([
  {
    name: 'encode_json',
    params: [{ name: 'value', type: ANY, required: true }, { name: 'pretty', type: T.boolean }],
    returns: T.bytes,
    call: ([v, pretty]) => jsonText(v, optBool(pretty, false) ? '  ' : ''),
  },
  {
    name: 'encode_logfmt',
    params: [{ name: 'value', type: T.object, required: true }, { name: 'fields_ordering', type: T.array }],
    returns: T.bytes,
    fallible: true,
    call: ([v, ordering]) => encodeKeyValue(v as Obj, ordering, '=', ' ', false),
  },
  {
    name: 'encode_key_value',
    params: [
      { name: 'value', type: T.object, required: true },
      { name: 'fields_ordering', type: T.array },
      { name: 'key_value_delimiter', type: T.bytes },
      { name: 'field_delimiter', type: T.bytes },
      { name: 'flatten_boolean', type: T.boolean },
    ],
    returns: T.bytes,
    fallible: true,
    call: ([v, ordering, kv, fd, flag]) => encodeKeyValue(v as Obj, ordering, kv === undefined ? '=' : String(kv), fd === undefined ? ' ' : String(fd), optBool(flag, false)),
  },
  {
    name: 'encode_base64',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'padding', type: T.boolean }, { name: 'charset', type: T.bytes }],
    returns: T.bytes,
    fallible: (args) => args[2] !== undefined && !args[2].literal,
    check: (args) => (args[2]?.literal && args[2].value !== 'standard' && args[2].value !== 'url_safe' ? 'charset must be "standard" or "url_safe"' : undefined),
    call: ([v, padding, charset]) => {
      const cs = base64Charset(charset);
      let out = Buffer.from(String(v), 'utf8').toString('base64');
      if (cs === 'base64url') out = out.replaceAll('+', '-').replaceAll('/', '_');
      if (!optBool(padding, true)) while (out.endsWith('=')) out = out.slice(0, -1);
      return out;
    },
  },
  {
    name: 'decode_base64',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'charset', type: T.bytes }],
    returns: T.bytes,
    fallible: true,
    call: ([v, charset]) => {
      const cs = base64Charset(charset);
      const s = String(v);
      const alphabet = cs === 'base64' ? 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/' : 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      let body = s;
      while (body.endsWith('=')) body = body.slice(0, -1);
      if (body.length % 4 === 1 || [...body].some((c) => !alphabet.includes(c))) fail('unable to decode value from base64');
      return Buffer.from(body, cs).toString('utf8');
    },
  },
  { name: 'md5', params: [{ name: 'value', type: T.bytes, required: true }], returns: T.bytes, call: ([v]) => createHash('md5').update(String(v)).digest('hex') },
  { name: 'sha1', params: [{ name: 'value', type: T.bytes, required: true }], returns: T.bytes, call: ([v]) => createHash('sha1').update(String(v)).digest('hex') },
  {
    name: 'sha2',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'variant', type: T.bytes }],
    returns: T.bytes,
    check: (args) => (args[1]?.literal && SHA2[String(args[1].value)] === undefined ? `unknown sha2 variant ${JSON.stringify(args[1].value)} (one of ${Object.keys(SHA2).join(', ')})` : undefined),
    call: ([v, variant]) => createHash(SHA2[variant === undefined ? 'SHA-512/256' : String(variant)] ?? 'sha512-256').update(String(v)).digest('hex'),
  },
  { name: 'uuid_v4', params: [], returns: T.bytes, call: () => randomUUID() },
  {
    name: 'to_syslog_level',
    params: [{ name: 'value', type: T.integer, required: true }],
    returns: T.bytes,
    fallible: true,
    call: ([v]) => ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'][v as number] ?? fail(`invalid syslog severity ${String(v)}`),
  },
]);
