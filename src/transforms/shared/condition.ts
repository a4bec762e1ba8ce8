import { Environment } from '@marcbachmann/cel-js';
import { z } from 'zod';
import type { Fields } from '../../core/event.js';

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
  return env;
}

export const conditionSchema = z.string().min(1).superRefine((source, ctx) => {
  try {
    celEnvironment.parse(source);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `invalid CEL condition: ${(error as Error).message.split('\n')[0]}` });
  }
});

export type Condition = (fields: Fields) => boolean;

export function compileCondition(source: string, onError?: (error: Error) => void): Condition {
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
