import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { CompileError } from './diagnostic.js';
import type { RunContext } from './function.js';
import { compileProgram, NO_METADATA } from './program.js';
import { display, type Obj } from './value.js';

export interface ReplOptions {
  /** The events to try expressions on (`--input`); one empty event without. */
  events: Obj[];
  input: Readable;
  output: Writable;
  /** Whether `input` is a terminal (readline then edits lines and keeps a history). */
  terminal?: boolean;
}

const HELP = `Type a VRL expression to run it on the current event (.) and print its result.
Variables and changes to the event last until you leave.
  next / prev   go to the next / previous event of the input (changes to each are kept)
  .             print the current event
  help          this text
  exit / quit   leave (or Ctrl-D)`;

/**
 * The interactive `sluice vrl` (as `vector vrl`): one expression a line on the current event.
 * Resolves when the input ends or the user leaves.
 */
export function runRepl(options: ReplOptions): Promise<void> {
  const events = options.events.length > 0 ? options.events : [{}];
  const metadata: Obj[] = events.map(() => NO_METADATA);
  const variables = new Map<string, unknown>();
  let index = 0;
  const out = (text: string) => options.output.write(text + '\n');
  const ctx: RunContext = { log: (level, message) => out(`[${level}] ${message}`), env: process.env };
  const rl = createInterface({ input: options.input, output: options.output, terminal: options.terminal ?? false, prompt: '$ ' });
  const position = () => `event ${index + 1} of ${events.length}`;
  out(`VRL REPL: ${position()}. "help" lists the commands, "exit" leaves.`);
  rl.prompt();
  return new Promise((resolve) => {
    rl.on('line', (raw) => {
      const line = raw.trim();
      if (line === 'exit' || line === 'quit') {
        rl.close();
        return;
      }
      if (line === 'help') out(HELP);
      else if (line === 'next' || line === 'prev') {
        const next = index + (line === 'next' ? 1 : -1);
        if (next < 0 || next >= events.length) out(`no ${line === 'next' ? 'next' : 'previous'} event (${position()})`);
        else {
          index = next;
          out(`${position()}: ${display(events[index])}`);
        }
      } else if (line !== '') evaluate(line);
      rl.prompt();
    });
    rl.on('close', () => resolve());
  });

  function evaluate(source: string): void {
    let program;
    try {
      program = compileProgram(source, '', { exactIntegers: true, variables });
    } catch (error) {
      if (error instanceof CompileError) {
        out(error.message);
        return;
      }
      throw error;
    }
    const outcome = program.run(events[index]!, ctx, metadata[index]);
    if (outcome.kind !== 'ok') {
      out(`${outcome.kind === 'abort' ? 'aborted' : 'error'}: ${outcome.message}`);
      return;
    }
    // The event after the expression: a split (`. = [...]`) shows as its first event, as it was assigned.
    events[index] = outcome.events[0] ?? {};
    metadata[index] = outcome.meta;
    out(display(outcome.value));
  }
}
