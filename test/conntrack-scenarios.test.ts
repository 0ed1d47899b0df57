// Scenario tests, one per rule of AWS's connection-tracking page (EC2 User Guide,
// "Security group connection tracking"), on the data plane with a fake clock.
import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlane, type Endpoint, type Packet } from '../src/dataplane/dataplane.ts';
import { TCP } from '../src/dataplane/conntrack.ts';
import type { RuleInput } from '../src/dataplane/sg-policy.ts';
import { parseAddress } from '../src/dataplane/addresses.ts';

let plane: DataPlane;
let now: number;
const iface = (id: string, ip: string): Endpoint => ({ kind: 'interface', interfaceId: id, address: parseAddress(ip)!, text: ip });
const ext = (ip: string): Endpoint => ({ kind: 'external', address: parseAddress(ip)!, text: ip });
const A = iface('eni-a', '10.0.0.10');
const B = iface('eni-b', '10.0.0.20');
const tcp = (src: number, dst: number, flags = 0): Packet => ({ proto: 6, srcPort: src, dstPort: dst, flags });
const udp = (src: number, dst: number): Packet => ({ proto: 17, srcPort: src, dstPort: dst });

let n = 0;
function rule(groupId: string, egress: boolean, protocol: string, peer: Partial<RuleInput>, from?: number, to?: number): RuleInput {
  return { id: `sgr-${++n}`, groupId, egress, protocol, from, to, ...peer };
}
function group(id: string, rules: RuleInput[]) {
  plane.policy.setGroup({ id, vpcId: 'vpc-1', rules });
}
function attach(id: string, ip: string, groups: string[]) {
  plane.policy.setInterface({ id, vpcId: 'vpc-1', ipv4: [ip], ipv6: [], groups });
}

beforeEach(() => {
  plane = new DataPlane();
  now = 1_000_000;
  // A: a client allowed to send anything; B: a server.
  group('sg-client', [rule('sg-client', true, '-1', { cidr4: '0.0.0.0/0' })]);
  attach('eni-a', '10.0.0.10', ['sg-client']);
});

