// Shared by the VRL tests: run a program on a copy of an event, or get its compile diagnostics.
import assert from 'node:assert/strict';
import { CompileError } from './diagnostic.js';
import { compileProgram } from './program.js';

/** Runs `source` on a copy of `event`; a run-time error or abort fails the test. */
export function run(source: string, event: Record<string, unknown> = {}, meta?: Record<string, unknown>) {
  const outcome = compileProgram(source).run(structuredClone(event), undefined, meta);
  if (outcome.kind !== 'ok') throw new Error(`${outcome.kind}: ${outcome.message}`);
  return outcome;
}

/** The rendered diagnostics of a program that must not compile. */
export function diagnostics(source: string): string {
  try {
    compileProgram(source);
  } catch (error) {
    if (error instanceof CompileError) return error.message;
    throw error;
  }
  assert.fail(`expected a compile error for ${source}`);
}
