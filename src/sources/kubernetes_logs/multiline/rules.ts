import { compileRegex, type Regex } from '../../../core/regex.js';

/**
 * What a line does to the group of its stream:
 * - `start`: ends the open group (emitted) and opens a new one with this line;
 * - `append`: joins the open group;
 * - `last`: joins the open group, which is then complete (emitted at once);
 * - `single`: ends the open group and is an event of its own.
 */
export type LineAction = 'start' | 'append' | 'last' | 'single';

export interface MultilineRules {
  /** `java`, `python`, `go`, `dotnet`, or the regex of a first line. */
  readonly name: string;
  /** `state`: the open group's state (undefined = no group open). Returns the action and the new state. */
  classify(line: string, state: string | undefined): { action: LineAction; state: string | undefined };
}

const START = 'start_state';

interface Rule {
  readonly from: readonly string[];
  readonly pattern: Regex;
  /** Cheap test first (RE2 in JS costs about a microsecond a line): false = the pattern cannot match. */
  readonly mayMatch: (line: string) => boolean;
  /** `start_state` = the line completes the group. */
  readonly to: string;
}

/**
 * A state machine over lines, in the shape of Fluent Bit's built-in multiline parsers: rules
 * `from` states, a pattern, the state `to`. A group opens on a rule from `start_state`; in a
 * group, the first rule of the current state that matches appends the line; a line no rule of
 * its state matches ends the group and is tried as the start of the next one.
 */
class StateMachineRules implements MultilineRules {
  private readonly byState = new Map<string, Rule[]>();

  constructor(
    readonly name: string,
    rules: ReadonlyArray<readonly [from: string, pattern: string, to: string, needles?: readonly string[]]>,
  ) {
    for (const [from, pattern, to, needles] of rules) {
      const states = from.split(',').map((s) => s.trim());
      const rule: Rule = { from: states, pattern: compileRegex(pattern), to, mayMatch: prefilter(pattern, needles) };
      for (const state of states) {
        let list = this.byState.get(state);
        if (list === undefined) this.byState.set(state, (list = []));
        list.push(rule);
      }
    }
  }

  classify(line: string, state: string | undefined): { action: LineAction; state: string | undefined } {
    if (state !== undefined) {
      for (const rule of this.byState.get(state) ?? []) {
        if (!rule.mayMatch(line) || !rule.pattern.test(line)) continue;
        if (rule.to === START) return { action: 'last', state: undefined };
        return { action: 'append', state: rule.to };
      }
    }
    for (const rule of this.byState.get(START) ?? []) {
      if (rule.mayMatch(line) && rule.pattern.test(line)) return { action: 'start', state: rule.to };
    }
    return { action: 'single', state: undefined };
  }
}

const always = (): boolean => true;

/**
 * The cheap test of a rule: `needles`, strings one of which any match contains; else, for a
 * pattern anchored on leading blanks (`^[\t ]+`, `^\s`), the first character.
 */
function prefilter(pattern: string, needles: readonly string[] | undefined): (line: string) => boolean {
  if (needles !== undefined) return (line) => needles.some((needle) => line.includes(needle));
  if (/^\^(?:\[\\t \]\+|\\s)/.test(pattern)) {
    return (line) => {
      const c = line.charCodeAt(0);
      return c === 0x20 || c === 0x09 || (pattern.startsWith('^\\s') && (c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c));
    };
  }
  return always;
}

// The language rules, written for sluice after the behaviour of Fluent Bit's built-in parsers
// and Google's exception detector (which both follow): RE2 patterns.
const JAVA_FRAME = '^[\\t ]+(?:eval )?at ';
const JAVA_CAUSE = '^[\\t ]*(?:Caused by|Suppressed):';
const JAVA_MORE = '^[\\t ]*\\.\\.\\. \\d+ (?:more|common frames omitted)';
const JAVA_START = '.(?:Exception|Error|Throwable|V8 errors stack trace)(?::|\\r?$)';
const START_NEEDLES = ['Exception', 'Error', 'Throwable', 'V8 errors stack trace'];

