import { defineFunctions } from '../function.js';
import { T, VrlRegex, type Obj } from '../value.js';
import { strptime } from './time.js';
import { fail, failed } from './util.js';
import type { Zone } from './zones.js';

// Every pattern is RE2 (linear time) and compiled once here.
const COMMON = new VrlRegex(
  '^(?P<host>\\S+) (?P<identity>\\S+) (?P<user>\\S+) \\[(?P<timestamp>[^\\]]+)\\] "(?P<message>(?P<method>\\S+) (?P<path>\\S+) (?P<protocol>[^"]+)|[^"]*)" (?P<status>\\d{3}|-) (?P<size>\\d+|-)',
);
const COMBINED_TAIL = new VrlRegex('^ "(?P<referrer>[^"]*)" "(?P<agent>[^"]*)"');
const APACHE_ERROR = new VrlRegex(
  '^\\[(?P<timestamp>[^\\]]+)\\] \\[(?:(?P<module>[^:\\]]+):)?(?P<severity>[^\\]]+)\\](?: \\[pid (?P<pid>\\d+)(?::tid (?P<thread>\\d+))?\\])?(?: \\[client (?P<client>[^:\\]]+)(?::(?P<port>\\d+))?\\])? (?P<message>.*)$',
);
const NGINX_ERROR = new VrlRegex(
  '^(?P<timestamp>\\d{4}/\\d{2}/\\d{2} \\d{2}:\\d{2}:\\d{2}) \\[(?P<severity>\\w+)\\] (?P<pid>\\d+)#(?P<tid>\\d+):(?: \\*(?P<cid>\\d+))? (?P<message>.*)$',
);
const SYSLOG_5424 = new VrlRegex(
  '^<(?P<pri>\\d{1,3})>(?P<version>\\d{1,2}) (?P<timestamp>\\S+) (?P<hostname>\\S+) (?P<appname>\\S+) (?P<procid>\\S+) (?P<msgid>\\S+) (?P<sd>-|(?:\\[(?:[^\\]\\\\]|\\\\.)*\\])+)(?: (?P<message>.*))?$',
);
const SYSLOG_3164 = new VrlRegex(
  '^(?:<(?P<pri>\\d{1,3})>)?(?P<timestamp>[A-Z][a-z]{2} [ \\d]\\d \\d{2}:\\d{2}:\\d{2}) (?P<hostname>\\S+) (?P<appname>[^\\[:\\s]+)(?:\\[(?P<procid>[^\\]]+)\\])?: ?(?P<message>.*)$',
);
const SD_ELEMENT = new VrlRegex('\\[(?P<id>[^\\s\\]]+)(?P<params>(?:[^\\]\\\\"]|"(?:[^"\\\\]|\\\\.)*")*)\\]');
const SD_PARAM = new VrlRegex('(?P<k>[^\\s=]+)="(?P<v>(?:[^"\\\\]|\\\\.)*)"');
const KLOG = new VrlRegex(
  '^(?P<level>[IWEF])(?P<month>\\d{2})(?P<day>\\d{2}) (?P<time>\\d{2}:\\d{2}:\\d{2}\\.\\d{6}) +(?P<id>\\d+) (?P<file>[^:]+):(?P<line>\\d+)\\] (?P<message>.*)$',
);

export function captures(re: VrlRegex, text: string): Record<string, string | null> | undefined {
  const m = re.re.matcher(text);
  if (!m.find()) return undefined;
  const out: Record<string, string | null> = {};
  for (const name of Object.keys(re.re.namedGroups())) out[name] = m.group(name);
  return out;
}

/** `text` read with `format`; a time without an offset is a wall-clock time in `zone` (UTC by default). */
export function timestamp(text: string, format: string, zone?: Zone): Date {
  return strptime(text, format, zone) ?? fail(`failed parsing timestamp ${JSON.stringify(text)} using format ${JSON.stringify(format)}`);
}

