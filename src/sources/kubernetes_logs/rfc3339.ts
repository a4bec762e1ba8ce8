/**
 * Whether `buf[start, end)` is an RFC 3339 timestamp as container runtimes write it and kubelet
 * accepts it (Go's `time.Parse(time.RFC3339Nano, …)`): `YYYY-MM-DDTHH:MM:SS[.1-9 digits](Z|±HH:MM)`,
 * upper-case `T` and `Z`, fields in range (day within its month, leap years included; no leap
 * second, which Go rejects too). Runs once per line on the hot path: byte compares only, no regex,
 * no Date, no string.
 */
export function isRfc3339(buf: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  // `2006-01-02T15:04:05Z` is the shortest; 9 fraction digits and `+hh:mm` the longest.
  if (length < 20 || length > 35) return false;
  if (buf[start + 4] !== DASH || buf[start + 7] !== DASH || buf[start + 10] !== T) return false;
  if (buf[start + 13] !== COLON || buf[start + 16] !== COLON) return false;
  const year = twoDigits(buf, start) * 100 + twoDigits(buf, start + 2);
  const month = twoDigits(buf, start + 5);
  const day = twoDigits(buf, start + 8);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return false;
  if (!inRange(buf, start + 11, 23) || !inRange(buf, start + 14, 59) || !inRange(buf, start + 17, 59)) return false;

  let pos = start + 19;
  if (buf[pos] === DOT) {
    const fractionStart = ++pos;
    while (pos < end && isDigit(buf[pos]!)) pos++;
    if (pos === fractionStart || pos - fractionStart > 9) return false;
  }
  if (buf[pos] === Z) return pos + 1 === end;
  if (buf[pos] !== PLUS && buf[pos] !== DASH) return false;
  return pos + 6 === end && inRange(buf, pos + 1, 23) && buf[pos + 3] === COLON && inRange(buf, pos + 4, 59);
}

const DASH = 0x2d;
const COLON = 0x3a;
const DOT = 0x2e;
const PLUS = 0x2b;
const T = 0x54;
const Z = 0x5a;
const ZERO = 0x30;

const isDigit = (byte: number) => byte >= ZERO && byte <= ZERO + 9;

/** The two-digit number at `pos`, or a large negative number when either byte is not a digit. */
function twoDigits(buf: Uint8Array, pos: number): number {
  const tens = buf[pos]! - ZERO;
  const ones = buf[pos + 1]! - ZERO;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -10_000;
}

function inRange(buf: Uint8Array, pos: number, max: number): boolean {
  const value = twoDigits(buf, pos);
  return value >= 0 && value <= max;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
