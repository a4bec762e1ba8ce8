import { defineFunctions } from '../function.js';
import { ANY, NUMBER, normInt, T, valueEquals, display } from '../value.js';
import { fail, optInt } from './util.js';

const roundTo = (fn: (x: number) => number) => ([v, precision]: unknown[]) => {
  if (typeof v === 'bigint') return v; // an integer is already whole
  const n = v as number;
  const p = optInt(precision, 0);
  if (p <= 0) return fn(n);
  const f = 10 ** p;
  return fn(n * f) / f;
};

const numberReturn = (args: readonly ({ type: number } | undefined)[]) => (args[1] ? (args[0]?.type ?? NUMBER) & NUMBER || NUMBER : (args[0]?.type ?? NUMBER) === T.float ? T.integer | T.float : (args[0]?.type ?? NUMBER) & NUMBER || NUMBER);

function formatNumber(n: number, scale: unknown, decimal: unknown, grouping: unknown): string {
  const fixed = typeof scale === 'number' ? n.toFixed(scale) : String(n);
  const negative = fixed.startsWith('-');
  const [int, frac] = (negative ? fixed.slice(1) : fixed).split('.');
  let grouped = int!;
  if (typeof grouping === 'string') {
    const parts: string[] = [];
    for (let end = int!.length; end > 0; end -= 3) parts.unshift(int!.slice(Math.max(0, end - 3), end));
    grouped = parts.join(grouping);
  }
  return (negative ? '-' : '') + grouped + (frac !== undefined ? (typeof decimal === 'string' ? decimal : '.') + frac : '');
}

defineFunctions([
  { name: 'floor', params: [{ name: 'value', type: NUMBER, required: true }, { name: 'precision', type: T.integer }], returns: numberReturn, bigints: true, call: roundTo(Math.floor) },
  { name: 'ceil', params: [{ name: 'value', type: NUMBER, required: true }, { name: 'precision', type: T.integer }], returns: numberReturn, bigints: true, call: roundTo(Math.ceil) },
  // Rust rounds half away from zero; Math.round rounds half up.
  { name: 'round', params: [{ name: 'value', type: NUMBER, required: true }, { name: 'precision', type: T.integer }], returns: numberReturn, bigints: true, call: roundTo((x) => Math.sign(x) * Math.round(Math.abs(x))) },
  { name: 'abs', params: [{ name: 'value', type: NUMBER, required: true }], returns: (args) => (args[0]?.type ?? NUMBER) & NUMBER, bigints: true, call: ([v]) => (typeof v === 'bigint' ? normInt(v < 0n ? -v : v) : Math.abs(v as number)) },
  {
    name: 'mod',
    params: [{ name: 'value', type: NUMBER, required: true }, { name: 'modulus', type: NUMBER, required: true }],
    returns: NUMBER,
    fallible: (args) => !(args[1]?.literal && args[1].value !== 0),
    bigints: true,
    call: ([v, m]) => {
      if (m == 0) return fail("can't calculate remainder of division by zero");
      if (typeof v === 'number' && typeof m === 'number') return v % m;
      if (typeof v === 'bigint' && (typeof m === 'bigint' || Number.isSafeInteger(m))) return normInt(v % BigInt(m as number | bigint));
      if (typeof m === 'bigint' && Number.isSafeInteger(v)) return normInt(BigInt(v as number) % m);
      return Number(v) % Number(m);
    },
  },
  {
    name: 'format_int',
    params: [{ name: 'value', type: T.integer, required: true }, { name: 'base', type: T.integer }],
    returns: T.bytes,
    fallible: true,
    bigints: true,
    call: ([v, base]) => {
      const b = optInt(base, 10);
      if (b < 2 || b > 36) fail('invalid base: must be between 2 and 36 (inclusive)');
      return (v as number | bigint).toString(b);
    },
  },
  {
    name: 'format_number',
    params: [{ name: 'value', type: NUMBER, required: true }, { name: 'scale', type: T.integer }, { name: 'decimal_separator', type: T.bytes }, { name: 'grouping_separator', type: T.bytes }],
    returns: T.bytes,
    call: ([v, scale, decimal, grouping]) => formatNumber(v as number, scale, decimal, grouping),
  },
  {
    name: 'assert',
    params: [{ name: 'condition', type: T.boolean, required: true }, { name: 'message', type: T.bytes }],
    returns: T.boolean,
    fallible: true,
    call: ([c, message]) => (c === true ? true : fail(typeof message === 'string' ? message : 'assertion failed')),
  },
  {
    name: 'assert_eq',
    params: [{ name: 'left', type: ANY, required: true }, { name: 'right', type: ANY, required: true }, { name: 'message', type: T.bytes }],
    returns: T.boolean,
    fallible: true,
    call: ([l, r, message]) => (valueEquals(l, r) ? true : fail(typeof message === 'string' ? message : `assertion failed: ${display(l)} == ${display(r)}`)),
  },
]);
