// VRL's operators on values, shared by the closure compiler and the generated code (codegen.ts):
// each throws a VrlError where VRL's operator fails at run time.
import { compareTimestamps, copyContainer, isObject, kindOf, normInt, share, typeName, VrlError, type Obj } from './value.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export const isNumeric = (v: unknown): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';

/**
 * `+ - * %` past 2^53 or on a BigInt: two integers compute in BigInt, wrapping at 64 bits as VRL
 * (Rust's wrapping_add ...); with a float the float result (`asFloat`) stands.
 */
export function intArithmetic(a: number | bigint, b: number | bigint, asFloat: number, op: '+' | '-' | '*' | '%'): number | bigint {
  const integral = (v: number | bigint) => typeof v === 'bigint' || Number.isSafeInteger(v);
  if (!integral(a) || !integral(b)) return asFloat;
  const x = BigInt(a);
  const y = BigInt(b);
  return normInt(op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : x % y);
}

export function add(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    return sum > MAX_SAFE || sum < -MAX_SAFE ? intArithmetic(a, b, sum, '+') : sum;
  }
  if (typeof a === 'string' && (typeof b === 'string' || b === null)) return b === null ? a : a + b;
  if (a === null && typeof b === 'string') return b;
  if (isNumeric(a) && isNumeric(b)) return intArithmetic(a, b, Number(a) + Number(b), '+');
  throw new VrlError(`can't add type ${typeName(kindOf(b))} to ${typeName(kindOf(a))}`);
}

export function subtract(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') {
    const difference = a - b;
    return difference > MAX_SAFE || difference < -MAX_SAFE ? intArithmetic(a, b, difference, '-') : difference;
  }
  if (isNumeric(a) && isNumeric(b)) return intArithmetic(a, b, Number(a) - Number(b), '-');
  throw new VrlError(`can't subtract type ${typeName(kindOf(b))} from ${typeName(kindOf(a))}`);
}

export function multiply(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') {
    const product = a * b;
    return product > MAX_SAFE || product < -MAX_SAFE ? intArithmetic(a, b, product, '*') : product;
  }
  if (isNumeric(a) && isNumeric(b)) return intArithmetic(a, b, Number(a) * Number(b), '*');
  if (typeof a === 'string' && Number.isInteger(b)) return a.repeat(Math.max(0, Math.min(b as number, 1_000_000)));
  if (Number.isInteger(a) && typeof b === 'string') return b.repeat(Math.max(0, Math.min(a as number, 1_000_000)));
  throw new VrlError(`can't multiply type ${typeName(kindOf(a))} by ${typeName(kindOf(b))}`);
}

export function divide(a: unknown, b: unknown): number {
  if (!isNumeric(a) || !isNumeric(b)) throw new VrlError(`can't divide type ${typeName(kindOf(a))} and ${typeName(kindOf(b))}`);
  if (Number(b) === 0) throw new VrlError("can't divide by zero");
  return Number(a) / Number(b);
}

/** `a / d` where `d` is a non-zero number literal. */
export function divideByLiteral(a: unknown, d: number): number {
  if (typeof a === 'number') return a / d;
  if (typeof a === 'bigint') return Number(a) / d;
  throw new VrlError(`can't divide type ${typeName(kindOf(a))}`);
}

export function remainder(a: unknown, b: unknown): unknown {
  if (!isNumeric(a) || !isNumeric(b)) throw new VrlError(`can't calculate remainder of type ${typeName(kindOf(a))} and ${typeName(kindOf(b))}`);
  if (b == 0) throw new VrlError("can't calculate remainder of division by zero");
  if (typeof a === 'number' && typeof b === 'number') return a % b;
  return intArithmetic(a, b, Number(a) % Number(b), '%');
}

/** `<`, `<=`, `>`, `>=`: numbers (a BigInt and a number compare exactly), strings, timestamps. */
export function compare(a: unknown, b: unknown, op: string): boolean {
  let c: number;
  if (isNumeric(a) && isNumeric(b)) c = a < b ? -1 : a > b ? 1 : 0;
  else if (typeof a === 'string' && typeof b === 'string') c = a < b ? -1 : a > b ? 1 : 0;
  else if (a instanceof Date && b instanceof Date) c = compareTimestamps(a, b);
  else throw new VrlError(`can't compare ${typeName(kindOf(a))} ${op} ${typeName(kindOf(b))}`);
  return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
}

/** `a | b`: a copy of `a` with `b`'s fields over it. */
export function mergeObjects(a: unknown, b: unknown): Obj {
  if (!isObject(a) || !isObject(b)) throw new VrlError(`can't merge type ${typeName(kindOf(b))} into ${typeName(kindOf(a))}`);
  const out = copyContainer(a);
  for (const k in b) out[k] = share(b[k]);
  return out;
}

/** The right side of `&&` once the left was true. */
export function andRight(b: unknown): boolean {
  if (b === null) return false;
  if (typeof b !== 'boolean') throw new VrlError(`can't apply "&&" to type ${typeName(kindOf(b))}`);
  return b;
}

/** The left side of `&&`: whether to evaluate the right one. */
export function andLeft(a: unknown): boolean {
  if (a === null || a === false) return false;
  if (a !== true) throw new VrlError(`can't apply "&&" to type ${typeName(kindOf(a))}`);
  return true;
}

export function not(v: unknown): boolean {
  if (typeof v !== 'boolean') throw new VrlError(`can't negate type ${typeName(kindOf(v))}`);
  return !v;
}

export function negate(v: unknown): unknown {
  if (typeof v === 'number') return -v;
  if (typeof v === 'bigint') return normInt(-v);
  throw new VrlError(`can't negate type ${typeName(kindOf(v))}`);
}
