import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Internal logs on stderr (stdout belongs to the console sink): JSON lines, or one text line per record. */
export function createLogger(level: string, format: LogFormat = 'json'): Logger {
  const stderr = pino.destination({ fd: 2, sync: true });
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    format === 'text' ? { write: (line: string) => stderr.write(textLine(line)) } : stderr,
  );
}

/**
 * `--log-level` moved by `-v` (more detail) and `-q` (less), each repeatable: `-vv` from info is
 * trace. Stops at trace and at silent.
 */
export function adjustLevel(level: string, verbose: number, quiet: number): string {
  const index = LOG_LEVELS.indexOf(level as (typeof LOG_LEVELS)[number]);
  const moved = Math.min(LOG_LEVELS.length - 1, Math.max(0, index - verbose + quiet));
  return LOG_LEVELS[moved]!;
}

const COMPONENT_KEYS = new Set(['component_kind', 'component_id', 'component_type']);
const HIDDEN_KEYS = new Set(['time', 'level', 'msg', 'pid', ...COMPONENT_KEYS]);

/**
 * One pino JSON record as a human line:
 * `2026-01-02T03:04:05.678Z WARN  sink.out: request failed: retrying reason=http_5xx events=5`.
 * Strings with spaces or quotes, and objects, are JSON-quoted, so a record stays on one line.
 */
export function textLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = String(record.level ?? '').toUpperCase().padEnd(5);
  const component = record.component_id !== undefined ? `${String(record.component_kind)}.${String(record.component_id)}: ` : '';
  let line = `${String(record.time ?? '')} ${level} ${component}${String(record.msg ?? '')}`;
  for (const [key, value] of Object.entries(record)) {
    if (HIDDEN_KEYS.has(key) || value === undefined) continue;
    line += ` ${key}=${typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)}`;
  }
  return line + '\n';
}
