import { readFileSync } from 'node:fs';
import { CompileError } from './diagnostic.js';
import type { RunContext } from './function.js';
import { compileProgram, defaultRunContext } from './program.js';
import { parseZone } from './stdlib/zones.js';
import { runRepl } from './repl.js';
import { jsonText, type Obj } from './value.js';

export interface VrlCliOptions {
  /** JSON lines, one event each; without it the program runs once on an empty event. */
  input?: string;
  program: string;
  /** Print the event after the program instead of the program's result value. */
  printObject?: boolean;
  /** The zone of offset-less timestamps parse_timestamp and the log parsers read (the remap `timezone` option). */
  timezone?: string;
}

/**
 * `sluice vrl` without a program: the REPL when stdin is a terminal (as `vector vrl`), else an
 * error (exit 2) saying a program is needed.
 */
export async function runVrlRepl(
  options: { input?: string },
  io: { input: NodeJS.ReadableStream & { isTTY?: boolean }; output: NodeJS.WritableStream; err: (line: string) => void } = { input: process.stdin, output: process.stdout, err: (l) => process.stderr.write(l + '\n') },
): Promise<number> {
  if (!io.input.isTTY) {
    io.err('sluice vrl: give a program (--program <file>); the interactive REPL needs a terminal on stdin');
    return 2;
  }
  let events: Obj[];
  try {
    events = readEvents(options.input);
  } catch (error) {
    io.err(`cannot read input: ${(error as Error).message}`);
    return 1;
  }
  await runRepl({ events, input: io.input as never, output: io.output as never, terminal: true });
  return 0;
}

/** The `--input` events (JSON lines; a non-object line becomes { message }). */
function readEvents(path: string | undefined): Obj[] {
  if (path === undefined) return [{}];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const value: unknown = JSON.parse(line);
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : { message: value };
    });
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
  const zone = options.timezone === undefined ? undefined : parseZone(options.timezone);
  if (options.timezone !== undefined && zone === undefined) {
    err(`sluice vrl: unknown time zone ${JSON.stringify(options.timezone)}: a tz database name (Europe/Berlin) or "local"`);
    return 2;
  }
  const ctx: RunContext = { ...defaultRunContext, ...(zone ? { timezone: zone } : {}) };
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
      // One line out per line in: a failure is an `{"error": ...}` line (as vector vrl), told on stderr too.
      const message = `not JSON: ${(error as Error).message}`;
      out(JSON.stringify({ error: message }));
      err(`input line ${index + 1}: ${message}`);
      failed++;
      return;
    }
    const fields = event !== null && typeof event === 'object' && !Array.isArray(event) ? (event as Obj) : { message: event };
    const outcome = program.run(fields, ctx);
    if (outcome.kind !== 'ok') {
      out(JSON.stringify({ error: outcome.message }));
      err(`input line ${index + 1}: ${outcome.kind === 'abort' ? 'aborted' : 'error'}: ${outcome.message}`);
      failed++;
      return;
    }
    if (options.printObject) for (const e of outcome.events) out(jsonText(e));
    else out(jsonText(outcome.value));
  });
  return failed > 0 ? 1 : 0;
}
