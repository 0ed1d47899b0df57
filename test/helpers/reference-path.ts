// The path tests' reference evaluator of one new flow through a VPC estate, written straight from
// AWS's documented semantics (VPC User Guide: "Route tables" and "How route priority works",
// "Network ACLs", "Security groups", "Internet gateways", "Egress-only internet gateways", "NAT
// gateways", "VPC peering"):
//
// - Routes: the most specific route that matches the destination (longest prefix match); a route to
//   a prefix list matches the list's CIDRs and, for the same prefix length, a CIDR route wins over
//   it; the local route covers the VPC's CIDRs; a blackhole route drops what it matches.
// - Network ACLs: stateless; the entries of one direction are evaluated lowest rule number first and
//   the first that matches decides; none matching: the `*` rule denies. A packet crosses its
//   subnet's ACL when it leaves or enters the subnet (never inside one subnet), the reply too.
// - Security groups: stateful (a reply needs no rule); every rule of every group on the interface
//   counts, rules only allow (test/helpers/reference-engine.ts judges one gate).
// - The internet: an internet gateway attached to the VPC, a route to it, and a public IPv4
//   address (or the IPv6 address itself, IPv6 being public); coming in, the same gateway and a
//   route back to it from the receiver's subnet. An egress-only gateway carries outbound IPv6 only;
//   a NAT gateway outbound IPv4 only (public, available, its subnet routed to the internet gateway),
//   and its subnet's ACL is crossed on the way in and out of it. Peering: an active connection
//   between the two VPCs and routes to it on both sides. IPv4 and IPv6 never mix.
//
// The report names the first step that stops the flow, in the data plane's order: the route; the
// ACLs crossed leaving the sender's side (its subnet's outbound, a NAT gateway subnet's inbound);
// the sender's group egress; the ACLs crossed arriving (the NAT subnet's outbound, the receiver's
// subnet's inbound); the receiver's group ingress; then the ACLs the reply crosses, in its order.
//
// Slow on purpose: plain arrays, linear scans, nothing compiled, nothing shared with
// src/dataplane/routing.ts but its input types; addresses by src/core/cidr.ts.
import { addressToBigInt, parseCidr } from '../../src/core/cidr.ts';
import type {
  AclEntryInput,
  AclInput,
  GatewayInput,
  NatInput,
  PeeringInput,
  RouteInput,
  RouteTableInput,
  SubnetInput,
} from '../../src/dataplane/routing.ts';
import type { GroupInput, InterfaceInput } from '../../src/dataplane/sg-rules.ts';
import { estateOf, inCidr, referenceAllows } from './reference-engine.ts';

/** An interface: its subnet, private IPv4, IPv6 (if any), public IPv4 (if any), groups. */
export interface PathInterface {
  id: string;
  subnetId: string;
  vpcId: string;
  ipv4: string;
  ipv6?: string;
  publicIp?: string;
  groups: string[];
}

export interface PathEstate {
  subnets: SubnetInput[];
  tables: RouteTableInput[];
  acls: AclInput[];
  gateways: GatewayInput[];
  nats: NatInput[];
  peerings: PeeringInput[];
  /** prefix lists (route destinations and group rule peers) */
  prefixLists: Record<string, string[]>;
  interfaces: PathInterface[];
  groups: GroupInput[];
}

/** An end of a flow: an interface at one of its addresses (`viaPublic`: its public IPv4), or a host on the internet. */
export type PathEnd = { iface: string; address: string; viaPublic: boolean } | { internet: string };

export interface PathPacket {
  proto: number;
  srcPort: number;
  dstPort: number;
  icmpType: number;
  icmpCode: number;
}

export interface ReferenceVerdict {
  verdict: 'ACCEPT' | 'REJECT';
  decidedBy: 'route' | 'acl' | 'egress' | 'ingress' | 'both';
  acl?: { subnetId: string; direction: 'outbound' | 'inbound'; reply: boolean; ruleNumber: number };
  why?: string;
}

const familyOf = (a: string) => addressToBigInt(a)?.family;
const prefixOf = (cidr: string) => parseCidr(cidr)?.prefix ?? -1;

