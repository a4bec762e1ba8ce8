import '../../core/no-proto-accessor.js';
import { RE2JS } from 're2js';
import { RegexSyntaxError } from '../../core/regex.js';

/**
 * VRL values as JS values: bytes = string, integer/float = number (an integer is a number with
 * `Number.isInteger`; see the README limit: i64 beyond 2^53 and floats with an integral value such
 * as 3.0 are not told apart at run time), boolean, null, object = plain object, array, timestamp =
 * Date (millisecond precision), regex = VrlRegex. Objects and arrays have value semantics: a shared
 * one is frozen (shallow) and copied before a write (see `share` and the path setters).
 */
export const T = {
  bytes: 1,
  integer: 2,
  float: 4,
  boolean: 8,
  null: 16,
  object: 32,
  array: 64,
  timestamp: 128,
  regex: 256,
} as const;
export type TypeSet = number;
export const ANY: TypeSet = 511;
export const NEVER: TypeSet = 0;
export const NUMBER: TypeSet = T.integer | T.float;

const typeNames = new Map<TypeSet, string>();

export function typeName(type: TypeSet): string {
  let name = typeNames.get(type);
  if (name === undefined) {
    name = computeTypeName(type);
    typeNames.set(type, name);
  }
  return name;
}

function computeTypeName(type: TypeSet): string {
  if (type === ANY) return 'any';
  if (type === NEVER) return 'never';
  const names = Object.entries(T).filter(([, bit]) => (type & bit) !== 0).map(([name]) => (name === 'bytes' ? 'string' : name));
  return names.join(' or ');
}

/** The run-time kind of a value. */
export function kindOf(value: unknown): TypeSet {
  switch (typeof value) {
    case 'string':
      return T.bytes;
    case 'number':
      return Number.isInteger(value) ? T.integer : T.float;
    case 'boolean':
      return T.boolean;
    case 'bigint':
      return T.integer;
    case 'undefined':
      return T.null;
    case 'object': {
      if (value === null) return T.null;
      // Event fields are plain objects and arrays (JSON.parse, sources): tell them by prototype first.
      const proto = Object.getPrototypeOf(value);
      if (proto === Object.prototype) return T.object;
      if (proto === Array.prototype) return T.array;
      if (Array.isArray(value)) return T.array;
      if (value instanceof Date) return T.timestamp;
      if (value instanceof VrlRegex) return T.regex;
      if (Buffer.isBuffer(value)) return T.bytes;
      return T.object;
    }
    default:
      return T.null;
  }
}

// ---- timestamps: a Date (milliseconds) and the nanoseconds below the millisecond ----

/** A timestamp with nanosecond precision: a Date, plus `subMs` nanoseconds (0-999,999) past its millisecond. */
export class NanoDate extends Date {
  constructor(ms: number, readonly subMs = 0) {
    super(ms);
  }
  /** As VRL prints timestamps: RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits, as many as needed. */
  override toJSON(): string {
    return rfc3339Nanos(this);
  }
}

/** Nanoseconds past the millisecond (0 for a plain Date). */
export const subMsOf = (date: Date): number => (date instanceof NanoDate ? date.subMs : 0);

/** Nanoseconds within the second, 0-999,999,999. */
export const nanosOf = (date: Date): number => date.getUTCMilliseconds() * 1e6 + subMsOf(date);

/** A timestamp from milliseconds and the nanoseconds past them. */
export function timestampOf(ms: number, subMs = 0): Date {
  return subMs === 0 ? new Date(ms) : new NanoDate(ms, subMs);
}

/** Compare two timestamps to the nanosecond: negative, zero or positive. */
export function compareTimestamps(a: Date, b: Date): number {
  return a.getTime() - b.getTime() || subMsOf(a) - subMsOf(b);
}

/** RFC 3339 in UTC, fraction digits as chrono's AutoSi (VRL's to_string): none, 3, 6 or 9. */
export function rfc3339Nanos(date: Date): string {
  const iso = date.toISOString(); // 2021-02-11T10:32:50.553Z
  const nanos = nanosOf(date);
  if (nanos === 0) return iso.slice(0, -5) + 'Z';
  const digits = String(nanos).padStart(9, '0');
  const fraction = nanos % 1e6 === 0 ? digits.slice(0, 3) : nanos % 1e3 === 0 ? digits.slice(0, 6) : digits;
  return `${iso.slice(0, -5)}.${fraction}Z`;
}

