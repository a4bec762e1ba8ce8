import { z } from 'zod';
import type { Fields } from '../../core/event.js';
import { findFunction, type RunContext } from '../../transforms/remap/function.js';
import { buildProgram, remapSchema } from '../../transforms/remap/schema.js';
import type { Program } from '../../transforms/remap/program.js';
import { MULTILINE_LANGUAGES, multilineRules, type MultilineRules } from './multiline/rules.js';

export const PARSER_ANNOTATION = 'sluice.dev/parser';
export const MULTILINE_ANNOTATION = 'sluice.dev/multiline';
const BUILT_IN_PARSERS = ['json', 'logfmt', 'klog'] as const;

/** Keys sluice sets on every event: a parsed line never replaces them (a pod cannot forge its origin). */
export const AGENT_FIELDS: ReadonlySet<string> = new Set(['timestamp', 'stream', 'file', 'source_type', 'kubernetes']);
/** Where a parsed value for one of `AGENT_FIELDS` goes instead: `log_<key>`. */
const SHADOW_PREFIX = 'log_';

const remapParserSchema = z
  .strictObject({
    source: z.string().optional().describe('The VRL program.'),
    file: z.string().min(1).optional().describe('A file holding the VRL program, relative to the working directory.'),
    files: z.array(z.string().min(1)).min(1).optional().describe('Files of VRL programs run in order.'),
  })
  .superRefine((config, ctx) => {
    // The remap transform's own checks: exactly one of source/file/files, and the program compiles.
    const checked = remapSchema.safeParse(config);
    if (!checked.success) for (const issue of checked.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });

/** The source options of per-pod parsing and multiline (spread into the kubernetes_logs schema). */
export const podShapingOptionsShape = {
  default_parser: z
    .string()
    .min(1)
    .default('none')
    .describe(
      'Parser of pods without a sluice.dev/parser annotation: none, json, logfmt, klog, or the name of one of `parsers`. A pod chooses its own with the annotation `sluice.dev/parser: <parser>` (one container: `sluice.dev/parser-<container>`); "none" turns the default off for it.',
    ),
  default_multiline: z
    .string()
    .min(1)
    .default('none')
    .describe(
      'Multiline rules of pods without a sluice.dev/multiline annotation: none, java, python, go, dotnet, or an RE2 pattern matching the first line of each event (the lines that do not match join the event before them, as OTel recombine\'s is_first_entry). A pod chooses with `sluice.dev/multiline: <rules>` (one container: `sluice.dev/multiline-<container>`).',
    ),
  multiline: z
    .strictObject({
      max_lines: z.number().int().min(2).default(1000).describe('A joined event reaching this many lines is emitted (counted as multiline_limit); the lines after it form the next event.'),
      max_bytes: z.number().int().min(1024).default(1024 * 1024).describe('The same for the bytes of a joined message.'),
      timeout_ms: z
        .number()
        .int()
        .min(10)
        .default(1000)
        .describe('A joined event that took no line for this long is emitted (checked on every read and at least every second, so up to about a second later on an idle file).'),
    })
    .default({ max_lines: 1000, max_bytes: 1024 * 1024, timeout_ms: 1000 })
    .describe('Bounds of multiline joining, per file and stream. Until a joined event is emitted, the file\'s checkpoint stays at its first line (a restart reads the whole group again).'),
  parsers: z
    .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a parser name is letters, digits, _ . -'), remapParserSchema)
    .default({})
    .describe(
      'Named VRL programs (`source`, `file` or `files`, as the remap transform) a pod may choose as its parser (`sluice.dev/parser: <name>`). A program runs on the whole event after multiline; a run-time error or abort ships the event unchanged (counted as pod_parser_failed). Trusted config: unlike json/logfmt/klog, a program may set any field.',
    ),
};

interface ShapingOptionsInput {
  default_parser: string;
  default_multiline: string;
  parsers: Record<string, { source?: string; file?: string; files?: string[] }>;
}

/** Turns a parsed line into the event's fields; false when the line is not in the parser's format. */
export interface PodParser {
  readonly name: string;
  apply(fields: Fields): Fields[] | false;
}

const quietContext: RunContext = { log: () => {}, env: {} };

/** Merges parsed keys into the event; keys sluice owns keep sluice's value, the line's goes to `log_<key>`. */
export function mergeParsed(fields: Fields, parsed: Record<string, unknown>): Fields {
  for (const key in parsed) {
    if (AGENT_FIELDS.has(key)) fields[SHADOW_PREFIX + key] = parsed[key];
    else fields[key] = parsed[key];
  }
  return fields;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** A VRL stdlib function as a parser: the same code as `parse_logfmt!(.message)` in a remap. */
function vrlFunctionParser(name: string, functionName: string): PodParser {
  const call = findFunction(functionName)?.call;
  if (call === undefined) throw new Error(`VRL function ${functionName} missing`);
  return {
    name,
    apply(fields) {
      const message = fields.message;
      if (typeof message !== 'string') return false;
      let parsed: unknown;
      try {
        parsed = call([message], quietContext);
      } catch {
        return false;
      }
      return isRecord(parsed) ? [mergeParsed(fields, parsed)] : false;
    },
  };
}

const jsonParser: PodParser = {
  name: 'json',
  apply(fields) {
    const message = fields.message;
    if (typeof message !== 'string' || message.charCodeAt(0) !== 0x7b /* { */) return false;
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return false;
    }
    return isRecord(parsed) ? [mergeParsed(fields, parsed)] : false;
  },
};

function programParser(name: string, program: Program): PodParser {
  return {
    name,
    apply(fields) {
      const outcome = program.run(fields, quietContext);
      return outcome.kind === 'ok' ? outcome.events : false;
    },
  };
}

/**
 * The source's parsers by name (built-in and configured) and the multiline rules, resolved from
 * a pod's annotations. A pod writes its annotations: an unknown parser or a bad pattern is
 * reported (`invalid`) and that setting falls back to none; it never fails the source.
 */
export class PodShapingResolver {
  private readonly parsers = new Map<string, PodParser>();

  constructor(private readonly options: ShapingOptionsInput) {
    this.parsers.set('json', jsonParser);
    this.parsers.set('logfmt', vrlFunctionParser('logfmt', 'parse_logfmt'));
    this.parsers.set('klog', vrlFunctionParser('klog', 'parse_klog'));
    for (const [name, config] of Object.entries(options.parsers)) this.parsers.set(name, programParser(name, buildProgram(config)));
  }

  resolve(
    annotations: Readonly<Record<string, string>> | undefined,
    container: string,
    invalid: (key: string, value: string, reason: string) => void,
  ): { parser: PodParser | undefined; multiline: MultilineRules | undefined } {
    const pick = (annotation: string, fallback: string): { key: string; value: string } => {
      const own = annotations?.[`${annotation}-${container}`];
      if (own !== undefined) return { key: `${annotation}-${container}`, value: own.trim() };
      const pod = annotations?.[annotation];
      if (pod !== undefined) return { key: annotation, value: pod.trim() };
      return { key: 'default', value: fallback };
    };
    const parserChoice = pick(PARSER_ANNOTATION, this.options.default_parser);
    let parser: PodParser | undefined;
    if (parserChoice.value !== 'none' && parserChoice.value !== '') {
      parser = this.parsers.get(parserChoice.value);
      if (parser === undefined) invalid(parserChoice.key, parserChoice.value, `unknown parser (known: none, ${[...this.parsers.keys()].join(', ')})`);
    }
    const multilineChoice = pick(MULTILINE_ANNOTATION, this.options.default_multiline);
    let multiline: MultilineRules | undefined;
    if (multilineChoice.value !== 'none' && multilineChoice.value !== '') {
      try {
        multiline = multilineRules(multilineChoice.value);
      } catch (error) {
        invalid(multilineChoice.key, multilineChoice.value, `not one of none, ${MULTILINE_LANGUAGES.join(', ')} and not a valid pattern: ${(error as Error).message}`);
      }
    }
    return { parser, multiline };
  }
}

/** Config check: the defaults must name a parser / valid rules (a typo fails validation, naming the key). */
export function checkShapingDefaults(config: ShapingOptionsInput, ctx: z.RefinementCtx): void {
  const known = ['none', ...BUILT_IN_PARSERS, ...Object.keys(config.parsers)];
  if (!known.includes(config.default_parser)) ctx.addIssue({ code: 'custom', path: ['default_parser'], message: `unknown parser "${config.default_parser}" (known: ${known.join(', ')})` });
  if (config.default_multiline !== 'none') {
    try {
      multilineRules(config.default_multiline);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['default_multiline'], message: `not one of none, ${MULTILINE_LANGUAGES.join(', ')}, and not a valid pattern: ${(error as Error).message}` });
    }
  }
}
