// community_id: known answers of the Community ID spec (as VRL documents them), and its properties.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { run } from '../test-helpers.js';

const value = (source: string): unknown => run(source).value;
const id = (src: string, dst: string, protocol: number, sp?: number, dp?: number, seed?: number) =>
  value(`community_id!(source_ip: "${src}", destination_ip: "${dst}", protocol: ${protocol}${sp === undefined ? '' : `, source_port: ${sp}`}${dp === undefined ? '' : `, destination_port: ${dp}`}${seed === undefined ? '' : `, seed: ${seed}`})`);

describe('community_id', () => {
  it('matches the known answers for TCP, UDP, ICMP and a protocol without ports', () => {
    assert.equal(id('1.2.3.4', '5.6.7.8', 6, 1122, 3344), '1:wCb3OG7yAFWelaUydu0D+125CLM=');
    assert.equal(id('1.2.3.4', '5.6.7.8', 17, 1122, 3344), '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=');
    assert.equal(id('1.2.3.4', '5.6.7.8', 1, 8, 0), '1:crodRHL2FEsHjbv3UkRrfbs4bZ0=');
    assert.equal(id('1.2.3.4', '5.6.7.8', 46), '1:ikv3kmf89luf73WPz1jOs49S768=');
  });

  it('both directions of a flow get the same id; other flows, protocols and seeds another', () => {
    const pod = ['10.244.1.17', 43512];
    const svc = ['10.96.0.10', 53];
    const there = id(pod[0] as string, svc[0] as string, 17, pod[1] as number, svc[1] as number);
    assert.equal(id(svc[0] as string, pod[0] as string, 17, svc[1] as number, pod[1] as number), there);
    assert.notEqual(id(pod[0] as string, svc[0] as string, 6, pod[1] as number, svc[1] as number), there);
    assert.notEqual(id(pod[0] as string, svc[0] as string, 17, 43513, svc[1] as number), there);
    assert.notEqual(id(pod[0] as string, svc[0] as string, 17, pod[1] as number, svc[1] as number, 7), there);
    // Same address both ends: the port orders the flow.
    assert.equal(id('10.0.0.1', '10.0.0.1', 6, 80, 5000), id('10.0.0.1', '10.0.0.1', 6, 5000, 80));
  });

  it('an ICMP echo request and its reply are one flow; IPv6 works the same', () => {
    assert.equal(id('10.0.0.1', '10.0.0.2', 1, 8, 0), id('10.0.0.2', '10.0.0.1', 1, 0, 0));
    assert.equal(id('fd00::1', 'fd00::2', 58, 128, 0), id('fd00::2', 'fd00::1', 58, 129, 0));
    assert.equal(id('fd00::1', 'fd00::2', 6, 1000, 443), id('fd00:0:0:0:0:0:0:2', 'fd00::1', 6, 443, 1000));
    assert.match(String(id('fd00::1', 'fd00::2', 6, 1000, 443)), /^1:[A-Za-z0-9+/]{27}=$/);
  });

  it('fails on bad addresses, mixed families and out-of-range numbers', () => {
    const err = (args: string) => String(value(`_, err = community_id(${args})\nerr`));
    assert.match(err('source_ip: "pod-a", destination_ip: "1.1.1.1", protocol: 6'), /unable to parse IP address/);
    assert.match(err('source_ip: "::1", destination_ip: "1.1.1.1", protocol: 6'), /both be IPv4 or both IPv6/);
    assert.match(err('source_ip: "1.1.1.1", destination_ip: "2.2.2.2", protocol: 6, source_port: 70000, destination_port: 1'), /source_port must be between 0 and 65535/);
    assert.match(err('source_ip: "1.1.1.1", destination_ip: "2.2.2.2", protocol: 300'), /protocol must be between 0 and 255/);
  });
});