/** The route a subnet's table takes for an address: longest prefix; equal prefixes, the CIDR route over a prefix list's. */
export function referenceRoute(e: PathEstate, subnetId: string, address: string): RouteInput | undefined {
  const subnet = e.subnets.find((s) => s.id === subnetId);
  const table = subnet && e.tables.find((t) => t.id === subnet.routeTableId);
  if (!table) return undefined;
  let best: RouteInput | undefined;
  let bestPrefix = -1;
  let bestIsCidr = false;
  for (const r of table.routes) {
    const isList = r.destination.startsWith('pl-');
    const cidrs = isList ? (e.prefixLists[r.destination] ?? []) : [r.destination];
    for (const c of cidrs) {
      if (!inCidr(c, address)) continue;
      const p = prefixOf(c);
      if (p > bestPrefix || (p === bestPrefix && !isList && !bestIsCidr)) {
        best = r;
        bestPrefix = p;
        bestIsCidr = !isList;
      }
    }
  }
  return best;
}

function entryMatches(x: AclEntryInput, remote: string, pkt: { proto: number; port: number; icmpType: number; icmpCode: number }) {
  if (!inCidr(x.cidr, remote)) return false;
  if (x.protocol === -1) return true;
  if (x.protocol !== pkt.proto) return false;
  if (pkt.proto === 6 || pkt.proto === 17) return !x.ports || (pkt.port >= x.ports.from && pkt.port <= x.ports.to);
  if (pkt.proto === 1 || pkt.proto === 58) {
    if (!x.icmp) return true;
    return (x.icmp.type === -1 || x.icmp.type === pkt.icmpType) && (x.icmp.code === -1 || x.icmp.code === pkt.icmpCode);
  }
  return true;
}

/** A subnet's ACL on a packet: the lowest-numbered matching entry of that direction, else `*` (deny). */
export function referenceAcl(
  e: PathEstate,
  subnetId: string,
  egress: boolean,
  remote: string,
  pkt: { proto: number; port: number; icmpType: number; icmpCode: number },
): { allowed: boolean; ruleNumber: number } {
  const subnet = e.subnets.find((s) => s.id === subnetId);
  const acl = subnet && e.acls.find((a) => a.id === subnet.aclId);
  if (!acl) return { allowed: true, ruleNumber: -1 };
  let first: AclEntryInput | undefined;
  for (const x of acl.entries) {
    if (x.egress !== egress || !entryMatches(x, remote, pkt)) continue;
    if (!first || x.ruleNumber < first.ruleNumber) first = x;
  }
  if (first) return { allowed: first.allow, ruleNumber: first.ruleNumber };
  return { allowed: false, ruleNumber: familyOf(remote) === 6 ? 32768 : 32767 };
}

/** A path found: who sees whom, and the subnets whose ACLs the packet crosses. */
interface Path {
  /** the sender's own address, and as the receiver sees it */
  srcOwn: string;
  srcSeen: string;
  /** the receiver's address as the sender addresses it */
  dstSeen: string;
  srcIface?: PathInterface;
  dstIface?: PathInterface;
  /** subnets left (sender's) and entered (receiver's): undefined within one subnet or outside */
  leave?: string;
  enter?: string;
  /** a NAT gateway's subnet crossed (when not the sender's own) */
  nat?: string;
}

type Found = { ok: true; path: Path } | { ok: false; why: string };
const no = (why: string): Found => ({ ok: false, why });

function attached(e: PathEstate, id: string, kind: 'igw' | 'eigw', vpcId: string): boolean {
  return e.gateways.some((g) => g.id === id && g.kind === kind && g.vpcId === vpcId);
}

