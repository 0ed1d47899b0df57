// The network around the security groups, as a packet meets it: route tables (longest prefix
// match), network ACLs (stateless, ordered by rule number), internet, egress-only and NAT
// gateways, peering connections and gateway endpoints. Pure and compiled: inputs are plain
// descriptions (plane-sync.ts makes them from the store; analysis/snapshot.ts from exports), and a
// change to one table or ACL recompiles only that table or ACL.
//
// AWS: "Route tables" (longest prefix match; the local route; blackhole routes), "Network ACLs"
// (rules evaluated in order, lowest number first, until one matches; the `*` rule denies; stateless:
// replies must be allowed explicitly, hence the ephemeral-port rules), both in the VPC User Guide.
import type { Address } from './addresses.ts';
import { bigIntToAddress, parseCidr } from '../core/cidr.ts';

type Range = { family: 4; lo: number; hi: number; bits: number } | { family: 6; lo: bigint; hi: bigint; bits: number };

/** A CIDR as the closed range of its addresses, with its prefix length. */
function cidrRange(text: string): Range | undefined {
  const c = parseCidr(text);
  if (!c) return undefined;
  const size = 1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix);
  return c.family === 4
    ? { family: 4, lo: Number(c.base), hi: Number(c.base + size - 1n), bits: c.prefix }
    : { family: 6, lo: c.base, hi: c.base + size - 1n, bits: c.prefix };
}

export type RouteTarget =
  | { kind: 'local' }
  | { kind: 'igw'; id: string }
  | { kind: 'eigw'; id: string }
  | { kind: 'nat'; id: string }
  | { kind: 'eni'; id: string }
  | { kind: 'pcx'; id: string }
  | { kind: 'vpce'; id: string }
  | { kind: 'other'; id: string };

export interface RouteInput {
  /** A CIDR, or a prefix list id (`pl-…`: gateway endpoint routes). */
  destination: string;
  target: RouteTarget;
  /** The target is gone (a detached gateway, a deleted NAT gateway): the route drops what it matches. */
  blackhole?: boolean;
}

export interface RouteTableInput {
  id: string;
  vpcId: string;
  /** Every route, the local ones included. */
  routes: RouteInput[];
}

export interface AclEntryInput {
  ruleNumber: number;
  egress: boolean;
  /** -1 for all protocols, else the protocol number */
  protocol: number;
  allow: boolean;
  cidr: string;
  /** TCP/UDP: the destination port range */
  ports?: { from: number; to: number };
  /** ICMP: type and code (-1 for any) */
  icmp?: { type: number; code: number };
}

export interface AclInput {
  id: string;
  entries: AclEntryInput[];
}

export interface SubnetInput {
  id: string;
  vpcId: string;
  routeTableId: string;
  aclId: string;
}

export interface GatewayInput {
  id: string;
  kind: 'igw' | 'eigw';
  /** the VPC it is attached to, if any */
  vpcId?: string;
}

export interface NatInput {
  id: string;
  subnetId: string;
  /** the address outside sees (public NAT gateways) */
  publicIp?: string;
  privateIp?: string;
  /** its network interface (type nat_gateway): flow logs record the traffic it translates */
  interfaceId?: string;
  available: boolean;
}

export interface PeeringInput {
  id: string;
  vpcIds: [string, string];
  active: boolean;
}

/** The route a table chose for a destination. */
export interface RouteChoice {
  tableId: string;
  destination: string;
  target: RouteTarget;
  blackhole: boolean;
}

/** What an ACL decided for a packet: the entry, or the `*` rule (ruleNumber 32767 / 32768). */
export interface AclDecision {
  aclId: string;
  allowed: boolean;
  ruleNumber: number;
}

interface CompiledRoute4 {
  lo: number;
  hi: number;
  bits: number;
  choice: RouteChoice;
}
interface CompiledRoute6 {
  lo: bigint;
  hi: bigint;
  bits: number;
  choice: RouteChoice;
}
interface CompiledTable {
  vpcId: string;
  /** longest prefix first */
  v4: CompiledRoute4[];
  v6: CompiledRoute6[];
  /** prefix-list destinations (gateway endpoints, customer lists): by longest prefix with the CIDRs, which win ties */
  lists: { id: string; choice: RouteChoice }[];
}

