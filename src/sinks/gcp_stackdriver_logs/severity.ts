/** Cloud Logging's LogSeverity names by value. */
const NAMES: Record<number, string> = { 0: 'DEFAULT', 100: 'DEBUG', 200: 'INFO', 300: 'NOTICE', 400: 'WARNING', 500: 'ERROR', 600: 'CRITICAL', 700: 'ALERT', 800: 'EMERGENCY' };

/** Common level words by prefix (case ignored), as Vector maps them; the first match wins. */
const PREFIXES: Array<[string, number]> = [
  ['EMERG', 800],
  ['FATAL', 800],
  ['ALERT', 700],
  ['CRIT', 600],
  ['ERR', 500],
  ['WARN', 400],
  ['NOTICE', 300],
  ['INFO', 200],
  ['DEBUG', 100],
  ['TRACE', 100],
  ['DEFAULT', 0],
];

function fromNumber(n: number): string | undefined {
  if (!Number.isFinite(n) || n < 0) return undefined;
  return NAMES[Math.min(800, n - (n % 100))];
}

/**
 * The LogSeverity name for a severity field: a number 0-800 (rounded down to the hundred, as
 * Vector does; above 800 is EMERGENCY), its decimal string, or a level word matched by prefix
 * (`err`, `Warning`, `fatal`). Undefined when it is none of these.
 */
export function severityName(value: unknown): string | undefined {
  if (typeof value === 'number') return fromNumber(Math.trunc(value));
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toUpperCase();
  if (/^\d+$/.test(text)) return fromNumber(Number(text));
  for (const [prefix, n] of PREFIXES) if (text.startsWith(prefix)) return NAMES[n];
  return undefined;
}
