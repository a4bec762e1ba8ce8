/**
 * How the values of one field of a group's events become one value (Vector's `merge_strategies`).
 * A merger is created from the first value that reaches it; `add` takes each later one and
 * returns an error message when the value does not fit the strategy (the value is left out and
 * counted, the group goes on).
 */
export const MERGE_STRATEGIES = [
  'array',
  'concat',
  'concat_newline',
  'concat_raw',
  'discard',
  'retain',
  'sum',
  'max',
  'min',
  'flat_unique',
  'longest_array',
  'shortest_array',
] as const;

export type MergeStrategy = (typeof MERGE_STRATEGIES)[number];

export interface Merger {
  add(value: unknown): string | undefined;
  /** Writes the merged value(s): `set(suffix, value)`, suffix '' for the field itself. */
  result(set: (suffix: string, value: unknown) => void): void;
}

const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : value instanceof Date ? 'timestamp' : typeof value);

class Discard implements Merger {
  constructor(private readonly value: unknown) {}
  add(): undefined {
    return undefined;
  }
  result(set: (suffix: string, value: unknown) => void): void {
    set('', this.value);
  }
}

class Retain implements Merger {
  constructor(private value: unknown) {}
  add(value: unknown): undefined {
    if (value !== null) this.value = value;
    return undefined;
  }
  result(set: (suffix: string, value: unknown) => void): void {
    set('', this.value);
  }
}

class Concat implements Merger {
  private readonly parts: string[];
  constructor(first: string, private readonly separator: string) {
    this.parts = [first];
  }
  add(value: unknown): string | undefined {
    if (typeof value !== 'string') return `expected a string, found ${describe(value)}`;
    this.parts.push(value);
    return undefined;
  }
  result(set: (suffix: string, value: unknown) => void): void {
    set('', this.parts.join(this.separator));
  }
}

/** `concat` of arrays: later arrays are appended, a later non-array value is pushed. */
class ConcatArray implements Merger {
  private readonly items: unknown[];
  constructor(first: unknown[]) {
    this.items = [...first];
  }
  add(value: unknown): undefined {
    if (Array.isArray(value)) for (const item of value) this.items.push(item);
    else this.items.push(value);
    return undefined;
  }
  result(set: (suffix: string, value: unknown) => void): void {
    set('', this.items);
  }
}

class ArrayOf implements Merger {
  private readonly items: unknown[];
  constructor(first: unknown) {
    this.items = [first];
  }
  add(value: unknown): undefined {
    this.items.push(value);
    return undefined;
  }
  result(set: (suffix: string, value: unknown) => void): void {
    set('', this.items);
  }
}

class ArrayByLength implements Merger {
  constructor(
    private value: unknown[],
    private readonly longest: boolean,
  ) {}
  add(value: unknown): string | undefined {
    if (!Array.isArray(value)) return `expected an array, found ${describe(value)}`;
    if (this.longest ? value.length > this.value.length : value.length < this.value.length) this.value = value;
    return undefined;
  }
  result(set: (suffix: string, value: unknown) => void): void {
    set('', this.value);
  }
}

/** Distinct values, arrays and objects flattened one level (their elements / values). */
class FlatUnique implements Merger {
  private readonly seen = new Map<string, unknown>();
  constructor(first: unknown) {
    this.add(first);
  }
  add(value: unknown): undefined {
    if (Array.isArray(value)) for (const item of value) this.insert(item);
    else if (isPlainObject(value)) for (const item of Object.values(value)) this.insert(item);
    else this.insert(value);
    return undefined;
  }
  private insert(value: unknown): void {
    const key = typeof value === 'string' ? `s${value}` : `j${JSON.stringify(value)}`;
    if (!this.seen.has(key)) this.seen.set(key, value);
  }
  result(set: (suffix: string, value: unknown) => void): void {
    set('', [...this.seen.values()]);
  }
}

type NumberOp = 'sum' | 'max' | 'min';

class Numbers implements Merger {
  constructor(
    private value: number,
    private readonly op: NumberOp,
  ) {}
  add(value: unknown): string | undefined {
    if (typeof value !== 'number') return `expected a number, found ${describe(value)}`;
    if (this.op === 'sum') this.value += value;
    else if (this.op === 'max' ? value > this.value : value < this.value) this.value = value;
    return undefined;
  }
  result(set: (suffix: string, value: unknown) => void): void {
    set('', this.value);
  }
}

/** The default for timestamps: the first one stays, the last one goes to `<field>_end`. */
class TimestampWindow implements Merger {
  private last: unknown;
  constructor(private readonly first: unknown) {
    this.last = first;
  }
  add(value: unknown): string | undefined {
    if (!(value instanceof Date) && typeof value !== 'string') return `expected a timestamp, found ${describe(value)}`;
    this.last = value;
    return undefined;
  }
  result(set: (suffix: string, value: unknown) => void): void {
    set('_end', this.last);
    set('', this.first);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * Vector's defaults: numbers are summed, timestamps keep the first and add `<field>_end`, any
 * other value keeps the first. sluice events carry the top-level `timestamp` as an RFC 3339
 * string: that field counts as a timestamp.
 */
export function defaultMerger(value: unknown, isTimestampField: boolean): Merger {
  if (typeof value === 'number') return new Numbers(value, 'sum');
  if (value instanceof Date || (isTimestampField && typeof value === 'string')) return new TimestampWindow(value);
  return new Discard(value);
}

/** The merger of `strategy` starting at `value`, or the message saying why the value does not fit. */
export function strategyMerger(value: unknown, strategy: MergeStrategy): Merger | string {
  switch (strategy) {
    case 'discard':
      return new Discard(value);
    case 'retain':
      return new Retain(value);
    case 'array':
      return new ArrayOf(value);
    case 'flat_unique':
      return new FlatUnique(value);
    case 'sum':
    case 'max':
    case 'min':
      return typeof value === 'number' ? new Numbers(value, strategy) : `${strategy} expects a number, found ${describe(value)}`;
    case 'concat':
      if (typeof value === 'string') return new Concat(value, ' ');
      return Array.isArray(value) ? new ConcatArray(value) : `concat expects a string or an array, found ${describe(value)}`;
    case 'concat_newline':
    case 'concat_raw':
      return typeof value === 'string' ? new Concat(value, strategy === 'concat_raw' ? '' : '\n') : `${strategy} expects a string, found ${describe(value)}`;
    case 'longest_array':
    case 'shortest_array':
      return Array.isArray(value) ? new ArrayByLength(value, strategy === 'longest_array') : `${strategy} expects an array, found ${describe(value)}`;
  }
}