interface CompiledEntry {
  ruleNumber: number;
  protocol: number;
  allow: boolean;
  family: 4 | 6;
  lo4: number;
  hi4: number;
  lo6: bigint;
  hi6: bigint;
  portLo: number;
  portHi: number;
  icmpType: number;
  icmpCode: number;
}
/** An ACL entry as compiled (read-only, for analyses: see NetworkPaths.layout). */
export type AclEntryRange = Readonly<CompiledEntry>;
export interface SubnetLayout {
  routes: { v4: [number, number][]; v6: [bigint, bigint][] };
  acl?: { ingress: readonly AclEntryRange[]; egress: readonly AclEntryRange[] };
}
interface CompiledAcl {
  ingress: CompiledEntry[];
  egress: CompiledEntry[];
}

/** The `*` rules' numbers as DescribeNetworkAcls shows them. */
export const ACL_DEFAULT_RULE = { 4: 32767, 6: 32768 } as const;

export interface PacketFacts {
  proto: number;
  /** the destination port (TCP/UDP) */
  port: number;
  icmpType?: number;
  icmpCode?: number;
}

export class NetworkPaths {
  private readonly tables = new Map<string, CompiledTable>();
  private readonly acls = new Map<string, CompiledAcl>();
  private readonly subnets = new Map<string, SubnetInput>();
  private readonly gateways = new Map<string, GatewayInput>();
  private readonly nats = new Map<string, NatInput>();
  private readonly peerings = new Map<string, PeeringInput>();
  private readonly interfaces = new Map<string, RoutedInterface>();
  /** prefix list id → its CIDRs (gateway endpoint destinations) */
  private readonly prefixLists = new Map<string, { v4: [number, number, number][]; v6: [bigint, bigint, number][] }>();

  clear(): void {
    this.tables.clear();
    this.acls.clear();
    this.subnets.clear();
    this.gateways.clear();
    this.nats.clear();
    this.peerings.clear();
    this.prefixLists.clear();
    this.interfaces.clear();
  }

  setInterface(i: RoutedInterface): void {
    this.interfaces.set(i.id, i);
  }
  removeInterface(id: string): void {
    this.interfaces.delete(id);
  }
  /** An interface routing knows (in a subnet it knows): routes and ACLs apply to its traffic. */
  interface(id: string): RoutedInterface | undefined {
    const i = this.interfaces.get(id);
    return i && this.subnets.has(i.subnetId) ? i : undefined;
  }

  setRouteTable(t: RouteTableInput): void {
    const v4: CompiledRoute4[] = [];
    const v6: CompiledRoute6[] = [];
    const lists: CompiledTable['lists'] = [];
    for (const r of t.routes) {
      const choice: RouteChoice = { tableId: t.id, destination: r.destination, target: r.target, blackhole: !!r.blackhole };
      if (r.destination.startsWith('pl-')) {
        lists.push({ id: r.destination, choice });
        continue;
      }
      const c = cidrRange(r.destination);
      if (!c) continue;
      if (c.family === 4) v4.push({ lo: c.lo, hi: c.hi, bits: c.bits, choice });
      else v6.push({ lo: c.lo, hi: c.hi, bits: c.bits, choice });
    }
    v4.sort((a, b) => b.bits - a.bits);
    v6.sort((a, b) => b.bits - a.bits);
    this.tables.set(t.id, { vpcId: t.vpcId, v4, v6, lists });
  }

  removeRouteTable(id: string): void {
    this.tables.delete(id);
  }

  setAcl(a: AclInput): void {
    const compile = (e: AclEntryInput): CompiledEntry | undefined => {
      const c = cidrRange(e.cidr);
      if (!c) return undefined;
      return {
        ruleNumber: e.ruleNumber,
        protocol: e.protocol,
        allow: e.allow,
        family: c.family,
        lo4: c.family === 4 ? c.lo : 0,
        hi4: c.family === 4 ? c.hi : -1,
        lo6: c.family === 6 ? c.lo : 0n,
        hi6: c.family === 6 ? c.hi : -1n,
        portLo: e.ports?.from ?? 0,
        portHi: e.ports?.to ?? 65535,
        icmpType: e.icmp?.type ?? -1,
        icmpCode: e.icmp?.code ?? -1,
      };
    };
    const side = (egress: boolean) =>
      a.entries
        .filter((e) => e.egress === egress)
        .map(compile)
        .filter((e): e is CompiledEntry => !!e)
        .sort((x, y) => x.ruleNumber - y.ruleNumber);
    this.acls.set(a.id, { ingress: side(false), egress: side(true) });
  }