// ---- integers: VRL's are i64. A JS number while exact (|n| <= 2^53 - 1), a BigInt beyond. ----

export const I64_MAX = 2n ** 63n - 1n;
export const I64_MIN = -(2n ** 63n);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * How many BigInts were made at run time (arithmetic past 2^53, parse_json, to_int ...): a run
 * that made none can skip looking for them in its result (see `withoutBigInts`).
 */
export const bigIntCount = { value: 0 };

/** An i64 in its canonical form: a number when exact, else a BigInt. `wrap`: as Rust's wrapping_* (VRL). */
export function normInt(n: bigint, wrap = true): number | bigint {
  const v = wrap ? BigInt.asIntN(64, n) : n;
  if (v <= SAFE_MAX && v >= -SAFE_MAX) return Number(v);
  bigIntCount.value++;
  return v;
}

/** Integer text (optional sign, digits) in i64 range: its value, or undefined. */
export function parseI64(text: string): number | bigint | undefined {
  const n = BigInt(text);
  if (n > I64_MAX || n < I64_MIN) return undefined;
  return normInt(n, false);
}

/** Whether a number is an integer too large for a double to hold exactly (an i64 beyond 2^53). */
export const isBigInteger = (n: number) => !Number.isSafeInteger(n) && Number.isInteger(n) && Math.abs(n) <= 2 ** 63;

/**
 * Event fields leave the program as JS numbers: sluice's encoders write numbers (a BigInt beyond
 * 2^53 becomes the nearest double there; inside the program, `encode_json` and `to_string` keep
 * every digit). Copies only what holds a BigInt.
 */
export function withoutBigInts(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = withoutBigInts(value[i]);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return out ?? value;
  }
  if (!isObject(value)) return value;
  let out: Obj | undefined;
  for (const k in value) {
    const v = withoutBigInts(value[k]);
    if (v !== value[k]) (out ??= { ...value })[k] = v;
  }
  return out ?? value;
}

/**
 * A recoverable error: `??` and `, err =` handle it. Not an Error subclass on purpose: capturing a
 * stack trace per failed call was most of the cost of `parse_json(.message) ?? {}` on plain lines.
 */
export class VrlError {
  /** The call site, set once where a function's error leaves the call (`"parse_json" at (4:22)`). */
  where: string | undefined = undefined;
  constructor(readonly detail: string) {}
  /** Built when read: most errors are coalesced by `??` and their text never used. */
  get message(): string {
    return this.where === undefined ? this.detail : `function call error for ${this.where}: ${this.detail}`;
  }
}

/** A terminating error: `!`, a type assertion that failed at run time, or `abort`. */
export class Termination {
  constructor(
    readonly reason: 'error' | 'abort',
    readonly message: string,
  ) {}
}

export class VrlRegex {
  readonly re: RE2JS;
  constructor(readonly source: string, flags = '') {
    let prefix = '';
    if (flags.includes('i')) prefix += 'i';
    if (flags.includes('m')) prefix += 'm';
    if (flags.includes('s')) prefix += 's';
    try {
      this.re = RE2JS.compile(prefix ? `(?${prefix})${source}` : source);
    } catch (error) {
      throw new RegexSyntaxError(source, (error as Error).message.replace(/^error parsing regexp: /, ''));
    }
  }
  test(input: string): boolean {
    return this.re.matcher(input).find();
  }
  toString(): string {
    return `r'${this.source}'`;
  }
  toJSON(): string {
    return this.source;
  }
}

export type Obj = Record<string, unknown>;