/** Present, non-dash values only (VRL omits `-` fields); numeric fields as integers. */
function fields(groups: Record<string, string | null>, numeric: string[] = [], skip: string[] = []): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(groups)) {
    if (v === null || v === undefined || v === '-' || skip.includes(k)) continue;
    out[k] = numeric.includes(k) ? Number(v) : v;
  }
  return out;
}

function commonLog(text: string, tsFormat: string, combined: boolean, zone: Zone | undefined): Obj {
  const g = captures(COMMON, text);
  if (!g) fail(`failed parsing ${combined ? 'combined' : 'common'} log line`);
  const out = fields(g, ['status', 'size'], ['timestamp']);
  if (g.message === '') delete out.message;
  out.timestamp = timestamp(g.timestamp!, tsFormat, zone);
  const m = COMMON.re.matcher(text);
  m.find();
  const rest = text.slice(m.end());
  if (combined) {
    const tail = captures(COMBINED_TAIL, rest);
    if (!tail) fail('failed parsing combined log line');
    Object.assign(out, fields(tail));
  } else if (rest.trim() !== '') fail('failed parsing common log line');
  return out;
}

/** RFC 5424 or 3164; a 3164 time (no year, no offset) is this year's wall clock in `zone`. */
export function syslog(text: string, zone?: Zone): Obj {
  const g5424 = captures(SYSLOG_5424, text);
  if (g5424) {
    const pri = Number(g5424.pri);
    const out: Obj = { ...priority(pri), version: Number(g5424.version) };
    const ts = g5424.timestamp === '-' ? undefined : timestamp(g5424.timestamp!, '%+');
    if (ts) out.timestamp = ts;
    for (const k of ['hostname', 'appname', 'procid', 'msgid'] as const) if (g5424[k] !== '-') out[k] = k === 'procid' && isDigits(g5424[k]!) ? Number(g5424[k]) : g5424[k];
    out.message = g5424.message ?? '';
    if (g5424.sd && g5424.sd !== '-') {
      const m = SD_ELEMENT.re.matcher(g5424.sd);
      while (m.find()) {
        const params: Obj = {};
        const p = SD_PARAM.re.matcher(m.group('params') ?? '');
        while (p.find()) params[p.group('k')!] = (p.group('v') ?? '').replaceAll('\\"', '"').replaceAll('\\]', ']').replaceAll('\\\\', '\\');
        out[m.group('id')!] = params;
      }
    }
    return out;
  }
  const g = captures(SYSLOG_3164, text);
  if (!g) fail('unable to parse input as valid syslog message');
  const year = new Date().getUTCFullYear();
  const out: Obj = g.pri !== null ? priority(Number(g.pri)) : {};
  out.timestamp = timestamp(`${year} ${g.timestamp!.replace('  ', ' 0')}`, '%Y %b %d %H:%M:%S', zone);
  out.hostname = g.hostname;
  out.appname = g.appname;
  if (g.procid !== null) out.procid = isDigits(g.procid!) ? Number(g.procid) : g.procid;
  out.message = g.message;
  return out;
}

/** `Wed Oct 11 14:32:52.123456 2000` -> without the sub-seconds. */
function stripFraction(text: string): string {
  const dot = text.indexOf('.');
  if (dot < 0) return text;
  let end = dot + 1;
  while (end < text.length && text[end]! >= '0' && text[end]! <= '9') end++;
  return text.slice(0, dot) + text.slice(end);
}

const isDigits = (s: string) => s.length > 0 && [...s].every((c) => c >= '0' && c <= '9');

const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];
const FACILITIES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'security', 'console', 'solaris-cron', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'];

function priority(pri: number): Obj {
  if (pri > 191) fail(`invalid syslog priority ${pri}`);
  return { severity: SEVERITIES[pri % 8], facility: FACILITIES[Math.floor(pri / 8)] };
}

export const KLOG_LEVELS: Record<string, string> = { I: 'info', W: 'warning', E: 'error', F: 'fatal' };

