import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CompileError } from './diagnostic.js';
import { compileProgram, NO_METADATA, type Program } from './program.js';
import { parseZone } from './stdlib/zones.js';
import { share } from './value.js';

/**
 * Programs compiled while the config is validated, by text: `build` takes the same compiled
 * program instead of compiling again (bounded: configs are few).
 */
const compiled = new Map<string, Program>();

export function programFor(source: string, name: string): Program {
  let program = compiled.get(source);
  if (!program) {
    program = compileProgram(source, name, { resultUnused: true });
    if (compiled.size > 64) compiled.delete(compiled.keys().next().value!);
    compiled.set(source, program);
  }
  return program;
}

/** The program texts: `source`, or `file`, or each of `files` (relative to the working directory, as Vector). */
export function programTexts(config: { source?: string; file?: string; files?: string[] }): { text: string; name: string }[] {
  if (config.source !== undefined) return [{ text: config.source, name: '' }];
  const files = config.file !== undefined ? [config.file] : (config.files ?? []);
  return files.map((file) => ({ text: readFileSync(file, 'utf8'), name: file }));
}

/** Several programs (`files`) run in order, each on what the previous one produced. */
export function composePrograms(programs: Program[]): Program {
  if (programs.length === 1) return programs[0]!;
  return {
    source: programs.map((p) => p.source).join('\n'),
    canFail: programs.some((p) => p.canFail),
    canError: programs.some((p) => p.canError),
    canAbort: programs.some((p) => p.canAbort),
    // A later file's failure comes after what the earlier ones wrote.
    errorsAfterWrite: programs.some((p, i) => (i === 0 ? p.errorsAfterWrite : p.canError)),
    abortsAfterWrite: programs.some((p, i) => (i === 0 ? p.abortsAfterWrite : p.canAbort)),
    engine: programs.every((p) => p.engine === 'generated') ? 'generated' : 'closures',
    run(fields, ctx, meta, keepOriginal) {
      // Frozen, the fields stay as they are: every program copies what it changes.
      if (keepOriginal) share(fields);
      let events = [fields];
      let value: unknown = null;
      for (const program of programs) {
        const next = [];
        for (const event of events) {
          // Events split by an earlier file share the metadata as it was then.
          const outcome = program.run(event, ctx, meta);
          if (outcome.kind !== 'ok') return keepOriginal ? { ...outcome, original: { ...fields } } : outcome;
          next.push(...outcome.events);
          value = outcome.value;
          meta = outcome.meta;
        }
        events = next;
      }
      return { kind: 'ok', events, value, meta: meta ?? NO_METADATA };
    },
  };
}

export function buildProgram(config: { source?: string; file?: string; files?: string[] }): Program {
  return composePrograms(programTexts(config).map(({ text, name }) => programFor(text, name)));
}

export const remapSchema = z
  .strictObject({
    source: z.string().optional().describe('The VRL program.'),
    file: z.string().min(1).optional().describe('A file holding the VRL program (instead of `source`), relative to the working directory.'),
    files: z.array(z.string().min(1)).min(1).optional().describe('Files of VRL programs run in order (instead of `source`/`file`).'),
    timezone: z
      .string()
      .refine((name) => parseZone(name) !== undefined, { message: 'unknown time zone: a tz database name (Europe/Berlin, America/New_York, UTC) or "local"' })
      .optional()
      .describe('Time zone of timestamps parse_timestamp and the common/apache/nginx log parsers read without an offset: a tz database name or "local" (the agent\'s zone). Default UTC.'),
    drop_on_error: z.boolean().default(false).describe('Drop an event whose program fails at run time (otherwise it passes on unchanged).'),
    drop_on_abort: z.boolean().default(true).describe('Drop an event whose program runs `abort` (otherwise it passes on unchanged).'),
    reroute_dropped: z
      .boolean()
      .default(false)
      .describe('Send dropped events, unchanged but for `metadata.dropped` { reason, message, component_id, component_type, component_kind }, to the output `<id>.dropped`.'),
  })
  .superRefine((config, ctx) => {
    const given = ['source', 'file', 'files'].filter((k) => config[k as 'source' | 'file' | 'files'] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({ code: 'custom', message: 'exactly one of "source", "file" or "files" is required', path: [] });
      return;
    }
    const key = given[0]!;
    let texts: { text: string; name: string }[];
    try {
      texts = programTexts(config);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `cannot read VRL program: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, path: [key] });
      return;
    }
    for (const { text, name } of texts) {
      try {
        programFor(text, name);
      } catch (error) {
        if (!(error instanceof CompileError)) throw error;
        ctx.addIssue({ code: 'custom', message: `invalid VRL program${name ? ` ${name}` : ''} (${error.diagnostics.length} error(s)):\n${error.message}`, path: [key] });
      }
    }
  });

export type RemapConfig = z.infer<typeof remapSchema>;
