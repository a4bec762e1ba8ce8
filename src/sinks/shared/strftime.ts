/**
 * strftime for key prefixes and index names (`logs-%Y.%m.%d`, `date=%F/`), always in UTC.
 * Supports %Y %y %m %d %H %M %S %j %F %T %s %%; other directives are an error at config load.
 */
const DIRECTIVES: Record<string, (d: Date) => string> = {
  Y: (d) => String(d.getUTCFullYear()),
  y: (d) => pad(d.getUTCFullYear() % 100),
  m: (d) => pad(d.getUTCMonth() + 1),
  d: (d) => pad(d.getUTCDate()),
  H: (d) => pad(d.getUTCHours()),
  M: (d) => pad(d.getUTCMinutes()),
  S: (d) => pad(d.getUTCSeconds()),
  j: (d) => String(Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1).padStart(3, '0'),
  F: (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
  T: (d) => `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
  s: (d) => String(Math.floor(d.getTime() / 1000)),
  '%': () => '%',
};

function pad(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

export function hasStrftime(format: string): boolean {
  return /%./.test(format);
}

/** Throws on an unknown directive, so config validation catches `%Q`. */
export function checkStrftime(format: string): void {
  for (const match of format.matchAll(/%(.)/g)) {
    if (!(match[1]! in DIRECTIVES)) throw new Error(`unsupported strftime directive %${match[1]} in "${format}"`);
  }
}

export function strftime(format: string, date: Date): string {
  return format.replace(/%(.)/g, (whole, directive: string) => DIRECTIVES[directive]?.(date) ?? whole);
}

/**
 * The Date of an event's RFC 3339 `timestamp` string (sub-millisecond digits ignored), or now
 * when absent or unparseable.
 */
export function eventDate(timestamp: unknown): Date {
  if (typeof timestamp === 'string') {
    const ms = Date.parse(timestamp);
    if (!Number.isNaN(ms)) return new Date(ms);
  }
  return new Date();
}