  removeAcl(id: string): void {
    this.acls.delete(id);
  }

  setSubnet(s: SubnetInput): void {
    this.subnets.set(s.id, s);
  }
  removeSubnet(id: string): void {
    this.subnets.delete(id);
  }
  subnet(id: string): SubnetInput | undefined {
    return this.subnets.get(id);
  }

  setGateway(g: GatewayInput): void {
    this.gateways.set(g.id, g);
  }
  removeGateway(id: string): void {
    this.gateways.delete(id);
  }
  gateway(id: string): GatewayInput | undefined {
    return this.gateways.get(id);
  }
  /** The internet gateway attached to a VPC, if any. */
  internetGatewayOf(vpcId: string): GatewayInput | undefined {
    for (const g of this.gateways.values()) if (g.kind === 'igw' && g.vpcId === vpcId) return g;
    return undefined;
  }

  setNat(n: NatInput): void {
    this.nats.set(n.id, n);
  }
  removeNat(id: string): void {
    this.nats.delete(id);
  }
  nat(id: string): NatInput | undefined {
    return this.nats.get(id);
  }

  setPeering(p: PeeringInput): void {
    this.peerings.set(p.id, p);
  }
  removePeering(id: string): void {
    this.peerings.delete(id);
  }
  peering(id: string): PeeringInput | undefined {
    return this.peerings.get(id);
  }

  setPrefixList(id: string, cidrs: string[]): void {
    const v4: [number, number, number][] = [];
    const v6: [bigint, bigint, number][] = [];
    for (const text of cidrs) {
      const c = cidrRange(text);
      if (c?.family === 4) v4.push([c.lo, c.hi, c.bits]);
      else if (c?.family === 6) v6.push([c.lo, c.hi, c.bits]);
    }
    this.prefixLists.set(id, { v4, v6 });
  }
  removePrefixList(id: string): void {
    this.prefixLists.delete(id);
  }

  /** Whether a subnet's routes and ACLs are known (an estate without them routes as before: see `modelled`). */
  get modelled(): boolean {
    return this.subnets.size > 0;
  }

  /**
   * The route a subnet's table takes for a destination, or undefined: no route. Longest prefix
   * match over the CIDR routes and the CIDRs of the prefix-list routes alike (a gateway endpoint's
   * route wins over 0.0.0.0/0 for its service); for equal prefixes the CIDR route wins ("How route
   * priority works": longest prefix, then static routes, then prefix-list routes).
   */
  route(subnetId: string, dst: Address): RouteChoice | undefined {
    const s = this.subnets.get(subnetId);
    const t = s && this.tables.get(s.routeTableId);
    if (!t) return undefined;
    let best: RouteChoice | undefined;
    let bits = -1;
    if (dst.family === 4) {
      const v = dst.v;
      for (const r of t.v4)
        if (v >= r.lo && v <= r.hi) {
          best = r.choice;
          bits = r.bits;
          break;
        }
      for (const l of t.lists) {
        const p = this.prefixLists.get(l.id);
        if (p) for (const [lo, hi, b] of p.v4) if (b > bits && v >= lo && v <= hi) [best, bits] = [l.choice, b];
      }
      return best;
    }
    const v = dst.v;
    for (const r of t.v6)
      if (v >= r.lo && v <= r.hi) {
        best = r.choice;
        bits = r.bits;
        break;
      }
    for (const l of t.lists) {
      const p = this.prefixLists.get(l.id);
      if (p) for (const [lo, hi, b] of p.v6) if (b > bits && v >= lo && v <= hi) [best, bits] = [l.choice, b];
    }
    return best;
  }

