import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Called with each record's JSON line (as written by pino, before any text formatting). */
export type LogRecordListener = (jsonLine: string) => void;

const recordListeners = new Set<LogRecordListener>();

/**
 * Subscribe to every record of the loggers made by `createLogger`, besides stderr (which is
 * unchanged). Returns the unsubscribe function. A listener runs synchronously inside the log
 * call: it must not log (it would recurse) and should only copy the line somewhere bounded.
 */
export function addLogRecordListener(listener: LogRecordListener): () => void {
  recordListeners.add(listener);
  return () => recordListeners.delete(listener);
}

function notifyListeners(line: string): void {
  for (const listener of recordListeners) {
    try {
      listener(line);
    } catch {
      // A listener's failure must not break logging to stderr.
    }
  }
}

/**
 * Internal logs on stderr (stdout belongs to the console sink): JSON lines, or one text line per
 * record. Record listeners (`addLogRecordListener`) get the JSON line too; with none, the cost is
 * one size check per record.
 */
export function createLogger(level: string, format: LogFormat = 'json'): Logger {
  const stderr = pino.destination({ fd: 2, sync: true });
  const write =
    format === 'text'
      ? (line: string): void => {
          stderr.write(textLine(line));
          if (recordListeners.size > 0) notifyListeners(line);
        }
      : (line: string): void => {
          stderr.write(line);
          if (recordListeners.size > 0) notifyListeners(line);
        };
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    { write },
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
