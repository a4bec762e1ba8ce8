import { Environment } from '@marcbachmann/cel-js';
import { z } from 'zod';
import type { Fields } from '../../core/event.js';
import { compileRegex, RegexCache, type Regex } from '../../core/regex.js';
import { compileVrlCondition, vrlProblem } from './vrl-condition.js';

/**
 * Conditions are CEL expressions (the language of Kubernetes ValidatingAdmissionPolicy and CRD
 * validation rules, so cluster operators already know it) evaluated with the event's top-level
 * fields as variables:
 *
 *   kubernetes.pod_namespace == "payments" && message.matches("(?i)error") && !has(kubernetes.pod_labels.canary)
 *   status >= 500 || stream == "stderr"
 *
 * Numbers in events are JS numbers (CEL doubles) while literals like `2` are CEL ints; mixed
 * arithmetic (`status % 100`, `bytes / 1024`) is defined here to yield a double, as users expect.
 *
 * A field named like a CEL type (`bytes`, `int`, `string`, `type`, ...) cannot be a variable; an
 * expression may instead name the whole event as `event` (`event.bytes > 1024`). An expression
 * that uses `event.` sees only that variable.
 *
 * An expression is parsed once at startup (a syntax error fails config validation with the
 * position); per event only the compiled tree runs. A reference to a field the event lacks makes
 * the condition false rather than an error: logs are heterogeneous and `has()` is there when the
 * difference matters.
 *
 * `matches` runs on RE2 (linear time; `(?i)` flags; no lookaround or backreferences), see
 * core/regex.ts: a literal pattern is compiled once at parse time, so a bad one fails validation.
 */
const celEnvironment = createEnvironment();

function createEnvironment(): Environment {
  const env = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false });
  const arithmetic: Record<string, (a: number, b: number) => number> = {
    '+': (a, b) => a + b,
    '-': (a, b) => a - b,
    '*': (a, b) => a * b,
    '/': (a, b) => a / b,
    '%': (a, b) => a % b,
  };
  for (const [op, apply] of Object.entries(arithmetic)) {
    env.registerOperator(`double ${op} int: double`, (a: number, b: bigint) => apply(a, Number(b)));
    env.registerOperator(`int ${op} double: double`, (a: bigint, b: number) => apply(Number(a), b));
  }
  registerRe2Matches(env);
  return env;
}

const celSource = (source: string): string | undefined => {
  try {
    celEnvironment.parse(source);
    return undefined;
  } catch (error) {
    return `invalid CEL condition: ${(error as Error).message.split('\n')[0]}`;
  }
};

/**
 * A condition as configured: a plain string is CEL (sluice's conditions from the start, kept for
 * existing configs; Vector reads a plain string as VRL), `{ type = "vrl", source = "..." }` is a
 * VRL boolean expression as Vector's, `{ type = "cel", source = "..." }` spells CEL out.
 */
export type ConditionConfig = string | { type: 'vrl' | 'cel'; source: string };

const conditionTable = z.strictObject({
  type: z.enum(['vrl', 'cel']).describe('The language: "vrl" (as Vector) or "cel".'),
  source: z.string().min(1).describe('The boolean expression.'),
});

export const conditionSchema = z
  .union([z.string().min(1), conditionTable], {
    error: (issue) =>
      issue.input !== null && typeof issue.input === 'object'
        ? 'a condition table takes exactly type = "vrl" | "cel" and source = "<expression>"'
        : 'a condition is a CEL string or a table { type = "vrl", source = "<expression>" }',
  })
  .superRefine((config, ctx) => {
    const problem = typeof config === 'string' || config.type === 'cel' ? celSource(sourceOf(config)) : vrlProblem(config.source);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: typeof config === 'string' ? [] : ['source'] });
  });

const sourceOf = (config: ConditionConfig): string => (typeof config === 'string' ? config : config.source);

/** `metadata`: the event's (`%` in VRL); CEL sees the fields only. */
export type Condition = (fields: Fields, metadata?: Fields) => boolean;

/**
 * Compiled once; per event only the compiled code runs. An evaluation error makes the condition
 * false and is passed to `onError` (CEL: except a reference to a field the event lacks).
 */
export function compileCondition(config: ConditionConfig, onError?: (error: Error) => void): Condition {
  if (typeof config !== 'string' && config.type === 'vrl') return compileVrlCondition(config.source, onError);
  const source = sourceOf(config);
  const evaluate = celEnvironment.parse(source);
  const wrapEvent = /(^|[^.\w])event\./.test(source);
  return (fields) => {
    try {
      return evaluate(wrapEvent ? { event: fields } : fields) === true;
    } catch (error) {
      const message = (error as Error).message;
      if (!message.startsWith('No such key') && !message.startsWith('Unknown variable')) onError?.(error as Error);
      return false;
    }
  };
}

// Minimal views of cel-js's parse-time macro API (README "Custom macros"); it ships no types for it.
interface CelNode { op: string; args: unknown }
interface CelType { kind: string; name: string }
interface CelChecker {
  check(node: CelNode, ctx: unknown): CelType;
  getType(name: string): CelType;
  createError(code: string, message: string, node: CelNode): Error;
}
interface CelEvaluator {
  run(node: CelNode, ctx: unknown): unknown;
  createError(code: string, message: string, node: CelNode): Error;
}
interface MatchesMacro {
  receiver: CelNode;
  pattern: CelNode;
  literal?: Regex;
  typeCheck(checker: CelChecker, macro: MatchesMacro, ctx: unknown): CelType;
  evaluate(evaluator: CelEvaluator, macro: MatchesMacro, ctx: unknown): boolean;
}

const runtimePatterns = new RegexCache();

/**
 * Replaces the standard library's `string.matches`, which runs JS RegExp (backtracking, and no
 * `(?i)`). cel-js refuses a second `string.matches` overload, but a macro is found by name and
 * arity before any overload (whatever the receiver), and a macro declared on a receiver type no
 * value has does not clash with it.
 */
function registerRe2Matches(env: Environment): void {
  env.registerType('sluice.MacroOnly', class MacroOnly {});
  env.registerFunction('sluice.MacroOnly.matches(ast): bool', ({ receiver, args }: { receiver: CelNode; args: CelNode[] }): MatchesMacro => {
    const pattern = args[0]!;
    return {
      receiver,
      pattern,
      // Throws at parse time, so config validation reports the pattern.
      literal: pattern.op === 'value' && typeof pattern.args === 'string' ? compileRegex(pattern.args) : undefined,
      typeCheck(checker, macro, ctx) {
        for (const node of [macro.receiver, macro.pattern]) {
          const type = checker.check(node, ctx);
          if (type.kind !== 'dyn' && type.name !== 'string') {
            throw checker.createError('no_matching_overload', `matches() takes strings, got '${type.name}'`, node);
          }
        }
        return checker.getType('bool');
      },
      evaluate(evaluator, macro, ctx) {
        const subject = evaluator.run(macro.receiver, ctx);
        const source = macro.literal ? undefined : evaluator.run(macro.pattern, ctx);
        if (typeof subject !== 'string' || (!macro.literal && typeof source !== 'string')) {
          throw evaluator.createError('no_matching_overload', 'matches() takes strings', macro.receiver);
        }
        let regex = macro.literal;
        if (regex === undefined) {
          try {
            regex = runtimePatterns.get(source as string);
          } catch (error) {
            throw evaluator.createError('invalid_regular_expression', (error as Error).message, macro.pattern);
          }
        }
        return regex.test(subject);
      },
    };
  });
}