  /**
   * The address ranges a subnet's route table covers (prefix lists included) and its ACL's entries
   * in rule order: the boundaries an analysis partitions address and port space by (reach).
   */
  layout(subnetId: string): SubnetLayout | undefined {
    const s = this.subnets.get(subnetId);
    if (!s) return undefined;
    const t = this.tables.get(s.routeTableId);
    const v4: [number, number][] = (t?.v4 ?? []).map((r) => [r.lo, r.hi]);
    const v6: [bigint, bigint][] = (t?.v6 ?? []).map((r) => [r.lo, r.hi]);
    for (const l of t?.lists ?? []) {
      const p = this.prefixLists.get(l.id);
      if (!p) continue;
      for (const [lo, hi] of p.v4) v4.push([lo, hi]);
      for (const [lo, hi] of p.v6) v6.push([lo, hi]);
    }
    const a = this.acls.get(s.aclId);
    return { routes: { v4, v6 }, ...(a ? { acl: { ingress: a.ingress, egress: a.egress } } : {}) };
  }

  /**
   * A subnet's ACL on a packet: `egress` for what leaves the subnet (remote = destination),
   * ingress for what enters (remote = source). Rules in number order; the first that matches decides.
   */
  acl(subnetId: string, egress: boolean, remote: Address, pkt: PacketFacts): AclDecision | undefined {
    const s = this.subnets.get(subnetId);
    const a = s && this.acls.get(s.aclId);
    if (!s || !a) return undefined;
    const list = egress ? a.egress : a.ingress;
    for (const e of list) {
      if (e.family !== remote.family) continue;
      if (remote.family === 4 ? remote.v < e.lo4 || remote.v > e.hi4 : remote.v < e.lo6 || remote.v > e.hi6) continue;
      if (e.protocol !== -1) {
        if (e.protocol !== pkt.proto) continue;
        if (pkt.proto === 6 || pkt.proto === 17) {
          if (pkt.port < e.portLo || pkt.port > e.portHi) continue;
        } else if (pkt.proto === 1 || pkt.proto === 58) {
          if (e.icmpType !== -1 && e.icmpType !== pkt.icmpType) continue;
          if (e.icmpCode !== -1 && e.icmpCode !== pkt.icmpCode) continue;
        }
      }
      return { aclId: s.aclId, allowed: e.allow, ruleNumber: e.ruleNumber };
    }
    return { aclId: s.aclId, allowed: false, ruleNumber: ACL_DEFAULT_RULE[remote.family] };
  }
}

// ---------------------------------------------------------------------------------------------
// The path of a packet between two endpoints

/** An interface as routing sees it. */
export interface RoutedInterface {
  id: string;
  subnetId: string;
  vpcId: string;
  /** its public IPv4 (auto-assigned or an Elastic IP), if any */
  publicIp?: Address;
  /** does it have an IPv6 address (its IPv6 traffic can leave through a gateway) */
  hasIpv6: boolean;
}

export type PathEnd =
  { kind: 'interface'; iface: RoutedInterface; address: Address; viaPublic: boolean } | { kind: 'external'; address: Address };

/** One step of a path, for explanations. */
export type Hop =
  { kind: 'route'; subnetId: string; route: RouteChoice } | { kind: 'no-route'; subnetId: string; destination: Address; why: string };

export interface PathDecision {
  ok: boolean;
  /** why not (no route, a blackhole, a missing gateway or address…) */
  reason?: string;
  hops: Hop[];
  /** the source address the destination sees (a public IP, the NAT gateway's) when it is not the source's own */
  sourceSeenAs?: Address;
  /** subnets whose ACLs the packet crosses: leaving the source's, entering the destination's (none within one subnet) */
  aclOut?: string;
  aclIn?: string;
  /** a NAT gateway's subnet the packet crosses on the way out (its ACL applies both ways) */
  natSubnet?: string;
  /** the NAT gateway the packet goes through */
  nat?: NatInput;
}

const familyName = (a: Address) => (a.family === 4 ? 'IPv4' : 'IPv6');

/**
 * The route from one end to the other and back (longest prefix match in each subnet's table),
 * as AWS routes it: inside a VPC the local route; between VPCs a peering connection with routes on
 * both sides; to and from the internet an internet gateway attached to the VPC and a public IPv4
 * address (or the IPv6 address itself), an egress-only gateway for outbound IPv6, a NAT gateway
 * for outbound IPv4 from a private subnet. Families never mix.
 */
