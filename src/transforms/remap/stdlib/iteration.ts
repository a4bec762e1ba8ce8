import { defineFunctions, type ArgInfo } from '../function.js';
import { ANY, isObject, share, T, type Obj, type TypeSet } from '../value.js';
import { fail, optBool } from './util.js';

/** Keys are strings for an object, indices for an array. */
const keyAndValue = (args: readonly (ArgInfo | undefined)[]) => {
  const type = args[0]?.type ?? ANY;
  return [(type === T.object ? T.bytes : type === T.array ? T.integer : T.bytes | T.integer) as TypeSet, ANY];
};

type Invoke = (...values: unknown[]) => unknown;

function mapValues(value: unknown, recursive: boolean, invoke: Invoke): unknown {
  const inner = (v: unknown): unknown => (recursive && (isObject(v) || Array.isArray(v)) ? mapValues(v, true, invoke) : share(v));
  if (Array.isArray(value)) return value.map((v) => invoke(inner(v)));
  const out: Obj = {};
  for (const [k, v] of Object.entries(value as Obj)) if (v !== undefined) out[k] = invoke(inner(v));
  return out;
}

function mapKeys(value: Obj, recursive: boolean, invoke: Invoke): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const key = invoke(k);
    if (typeof key !== 'string') fail('the closure must return a string key');
    out[key] = recursive && isObject(v) ? mapKeys(v, true, invoke) : share(v);
  }
  return out;
}

defineFunctions([
  {
    name: 'for_each',
    params: [{ name: 'value', type: T.object | T.array, required: true }],
    returns: T.null,
    closure: { params: keyAndValue },
    call: ([value], _ctx, invoke) => {
      if (Array.isArray(value)) value.forEach((v, i) => invoke!(i, share(v)));
      else for (const [k, v] of Object.entries(value as Obj)) if (v !== undefined) invoke!(k, share(v));
      return null;
    },
  },
  {
    name: 'map_values',
    params: [{ name: 'value', type: T.object | T.array, required: true }, { name: 'recursive', type: T.boolean }],
    returns: (args) => (args[0]?.type ?? T.object | T.array) & (T.object | T.array),
    closure: { params: [ANY] },
    call: ([value, recursive], _ctx, invoke) => mapValues(value, optBool(recursive, false), invoke!),
  },
  {
    name: 'map_keys',
    params: [{ name: 'value', type: T.object, required: true }, { name: 'recursive', type: T.boolean }],
    returns: T.object,
    closure: { params: [T.bytes], returns: T.bytes },
    call: ([value, recursive], _ctx, invoke) => mapKeys(value as Obj, optBool(recursive, false), invoke!),
  },
  {
    name: 'filter',
    params: [{ name: 'value', type: T.object | T.array, required: true }],
    returns: (args) => (args[0]?.type ?? T.object | T.array) & (T.object | T.array),
    closure: { params: keyAndValue, returns: T.boolean },
    call: ([value], _ctx, invoke) => {
      if (Array.isArray(value)) return value.filter((v, i) => invoke!(i, share(v)) === true);
      const out: Obj = {};
      for (const [k, v] of Object.entries(value as Obj)) if (v !== undefined && invoke!(k, share(v)) === true) out[k] = v;
      return out;
    },
  },
]);
