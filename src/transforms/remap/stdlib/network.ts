// community_id: the Community ID flow hash (corelight/community-id-spec, version 1), so flow logs
// from Cilium/Hubble, Zeek or Suricata on the nodes join up with the same ID.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { defineFunctions } from '../function.js';
import { T } from '../value.js';
import { ipv4, ipv6Groups } from './more.js';
import { fail } from './util.js';

const ICMP = 1;
const ICMP6 = 58;
const PORTED = new Set([6, 17, 132, ICMP, ICMP6]); // TCP, UDP, SCTP, and the ICMPs (type, code)

/** ICMP message types and their counterparts: a request and its reply hash as one flow. */
const ICMP4_PAIRS: Record<number, number> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17 };
const ICMP6_PAIRS: Record<number, number> = { 128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130, 139: 140, 140: 139, 144: 145, 145: 144 };

function ipBytes(text: string): Buffer {
  const version = isIP(text);
  if (version === 4) {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(ipv4(text));
    return out;
  }
  if (version === 6) {
    const out = Buffer.alloc(16);
    ipv6Groups(text).forEach((group, i) => out.writeUInt16BE(group, i * 2));
    return out;
  }
  return fail(`unable to parse IP address: ${JSON.stringify(text)}`);
}

const port = (value: unknown, name: string): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) fail(`${name} must be between 0 and 65535`);
  return value;
};

export function communityId(srcIp: string, dstIp: string, protocol: number, srcPort: unknown, dstPort: unknown, seed: number): string {
  if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) fail('protocol must be between 0 and 255');
  if (!Number.isInteger(seed) || seed < 0 || seed > 65535) fail('seed must be between 0 and 65535');
  let src = ipBytes(srcIp);
  let dst = ipBytes(dstIp);
  if (src.length !== dst.length) fail('source_ip and destination_ip must both be IPv4 or both IPv6');
  const ported = PORTED.has(protocol) && srcPort !== undefined && srcPort !== null;
  let sp = ported ? port(srcPort, 'source_port') : 0;
  let dp = ported ? port(dstPort ?? null, 'destination_port') : 0;
  let oneWay = false;
  if (ported && (protocol === ICMP || protocol === ICMP6)) {
    // ICMP: the "ports" are type and code; the code becomes the counterpart type when there is one.
    const pairs = protocol === ICMP ? ICMP4_PAIRS : ICMP6_PAIRS;
    const counterpart = pairs[sp];
    if (counterpart === undefined) oneWay = true;
    dp = counterpart ?? dp;
  }
  // The flow is ordered from the smaller endpoint (address, then port), unless one-way.
  const order = Buffer.compare(src, dst);
  if (!oneWay && (order > 0 || (order === 0 && sp > dp))) {
    [src, dst] = [dst, src];
    [sp, dp] = [dp, sp];
  }
  const head = Buffer.alloc(2);
  head.writeUInt16BE(seed);
  const proto = Buffer.from([protocol, 0]);
  const parts = [head, src, dst, proto];
  if (ported) {
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(sp, 0);
    ports.writeUInt16BE(dp, 2);
    parts.push(ports);
  }
  return '1:' + createHash('sha1').update(Buffer.concat(parts)).digest('base64');
}

defineFunctions([
  {
    name: 'community_id',
    params: [
      { name: 'source_ip', type: T.bytes, required: true },
      { name: 'destination_ip', type: T.bytes, required: true },
      { name: 'protocol', type: T.integer, required: true },
      { name: 'source_port', type: T.integer },
      { name: 'destination_port', type: T.integer },
      { name: 'seed', type: T.integer },
    ],
    returns: T.bytes,
    fallible: true,
    call: ([src, dst, protocol, sp, dp, seed]) => communityId(String(src), String(dst), Number(protocol), sp, dp, typeof seed === 'number' ? seed : 0),
  },
]);
