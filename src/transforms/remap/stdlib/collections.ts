import { ownField } from '../../../core/no-proto-accessor.js';
import { defineFunctions } from '../function.js';
import { ANY, copyContainer, isObject, share, sortedKeys, T, valueEquals, type Obj } from '../value.js';
import { fail, optBool } from './util.js';

const path = () => fail('internal: path functions are compiled specially');

function deepMerge(to: Obj, from: Obj, deep: boolean): Obj {
  const out = copyContainer(to);
  for (const key in from) {
    const value = from[key];
    if (value === undefined) continue;
    const existing = ownField(out, key);
    out[key] = deep && isObject(existing) && isObject(value) ? deepMerge(existing, value, true) : share(value);
  }
  return out;
}

function pathSegments(path: unknown): (string | number)[] {
  const segs = path as unknown[];
  for (const s of segs) if (typeof s !== 'string' && typeof s !== 'number') fail('path segments must be strings or integers');
  return segs as (string | number)[];
}

function getIn(value: unknown, segs: (string | number)[]): unknown {
  let node = value;
  for (const seg of segs) {
    if (typeof seg === 'string') node = isObject(node) ? node[seg] : undefined;
    else node = Array.isArray(node) ? node[seg < 0 ? node.length + seg : seg] : undefined;
    if (node === undefined) return null;
  }
  return share(node);
}

function setIn(value: unknown, segs: (string | number)[], data: unknown, i = 0): unknown {
  if (i === segs.length) return data;
  const seg = segs[i]!;
  if (typeof seg === 'string') {
    const obj = isObject(value) ? copyContainer(value) : {};
    obj[seg] = setIn(obj[seg], segs, data, i + 1);
    return obj;
  }
  const arr = Array.isArray(value) ? copyContainer(value) : [];
  const index = seg < 0 ? arr.length + seg : seg;
  if (index < 0) fail(`index ${seg} out of range`);
  while (arr.length < index) arr.push(null);
  arr[index] = setIn(arr[index], segs, data, i + 1);
  return arr;
}

function removeIn(value: unknown, segs: (string | number)[], compactAfter: boolean, i = 0): unknown {
  if (i === segs.length) return value;
  const seg = segs[i]!;
  const last = i === segs.length - 1;
  let out: unknown = value;
  if (typeof seg === 'string' && isObject(value)) {
    const obj = copyContainer(value);
    if (last) delete obj[seg];
    else if (Object.hasOwn(obj, seg)) obj[seg] = removeIn(obj[seg], segs, compactAfter, i + 1);
    out = obj;
  } else if (typeof seg === 'number' && Array.isArray(value)) {
    const arr = copyContainer(value);
    const index = seg < 0 ? arr.length + seg : seg;
    if (index >= 0 && index < arr.length) {
      if (last) arr.splice(index, 1);
      else arr[index] = removeIn(arr[index], segs, compactAfter, i + 1);
    }
    out = arr;
  }
  return compactAfter ? compactValue(out, { recursive: false, null: true, string: true, object: true, array: true, nullish: false }) : out;
}

interface CompactOptions {
  recursive: boolean;
  null: boolean;
  string: boolean;
  object: boolean;
  array: boolean;
  nullish: boolean;
}

function isCompactable(v: unknown, o: CompactOptions): boolean {
  if ((v === null || v === undefined) && o.null) return true;
  if (v === '' && o.string) return true;
  if (Array.isArray(v) && v.length === 0 && o.array) return true;
  if (isObject(v) && Object.keys(v).length === 0 && o.object) return true;
  if (o.nullish && (v === null || v === '-' || (typeof v === 'string' && v.trim() === ''))) return true;
  return false;
}

function compactValue(v: unknown, o: CompactOptions): unknown {
  if (Array.isArray(v)) {
    const items = o.recursive ? v.map((x) => compactValue(x, o)) : v;
    return items.filter((x) => !isCompactable(x, o));
  }
  if (isObject(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) {
      const y = o.recursive ? compactValue(x, o) : x;
      if (!isCompactable(y, o)) out[k] = share(y);
    }
    return out;
  }
  return v;
}

function flattenValue(v: unknown, sep: string, prefix: string, out: Obj | unknown[]): void {
  if (Array.isArray(out)) {
    for (const x of v as unknown[]) {
      if (Array.isArray(x)) flattenValue(x, sep, prefix, out);
      else out.push(share(x));
    }
    return;
  }
  for (const [k, x] of Object.entries(v as Obj)) {
    const key = prefix ? `${prefix}${sep}${k}` : k;
    if (isObject(x) && Object.keys(x).length > 0) flattenValue(x, sep, key, out);
    else out[key] = share(x);
  }
}

function unflattenValue(v: Obj, sep: string, recursive: boolean): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(v)) {
    const parts = key.split(sep);
    let node = out;
    for (let i = 0; i < parts.length - 1; i++) {
      const p = parts[i]!;
      if (!isObject(node[p])) node[p] = {};
      node = node[p] as Obj;
    }
    const leaf = parts[parts.length - 1]!;
    node[leaf] = recursive && isObject(value) ? unflattenValue(value, sep, true) : share(value);
  }
  return out;
}

