/**
 * Loki entry timestamps: nanoseconds since the epoch as a string of digits, taken from the
 * RFC 3339 `timestamp` without going through a float (a double cannot hold 19 digits).
 */
const RFC3339 = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:\.(\d{1,9})\d*)?(Z|z|[+-]\d{2}:\d{2})$/;

export function nanosecondsOf(timestamp: unknown, now: () => number = Date.now): string {
  if (typeof timestamp === 'string') {
    const match = RFC3339.exec(timestamp);
    if (match) {
      const ms = Date.parse(`${match[1]!.replace(' ', 'T')}${match[3]!.toUpperCase()}`);
      if (!Number.isNaN(ms)) return joinSeconds(Math.floor(ms / 1000), (match[2] ?? '').padEnd(9, '0'));
    }
  }
  const ms = now();
  return joinSeconds(Math.floor(ms / 1000), String((ms % 1000) * 1_000_000).padStart(9, '0'));
}

function joinSeconds(seconds: number, nanos: string): string {
  return seconds === 0 ? String(Number(nanos)) : `${seconds}${nanos}`;
}

/** Compare two digit strings as numbers. */
export function compareNanos(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}