const java = (): MultilineRules =>
  new StateMachineRules('java', [
    [`${START}, java_start_exception`, JAVA_START, 'java_after_exception', START_NEEDLES],
    ['java_after_exception', '^[\\t ]*nested exception is:[\\t ]*', 'java_start_exception'],
    ['java_after_exception', '^[\\r\\n]*$', 'java_after_exception'],
    ['java_after_exception, java', JAVA_FRAME, 'java'],
    ['java_after_exception, java', JAVA_CAUSE, 'java_after_exception'],
    ['java_after_exception, java', JAVA_MORE, 'java'],
  ]);

const python = (): MultilineRules =>
  new StateMachineRules('python', [
    [START, '^Traceback \\(most recent call last\\):$', 'python', ['Traceback (most recent call last):']],
    ['python', '^[\\t ]+File ', 'python_code'],
    ['python_code', '[^\\t ]', 'python'],
    // The exception line ends the traceback.
    ['python', '^(?:[^\\s.():]+\\.)*[^\\s.():]+:', START],
    ['python', '^(?:[^\\s.():]+\\.)*[^\\s.():]+$', START],
  ]);

const go = (): MultilineRules =>
  new StateMachineRules('go', [
    [START, '\\bpanic: ', 'go_after_panic', ['panic: ']],
    [START, 'http: panic serving', 'go_goroutine', ['http: panic serving']],
    ['go_after_panic, go_after_signal, go_frame_1', '^$', 'go_goroutine'],
    ['go_after_panic', '^\\[signal ', 'go_after_signal'],
    ['go_goroutine', '^goroutine \\d+ \\[[^\\]]+\\]:$', 'go_frame_1'],
    ['go_frame_1', '^(?:[^\\s.:]+\\.)*[^\\s.():]+\\(|^created by ', 'go_frame_2'],
    ['go_frame_2', '^\\s', 'go_frame_1'],
  ]);

const dotnet = (): MultilineRules =>
  new StateMachineRules('dotnet', [
    [START, '^Unhandled [eE]xception\\. ', 'dotnet_after_exception'],
    [START, JAVA_START, 'dotnet_after_exception', START_NEEDLES],
    ['dotnet_after_exception, dotnet', '^[\\t ]+at ', 'dotnet'],
    ['dotnet_after_exception, dotnet', '^[\\t ]*---> ', 'dotnet_after_exception'],
    ['dotnet_after_exception, dotnet', '^[\\t ]+--- End of inner exception stack trace ---$', 'dotnet'],
    ['dotnet_after_exception, dotnet', '^--- End of stack trace from previous location(?: where exception was thrown)? ---$', 'dotnet'],
  ]);

/** OTel recombine's `is_first_entry`: a line matching the pattern starts an event, the others join it. */
class FirstLineRules implements MultilineRules {
  private readonly pattern: Regex;

  constructor(readonly name: string) {
    this.pattern = compileRegex(name);
  }

  classify(line: string, state: string | undefined): { action: LineAction; state: string | undefined } {
    if (this.pattern.test(line)) return { action: 'start', state: 'open' };
    return state === undefined ? { action: 'single', state: undefined } : { action: 'append', state };
  }
}

const LANGUAGES: Record<string, () => MultilineRules> = { java, python, go, dotnet };

export const MULTILINE_LANGUAGES = Object.keys(LANGUAGES);

const cache = new Map<string, MultilineRules>();

/**
 * The rules an annotation (or the source's default) names: a language, or the RE2 pattern of a
 * first line. Throws RegexSyntaxError for a bad pattern. Cached by text (bounded: pods choose it).
 */
export function multilineRules(spec: string): MultilineRules {
  let rules = cache.get(spec);
  if (rules === undefined) {
    const language = LANGUAGES[spec];
    rules = language !== undefined ? language() : new FirstLineRules(spec);
    if (cache.size >= 256) cache.delete(cache.keys().next().value!);
    cache.set(spec, rules);
  }
  return rules;
}