describe('connection tracking (EC2 User Guide: security-group-connection-tracking)', () => {
  it('reply traffic of an inbound-only rule passes: the server has no outbound rule at all', () => {
    group('sg-server', [rule('sg-server', false, 'tcp', { cidr4: '10.0.0.10/32' }, 22, 22)]);
    attach('eni-b', '10.0.0.20', ['sg-server']);
    assert.equal(plane.judge(A, B, tcp(40000, 22, TCP.SYN), now).verdict, 'ACCEPT');
    const reply = plane.judge(B, A, tcp(22, 40000, TCP.SYN | TCP.ACK), now);
    assert.equal(reply.verdict, 'ACCEPT');
    assert.equal(reply.egress!.by, 'tracked-connection');
    // A new connection from the server is still refused: no outbound rule.
    assert.equal(plane.judge(B, A, tcp(5000, 80, TCP.SYN), now).decidedBy, 'egress');
  });

  it('an untracked (all-open) flow is cut at once when its rule goes; a tracked one survives', () => {
    // Untracked: inbound TCP 80 from 0.0.0.0/0 and outbound all traffic to 0.0.0.0/0.
    group('sg-web', [
      rule('sg-web', false, 'tcp', { cidr4: '0.0.0.0/0' }, 80, 80),
      rule('sg-web', true, '-1', { cidr4: '0.0.0.0/0' }),
      rule('sg-web', false, 'tcp', { cidr4: '10.0.0.10/32' }, 22, 22),
    ]);
    attach('eni-b', '10.0.0.20', ['sg-web']);
    const web = plane.judge(A, B, tcp(40000, 80, TCP.SYN), now);
    assert.equal(web.ingress!.tracked, false);
    const ssh = plane.judge(A, B, tcp(40001, 22, TCP.SYN), now);
    assert.equal(ssh.ingress!.tracked, true);
    // Remove both inbound rules.
    group('sg-web', [rule('sg-web', true, '-1', { cidr4: '0.0.0.0/0' })]);
    assert.equal(plane.judge(A, B, tcp(40000, 80, TCP.ACK), now).verdict, 'REJECT', 'untracked web flow is interrupted immediately');
    assert.equal(plane.judge(A, B, tcp(40001, 22, TCP.ACK), now).verdict, 'ACCEPT', 'tracked SSH flow continues');
    assert.equal(plane.judge(A, B, tcp(40002, 22, TCP.SYN), now).verdict, 'REJECT', 'but new SSH connections are refused');
  });

  it('removing the outbound allow-all makes IPv4 traffic tracked', () => {
    group('sg-web', [rule('sg-web', false, 'tcp', { cidr4: '0.0.0.0/0' }, 80, 80)]);
    attach('eni-b', '10.0.0.20', ['sg-web']);
    const v = plane.judge(A, B, tcp(40000, 80, TCP.SYN), now);
    assert.equal(v.ingress!.tracked, true);
  });

  it('idle timeouts close tracked flows: defaults (UDP 30 s) and custom values', () => {
    group('sg-dns', [rule('sg-dns', false, 'udp', { cidr4: '10.0.0.10/32' }, 53, 53)]);
    attach('eni-b', '10.0.0.20', ['sg-dns']);
    plane.judge(A, B, udp(5353, 53), now);
    now += 29_000;
    assert.equal(plane.judge(B, A, udp(53, 5353), now).verdict, 'ACCEPT', 'reply within 30 s');
    now += 31_000;
    assert.equal(plane.judge(B, A, udp(53, 5353), now).verdict, 'REJECT', 'idle more than UdpTimeout: gone');
    // Custom: UdpTimeout 60 (each interface applies its own timeouts: the client's too)
    plane.setTimeouts('eni-b', { udp: 60 });
    plane.setTimeouts('eni-a', { udp: 60 });
    plane.judge(A, B, udp(5354, 53), now);
    now += 59_000;
    assert.equal(plane.judge(B, A, udp(53, 5354), now).verdict, 'ACCEPT');
  });

  it('TCP established timeout: default 432000 s, custom TcpEstablishedTimeout', () => {
    group('sg-ssh', [rule('sg-ssh', false, 'tcp', { cidr4: '10.0.0.10/32' }, 22, 22)]);
    attach('eni-b', '10.0.0.20', ['sg-ssh']);
    plane.judge(A, B, tcp(40000, 22, TCP.SYN), now);
    plane.judge(B, A, tcp(22, 40000, TCP.SYN | TCP.ACK), now);
    plane.judge(A, B, tcp(40000, 22, TCP.ACK), now);
    now += 431_000_000;
    assert.equal(plane.judge(B, A, tcp(22, 40000, TCP.ACK), now).verdict, 'ACCEPT');
    now += 432_001_000;
    assert.equal(plane.judge(B, A, tcp(22, 40000, TCP.ACK), now).verdict, 'REJECT');
    plane.setTimeouts('eni-b', { tcpEstablished: 60 });
    plane.setTimeouts('eni-a', { tcpEstablished: 60 });
    plane.judge(A, B, tcp(40001, 22, TCP.SYN), now);
    plane.judge(B, A, tcp(22, 40001, TCP.SYN | TCP.ACK), now);
    now += 61_000;
    assert.equal(plane.judge(B, A, tcp(22, 40001, TCP.ACK), now).verdict, 'REJECT');
  });

  it('UDP streams (more than one request-response) use UdpStreamTimeout (180 s)', () => {
    group('sg-u', [rule('sg-u', false, 'udp', { cidr4: '10.0.0.10/32' }, 9000, 9000)]);
    attach('eni-b', '10.0.0.20', ['sg-u']);
    plane.judge(A, B, udp(7000, 9000), now);
    plane.judge(B, A, udp(9000, 7000), now);
    plane.judge(A, B, udp(7000, 9000), now);
    now += 170_000;
    assert.equal(plane.judge(B, A, udp(9000, 7000), now).verdict, 'ACCEPT');
  });

  it('ICMP is always tracked, even under all-open rules', () => {
    group('sg-open', [rule('sg-open', false, '-1', { cidr4: '0.0.0.0/0' }), rule('sg-open', true, '-1', { cidr4: '0.0.0.0/0' })]);
    attach('eni-b', '10.0.0.20', ['sg-open']);
    const ping = plane.judge(A, B, { proto: 1, srcPort: 0, dstPort: 0, icmpType: 8, icmpCode: 0 }, now);
    assert.equal(ping.ingress!.tracked, true);
    // tcp under the same rules is untracked
    assert.equal(plane.judge(A, B, tcp(1, 2, TCP.SYN), now).ingress!.tracked, false);
  });

  it('two groups on one interface aggregate', () => {
    group('sg-1', [rule('sg-1', false, 'tcp', { cidr4: '10.0.0.10/32' }, 22, 22)]);
    group('sg-2', [rule('sg-2', false, 'tcp', { cidr4: '10.0.0.0/24' }, 443, 443)]);
    attach('eni-b', '10.0.0.20', ['sg-1', 'sg-2']);
    assert.equal(plane.judge(A, B, tcp(1000, 22, TCP.SYN), now).verdict, 'ACCEPT');
    const v = plane.judge(A, B, tcp(1001, 443, TCP.SYN), now);
    assert.equal(v.verdict, 'ACCEPT');
    assert.equal(v.ingress!.rules[0]!.groupId, 'sg-2');
    assert.equal(plane.judge(A, B, tcp(1002, 80, TCP.SYN), now).verdict, 'REJECT');
  });

  it('a group reference follows membership changes live', () => {
    group('sg-app', []);
    group('sg-db', [rule('sg-db', false, 'tcp', { refGroupId: 'sg-app' }, 5432, 5432)]);
    attach('eni-b', '10.0.0.20', ['sg-db']);
    assert.equal(plane.judge(A, B, tcp(1000, 5432, TCP.SYN), now).verdict, 'REJECT');
    attach('eni-a', '10.0.0.10', ['sg-client', 'sg-app']);
    assert.equal(plane.judge(A, B, tcp(1001, 5432, TCP.SYN), now).verdict, 'ACCEPT');
    attach('eni-a', '10.0.0.10', ['sg-client']);
    assert.equal(plane.judge(A, B, tcp(1002, 5432, TCP.SYN), now).verdict, 'REJECT');
  });

  it('a prefix list follows its entries', () => {
    plane.policy.setPrefixList('pl-corp', ['192.168.0.0/16']);
    group('sg-pl', [rule('sg-pl', false, 'tcp', { prefixListId: 'pl-corp' }, 443, 443)]);
    attach('eni-b', '10.0.0.20', ['sg-pl']);
    plane.policy.setInterface({ id: 'eni-b', vpcId: 'vpc-1', ipv4: ['10.0.0.20'], ipv6: [], publicIp: '54.1.2.3', groups: ['sg-pl'] });
    assert.equal(plane.judge(ext('203.0.113.9'), B, tcp(1000, 443, TCP.SYN), now).verdict, 'REJECT');
    plane.policy.setPrefixList('pl-corp', ['192.168.0.0/16', '203.0.113.0/24']);
    assert.equal(plane.judge(ext('203.0.113.9'), B, tcp(1001, 443, TCP.SYN), now).verdict, 'ACCEPT');
  });

  it('an egress-only block stops a connection the receiver would accept, and the other way round', () => {
    group('sg-closed-out', []);
    attach('eni-a', '10.0.0.10', ['sg-closed-out']);
    group('sg-server', [rule('sg-server', false, 'tcp', { cidr4: '0.0.0.0/0' }, 22, 22)]);
    attach('eni-b', '10.0.0.20', ['sg-server']);
    const v = plane.judge(A, B, tcp(1000, 22, TCP.SYN), now);
    assert.equal(v.verdict, 'REJECT');
    assert.equal(v.decidedBy, 'egress');
    assert.equal(v.ingress, undefined, 'the packet never reaches the receiver');
    attach('eni-a', '10.0.0.10', ['sg-client']);
    group('sg-server', []);
    const w = plane.judge(A, B, tcp(1001, 22, TCP.SYN), now);
    assert.equal(w.decidedBy, 'ingress');
    assert.equal(w.egress!.allowed, true);
  });

  it('RST ends tracking at once', () => {
    group('sg-ssh', [rule('sg-ssh', false, 'tcp', { cidr4: '10.0.0.10/32' }, 22, 22)]);
    attach('eni-b', '10.0.0.20', ['sg-ssh']);
    plane.judge(A, B, tcp(40000, 22, TCP.SYN), now);
    plane.judge(B, A, tcp(22, 40000, TCP.RST), now);
    assert.equal(plane.judge(B, A, tcp(22, 40000, TCP.ACK), now).verdict, 'REJECT');
  });
});
