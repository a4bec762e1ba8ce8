import type { ArgInfo } from '../function.js';
import { formatFloat, kindOf, rfc3339Nanos, T, typeName, VrlError, type TypeSet } from '../value.js';

export function fail(message: string): never {
  throw new VrlError(message);
}

/**
 * A recoverable error as the function's result, for failures on the hot path (`parse_json` on a
 * plain line, `string(.missing)`): the call site turns it into the error without a throw, which
 * costs microseconds when `??` catches it. Always a fresh object (the call site records itself on it).
 */
export function failed(message: string): VrlError {
  return new VrlError(message);
}

/** Fallible when the argument may have one of `kinds` (e.g. to_int on a string). */
export const fallibleIfMay = (index: number, kinds: TypeSet) => (args: readonly (ArgInfo | undefined)[]) =>
  ((args[index]?.type ?? 0) & kinds) !== 0;

/** RFC 3339 as VRL prints it: seconds precision unless there are sub-seconds (then 3, 6 or 9 digits). */
export function rfc3339(date: Date): string {
  return rfc3339Nanos(date);
}

/** `to_string` semantics for scalars. */
export function scalarToString(value: unknown): string {
  switch (kindOf(value)) {
    case T.bytes:
      return String(value);
    case T.integer:
      return String(value);
    case T.float:
      return formatFloat(value as number);
    case T.boolean:
      return value ? 'true' : 'false';
    case T.null:
      return '';
    case T.timestamp:
      return rfc3339(value as Date);
    default:
      return fail(`unable to coerce ${typeName(kindOf(value))} into string`);
  }
}

export function optBool(value: unknown, fallback: boolean): boolean {
  return value === undefined || value === null ? fallback : value === true;
}

export function optInt(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

/** A literal argument's value, when the checker saw one. */
export function literalOf(args: readonly (ArgInfo | undefined)[], index: number): unknown {
  const a = args[index];
  return a?.literal ? a.value : undefined;
}
