import { readFileSync } from 'node:fs';
import { CompileError } from './diagnostic.js';
import { compileProgram } from './program.js';
import { jsonText, type Obj } from './value.js';

export interface VrlCliOptions {
  /** JSON lines, one event each; without it the program runs once on an empty event. */
  input?: string;
  program: string;
  /** Print the event after the program instead of the program's result value. */
  printObject?: boolean;
}

/** `sluice vrl`: run a VRL program over events from a file; returns the exit code. */
export function runVrlCli(options: VrlCliOptions, out: (line: string) => void = (l) => process.stdout.write(l + '\n'), err: (line: string) => void = (l) => process.stderr.write(l + '\n')): number {
  let program;
  try {
    program = compileProgram(readFileSync(options.program, 'utf8'), options.program, { exactIntegers: true });
  } catch (error) {
    if (error instanceof CompileError) {
      err(error.message);
      return 78;
    }
    err(`cannot read program: ${(error as Error).message}`);
    return 1;
  }
  let lines: string[];
  try {
    lines = options.input === undefined ? ['{}'] : readFileSync(options.input, 'utf8').split('\n').filter((l) => l.trim() !== '');
  } catch (error) {
    err(`cannot read input: ${(error as Error).message}`);
    return 1;
  }
  let failed = 0;
  lines.forEach((line, index) => {
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch (error) {
      err(`input line ${index + 1}: not JSON: ${(error as Error).message}`);
      failed++;
      return;
    }
    const fields = event !== null && typeof event === 'object' && !Array.isArray(event) ? (event as Obj) : { message: event };
    const outcome = program.run(fields);
    if (outcome.kind !== 'ok') {
      err(`input line ${index + 1}: ${outcome.kind === 'abort' ? 'aborted' : 'error'}: ${outcome.message}`);
      failed++;
      return;
    }
    if (options.printObject) for (const e of outcome.events) out(jsonText(e));
    else out(jsonText(outcome.value));
  });
  return failed > 0 ? 1 : 0;
}