/** Out of the sender's VPC towards an internet address: the gateway, and the address the internet sees. */
function outToInternet(e: PathEstate, s: PathInterface, own: string, to: string): { seen: string; nat?: string } | string {
  const r = referenceRoute(e, s.subnetId, to);
  if (!r) return 'no route';
  if (r.blackhole) return 'blackhole';
  const v6 = familyOf(to) === 6;
  switch (r.target.kind) {
    case 'igw':
      if (!attached(e, r.target.id, 'igw', s.vpcId)) return 'igw not attached';
      if (v6) return { seen: own };
      return s.publicIp ? { seen: s.publicIp } : 'no public IPv4';
    case 'eigw':
      if (!v6) return 'eigw carries IPv6 only';
      return attached(e, r.target.id, 'eigw', s.vpcId) ? { seen: own } : 'eigw not attached';
    case 'nat': {
      if (v6) return 'NAT carries IPv4 only';
      const natId = r.target.id;
      const n = e.nats.find((x) => x.id === natId);
      if (!n || !n.available || !n.publicIp) return 'NAT unavailable or private';
      const via = referenceRoute(e, n.subnetId, to);
      if (!via || via.blackhole || via.target.kind !== 'igw' || !attached(e, via.target.id, 'igw', s.vpcId))
        return 'NAT subnet not routed to an attached igw';
      return { seen: n.publicIp, nat: n.subnetId === s.subnetId ? undefined : n.subnetId };
    }
    default:
      return `route to ${r.target.kind}`;
  }
}

/** Into the receiver's VPC from an internet address: an attached internet gateway and a route back to it. */
function inFromInternet(e: PathEstate, d: PathInterface, from: string): string | undefined {
  const igw = e.gateways.find((g) => g.kind === 'igw' && g.vpcId === d.vpcId);
  if (!igw) return 'no igw attached';
  const back = referenceRoute(e, d.subnetId, from);
  if (!back || back.blackhole || back.target.kind !== 'igw' || back.target.id !== igw.id) return 'no route back to the igw';
  return undefined;
}

export function referencePath(e: PathEstate, from: PathEnd, to: PathEnd): Found {
  const iface = (id: string) => e.interfaces.find((i) => i.id === id)!;
  const src = 'iface' in from ? iface(from.iface) : undefined;
  const dst = 'iface' in to ? iface(to.iface) : undefined;
  const srcAddr = 'iface' in from ? from.address : from.internet;
  const dstAddr = 'iface' in to ? to.address : to.internet;
  if (!src && !dst) return no('no interface');
  if (src && dst && src.id === dst.id) return no('same interface');
  if (familyOf(srcAddr) !== familyOf(dstAddr)) return no('families never mix');
  const v6 = familyOf(dstAddr) === 6;
  const viaPublic = 'iface' in to && to.viaPublic;

  if (!src) {
    // From the internet: to the public IPv4, or to the IPv6 address.
    if (!v6 && !viaPublic) return no('the internet reaches only public addresses');
    const why = inFromInternet(e, dst!, srcAddr);
    if (why) return no(why);
    return { ok: true, path: { srcOwn: srcAddr, srcSeen: srcAddr, dstSeen: dstAddr, dstIface: dst, enter: dst!.subnetId } };
  }

  const out = referenceRoute(e, src.subnetId, dstAddr);
  if (!out) return no('no route');
  if (out.blackhole) return no('blackhole');

  if (dst && !viaPublic) {
    if (dst.vpcId === src.vpcId) {
      if (out.target.kind !== 'local') return no('not the local route');
      const same = dst.subnetId === src.subnetId;
      return {
        ok: true,
        path: {
          srcOwn: srcAddr,
          srcSeen: srcAddr,
          dstSeen: dstAddr,
          srcIface: src,
          dstIface: dst,
          leave: same ? undefined : src.subnetId,
          enter: same ? undefined : dst.subnetId,
        },
      };
    }
    if (out.target.kind === 'pcx') {
      const pcxId = out.target.id;
      const p = e.peerings.find((x) => x.id === pcxId);
      if (!p || !p.active || !p.vpcIds.includes(src.vpcId) || !p.vpcIds.includes(dst.vpcId)) return no('peering');
      const back = referenceRoute(e, dst.subnetId, srcAddr);
      if (!back || back.blackhole || back.target.kind !== 'pcx' || back.target.id !== p.id) return no('no route back through the peering');
      return {
        ok: true,
        path: {
          srcOwn: srcAddr,
          srcSeen: srcAddr,
          dstSeen: dstAddr,
          srcIface: src,
          dstIface: dst,
          leave: src.subnetId,
          enter: dst.subnetId,
        },
      };
    }
    // An IPv6 address is public: another VPC's interface is reachable over the internet.
    if (!v6) return no('a private IPv4 address of another VPC');
  }

  if (out.target.kind === 'vpce') {
    // A gateway endpoint: the service is reached privately, and it is no interface of the estate.
    if (dst) return no('an endpoint leads to no interface');
    return { ok: true, path: { srcOwn: srcAddr, srcSeen: srcAddr, dstSeen: dstAddr, srcIface: src, leave: src.subnetId } };
  }
  const o = outToInternet(e, src, srcAddr, dstAddr);
  if (typeof o === 'string') return no(o);
  const path: Path = { srcOwn: srcAddr, srcSeen: o.seen, dstSeen: dstAddr, srcIface: src, leave: src.subnetId, nat: o.nat };
  if (!dst) return { ok: true, path };
  const why = inFromInternet(e, dst, o.seen);
  if (why) return no(why);
  return { ok: true, path: { ...path, dstIface: dst, enter: dst.subnetId } };
}

