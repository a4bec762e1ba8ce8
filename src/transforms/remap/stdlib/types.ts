import { defineFunctions, type FunctionDef } from '../function.js';
import { ANY, kindOf, NUMBER, T, typeName, VrlRegex, type TypeSet, parseI64 } from '../value.js';
import { fail, failed, fallibleIfMay, scalarToString } from './util.js';

const SCALAR = T.bytes | T.integer | T.float | T.boolean | T.null | T.timestamp;

function assertion(name: string, kind: TypeSet): FunctionDef {
  // One message per kind met: `string(.msg) ?? ...` fails on most lines, and `??` never reads it.
  const messages = new Map<TypeSet, string>();
  const mismatch = (got: TypeSet): string => {
    let message = messages.get(got);
    if (message === undefined) messages.set(got, (message = `expected ${typeName(kind)}, got ${typeName(got)}`));
    return message;
  };
  return {
    name,
    params: [{ name: 'value', type: ANY, required: true }],
    returns: kind,
    fallible: (args) => ((args[0]?.type ?? ANY) & ~kind) !== 0,
    call: ([v]) => {
      const got = kindOf(v);
      return (got & kind) !== 0 ? v : failed(mismatch(got));
    },
  };
}

function is(name: string, test: (v: unknown) => boolean): FunctionDef {
  return { name, params: [{ name: 'value', type: ANY, required: true }], returns: T.boolean, call: ([v]) => test(v) };
}

const TRUE_WORDS = new Set(['true', 't', 'yes', 'y', '1', 'on']);
const FALSE_WORDS = new Set(['false', 'f', 'no', 'n', '0', 'off']);

function toBool(v: unknown): boolean {
  switch (kindOf(v)) {
    case T.boolean:
      return v as boolean;
    case T.integer:
    case T.float:
      return v !== 0;
    case T.null:
      return false;
    case T.bytes: {
      const s = String(v).toLowerCase();
      if (TRUE_WORDS.has(s)) return true;
      if (FALSE_WORDS.has(s)) return false;
      return fail(`invalid boolean value: ${JSON.stringify(v)}`);
    }
    default:
      return fail(`unable to coerce ${typeName(kindOf(v))} into boolean`);
  }
}

/** Checked by hand: JS RegExp never runs on event content (core/regex.ts). */
function isIntText(s: string): boolean {
  let i = s[0] === '+' || s[0] === '-' ? 1 : 0;
  if (i >= s.length) return false;
  for (; i < s.length; i++) if (s.charCodeAt(i) < 48 || s.charCodeAt(i) > 57) return false;
  return true;
}

function isFloatText(s: string): boolean {
  const word = (s[0] === '+' || s[0] === '-' ? s.slice(1) : s).toLowerCase();
  if (word === 'inf' || word === 'infinity' || word === 'nan') return true;
  if (s.length === 0) return false;
  for (const c of s) if (!'0123456789+-.eE'.includes(c)) return false;
  return !Number.isNaN(Number(s));
}

function toInt(v: unknown): number | bigint {
  switch (kindOf(v)) {
    case T.integer:
      return v as number;
    case T.float:
      return Math.trunc(v as number);
    case T.boolean:
      return v ? 1 : 0;
    case T.null:
      return 0;
    case T.timestamp:
      return Math.floor((v as Date).getTime() / 1000);
    case T.bytes: {
      const s = String(v);
      // A short anchored pattern on a bounded character class: no backtracking blow-up possible.
      if (s.length > 32 || !isIntText(s)) return fail(`invalid integer ${JSON.stringify(s)}`);
      const n = Number(s);
      if (Number.isSafeInteger(n)) return n;
      return parseI64(s) ?? fail(`integer out of range: ${s}`);
    }
    default:
      return fail(`unable to coerce ${typeName(kindOf(v))} into integer`);
  }
}

function toFloat(v: unknown): number {
  switch (kindOf(v)) {
    case T.integer:
    case T.float:
      return Number(v);
    case T.boolean:
      return v ? 1 : 0;
    case T.null:
      return 0;
    case T.timestamp:
      return (v as Date).getTime() / 1000;
    case T.bytes: {
      const s = String(v).trim();
      if (s.length > 64 || !isFloatText(s)) return fail(`invalid floating point number ${JSON.stringify(String(v))}`);
      const lower = s.toLowerCase();
      if (lower.endsWith('inf') || lower.endsWith('infinity')) return s.startsWith('-') ? -Infinity : Infinity;
      return Number(s);
    }
    default:
      return fail(`unable to coerce ${typeName(kindOf(v))} into float`);
  }
}

defineFunctions([
  assertion('string', T.bytes),
  assertion('int', T.integer),
  assertion('float', T.float),
  assertion('bool', T.boolean),
  assertion('object', T.object),
  assertion('array', T.array),
  assertion('timestamp', T.timestamp),
  is('is_string', (v) => kindOf(v) === T.bytes),
  is('is_integer', (v) => kindOf(v) === T.integer),
  is('is_float', (v) => kindOf(v) === T.float),
  is('is_boolean', (v) => kindOf(v) === T.boolean),
  is('is_null', (v) => kindOf(v) === T.null),
  is('is_object', (v) => kindOf(v) === T.object),
  is('is_array', (v) => kindOf(v) === T.array),
  is('is_timestamp', (v) => kindOf(v) === T.timestamp),
  is('is_regex', (v) => v instanceof VrlRegex),
  is('is_nullish', (v) => v === null || v === undefined || (typeof v === 'string' && (v === '-' || v.trim() === ''))),
  {
    name: 'is_empty',
    params: [{ name: 'value', type: T.bytes | T.array | T.object, required: true }],
    returns: T.boolean,
    call: ([v]) => (typeof v === 'string' || Array.isArray(v) ? v.length === 0 : Object.keys(v as object).length === 0),
  },
  {
    name: 'is_json',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'variant', type: T.bytes }],
    returns: T.boolean,
    call: ([v, variant]) => {
      try {
        const parsed: unknown = JSON.parse(String(v));
        if (variant === undefined) return true;
        const kind = kindOf(parsed);
        const want: Record<string, TypeSet> = { object: T.object, array: T.array, string: T.bytes, number: NUMBER, bool: T.boolean, null: T.null };
        return ((want[String(variant)] ?? 0) & kind) !== 0;
      } catch {
        return false;
      }
    },
  },
  {
    name: 'to_string',
    params: [{ name: 'value', type: ANY, required: true }],
    returns: T.bytes,
    fallible: (args) => ((args[0]?.type ?? ANY) & ~SCALAR) !== 0,
    call: ([v]) => scalarToString(v),
  },
  {
    name: 'to_int',
    params: [{ name: 'value', type: ANY, required: true }],
    returns: T.integer,
    fallible: fallibleIfMay(0, ~(T.integer | T.float | T.boolean | T.null | T.timestamp)),
    call: ([v]) => toInt(v),
  },
  {
    name: 'to_float',
    params: [{ name: 'value', type: ANY, required: true }],
    returns: T.float,
    fallible: fallibleIfMay(0, ~(T.integer | T.float | T.boolean | T.null | T.timestamp)),
    call: ([v]) => toFloat(v),
  },
  {
    name: 'to_bool',
    params: [{ name: 'value', type: ANY, required: true }],
    returns: T.boolean,
    fallible: fallibleIfMay(0, ~(T.integer | T.float | T.boolean | T.null)),
    call: ([v]) => toBool(v),
  },
  {
    name: 'type_of',
    params: [{ name: 'value', type: ANY, required: true }],
    returns: T.bytes,
    call: ([v]) => typeName(kindOf(v)),
  },
]);