export function decidePath(paths: NetworkPaths, src: PathEnd, dst: PathEnd): PathDecision {
  const hops: Hop[] = [];
  const no = (reason: string, hop?: Hop): PathDecision => ({ ok: false, reason, hops: hop ? [...hops, hop] : hops });
  if (src.kind === 'external' && dst.kind === 'external') return no('neither end is a Palisade network interface');
  if (src.address.family !== dst.address.family) {
    return no(`an ${familyName(dst.address)} destination needs an ${familyName(dst.address)} source: address families never mix`);
  }
  // From the internet in.
  if (src.kind === 'external') {
    const d = (dst as Extract<PathEnd, { kind: 'interface' }>).iface;
    if (dst.address.family === 4 && !(dst as { viaPublic: boolean }).viaPublic)
      return no(`the internet reaches ${d.id} only at its public IP address`);
    const igw = paths.internetGatewayOf(d.vpcId);
    if (!igw) return no(`${d.vpcId} has no internet gateway attached: nothing from the internet enters it`);
    const back = paths.route(d.subnetId, src.address);
    if (!back)
      return no(
        `no return route: ${d.subnetId}'s route table has no route to ${src.address.family === 4 ? 'the internet' : 'the IPv6 internet'}`,
        { kind: 'no-route', subnetId: d.subnetId, destination: src.address, why: 'no route back' },
      );
    hops.push({ kind: 'route', subnetId: d.subnetId, route: back });
    if (back.blackhole) return no(`the return route ${back.destination} in ${back.tableId} is a blackhole`);
    if (back.target.kind !== 'igw' || back.target.id !== igw.id)
      return no(
        `no return route: ${back.tableId} sends ${back.destination} to ${targetText(back.target)}, not to the internet gateway ${igw.id}`,
      );
    return { ok: true, hops, aclIn: d.subnetId };
  }
  const s = src.iface;
  const out = paths.route(s.subnetId, dst.address);
  if (!out)
    return no(`no route: ${s.subnetId}'s route table has no route to ${addressText(dst.address)}`, {
      kind: 'no-route',
      subnetId: s.subnetId,
      destination: dst.address,
      why: 'no route',
    });
  hops.push({ kind: 'route', subnetId: s.subnetId, route: out });
  if (out.blackhole)
    return no(`the route ${out.destination} in ${out.tableId} is a blackhole (its target ${targetText(out.target)} is gone)`);

  if (dst.kind === 'interface' && !dst.viaPublic) {
    const d = dst.iface;
    const same = d.subnetId === s.subnetId;
    if (d.vpcId === s.vpcId) {
      if (out.target.kind !== 'local')
        return no(`${out.tableId} sends ${out.destination} to ${targetText(out.target)}, not within the VPC`);
      return { ok: true, hops, aclOut: same ? undefined : s.subnetId, aclIn: same ? undefined : d.subnetId };
    }
    // Another VPC: a peering connection, routes on both sides — or, IPv6 addresses being public,
    // the internet (out through a gateway, in through the other VPC's internet gateway, below).
    if (out.target.kind === 'pcx') {
      const pcx = paths.peering(out.target.id);
      if (!pcx?.active || !pcx.vpcIds.includes(s.vpcId) || !pcx.vpcIds.includes(d.vpcId))
        return no(`the peering connection ${out.target.id} does not connect ${s.vpcId} and ${d.vpcId} (or is not active)`);
      const back = paths.route(d.subnetId, src.address);
      if (!back || back.blackhole || back.target.kind !== 'pcx' || back.target.id !== pcx.id) {
        return no(`no return route: ${d.subnetId}'s route table has no route to ${addressText(src.address)} through ${pcx.id}`, {
          kind: 'no-route',
          subnetId: d.subnetId,
          destination: src.address,
          why: 'no route back',
        });
      }
      hops.push({ kind: 'route', subnetId: d.subnetId, route: back });
      return { ok: true, hops, aclOut: s.subnetId, aclIn: d.subnetId };
    }
    if (dst.address.family === 4 || (out.target.kind !== 'igw' && out.target.kind !== 'eigw'))
      return no(`no route to ${d.vpcId}: ${out.tableId} sends ${out.destination} to ${targetText(out.target)}`);
  }

  // Out of the VPC: to the internet, or to an interface's public address (out and back in).
  let seen: Address | undefined;
  let natSubnet: string | undefined;
  let natUsed: NatInput | undefined;
  switch (out.target.kind) {
    case 'igw': {
      const igw = paths.gateway(out.target.id);
      if (!igw || igw.vpcId !== s.vpcId) return no(`the internet gateway ${out.target.id} is not attached to ${s.vpcId}`);
      if (dst.address.family === 4) {
        if (!s.publicIp)
          return no(
            `${s.id} has no public IPv4 address: through an internet gateway it reaches nothing (use a NAT gateway or an Elastic IP)`,
          );
        seen = s.publicIp;
      } else if (!s.hasIpv6) return no(`${s.id} has no IPv6 address`);
      break;
    }
    case 'eigw': {
      if (dst.address.family !== 6) return no('an egress-only internet gateway carries IPv6 only');
      const g = paths.gateway(out.target.id);
      if (!g || g.vpcId !== s.vpcId) return no(`the egress-only gateway ${out.target.id} is not attached to ${s.vpcId}`);
      break;
    }
    case 'nat': {
      if (dst.address.family !== 4) return no('a NAT gateway carries IPv4 only');
      const nat = paths.nat(out.target.id);
      if (!nat?.available) return no(`the NAT gateway ${out.target.id} is not available`);
      if (!nat.publicIp) return no(`the NAT gateway ${out.target.id} is private: it does not reach the internet`);
      const via = paths.route(nat.subnetId, dst.address);
      if (!via || via.blackhole || via.target.kind !== 'igw') {
        return no(`the NAT gateway's subnet ${nat.subnetId} has no route to the internet through an internet gateway`, {
          kind: 'no-route',
          subnetId: nat.subnetId,
          destination: dst.address,
          why: 'no route from the NAT gateway',
        });
      }
      const igw = paths.gateway(via.target.id);
      if (!igw || igw.vpcId !== s.vpcId) return no(`the internet gateway ${via.target.id} is not attached to ${s.vpcId}`);
      hops.push({ kind: 'route', subnetId: nat.subnetId, route: via });
      seen = natAddress(nat, nat.publicIp);
      natSubnet = nat.subnetId === s.subnetId ? undefined : nat.subnetId;
      natUsed = nat;
      break;
    }
    case 'vpce':
      // A gateway endpoint: the AWS service is reached privately (nothing of Palisade answers there).
      if (dst.kind === 'interface') return no(`${out.tableId} sends ${out.destination} to the endpoint ${out.target.id}`);
      return { ok: true, hops, aclOut: s.subnetId };
    default:
      return no(`${out.tableId} sends ${out.destination} to ${targetText(out.target)}, which does not lead to ${addressText(dst.address)}`);
  }
  if (dst.kind === 'external') return { ok: true, hops, sourceSeenAs: seen, aclOut: s.subnetId, natSubnet, nat: natUsed };
  // Back in at the destination's public address: its VPC's internet gateway and a route back.
  const d = dst.iface;
  const igw = paths.internetGatewayOf(d.vpcId);
  if (!igw) return no(`${d.vpcId} has no internet gateway attached: nothing from the internet enters it`);
  const from = seen ?? src.address;
  const back = paths.route(d.subnetId, from);
  if (!back || back.blackhole || back.target.kind !== 'igw' || back.target.id !== igw.id) {
    return no(`no return route: ${d.subnetId}'s route table has no route to ${addressText(from)} through ${igw.id}`, {
      kind: 'no-route',
      subnetId: d.subnetId,
      destination: from,
      why: 'no route back',
    });
  }
  hops.push({ kind: 'route', subnetId: d.subnetId, route: back });
  return { ok: true, hops, sourceSeenAs: seen, aclOut: s.subnetId, aclIn: d.subnetId, natSubnet, nat: natUsed };
}

export function targetText(t: RouteTarget): string {
  return t.kind === 'local' ? 'local' : t.id;
}

function addressText(a: Address): string {
  return bigIntToAddress(a.family, BigInt(a.v));
}

/** A NAT gateway's public address, parsed once per NAT gateway (the same object each time). */
const natAddresses = new WeakMap<NatInput, Address | undefined>();
function natAddress(nat: NatInput, text: string): Address | undefined {
  if (!natAddresses.has(nat)) natAddresses.set(nat, parseIpv4(text));
  return natAddresses.get(nat);
}

function parseIpv4(text: string): Address | undefined {
  const p = text.split('.').map(Number);
  if (p.length !== 4 || p.some((n) => !(n >= 0 && n <= 255))) return undefined;
  return { family: 4, v: ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]! };
}