const replyIcmpType = (proto: number, t: number) => (proto === 1 && t === 8 ? 0 : proto === 58 && t === 128 ? 129 : t);

/** The verdict on a new flow: its path, the ACLs and both groups' gates on the way, and the ACLs its reply crosses. */
export function referenceJudge(e: PathEstate, from: PathEnd, to: PathEnd, pkt: PathPacket): ReferenceVerdict {
  const found = referencePath(e, from, to);
  if (!found.ok) return { verdict: 'REJECT', decidedBy: 'route', why: found.why };
  const p = found.path;
  const sg = estateOf({
    groups: e.groups,
    interfaces: e.interfaces.map((i): InterfaceInput => ({
      id: i.id,
      vpcId: i.vpcId,
      ipv4: [i.ipv4],
      ipv6: i.ipv6 ? [i.ipv6] : [],
      groups: i.groups,
      ...(i.publicIp ? { publicIp: i.publicIp } : {}),
    })),
    prefixLists: e.prefixLists,
  });
  const fwd = { proto: pkt.proto, port: pkt.dstPort, icmpType: pkt.icmpType, icmpCode: pkt.icmpCode };
  const back = { proto: pkt.proto, port: pkt.srcPort, icmpType: replyIcmpType(pkt.proto, pkt.icmpType), icmpCode: pkt.icmpCode };
  type Crossing = [subnetId: string | undefined, egress: boolean, remote: string, reply: boolean];
  const cross = (list: Crossing[]): ReferenceVerdict | undefined => {
    for (const [subnetId, egress, remote, reply] of list) {
      if (!subnetId) continue;
      const d = referenceAcl(e, subnetId, egress, remote, reply ? back : fwd);
      if (!d.allowed)
        return {
          verdict: 'REJECT',
          decidedBy: 'acl',
          acl: { subnetId, direction: egress ? 'outbound' : 'inbound', reply, ruleNumber: d.ruleNumber },
        };
    }
    return undefined;
  };
  const gate = (i: PathInterface, egress: boolean, remote: string) =>
    referenceAllows(sg, {
      iface: i.id,
      egress,
      proto: pkt.proto,
      port: pkt.dstPort,
      icmpType: pkt.icmpType,
      icmpCode: pkt.icmpCode,
      remote,
    });

  const leaving = cross([
    [p.leave, true, p.dstSeen, false],
    [p.nat, false, p.srcOwn, false],
  ]);
  if (leaving) return leaving;
  if (p.srcIface && !gate(p.srcIface, true, p.dstSeen)) return { verdict: 'REJECT', decidedBy: 'egress' };
  const arriving = cross([
    [p.nat, true, p.dstSeen, false],
    [p.enter, false, p.srcSeen, false],
  ]);
  if (arriving) return arriving;
  if (p.dstIface && !gate(p.dstIface, false, p.srcSeen)) return { verdict: 'REJECT', decidedBy: 'ingress' };
  const reply = cross([
    [p.enter, true, p.srcSeen, true],
    [p.nat, false, p.dstSeen, true],
    [p.nat, true, p.srcOwn, true],
    [p.leave, false, p.dstSeen, true],
  ]);
  if (reply) return reply;
  return { verdict: 'ACCEPT', decidedBy: 'both' };
}
