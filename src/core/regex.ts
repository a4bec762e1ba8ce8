import { RE2JS } from 're2js';

/**
 * Regular expressions applied to log content (attacker-controlled) run on RE2 semantics in linear
 * time: JS RegExp backtracks, so `^(\w+\s?)*$` on a 56-byte line burns ~19 s of CPU and stalls the
 * event loop. re2js (pure JS) was measured 3-10x faster per match and ~4x faster to compile than
 * re2-wasm, and its objects are garbage-collected (re2-wasm's WASM objects are never freed).
 *
 * RE2 syntax: inline flags (`(?i)error`), no backreferences, no lookaround.
 */
export const REGEX_ENGINE = 're2js';

export interface Regex {
  readonly source: string;
  /** True when the pattern matches anywhere in `input` (unanchored, like CEL `matches`). */
  test(input: string): boolean;
}

export class RegexSyntaxError extends Error {
  constructor(readonly pattern: string, reason: string) {
    super(`invalid regular expression ${JSON.stringify(pattern)} (RE2 syntax: no lookaround or backreferences): ${reason}`);
  }
}

export function compileRegex(pattern: string): Regex {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    throw new RegexSyntaxError(pattern, (error as Error).message.replace(/^error parsing regexp: /, ''));
  }
  return { source: pattern, test: (input) => compiled.test(input) };
}

/**
 * Patterns known only per event (built from fields) are compiled on first use and kept in a
 * bounded cache, least recently used out first, so hostile values cannot grow memory.
 */
export class RegexCache {
  private readonly entries = new Map<string, Regex>();

  constructor(private readonly capacity = 256) {}

  get(pattern: string): Regex {
    let regex = this.entries.get(pattern);
    if (regex !== undefined) {
      this.entries.delete(pattern);
    } else {
      regex = compileRegex(pattern);
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(pattern, regex);
    return regex;
  }

  get size(): number {
    return this.entries.size;
  }
}
