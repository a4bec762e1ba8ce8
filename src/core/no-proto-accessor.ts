// Field names are hostile input: a JSON log line `{"__proto__": {"x": 1}}` parses into an own field
// named `__proto__`, but while Object.prototype carries its `__proto__` accessor, every copy of that
// field (`fields[key] = value`, in a merge, a remap, a parser) calls the setter: the field is lost and
// its contents show through every later read of the object as inherited fields. Removing the accessor
// makes the name an ordinary key everywhere, as node's own `--disable-proto=delete` does, without a
// launch flag. Object.getPrototypeOf / setPrototypeOf and `{ __proto__: x }` literals are unaffected.
delete (Object.prototype as { __proto__?: unknown }).__proto__;

/**
 * Names every plain object inherits (`constructor`, `toString`, `hasOwnProperty`, ...): a read of
 * such a field must ask for an own property, or it finds Object.prototype's method.
 */
export const INHERITED_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * The field `key` of `object`, or undefined: never a member Object.prototype lends it. With the
 * accessor gone, all it lends are methods, and field values (data) are never functions.
 */
export function ownField(object: Record<string, unknown>, key: string): unknown {
  const value = object[key];
  return typeof value === 'function' ? undefined : value;
}
