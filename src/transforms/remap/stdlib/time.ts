import { defineFunctions } from '../function.js';
import { I64_MAX, I64_MIN, nanosOf, normInt, rfc3339Nanos, subMsOf, T, timestampOf } from '../value.js';
import { fail, failed, rfc3339 } from './util.js';
import { parseZone, UTC_ZONE, type Zone } from './zones.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** RFC 3339, strictly (the `t'...'` literal and `%+`). */
export function parseRfc3339(text: string): Date | undefined {
  const parsed = strptime(text, '%Y-%m-%dT%H:%M:%S%.f%:z') ?? strptime(text, '%Y-%m-%d %H:%M:%S%.f%:z');
  return parsed;
}

export function parseTimestampLiteral(text: string): Date | undefined {
  return parseRfc3339(text);
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/**
 * A strptime subset (chrono's syntax, as VRL): %Y %m %d %e %H %I %M %S %f %.f %3f %6f %9f %p %b %B %h
 * %a %A %j %y %z %:z %Z %s %T %D %F %R %+ %%. Times without an offset are wall-clock times in
 * `wallZone` (UTC by default).
 */
export function strptime(text: string, format: string, wallZone: Zone = UTC_ZONE): Date | undefined {
  let hasOffset = false;
  let i = 0;
  let year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, nanos = 0, offsetMinutes = 0, pm: boolean | undefined;
  let epoch: number | undefined;
  const num = (min: number, max: number, signed = false): number | undefined => {
    let start = i;
    if (signed && (text[i] === '-' || text[i] === '+')) i++;
    const digitsStart = i;
    while (i < text.length && i - digitsStart < max && isDigit(text[i])) i++;
    if (i - digitsStart < min) {
      i = start;
      return undefined;
    }
    return Number(text.slice(start, i));
  };
  const word = (list: string[], full?: string[]): number | undefined => {
    const rest = text.slice(i).toLowerCase();
    if (full) {
      const idx = full.findIndex((w) => rest.startsWith(w.toLowerCase()));
      if (idx >= 0) {
        i += full[idx]!.length;
        return idx;
      }
    }
    const idx = list.findIndex((w) => rest.startsWith(w));
    if (idx < 0) return undefined;
    i += 3;
    return idx;
  };
  const zone = (colon: boolean): boolean => {
    if (text[i] === 'Z' || text[i] === 'z') {
      i++;
      offsetMinutes = 0;
      hasOffset = true;
      return true;
    }
    const sign = text[i] === '-' ? -1 : text[i] === '+' ? 1 : 0;
    if (!sign) return false;
    i++;
    const h = num(2, 2);
    if (h === undefined) return false;
    if (text[i] === ':') i++;
    else if (colon && isDigit(text[i])) void 0;
    const m = num(2, 2) ?? 0;
    offsetMinutes = sign * (h * 60 + m);
    hasOffset = true;
    return true;
  };
  const fraction = (digits?: number) => {
    const start = i;
    while (i < text.length && isDigit(text[i]) && (digits === undefined || i - start < digits)) i++;
    if (i === start) return false;
    nanos = Number(text.slice(start, i).padEnd(9, '0').slice(0, 9));
    return true;
  };
  for (let f = 0; f < format.length; f++) {
    const c = format[f]!;
    if (c !== '%') {
      if (c === ' ') {
        while (text[i] === ' ') i++;
        continue;
      }
      if (text[i] !== c) return undefined;
      i++;
      continue;
    }
    const spec = format[++f];
    let ok = true;
    if (spec === '.' && isDigit(format[f + 1]) && format[f + 2] === 'f') {
      // %.3f %.6f %.9f: a dot and that many digits
      const digits = Number(format[f + 1]);
      f += 2;
      if (text[i] !== '.' && text[i] !== ',') return undefined;
      i++;
      if (!fraction(digits)) return undefined;
      continue;
    }
    if (spec === '.' && format[f + 1] === 'f') {
      f++;
      if (text[i] === '.' || text[i] === ',') {
        i++;
        ok = fraction();
      }
      continue;
    }
    if (spec === ':' && format[f + 1] === 'z') {
      f++;
      if (!zone(true)) return undefined;
      continue;
    }
    if (spec && isDigit(spec) && format[f + 1] === 'f') {
      f++;
      if (!fraction(Number(spec))) return undefined;
      continue;
    }
    let v: number | undefined;
    switch (spec) {
      case 'Y': v = num(4, 4, true); if (v === undefined) return undefined; year = v; break;
      case 'y': v = num(2, 2); if (v === undefined) return undefined; year = v < 70 ? 2000 + v : 1900 + v; break;
      case 'm': v = num(1, 2); if (v === undefined) return undefined; month = v; break;
      case 'd': case 'e': while (text[i] === ' ') i++; v = num(1, 2); if (v === undefined) return undefined; day = v; break;
      case 'H': case 'k': v = num(1, 2); if (v === undefined) return undefined; hour = v; break;
      case 'I': case 'l': v = num(1, 2); if (v === undefined) return undefined; hour = v; break;
      case 'M': v = num(1, 2); if (v === undefined) return undefined; minute = v; break;
      case 'S': v = num(1, 2); if (v === undefined) return undefined; second = v; break;
      case 'f': ok = fraction(); break;
      case 'j': v = num(1, 3); if (v === undefined) return undefined; month = 1; day = v; break;
      case 'p': case 'P': {
        const two = text.slice(i, i + 2).toLowerCase();
        if (two !== 'am' && two !== 'pm') return undefined;
        pm = two === 'pm';
        i += 2;
        break;
      }
      case 'b': case 'h': v = word(MONTHS); if (v === undefined) return undefined; month = v + 1; break;
      case 'B': v = word(MONTHS, MONTH_NAMES); if (v === undefined) return undefined; month = v + 1; break;
      case 'a': if (word(DAYS) === undefined) return undefined; break;
      case 'A': if (word(DAYS, DAY_NAMES) === undefined) return undefined; break;
      case 'z': if (!zone(false)) return undefined; break;
      case 'Z': { const start = i; while (i < text.length && ((text[i]! >= 'A' && text[i]! <= 'Z') || (text[i]! >= 'a' && text[i]! <= 'z'))) i++; const name = text.slice(start, i).toUpperCase(); if (name !== 'UTC' && name !== 'GMT' && name !== 'Z') return undefined; hasOffset = true; break; }
      case 's': v = num(1, 12, true); if (v === undefined) return undefined; epoch = v; break;
      case 'T': format = format.slice(0, f - 1) + '%H:%M:%S' + format.slice(f + 1); f -= 2; continue;
      case 'D': format = format.slice(0, f - 1) + '%m/%d/%y' + format.slice(f + 1); f -= 2; continue;
      case 'F': format = format.slice(0, f - 1) + '%Y-%m-%d' + format.slice(f + 1); f -= 2; continue;
      case 'R': format = format.slice(0, f - 1) + '%H:%M' + format.slice(f + 1); f -= 2; continue;
      case 'v': format = format.slice(0, f - 1) + '%e-%b-%Y' + format.slice(f + 1); f -= 2; continue;
      case '+': format = format.slice(0, f - 1) + '%Y-%m-%dT%H:%M:%S%.f%:z' + format.slice(f + 1); f -= 2; continue;
      case '%': if (text[i] !== '%') return undefined; i++; break;
      default:
        return undefined;
    }
    if (!ok) return undefined;
  }
  if (i !== text.length) return undefined;
  if (epoch !== undefined) return timestampOf(epoch * 1000 + Math.floor(nanos / 1e6), nanos % 1e6);
  if (pm !== undefined) hour = (hour % 12) + (pm ? 12 : 0);
  if (month < 1 || month > 12 || day < 1 || day > (month === 1 && day > 31 ? 366 : 31) || hour > 23 || minute > 59 || second > 60) return undefined;
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day); // not Date.UTC: it reads years 0-99 as 1900-1999
  const wall = utc.setUTCHours(hour, minute, second, Math.floor(nanos / 1e6));
  if (Number.isNaN(wall)) return undefined;
  const ms = hasOffset || wallZone.isUtc ? wall - offsetMinutes * 60_000 : wallZone.toUtc(wall);
  const date = timestampOf(ms, nanos % 1e6);
  if (Number.isNaN(date.getTime())) return undefined;
  return date;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `±hhmm` (`±hh:mm` with `colon`) for an offset in minutes. */
function offsetText(minutes: number, colon: boolean): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}${colon ? ':' : ''}${pad(abs % 60)}`;
}

/** strftime with the same specifiers, the fields as the wall clock of `zone` shows them (UTC by default). */
export function strftime(date: Date, format: string, zone: Zone = UTC_ZONE): string {
  const offset = zone.offsetAt(date.getTime());
  // The zone's wall-clock fields, read with the UTC getters of a shifted copy.
  const wall = offset === 0 ? date : new Date(date.getTime() + offset * 60_000);
  let out = '';
  for (let f = 0; f < format.length; f++) {
    const c = format[f]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    let spec = format[++f];
    if (spec === '.' || spec === ':' || (spec && isDigit(spec))) {
      const mod = spec;
      spec = format[++f];
      if (spec === 'f') {
        // %.f: a dot and 3, 6 or 9 digits, as many as needed (none for a whole second); %3f %6f %9f: that many.
        const nanos = nanosOf(date);
        const digits = String(nanos).padStart(9, '0');
        if (mod === '.') out += nanos === 0 ? '' : `.${nanos % 1e6 === 0 ? digits.slice(0, 3) : nanos % 1e3 === 0 ? digits.slice(0, 6) : digits}`;
        else out += digits.slice(0, Number(mod));
        continue;
      }
      if (mod === '.' && isDigit(spec) && format[f + 1] === 'f') {
        f++;
        out += `.${String(nanosOf(date)).padStart(9, '0').slice(0, Number(spec))}`; // %.3f %.6f %.9f
        continue;
      }
      if (spec === 'z' && mod === ':') {
        out += offsetText(offset, true);
        continue;
      }
    }
    switch (spec) {
      case 'Y': out += String(wall.getUTCFullYear()).padStart(4, '0'); break; // chrono: 4 digits (0999)
      case 'y': out += pad(wall.getUTCFullYear() % 100); break;
      case 'm': out += pad(wall.getUTCMonth() + 1); break;
      case 'd': out += pad(wall.getUTCDate()); break;
      case 'e': out += String(wall.getUTCDate()).padStart(2, ' '); break;
      case 'H': out += pad(wall.getUTCHours()); break;
      case 'I': out += pad(((wall.getUTCHours() + 11) % 12) + 1); break;
      case 'M': out += pad(wall.getUTCMinutes()); break;
      case 'S': out += pad(wall.getUTCSeconds()); break;
      case 'f': out += String(nanosOf(date)).padStart(9, '0'); break;
      case 'p': out += wall.getUTCHours() < 12 ? 'AM' : 'PM'; break;
      case 'b': case 'h': out += MONTH_NAMES[wall.getUTCMonth()]!.slice(0, 3); break;
      case 'B': out += MONTH_NAMES[wall.getUTCMonth()]; break;
      case 'a': out += DAY_NAMES[wall.getUTCDay()]!.slice(0, 3); break;
      case 'A': out += DAY_NAMES[wall.getUTCDay()]; break;
      case 'j': out += pad(Math.floor((wall.getTime() - Date.UTC(wall.getUTCFullYear(), 0, 1)) / 86_400_000) + 1, 3); break;
      case 'z': out += offsetText(offset, false); break;
      case 'Z': out += zone.abbreviationAt(date.getTime()); break;
      case 's': out += Math.floor(date.getTime() / 1000); break;
      case 'T': out += strftime(date, '%H:%M:%S', zone); break;
      case 'D': out += strftime(date, '%m/%d/%y', zone); break;
      case 'F': out += strftime(date, '%Y-%m-%d', zone); break;
      case 'R': out += strftime(date, '%H:%M', zone); break;
      case 'v': out += strftime(date, '%e-%b-%Y', zone); break;
      case '+': out += offset === 0 ? rfc3339(date).replace('Z', '+00:00') : strftime(date, '%Y-%m-%dT%H:%M:%S%.f%:z', zone); break;
      case '%': out += '%'; break;
      default: out += `%${spec ?? ''}`;
    }
  }
  return out;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, cs: 1e-2, ds: 0.1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

function parseDuration(text: string, unit: string): number {
  const to = DURATION_UNITS[unit];
  if (to === undefined) fail(`unknown unit format: ${JSON.stringify(unit)}`);
  let i = 0;
  let total = 0;
  let any = false;
  const s = text.trim();
  while (i < s.length) {
    const start = i;
    while (i < s.length && (isDigit(s[i]) || s[i] === '.')) i++;
    const n = Number(s.slice(start, i));
    if (i === start || Number.isNaN(n)) fail(`unable to parse duration: ${JSON.stringify(text)}`);
    while (s[i] === ' ') i++;
    const us = i;
    while (i < s.length && !isDigit(s[i]) && s[i] !== ' ' && s[i] !== '.') i++;
    const u = s.slice(us, i);
    const factor = DURATION_UNITS[u];
    if (factor === undefined) fail(`unable to parse duration: ${JSON.stringify(text)}`);
    total += n * factor;
    any = true;
    while (s[i] === ' ') i++;
  }
  if (!any) fail(`unable to parse duration: ${JSON.stringify(text)}`);
  return total / to!;
}

defineFunctions([
  { name: 'now', params: [], returns: T.timestamp, call: () => new Date() },
  {
    name: 'parse_timestamp',
    params: [{ name: 'value', type: T.bytes | T.timestamp, required: true }, { name: 'format', type: T.bytes, required: true }, { name: 'timezone', type: T.bytes }],
    returns: T.timestamp,
    fallible: true,
    call: ([v, format, tz], ctx) => {
      if (v instanceof Date) return v;
      const zone = tz === undefined ? (ctx.timezone ?? UTC_ZONE) : parseZone(String(tz));
      if (zone === undefined) return failed(`unable to parse timezone: ${String(tz)}`);
      return strptime(String(v), String(format), zone) ?? failed(`failed parsing timestamp ${JSON.stringify(v)} using format ${JSON.stringify(format)}`);
    },
  },
  {
    name: 'format_timestamp',
    params: [{ name: 'value', type: T.timestamp, required: true }, { name: 'format', type: T.bytes, required: true }, { name: 'timezone', type: T.bytes }],
    returns: T.bytes,
    fallible: true,
    call: ([v, format, tz]) => {
      // VRL: without the argument, UTC (the program's `timezone` applies to parsing only).
      const zone = tz === undefined ? UTC_ZONE : parseZone(String(tz));
      if (zone === undefined) return failed(`unable to parse timezone: ${String(tz)}`);
      return strftime(v as Date, String(format), zone);
    },
  },
  {
    name: 'to_unix_timestamp',
    params: [{ name: 'value', type: T.timestamp, required: true }, { name: 'unit', type: T.bytes }],
    returns: T.integer,
    bigints: true,
    call: ([v, unit]) => {
      const date = v as Date;
      const ms = date.getTime();
      if (unit === 'milliseconds') return ms;
      if (unit === 'microseconds') return normInt(BigInt(ms) * 1000n + BigInt(Math.floor(subMsOf(date) / 1000))); // beyond 2^53 after 2255
      if (unit === 'nanoseconds') {
        const nanos = BigInt(ms) * 1_000_000n + BigInt(subMsOf(date)); // ~1.7e18: an i64 BigInt
        return nanos > I64_MAX || nanos < I64_MIN ? fail(`timestamp out of range for nanoseconds (years 1677-2262): ${rfc3339Nanos(date)}`) : normInt(nanos);
      }
      return Math.floor(ms / 1000);
    },
  },
  {
    name: 'from_unix_timestamp',
    params: [{ name: 'value', type: T.integer, required: true }, { name: 'unit', type: T.bytes }],
    returns: T.timestamp,
    bigints: true,
    call: ([v, unit]) => {
      const n = BigInt(v as number | bigint);
      const nanos = unit === 'milliseconds' ? n * 1_000_000n : unit === 'microseconds' ? n * 1000n : unit === 'nanoseconds' ? n : n * 1_000_000_000n;
      const ms = nanos / 1_000_000n - (nanos % 1_000_000n < 0n ? 1n : 0n); // floor
      const date = timestampOf(Number(ms), Number(nanos - ms * 1_000_000n));
      return Number.isNaN(date.getTime()) ? fail(`timestamp out of range: ${n}`) : date;
    },
  },
  {
    name: 'parse_duration',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'unit', type: T.bytes, required: true }],
    returns: T.float,
    fallible: true,
    call: ([v, unit]) => parseDuration(String(v), String(unit)),
  },
]);
