import { isIP } from 'node:net';
import { defineFunctions } from '../function.js';
import { ANY, display, kindOf, T } from '../value.js';
import { fail } from './util.js';

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error']);

function ipv4ToBigInt(ip: string): bigint {
  return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(ip: string): bigint {
  let text = ip;
  const v4 = text.lastIndexOf(':') >= 0 && text.includes('.') ? text.slice(text.lastIndexOf(':') + 1) : undefined;
  if (v4 !== undefined) {
    const n = ipv4ToBigInt(v4);
    text = `${text.slice(0, text.lastIndexOf(':') + 1)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

function cidrContains(cidr: string, ip: string): boolean {
  const slash = cidr.indexOf('/');
  if (slash < 0) fail(`unable to parse CIDR: ${JSON.stringify(cidr)}`);
  const net = cidr.slice(0, slash);
  const bits = Number(cidr.slice(slash + 1));
  const family = isIP(net);
  if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) fail(`unable to parse CIDR: ${JSON.stringify(cidr)}`);
  const ipFamily = isIP(ip);
  if (ipFamily === 0) fail(`unable to parse IP address: ${JSON.stringify(ip)}`);
  if (ipFamily !== family) return false;
  const width = family === 4 ? 32n : 128n;
  const toInt = family === 4 ? ipv4ToBigInt : ipv6ToBigInt;
  const shift = width - BigInt(bits);
  return toInt(net) >> shift === toInt(ip) >> shift;
}

defineFunctions([
  {
    name: 'log',
    params: [{ name: 'value', type: ANY, required: true }, { name: 'level', type: T.bytes }, { name: 'rate_limit_secs', type: T.integer }],
    returns: T.null,
    check: (args) => (args[1]?.literal && !LEVELS.has(String(args[1].value)) ? `level must be one of ${[...LEVELS].join(', ')}` : undefined),
    // Per call site, at most one line per `rate_limit_secs` (default 1, as VRL; 0 logs every call).
    compile: () => {
      let last = -Infinity;
      return ([v, level, rate], ctx) => {
        const now = Date.now();
        const every = typeof rate === 'number' ? rate * 1000 : 1000;
        if (now - last < every) return null;
        last = now;
        ctx.log(typeof level === 'string' && LEVELS.has(level) ? level : 'info', kindOf(v) === T.bytes ? String(v) : display(v));
        return null;
      };
    },
  },
  {
    name: 'get_env_var',
    params: [{ name: 'name', type: T.bytes, required: true }],
    returns: T.bytes,
    fallible: true,
    call: ([name], ctx) => ctx.env[String(name)] ?? fail(`environment variable ${String(name)} not found`),
  },
  {
    name: 'ip_cidr_contains',
    params: [{ name: 'cidr', type: T.bytes | T.array, required: true }, { name: 'value', type: T.bytes, required: true }],
    returns: T.boolean,
    fallible: true,
    call: ([cidr, ip]) => (Array.isArray(cidr) ? cidr.some((c) => cidrContains(String(c), String(ip))) : cidrContains(String(cidr), String(ip))),
  },
  { name: 'is_ipv4', params: [{ name: 'value', type: T.bytes, required: true }], returns: T.boolean, call: ([v]) => isIP(String(v)) === 4 },
  { name: 'is_ipv6', params: [{ name: 'value', type: T.bytes, required: true }], returns: T.boolean, call: ([v]) => isIP(String(v)) === 6 },
]);
