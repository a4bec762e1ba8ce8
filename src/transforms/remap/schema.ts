import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CompileError } from './diagnostic.js';
import { compileProgram, type Program } from './program.js';

/**
 * Programs compiled while the config is validated, by text: `build` takes the same compiled
 * program instead of compiling again (bounded: configs are few).
 */
const compiled = new Map<string, Program>();

export function programFor(source: string, name: string): Program {
  let program = compiled.get(source);
  if (!program) {
    program = compileProgram(source, name);
    if (compiled.size > 64) compiled.delete(compiled.keys().next().value!);
    compiled.set(source, program);
  }
  return program;
}

/** `file` is read relative to the working directory (the config loader does not expose the file's directory to components). */
export function programText(config: { source?: string; file?: string }): { text: string; name: string } {
  if (config.source !== undefined) return { text: config.source, name: '' };
  return { text: readFileSync(config.file!, 'utf8'), name: config.file! };
}

export const remapSchema = z
  .strictObject({
    source: z.string().optional().describe('The VRL program.'),
    file: z.string().min(1).optional().describe('A file holding the VRL program (instead of `source`), relative to the working directory.'),
    drop_on_error: z.boolean().default(false).describe('Drop an event whose program fails at run time (otherwise it passes on unchanged).'),
    drop_on_abort: z.boolean().default(true).describe('Drop an event whose program runs `abort` (otherwise it passes on unchanged).'),
    reroute_dropped: z
      .boolean()
      .default(false)
      .describe('Send dropped events, unchanged but for `metadata.dropped` { reason, message, component_id, component_type, component_kind }, to the output `<id>.dropped`.'),
  })
  .superRefine((config, ctx) => {
    if ((config.source === undefined) === (config.file === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'exactly one of "source" or "file" is required', path: [] });
      return;
    }
    const key = config.source !== undefined ? 'source' : 'file';
    let text: { text: string; name: string };
    try {
      text = programText(config);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `cannot read VRL program: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, path: [key] });
      return;
    }
    try {
      programFor(text.text, text.name);
    } catch (error) {
      if (!(error instanceof CompileError)) throw error;
      ctx.addIssue({ code: 'custom', message: `invalid VRL program (${error.diagnostics.length} error(s)):\n${error.message}`, path: [key] });
    }
  });

export type RemapConfig = z.infer<typeof remapSchema>;
