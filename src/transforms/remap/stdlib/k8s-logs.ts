// Functions production Kubernetes configs reach for beyond the first set: glog lines (Google
// libraries, many Go/C++ services), auth logs of the nodes, CEF from security appliances, `find`
// and `sieve` on strings. Patterns are RE2 (linear time), compiled once.
import { defineFunctions } from '../function.js';
import { T, VrlRegex, type Obj, type VrlError } from '../value.js';
import { captures, KLOG_LEVELS, syslog, timestamp } from './logs.js';
import { fail, failed, optBool } from './util.js';

const GLOG = new VrlRegex(
  '^\\s*(?P<level>\\w)(?P<timestamp>\\d{8} \\d{2}:\\d{2}:\\d{2}\\.\\d{6})\\s+(?P<id>\\d+) (?P<file>.+):(?P<line>\\d+)\\] (?P<message>.*?)\\s*$',
);

function parseGlog(text: string): Obj | VrlError {
  const g = captures(GLOG, text);
  if (!g) return failed('failed parsing glog message');
  const level = KLOG_LEVELS[g.level!];
  if (level === undefined) return failed(`unrecognized log level "${g.level}"`);
  const id = Number(g.id);
  if (!Number.isSafeInteger(id)) return failed('failed parsing id');
  return {
    level,
    timestamp: timestamp(g.timestamp!, '%Y%m%d %H:%M:%S%.f'),
    id,
    file: g.file,
    line: Number(g.line),
    message: g.message,
  };
}

/**
 * An auth.log / secure line (BSD syslog without a priority). Its year is not in the line: the
 * current one, or the one before for a December line read in January.
 */
function parseLinuxAuthorization(text: string, now = new Date()): Obj {
  const out = syslog(text);
  const ts = out.timestamp;
  if (ts instanceof Date && now.getUTCMonth() === 0 && ts.getUTCMonth() === 11) {
    const earlier = new Date(ts.getTime());
    earlier.setUTCFullYear(ts.getUTCFullYear() - 1);
    out.timestamp = earlier;
  }
  return out;
}

const CEF_HEADER = ['cefVersion', 'deviceVendor', 'deviceProduct', 'deviceVersion', 'deviceEventClassId', 'name', 'severity'];
/** An extension key: where a value ends is where the next ` key=` starts. */
const CEF_KEY = new VrlRegex('(?:^|\\s)(?P<key>[A-Za-z0-9_.\\[\\]-]+)=');

function unescapeCef(value: string, header: boolean): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    const next = value[i + 1];
    if (c !== '\\' || next === undefined) {
      out += c;
      continue;
    }
    if (next === '\\' || (header && next === '|') || (!header && next === '=')) out += next;
    else if (!header && next === 'n') out += '\n';
    else if (!header && next === 'r') out += '\r';
    else {
      out += c;
      continue;
    }
    i++;
  }
  return out;
}

function parseCef(text: string, translateCustomFields: boolean): Obj {
  const start = text.indexOf('CEF:');
  if (start < 0) fail('could not find a CEF header');
  // Seven header fields split at unescaped `|`; the extension is the rest.
  const fields: string[] = [];
  let current = '';
  let i = start + 4;
  for (; i < text.length && fields.length < 7; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[++i];
    } else if (c === '|') {
      fields.push(current);
      current = '';
    } else current += c;
  }
  if (fields.length < 7) fail('incomplete CEF header: expected 7 fields separated by "|"');
  const out: Obj = {};
  CEF_HEADER.forEach((name, n) => (out[name] = unescapeCef(fields[n]!, true)));
  const extension = text.slice(i);
  const keys: { key: string; keyStart: number; valueStart: number }[] = [];
  const m = CEF_KEY.re.matcher(extension);
  while (m.find()) {
    // `\=` inside a value is not a key boundary.
    const at = m.start('key');
    if (at > 0 && extension[at - 1] === '\\') continue;
    keys.push({ key: m.group('key')!, keyStart: at, valueStart: m.end() });
  }
  if (extension.trim() !== '' && (keys.length === 0 || extension.slice(0, keys[0]!.keyStart).trim() !== '')) fail('invalid CEF extension: expected key=value pairs');
  keys.forEach(({ key, valueStart }, n) => {
    const end = n + 1 < keys.length ? keys[n + 1]!.keyStart : extension.length;
    let value = unescapeCef(extension.slice(valueStart, end).trim(), false);
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out[key] = value;
  });
  if (translateCustomFields) {
    for (const key of Object.keys(out)) {
      if (!key.endsWith('Label') || CEF_HEADER.includes(key)) continue;
      const base = key.slice(0, -'Label'.length);
      if (!Object.hasOwn(out, base)) continue;
      const label = String(out[key]);
      const value = out[base];
      delete out[key];
      delete out[base];
      out[label] = value;
    }
  }
  return out;
}

/** Keeps what matches `permitted`; a rejected run of one character becomes `single`, a longer one `repeated`. */
function sieve(value: string, permitted: VrlRegex, single: string, repeated: string): string {
  let out = '';
  let last = 0;
  const reject = (gap: string) => {
    const n = [...gap].length;
    if (n === 1) out += single;
    else if (n > 1) out += repeated;
  };
  const m = permitted.re.matcher(value);
  while (m.find()) {
    const start = m.start();
    const end = m.end();
    if (end === start) continue; // an empty match keeps nothing
    reject(value.slice(last, start));
    out += value.slice(start, end);
    last = end;
  }
  reject(value.slice(last));
  return out;
}

function find(value: string, pattern: unknown, from: number): number {
  const start = Math.max(0, from);
  if (start > value.length) return -1;
  if (pattern instanceof VrlRegex) {
    const m = pattern.re.matcher(value);
    return m.find(start) ? m.start() : -1;
  }
  return value.indexOf(String(pattern), start);
}

defineFunctions([
  {
    name: 'parse_glog',
    params: [{ name: 'value', type: T.bytes, required: true }],
    returns: T.object,
    fallible: true,
    call: ([v]) => parseGlog(String(v)),
  },
  {
    name: 'parse_linux_authorization',
    params: [{ name: 'value', type: T.bytes, required: true }],
    returns: T.object,
    fallible: true,
    call: ([v]) => parseLinuxAuthorization(String(v)),
  },
  {
    name: 'parse_cef',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'translate_custom_fields', type: T.boolean }],
    returns: T.object,
    fallible: true,
    call: ([v, translate]) => parseCef(String(v), optBool(translate, false)),
  },
  {
    name: 'sieve',
    params: [
      { name: 'value', type: T.bytes, required: true },
      { name: 'permitted_characters', type: T.regex, required: true },
      { name: 'replace_single', type: T.bytes },
      { name: 'replace_repeated', type: T.bytes },
    ],
    returns: T.bytes,
    call: ([v, permitted, single, repeated]) => sieve(String(v), permitted as VrlRegex, typeof single === 'string' ? single : '', typeof repeated === 'string' ? repeated : ''),
  },
  {
    name: 'find',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'pattern', type: T.bytes | T.regex, required: true }, { name: 'from', type: T.integer }],
    returns: T.integer,
    call: ([v, pattern, from]) => find(String(v), pattern, typeof from === 'number' ? from : 0),
  },
]);

export const forTests = { parseLinuxAuthorization };