defineFunctions([
  { name: 'exists', params: [{ name: 'path', type: ANY, required: true }], returns: T.boolean, call: path },
  { name: 'del', params: [{ name: 'path', type: ANY, required: true }, { name: 'compact', type: T.boolean }], returns: ANY, call: path },
  {
    name: 'merge',
    params: [{ name: 'to', type: T.object, required: true }, { name: 'from', type: T.object, required: true }, { name: 'deep', type: T.boolean }],
    returns: T.object,
    call: ([to, from, deep]) => deepMerge(to as Obj, from as Obj, optBool(deep, false)),
  },
  { name: 'keys', params: [{ name: 'value', type: T.object, required: true }], returns: T.array, call: ([v]) => sortedKeys(v as Obj) },
  { name: 'values', params: [{ name: 'value', type: T.object, required: true }], returns: T.array, call: ([v]) => sortedKeys(v as Obj).map((k) => share((v as Obj)[k])) },
  {
    name: 'get',
    params: [{ name: 'value', type: T.object | T.array, required: true }, { name: 'path', type: T.array, required: true }],
    returns: ANY,
    fallible: true,
    call: ([v, p]) => getIn(v, pathSegments(p)),
  },
  {
    name: 'set',
    params: [{ name: 'value', type: T.object | T.array, required: true }, { name: 'path', type: T.array, required: true }, { name: 'data', type: ANY, required: true }],
    returns: T.object | T.array,
    fallible: true,
    call: ([v, p, data]) => setIn(v, pathSegments(p), share(data)),
  },
  {
    name: 'remove',
    params: [{ name: 'value', type: T.object | T.array, required: true }, { name: 'path', type: T.array, required: true }, { name: 'compact', type: T.boolean }],
    returns: T.object | T.array,
    fallible: true,
    call: ([v, p, c]) => removeIn(v, pathSegments(p), optBool(c, false)),
  },
  {
    name: 'compact',
    params: [
      { name: 'value', type: T.object | T.array, required: true },
      { name: 'recursive', type: T.boolean },
      { name: 'null', type: T.boolean },
      { name: 'string', type: T.boolean },
      { name: 'object', type: T.boolean },
      { name: 'array', type: T.boolean },
      { name: 'nullish', type: T.boolean },
    ],
    returns: (args) => (args[0]?.type ?? T.object | T.array) & (T.object | T.array),
    call: ([v, recursive, n, s, o, a, nullish]) =>
      compactValue(v, { recursive: optBool(recursive, true), null: optBool(n, true), string: optBool(s, true), object: optBool(o, true), array: optBool(a, true), nullish: optBool(nullish, false) }),
  },
  {
    name: 'flatten',
    params: [{ name: 'value', type: T.object | T.array, required: true }, { name: 'separator', type: T.bytes }],
    returns: (args) => (args[0]?.type ?? T.object | T.array) & (T.object | T.array),
    call: ([v, sep]) => {
      const out: Obj | unknown[] = Array.isArray(v) ? [] : {};
      flattenValue(v, sep === undefined ? '.' : String(sep), '', out);
      return out;
    },
  },
  {
    name: 'unflatten',
    params: [{ name: 'value', type: T.object, required: true }, { name: 'separator', type: T.bytes }, { name: 'recursive', type: T.boolean }],
    returns: T.object,
    call: ([v, sep, recursive]) => unflattenValue(v as Obj, sep === undefined ? '.' : String(sep), optBool(recursive, true)),
  },
  { name: 'push', params: [{ name: 'value', type: T.array, required: true }, { name: 'item', type: ANY, required: true }], returns: T.array, call: ([v, item]) => [...(v as unknown[]), share(item)] },
  { name: 'append', params: [{ name: 'value', type: T.array, required: true }, { name: 'items', type: T.array, required: true }], returns: T.array, call: ([v, items]) => [...(v as unknown[]), ...(items as unknown[]).map(share)] },
  { name: 'includes', params: [{ name: 'value', type: T.array, required: true }, { name: 'item', type: ANY, required: true }], returns: T.boolean, call: ([v, item]) => (v as unknown[]).some((x) => valueEquals(x, item)) },
  {
    name: 'unique',
    params: [{ name: 'value', type: T.array, required: true }],
    returns: T.array,
    call: ([v]) => (v as unknown[]).filter((x, i, all) => all.findIndex((y) => valueEquals(x, y)) === i),
  },
  {
    name: 'object_from_array',
    params: [{ name: 'values', type: T.array, required: true }, { name: 'keys', type: T.array }],
    returns: T.object,
    fallible: true,
    call: ([values, keys]) => {
      const out: Obj = {};
      if (Array.isArray(keys)) (values as unknown[]).forEach((v, i) => typeof keys[i] === 'string' && (out[keys[i] as string] = share(v)));
      else for (const pair of values as unknown[]) {
        if (!Array.isArray(pair) || typeof pair[0] !== 'string') fail('expected an array of [key, value] pairs');
        out[pair[0]] = share(pair[1] ?? null);
      }
      return out;
    },
  },
]);
