import { randomBytes, randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { defineFunctions } from '../function.js';
import { ANY, share, T, valueEquals, VrlRegex, type Obj } from '../value.js';
import { regexCaptures } from './parse.js';
import { fail, optInt } from './util.js';

/** Words of an identifier-like text: split at `_ - space .`, and between a lower letter or digit and an upper one. */
function words(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '_' || c === '-' || c === ' ' || c === '.') {
      if (current) out.push(current);
      current = '';
      continue;
    }
    const prev = text[i - 1];
    const next = text[i + 1];
    const upper = c !== c.toLowerCase();
    // fooBar | HTTPServer (split before "S" of "Server")
    if (current && upper && prev !== undefined && (prev !== prev.toUpperCase() || (next !== undefined && next !== next.toUpperCase() && prev === prev.toUpperCase() && prev !== prev.toLowerCase()))) {
      out.push(current);
      current = '';
    }
    current += c;
  }
  if (current) out.push(current);
  return out.map((w) => w.toLowerCase());
}
const trimSlashes = (s: string) => {
  let end = s.length;
  while (end > 0 && s[end - 1] === '/') end--;
  return s.slice(0, end);
};
const isHex = (s: string) => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 32;
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
};
const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
const casing = (name: string, join: (ws: string[]) => string) => ({
  name,
  params: [{ name: 'value', type: T.bytes, required: true }, { name: 'original_case', type: T.bytes }],
  returns: T.bytes,
  call: ([v]: unknown[]) => join(words(String(v))),
});

const FACILITIES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'security', 'console', 'solaris-cron', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'];
const SEVERITIES: Record<string, number> = { emerg: 0, panic: 0, alert: 1, crit: 2, err: 3, error: 3, warning: 4, warn: 4, notice: 5, info: 6, informational: 6, debug: 7 };

export function ipv4(text: string): number {
  if (isIP(text) !== 4) fail(`unable to parse IPv4 address: ${JSON.stringify(text)}`);
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}
const ntoa = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

export function ipv6Groups(text: string): number[] {
  if (isIP(text) !== 6) fail(`unable to parse IPv6 address: ${JSON.stringify(text)}`);
  let t = text;
  const dot = t.includes('.') ? t.lastIndexOf(':') : -1;
  let tailV4: number[] = [];
  if (dot >= 0) {
    const n = ipv4(t.slice(dot + 1));
    tailV4 = [Math.floor(n / 65536), n % 65536];
    t = t.slice(0, dot + 1) + (t.endsWith('::') ? '' : '');
    t = t.endsWith(':') && !t.endsWith('::') ? t.slice(0, -1) : t;
  }
  const [head, tail] = t.split('::') as [string, string | undefined];
  const h = head ? head.split(':').map((g) => Number.parseInt(g, 16)) : [];
  const tl = tail !== undefined && tail !== '' ? tail.split(':').map((g) => Number.parseInt(g, 16)) : [];
  const fill = 8 - h.length - tl.length - tailV4.length;
  return tail === undefined ? [...h, ...tailV4] : [...h, ...new Array(fill).fill(0), ...tl, ...tailV4];
}
const formatIpv6 = (groups: number[]) => {
  // The longest run of zero groups (2 or more) becomes "::" (RFC 5952).
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) (best = i), (bestLen = j - i);
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
};

