import { parse } from '@marcbachmann/cel-js';
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
 * An expression is parsed once at startup (a syntax error fails config validation with the
 * position); per event only the compiled tree runs. A reference to a field the event lacks makes
 * the condition false rather than an error: logs are heterogeneous and `has()` is there when the
 * difference matters.
 */
export const conditionSchema = z.string().min(1).superRefine((source, ctx) => {
  try {
    parse(source);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `invalid CEL condition: ${(error as Error).message.split('\n')[0]}` });
  }
});

export type Condition = (fields: Fields) => boolean;

export function compileCondition(source: string, onError?: (error: Error) => void): Condition {
  const evaluate = parse(source);
  return (fields) => {
    try {
      return evaluate(fields) === true;
    } catch (error) {
      const message = (error as Error).message;
      if (!message.startsWith('No such key') && !message.startsWith('Unknown variable')) onError?.(error as Error);
      return false;
    }
  };
}