defineFunctions([
  {
    name: 'parse_common_log',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'timestamp_format', type: T.bytes }],
    returns: T.object,
    fallible: true,
    // As VRL: a timestamp_format without an offset reads times in the program's `timezone`.
    call: ([v, format], ctx) => commonLog(String(v), format === undefined ? '%d/%b/%Y:%T %z' : String(format), false, ctx.timezone),
  },
  {
    name: 'parse_apache_log',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'format', type: T.bytes, required: true }, { name: 'timestamp_format', type: T.bytes }],
    returns: T.object,
    fallible: true,
    check: (args) => (args[1]?.literal && !['common', 'combined', 'error'].includes(String(args[1].value)) ? 'format must be "common", "combined" or "error"' : undefined),
    call: ([v, format, tsFormat], ctx) => {
      if (format === 'error') {
        const g = captures(APACHE_ERROR, String(v));
        if (!g) fail('failed parsing error log line');
        const out = fields(g, ['pid', 'thread', 'port'], ['timestamp']);
        out.timestamp = timestamp(stripFraction(g.timestamp!), tsFormat === undefined ? '%a %b %d %H:%M:%S %Y' : String(tsFormat), ctx.timezone);
        return out;
      }
      return commonLog(String(v), tsFormat === undefined ? '%d/%b/%Y:%T %z' : String(tsFormat), format === 'combined', ctx.timezone);
    },
  },
  {
    name: 'parse_nginx_log',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'format', type: T.bytes, required: true }, { name: 'timestamp_format', type: T.bytes }],
    returns: T.object,
    fallible: true,
    check: (args) => (args[1]?.literal && !['combined', 'error'].includes(String(args[1].value)) ? 'format must be "combined" or "error"' : undefined),
    call: ([v, format, tsFormat], ctx) => {
      const text = String(v);
      if (format === 'error') {
        const g = captures(NGINX_ERROR, text);
        if (!g) fail('failed parsing error log line');
        const out = fields(g, ['pid', 'tid', 'cid'], ['timestamp', 'message']);
        out.timestamp = timestamp(g.timestamp!, tsFormat === undefined ? '%Y/%m/%d %H:%M:%S' : String(tsFormat), ctx.timezone);
        // `message, client: ..., server: ..., request: "...", host: "..."`: the known trailing fields.
        let message = g.message!;
        for (const key of ['host', 'referrer', 'upstream', 'request', 'server', 'client']) {
          const marker = `, ${key}: `;
          const at = message.lastIndexOf(marker);
          if (at < 0) continue;
          let value = message.slice(at + marker.length);
          if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
          out[key] = value;
          message = message.slice(0, at);
        }
        out.message = message;
        return out;
      }
      const out = commonLog(text, tsFormat === undefined ? '%d/%b/%Y:%T %z' : String(tsFormat), true, ctx.timezone);
      // nginx names: client (remote_addr), request (the request line), referer.
      const { host, identity: _identity, message, referrer, ...rest } = out;
      void _identity;
      return { client: host, ...rest, ...(message !== undefined ? { request: message } : {}), ...(referrer !== undefined ? { referer: referrer } : {}) };
    },
  },
  {
    name: 'parse_syslog',
    params: [{ name: 'value', type: T.bytes, required: true }],
    returns: T.object,
    fallible: true,
    call: ([v], ctx) => syslog(String(v), ctx.timezone),
  },
  {
    name: 'parse_klog',
    params: [{ name: 'value', type: T.bytes, required: true }],
    returns: T.object,
    fallible: true,
    call: ([v]) => {
      const g = captures(KLOG, String(v));
      if (!g) return failed('failed parsing klog message');
      const year = new Date().getUTCFullYear();
      return {
        level: KLOG_LEVELS[g.level!],
        timestamp: timestamp(`${year}-${g.month}-${g.day} ${g.time}`, '%Y-%m-%d %H:%M:%S%.f'),
        id: Number(g.id),
        file: g.file,
        line: Number(g.line),
        message: g.message,
      };
    },
  },
]);
