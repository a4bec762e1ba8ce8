import type { Fields } from '../../core/event.js';
import { CompileError } from '../remap/diagnostic.js';
import { parseProgram } from '../remap/parser.js';
import { compileProgram, defaultRunContext, NO_METADATA, type Program } from '../remap/program.js';
import { T, typeName, type Obj } from '../remap/value.js';

/**
 * VRL conditions as Vector's (`{ type = "vrl", source = "..." }`): a boolean expression over the
 * event (`.status == 500 && starts_with(string!(.message), "ERROR")`), compiled once with VRL's
 * compile-time checks. The event is read only (assigning to `.`/`%` or `del` on them is a compile
 * error: Vector compiles conditions against a read-only target); local variables are fine. A
 * program whose result is not known to be a boolean is a compile error too. At run time an error
 * (`!`, `abort`) makes the condition false and is reported.
 *
 * As in a remap, reading a whole object or array (`.http`, not `.http.status`) marks it shared
 * (frozen: a later write copies it). Downstream that is what a remap's output looks like too; in
 * reduce it means such an object keeps its first value unless a merge strategy names a field in it.
 */
const compiled = new Map<string, Program>();

/** The compiled condition (cached), for callers that want its outcome (`sluice test` says why one failed). Throws CompileError. */
export function conditionProgram(source: string): Program {
  let program = compiled.get(source);
  if (program) return program;
  program = compileProgram(source, '', { readOnly: true });
  const result = program.resultType ?? T.boolean;
  if (result !== T.boolean) {
    const body = parseProgram(source);
    const last = body[body.length - 1];
    const span = last?.span ?? { start: 0, end: Math.max(1, source.length) };
    throw new CompileError(source, [
      {
        code: 110,
        title: 'unexpected return value',
        span,
        label: `a condition must resolve to a boolean, this resolves to ${typeName(result)}`,
        notes: ['compare or test the value: .status == 500, exists(.error), is_string(.message), to_bool(.flag) ?? false'],
      },
    ]);
  }
  if (compiled.size > 256) compiled.delete(compiled.keys().next().value!);
  compiled.set(source, program);
  return program;
}

/** The diagnostics of an invalid VRL condition (for config validation), or undefined. */
export function vrlProblem(source: string): string | undefined {
  try {
    conditionProgram(source);
    return undefined;
  } catch (error) {
    if (!(error instanceof CompileError)) throw error;
    return `invalid VRL condition (${error.diagnostics.length} error(s)):\n${error.message}`;
  }
}

export function compileVrlCondition(source: string, onError?: (error: Error) => void): (fields: Fields, metadata?: Fields) => boolean {
  const program = conditionProgram(source);
  return (fields, metadata) => {
    const outcome = program.run(fields as Obj, defaultRunContext, (metadata as Obj | undefined) ?? NO_METADATA);
    if (outcome.kind === 'ok') return outcome.value === true;
    onError?.(new Error(`VRL condition ${outcome.kind === 'abort' ? 'aborted' : 'failed'}: ${outcome.message}`));
    return false;
  };
}