defineFunctions([
  casing('camelcase', (ws) => ws.map((w, i) => (i === 0 ? w : cap(w))).join('')),
  casing('pascalcase', (ws) => ws.map(cap).join('')),
  casing('snakecase', (ws) => ws.join('_')),
  casing('kebabcase', (ws) => ws.join('-')),
  casing('screamingsnakecase', (ws) => ws.join('_').toUpperCase()),
  { name: 'encode_base16', params: [{ name: 'value', type: T.bytes, required: true }], returns: T.bytes, call: ([v]) => Buffer.from(String(v), 'utf8').toString('hex') },
  {
    name: 'decode_base16',
    params: [{ name: 'value', type: T.bytes, required: true }],
    returns: T.bytes,
    fallible: true,
    call: ([v]) => {
      const s = String(v);
      if (s.length % 2 !== 0 || !isHex(s)) fail('unable to decode value from base16');
      return Buffer.from(s, 'hex').toString('utf8');
    },
  },
  { name: 'ip_aton', params: [{ name: 'value', type: T.bytes, required: true }], returns: T.integer, fallible: true, call: ([v]) => ipv4(String(v)) },
  {
    name: 'ip_ntoa',
    params: [{ name: 'value', type: T.integer, required: true }],
    returns: T.bytes,
    fallible: true,
    call: ([v]) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff ? ntoa(v as number) : fail(`cannot convert ${String(v)} to an IPv4 address`)),
  },
  {
    name: 'ip_subnet',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'subnet', type: T.bytes, required: true }],
    returns: T.bytes,
    fallible: true,
    call: ([v, subnet]) => {
      const ip = String(v);
      const mask = String(subnet);
      const family = isIP(ip);
      if (family === 0) fail(`unable to parse IP address: ${JSON.stringify(ip)}`);
      const width = family === 4 ? 32 : 128;
      let bits: number;
      if (mask.startsWith('/')) bits = Number(mask.slice(1));
      else if (isIP(mask) === family) {
        const groups = family === 4 ? ntoa(ipv4(mask)).split('.').map((g) => Number(g).toString(2).padStart(8, '0')) : ipv6Groups(mask).map((g) => g.toString(2).padStart(16, '0'));
        bits = groups.join('').indexOf('0') < 0 ? width : groups.join('').indexOf('0');
      } else return fail(`unable to parse subnet: ${JSON.stringify(mask)}`);
      if (!Number.isInteger(bits) || bits < 0 || bits > width) fail(`unable to parse subnet: ${JSON.stringify(mask)}`);
      if (family === 4) {
        const n = ipv4(ip);
        const keep = bits === 0 ? 0 : Math.floor(n / 2 ** (32 - bits)) * 2 ** (32 - bits);
        return ntoa(keep);
      }
      const groups = ipv6Groups(ip).map((g, i) => {
        const start = i * 16;
        if (bits >= start + 16) return g;
        if (bits <= start) return 0;
        const keepBits = bits - start;
        return g & (0xffff << (16 - keepBits)) & 0xffff;
      });
      return formatIpv6(groups);
    },
  },
  {
    name: 'ip_to_ipv6',
    params: [{ name: 'value', type: T.bytes, required: true }],
    returns: T.bytes,
    fallible: true,
    call: ([v]) => {
      const ip = String(v);
      if (isIP(ip) === 6) return ip;
      ipv4(ip);
      return `::ffff:${ip}`;
    },
  },
  {
    name: 'ipv6_to_ipv4',
    params: [{ name: 'value', type: T.bytes, required: true }],
    returns: T.bytes,
    fallible: true,
    call: ([v]) => {
      const ip = String(v);
      if (isIP(ip) === 4) return ip;
      const g = ipv6Groups(ip);
      if (g.slice(0, 5).some((x) => x !== 0) || g[5] !== 0xffff) fail(`IPv6 address ${ip} is not compatible with IPv4`);
      return ntoa(g[6]! * 65536 + g[7]!);
    },
  },
  {
    name: 'to_syslog_facility',
    params: [{ name: 'value', type: T.integer, required: true }],
    returns: T.bytes,
    fallible: true,
    call: ([v]) => FACILITIES[v as number] ?? fail(`facility code ${String(v)} is not a valid syslog facility`),
  },
  {
    name: 'to_syslog_severity',
    params: [{ name: 'value', type: T.bytes, required: true }],
    returns: T.integer,
    fallible: true,
    call: ([v]) => SEVERITIES[String(v)] ?? fail(`syslog level ${String(v)} is not valid`),
  },
  {
    name: 'basename',
    params: [{ name: 'value', type: T.bytes, required: true }],
    returns: T.bytes | T.null,
    call: ([v]) => {
      const parts = String(v).split('/').filter((p) => p !== '');
      const last = parts[parts.length - 1];
      return last === undefined || last === '..' ? null : last;
    },
  },
  {
    name: 'dirname',
    params: [{ name: 'value', type: T.bytes, required: true }],
    returns: T.bytes,
    call: ([v]) => {
      const text = String(v);
      const s = trimSlashes(text);
      const at = s.lastIndexOf('/');
      if (at < 0) return text.startsWith('/') ? '/' : '.';
      return trimSlashes(s.slice(0, at)) || '/';
    },
  },
  {
    name: 'chunks',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'chunk_size', type: T.integer, required: true }],
    returns: T.array,
    fallible: true,
    call: ([v, size]) => {
      const n = optInt(size, 0);
      if (n < 1) fail('"chunk_size" must be at least 1 byte');
      const bytes = Buffer.from(String(v), 'utf8');
      const out: string[] = [];
      for (let i = 0; i < bytes.length; i += n) out.push(bytes.subarray(i, i + n).toString('utf8'));
      return out;
    },
  },
  {
    name: 'zip',
    params: [{ name: 'array_0', type: T.array, required: true }, { name: 'array_1', type: T.array }],
    returns: T.array,
    fallible: (args) => args[1] === undefined, // one argument: an array of arrays, checked at run time
    call: ([a, b]) => {
      const arrays = (b === undefined ? (a as unknown[]) : [a, b]) as unknown[];
      if (!arrays.every(Array.isArray)) fail('zip takes arrays');
      const lists = arrays as unknown[][];
      const length = lists.length === 0 ? 0 : Math.min(...lists.map((l) => l.length));
      return Array.from({ length }, (_, i) => lists.map((l) => share(l[i])));
    },
  },
  {
    name: 'tally',
    params: [{ name: 'value', type: T.array, required: true }],
    returns: T.object,
    fallible: true,
    call: ([v]) => {
      const out: Obj = {};
      for (const item of v as unknown[]) {
        if (typeof item !== 'string') fail('all values must be strings');
        out[item] = ((out[item] as number | undefined) ?? 0) + 1;
      }
      return out;
    },
  },
  {
    name: 'tally_value',
    params: [{ name: 'array', type: T.array, required: true }, { name: 'value', type: ANY, required: true }],
    returns: T.integer,
    call: ([a, v]) => (a as unknown[]).filter((item) => valueEquals(item, v)).length,
  },
  {
    name: 'random_int',
    params: [{ name: 'min', type: T.integer, required: true }, { name: 'max', type: T.integer, required: true }],
    returns: T.integer,
    fallible: true,
    call: ([min, max]) => ((min as number) < (max as number) && (max as number) - (min as number) <= 2 ** 48 ? randomInt(min as number, max as number) : fail('max must be greater than min (and the range at most 2^48)')),
  },
  {
    name: 'random_float',
    params: [{ name: 'min', type: T.float | T.integer, required: true }, { name: 'max', type: T.float | T.integer, required: true }],
    returns: T.float,
    fallible: true,
    call: ([min, max]) => ((min as number) < (max as number) ? (min as number) + Math.random() * ((max as number) - (min as number)) : fail('max must be greater than min')),
  },
  { name: 'random_bool', params: [], returns: T.boolean, call: () => Math.random() < 0.5 },
  {
    name: 'uuid_v7',
    params: [{ name: 'timestamp', type: T.timestamp }],
    returns: T.bytes,
    call: ([ts]) => {
      const ms = BigInt(ts instanceof Date ? ts.getTime() : Date.now());
      const bytes = randomBytes(16);
      for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
      bytes[6] = (bytes[6]! & 0x0f) | 0x70;
      bytes[8] = (bytes[8]! & 0x3f) | 0x80;
      const hex = bytes.toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
  },
  {
    // replace_with(value, pattern) -> |match| { ... }: the closure gets { "string": match, "captures": [...], named groups } and returns the replacement.
    name: 'replace_with',
    params: [{ name: 'value', type: T.bytes, required: true }, { name: 'pattern', type: T.regex, required: true }, { name: 'count', type: T.integer }],
    returns: T.bytes,
    closure: { params: [T.object], returns: T.bytes },
    call: ([v, re, count], _ctx, invoke) => {
      const text = String(v);
      const regex = re as VrlRegex;
      const limit = optInt(count, -1);
      const m = regex.re.matcher(text);
      let out = '';
      let last = 0;
      let done = 0;
      while ((limit < 0 || done < limit) && m.find()) {
        const start = m.start();
        const end = m.end();
        const groups = regexCaptures(regex, m, false);
        const captures: unknown[] = [];
        for (let g = 1; g <= m.groupCount(); g++) captures.push(m.group(g));
        const replacement = invoke!({ ...groups, string: m.group(0), captures });
        if (typeof replacement !== 'string') fail('the closure must return a string');
        out += text.slice(last, start) + replacement;
        last = end;
        done++;
      }
      return out + text.slice(last);
    },
  },
]);