function isPlainContainer(value: unknown): value is Obj | unknown[] {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Mark a value as shared: an object or array reachable from two places must be copied before a write. */
export function share<V>(value: V): V {
  if (isPlainContainer(value) && !Object.isFrozen(value)) Object.freeze(value);
  return value;
}

/** A writable shallow copy whose children are marked shared. */
export function copyContainer<C extends Obj | unknown[]>(value: C): C {
  if (Array.isArray(value)) return value.map(share) as C;
  const out: Obj = {};
  for (const key in value) out[key] = share((value as Obj)[key]);
  return out as C;
}

export function isObject(value: unknown): value is Obj {
  if (value === null || typeof value !== 'object') return false;
  return Object.getPrototypeOf(value) === Object.prototype || kindOf(value) === T.object;
}

export function isTruthyBool(value: unknown): boolean {
  return value === true;
}

/** VRL equality: deep, ints equal floats of the same value, timestamps by instant. */
export function valueEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  // 2^60 (an i64, BigInt) equals 2^60 (a float, number), as VRL compares ints and floats.
  if (typeof a === 'bigint' || typeof b === 'bigint') return (typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint') && a == b;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof Date && b instanceof Date) return compareTimestamps(a, b) === 0;
  if (a instanceof VrlRegex && b instanceof VrlRegex) return a.source === b.source;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => valueEquals(v, b[i]));
  }
  if (Array.isArray(b) || a instanceof Date || b instanceof Date) return false;
  const ka = Object.keys(a as Obj).filter((k) => (a as Obj)[k] !== undefined);
  const kb = Object.keys(b as Obj).filter((k) => (b as Obj)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => valueEquals((a as Obj)[k], (b as Obj)[k]));
}

/** How VRL prints a value (the `sluice vrl` output, `to_string` of floats, error messages). */
export function formatFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  return String(n);
}

export function display(value: unknown): string {
  switch (kindOf(value)) {
    case T.bytes:
      return JSON.stringify(String(value));
    case T.null:
      return 'null';
    case T.timestamp:
      return `t'${rfc3339Nanos(value as Date)}'`;
    case T.regex:
      return String(value);
    case T.array:
      return `[${(value as unknown[]).map(display).join(', ')}]`;
    case T.object:
      return `{ ${Object.entries(value as Obj)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${JSON.stringify(k)}: ${display(v)}`)
        .join(', ')} }`;
    default:
      return String(value);
  }
}

/** An object's keys as VRL orders them (sorted), undefined entries left out. */
export function sortedKeys(obj: Obj): string[] {
  return Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** JSON text of a value, every digit of an i64 kept, keys sorted (`encode_json`, `sluice vrl`). */
export function jsonText(value: unknown, indent = '', depth = ''): string {
  switch (kindOf(value)) {
    case T.bytes:
      return JSON.stringify(typeof value === 'string' ? value : String(value));
    case T.integer:
    case T.float:
      return typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
    case T.boolean:
      return value ? 'true' : 'false';
    case T.array: {
      const items = value as unknown[];
      if (items.length === 0) return '[]';
      const inner = depth + indent;
      const sep = indent ? `,\n${inner}` : ',';
      return indent ? `[\n${inner}${items.map((v) => jsonText(v, indent, inner)).join(sep)}\n${depth}]` : `[${items.map((v) => jsonText(v)).join(',')}]`;
    }
    case T.object: {
      const keys = sortedKeys(value as Obj);
      if (keys.length === 0) return '{}';
      const inner = depth + indent;
      const entries = keys.map((k) => `${JSON.stringify(k)}:${indent ? ' ' : ''}${jsonText((value as Obj)[k], indent, inner)}`);
      return indent ? `{\n${inner}${entries.join(`,\n${inner}`)}\n${depth}}` : `{${entries.join(',')}}`;
    }
    case T.timestamp:
    case T.regex:
      return JSON.stringify(toJson(value));
    default:
      return 'null';
  }
}

/** Values become JSON-able event fields: timestamps as RFC 3339, regexes as their source. */
export function toJson(value: unknown): unknown {
  const kind = kindOf(value);
  if (kind === T.timestamp) return rfc3339Nanos(value as Date);
  if (kind === T.regex) return (value as VrlRegex).source;
  if (kind === T.array) return (value as unknown[]).map(toJson);
  if (kind === T.object) {
    // VRL objects are ordered by key.
    const out: Obj = {};
    for (const k of sortedKeys(value as Obj)) out[k] = toJson((value as Obj)[k]);
    return out;
  }
  return value === undefined ? null : value;
}

/** `exists(path)`: a field set to null exists; a variable never assigned does not. */
export function pathExists(node: unknown, segs: readonly (string | number)[], isVar: boolean): boolean {
  if (isVar && node === undefined) return false;
  for (const seg of segs) {
    if (typeof seg === 'string') {
      if (!isObject(node) || !Object.hasOwn(node, seg) || node[seg] === undefined) return false;
      node = node[seg];
    } else {
      if (!Array.isArray(node)) return false;
      const i = seg < 0 ? node.length + seg : seg;
      if (i < 0 || i >= node.length) return false;
      node = node[i];
    }
  }
  return true;
}
