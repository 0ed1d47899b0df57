// What a VPC's router namespace holds in the kernel data plane, compiled from plain inputs (pure:
// router-plane.ts reads the store and applies the plan; tests compile by hand): route tables as
// policy routing, the internet gateway's 1:1 NAT for public IPv4 addresses, NAT gateways, peering,
// network ACLs — so the kernel does what src/dataplane/routing.ts (`decidePath`) and the ACL steps
// of dataplane.ts say:
//
// - One kernel table per route table, looked up by `ip rule iif <router end>` for every interface
//   of a subnet using it: a packet is routed by its SOURCE subnet's table, longest prefix first
//   (the kernel's). `local` routes are `throw` (on to the main table, where the interfaces' /32 and
//   /128 routes are). A route to the attached internet gateway goes out the uplink (realm 1), to an
//   egress-only gateway likewise (IPv6), to a NAT gateway out the uplink (realm 2+k, SNAT to the
//   gateway's address) where the NAT gateway's own subnet routes that destination to the internet
//   gateway (expanded here, prefix by prefix), to an active peering connection out the peer link;
//   anything else (a detached gateway, an unavailable NAT gateway, an interface, an endpoint) is a
//   blackhole, and a table without a default route gets a blackhole default (never the main table).
// - nftables (`inet palisade`, one transaction per change): 1:1 NAT (dnat public → primary private
//   from the uplink, snat private → public on realm 1), NAT gateways' snat, the checks the kernel
//   would not make by itself — a public IPv4 address to leave through the internet gateway, the
//   route BACK (a packet from the internet or a peer enters a subnet only if that subnet's table
//   routes its source back the same way: AWS's rule, `decidePath`), no transit through the VPC,
//   an interface sends from its own addresses — and the network ACLs: stateless chains of the
//   entries in rule-number order (first match decides, the `*` rule drops), out of the source
//   subnet then into the destination subnet, never within one subnet, the NAT gateway's subnet
//   crossed both ways on NAT-ed traffic. No ct state in the ACLs: replies pass them by their rules.
// - Drop accounting for flow logs (kernel-flows.ts): before an ACL entry (or the `*` rule) drops a
//   packet, the same match jumps to a counting chain that adds it to a dynamic set keyed by the
//   5-tuple (TCP also by its flags) with a counter per element — ACL_DROP_SETS.out for what an
//   interface sent (its subnet's outbound rules, a NAT gateway's subnet's inbound rules on the way
//   out: an egress REJECT at the interface holding the source address), ACL_DROP_SETS.in for what
//   was coming to one (its subnet's inbound rules: an ingress REJECT at the destination's
//   interface) — as the simulated plane records them (dataplane.ts `judge`). Addresses are the
//   private ones: the internet gateway's DNAT is done before (prerouting), its SNAT after
//   (postrouting). Not counted (no record, as in the simulated plane): drops of a NAT gateway's
//   subnet's ACL on the way to the internet and of replies coming back through it, routing drops
//   (blackholes, the route back, no transit, source/destination check). The sets are bounded
//   (ACL_DROP_SET_SIZE elements each, idle ones expire after ACL_DROP_SET_TIMEOUT_S) and survive
//   the table's changes: a change after the first is `flush table` + the chains no longer wanted
//   deleted + the new chains (routerNftUpdate), one transaction, so the counters are not reset.
import { bigIntToAddress, parseCidr } from '../core/cidr.ts';
import type { AclInput, RouteTarget } from '../dataplane/routing.ts';

/** Addresses of the two ends of the links Palisade makes (uplink: router .1 / internet .2; peer link: side 0 .1 / side 1 .2). */
export const LINK = {
  uplink4: { router: '169.254.0.1', internet: '169.254.0.2' },
  peer4: ['169.254.1.1', '169.254.1.2'] as const,
  /** IPv6 link-local next hops (the same on every link: they are scoped to their device) */
  router6: 'fe80::1',
  internet6: 'fe80::2',
  peer6: ['fe80::1', 'fe80::2'] as const,
};

/** The drop-accounting sets of a router's table (see the header): by direction, TCP / other, family. */
export const ACL_DROP_SETS = {
  out: { tcp4: 'pal_acl_out_tcp4', other4: 'pal_acl_out4', tcp6: 'pal_acl_out_tcp6', other6: 'pal_acl_out6' },
  in: { tcp4: 'pal_acl_in_tcp4', other4: 'pal_acl_in4', tcp6: 'pal_acl_in_tcp6', other6: 'pal_acl_in6' },
} as const;
/** Elements per set (more distinct dropped 5-tuples are not counted) and their idle timeout. */
export const ACL_DROP_SET_SIZE = 65535;
export const ACL_DROP_SET_TIMEOUT_S = 600;

type Sink = keyof typeof ACL_DROP_SETS;
const countChain = (sink: Sink) => `acl_count_${sink}`;

function dropSetDecls(): string[] {
  const common = `flags dynamic,timeout; timeout ${ACL_DROP_SET_TIMEOUT_S}s; size ${ACL_DROP_SET_SIZE}; counter;`;
  return (['out', 'in'] as const).flatMap((sink) =>
    ([4, 6] as const).flatMap((f) => {
      const a = f === 4 ? 'ipv4_addr' : 'ipv6_addr';
      return [
        `  set ${ACL_DROP_SETS[sink][`tcp${f}`]} { type ${a} . inet_service . ${a} . inet_service . tcp_flag; ${common} }`,
        `  set ${ACL_DROP_SETS[sink][`other${f}`]} { type ${a} . inet_service . ${a} . inet_service . inet_proto; ${common} }`,
      ];
    }),
  );
}

/** A counting chain's lines: the packet into its set (then back to the ACL, which drops it). */
function countLines(sink: Sink): string[] {
  return ([4, 6] as const).flatMap((f) => {
    const l3 = f === 4 ? 'ip' : 'ip6';
    const sets = ACL_DROP_SETS[sink];
    return [
      `meta l4proto tcp update @${sets[`tcp${f}`]} { ${l3} saddr . tcp sport . ${l3} daddr . tcp dport . tcp flags }`,
      `meta l4proto udp update @${sets[`other${f}`]} { ${l3} saddr . udp sport . ${l3} daddr . udp dport . meta l4proto }`,
      `meta nfproto ${f === 4 ? 'ipv4' : 'ipv6'} meta l4proto != { tcp, udp } update @${sets[`other${f}`]} { ${l3} saddr . 0 . ${l3} daddr . 0 . meta l4proto }`,
    ];
  });
}

/** Route realms (`meta rtclassid` in nftables): which gateway a route chose. */
export const REALM_IGW = 1;
const REALM_NAT0 = 2;

export interface KRoute {
  /** a CIDR */
  destination: string;
  target: RouteTarget;
  /** expanded from a prefix-list destination (loses ties to CIDR routes) */
  fromList?: boolean;
}
export interface KTable {
  id: string;
  /** every route, the local ones included, prefix lists expanded */
  routes: KRoute[];
}
export interface KSubnet {
  id: string;
  tableId?: string;
  aclId?: string;
}
export interface KInterface {
  id: string;
  subnetId: string;
  /** primary first */
  ipv4: string[];
  ipv6: string[];
  publicIp?: string;
  /** false: the interface may send from other addresses (AWS's source/destination check off) */
  sourceDestCheck: boolean;
  /** a NAT gateway's own interface (no namespace; its address is the NAT gateway's business) */
  natGateway?: boolean;
}
export interface KNat {
  id: string;
  subnetId: string;
  publicIp?: string;
  available: boolean;
}
export interface KPeering {
  id: string;
  /** requester, accepter */
  vpcIds: [string, string];
  active: boolean;
}

export interface RouterInput {
  vpcId: string;
  /** the internet gateway attached, if any */
  igwId?: string;
  /** egress-only gateways attached */
  eigwIds: string[];
  /** the VPC's associated IPv6 blocks (routed to it from the internet namespace) */
  cidrs6: string[];
  subnets: KSubnet[];
  tables: KTable[];
  acls: AclInput[];
  interfaces: KInterface[];
  nats: KNat[];
  peerings: KPeering[];
}

export interface Names {
  routerEnd(eniId: string): string;
  uplink(vpcId: string): string;
  downlink(vpcId: string): string;
  peerLink(pcxId: string, side: 0 | 1): string;
}

export interface RuleSpec {
  family: 4 | 6;
  pref: number;
  iif: string;
  /** the kernel table, 0: a blackhole rule */
  table: number;
}

export interface PeerLinkSpec {
  pcxId: string;
  side: 0 | 1;
  device: string;
  otherVpcId: string;
  otherDevice: string;
}

export interface RouterPlan {
  uplink: boolean;
  peerLinks: PeerLinkSpec[];
  /** ip rules by `${family} ${pref}` */
  rules: Map<string, RuleSpec>;
  /** routes by `${table} ${destination}` → the `ip route replace` arguments */
  routes: Map<string, string>;
  /** the nftables script (atomic: the table is deleted and made again in one transaction) */
  nft: string;
  /** the table alone (`table inet palisade { … }`: sets and chains), for routerNftUpdate */
  nftTable: string;
  /** the names of its chains */
  nftChains: string[];
  /** the internet namespace's routes toward this VPC, by destination → `ip route replace` arguments */
  internet: Map<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Address ranges

type Iv = [bigint, bigint];
interface Range {
  family: 4 | 6;
  lo: bigint;
  hi: bigint;
  bits: number;
}

function range(cidr: string): Range | undefined {
  const c = parseCidr(cidr);
  if (!c) return undefined;
  const size = 1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix);
  return { family: c.family, lo: c.base, hi: c.base + size - 1n, bits: c.prefix };
}

const cidrText = (r: Range) => `${bigIntToAddress(r.family, r.lo)}/${r.bits}`;

/** Sorted, disjoint, adjacent ranges merged. */
function merge(list: Iv[]): Iv[] {
  const s = [...list].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Iv[] = [];
  for (const [lo, hi] of s) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1n) {
      if (hi > last[1]) last[1] = hi;
    } else out.push([lo, hi]);
  }
  return out;
}

/** `r` minus the (merged) `covered` ranges. */
function minus(r: Iv, covered: Iv[]): Iv[] {
  const out: Iv[] = [];
  let lo = r[0];
  for (const [a, b] of covered) {
    if (b < lo || a > r[1]) continue;
    if (a > lo) out.push([lo, a - 1n]);
    lo = b + 1n;
    if (lo > r[1]) return out;
  }
  if (lo <= r[1]) out.push([lo, r[1]]);
  return out;
}

/** nftables set elements for ranges (`a.b.c.d`, `a-b`). */
function elements(family: 4 | 6, list: Iv[]): string[] {
  return list.map(([lo, hi]) =>
    lo === hi ? bigIntToAddress(family, lo) : `${bigIntToAddress(family, lo)}-${bigIntToAddress(family, hi)}`,
  );
}

interface Parsed {
  r: Range;
  route: KRoute;
}

/** A table's routes parsed, longest prefix first (a CIDR route before a prefix-list one of equal length). */
function parsedRoutes(t: KTable | undefined): Parsed[] {
  const out: Parsed[] = [];
  for (const route of t?.routes ?? []) {
    const r = range(route.destination);
    if (r) out.push({ r, route });
  }
  return out.sort((a, b) => b.r.bits - a.r.bits || Number(!!a.route.fromList) - Number(!!b.route.fromList));
}

/**
 * The addresses of one family whose longest-prefix route in a table satisfies `pred` (what
 * `NetworkPaths.route` would choose, prefix lists included), as merged ranges.
 */
export function addressesRoutedBy(t: KTable | undefined, family: 4 | 6, pred: (target: RouteTarget) => boolean): Iv[] {
  let covered: Iv[] = [];
  const hit: Iv[] = [];
  for (const { r, route } of parsedRoutes(t)) {
    if (r.family !== family) continue;
    const parts = minus([r.lo, r.hi], covered);
    if (pred(route.target)) hit.push(...parts);
    covered = merge([...covered, [r.lo, r.hi]]);
  }
  return merge(hit);
}

// ---------------------------------------------------------------------------------------------
// Routes

/** The longest route of a table containing all of `r` (or undefined). */
function longestContaining(routes: Parsed[], r: Range): Parsed | undefined {
  return routes.find((p) => p.r.family === r.family && p.r.bits <= r.bits && p.r.lo <= r.lo && p.r.hi >= r.hi);
}

const inside = (a: Range, b: Range) => a.family === b.family && a.lo >= b.lo && a.hi <= b.hi;

/**
 * The kernel routes of one route table (`ip route replace` arguments by destination). `via` names
 * the next hop of each kind of target; a target that leads nowhere is a blackhole.
 */
export function compileTable(input: RouterInput, table: KTable, kernelTable: number, names: Names): Map<string, string> {
  const out = new Map<string, string>();
  const routes = parsedRoutes(table);
  const tables = new Map(input.tables.map((t) => [t.id, parsedRoutes(t)]));
  const subnets = new Map(input.subnets.map((s) => [s.id, s]));
  const natIndex = new Map(natsInOrder(input).map((n, k) => [n.id, k]));
  const uplink = names.uplink(input.vpcId);
  const up = (r: Range, realm?: number) =>
    r.family === 4
      ? `${cidrText(r)} via ${LINK.uplink4.internet} dev ${uplink} onlink${realm ? ` realm ${realm}` : ''}`
      : `${cidrText(r)} via ${LINK.internet6} dev ${uplink}`;
  const blackhole = (r: Range) => `blackhole ${cidrText(r)}`;
  const igwAttached = (t: RouteTarget) => t.kind === 'igw' && t.id === input.igwId;
  const set = (r: Range, line: string) => {
    const key = cidrText(r);
    if (!out.has(key)) out.set(key, `${line} table ${kernelTable}`);
  };

  for (const { r, route } of routes) {
    const t = route.target;
    switch (t.kind) {
      case 'local':
        set(r, `throw ${cidrText(r)}`);
        break;
      case 'igw':
        set(r, igwAttached(t) ? up(r, REALM_IGW) : blackhole(r));
        break;
      case 'eigw':
        set(r, r.family === 6 && input.eigwIds.includes(t.id) ? up(r) : blackhole(r));
        break;
      case 'pcx': {
        const p = input.peerings.find((x) => x.id === t.id);
        const side = p ? p.vpcIds.indexOf(input.vpcId) : -1;
        if (!p?.active || side < 0 || p.vpcIds[0] === p.vpcIds[1]) {
          set(r, blackhole(r));
          break;
        }
        const other = (1 - side) as 0 | 1;
        const dev = names.peerLink(p.id, side as 0 | 1);
        set(
          r,
          r.family === 4
            ? `${cidrText(r)} via ${LINK.peer4[other]} dev ${dev} onlink`
            : `${cidrText(r)} via ${LINK.peer6[other]} dev ${dev}`,
        );
        break;
      }
      case 'nat': {
        const nat = input.nats.find((n) => n.id === t.id);
        const natTable = nat && tables.get(subnets.get(nat.subnetId)?.tableId ?? '');
        if (r.family !== 4 || !nat?.available || !nat.publicIp || !natTable) {
          set(r, blackhole(r));
          break;
        }
        // The NAT gateway forwards what its own subnet's table sends to the internet gateway:
        // this route resolved by that table, prefix by prefix (`decidePath`: the NAT's route).
        const realm = REALM_NAT0 + natIndex.get(nat.id)!;
        const through = (p: Parsed | undefined) => !!p && igwAttached(p.route.target);
        const base = longestContaining(natTable, r);
        set(r, through(base) ? up(r, realm) : blackhole(r));
        for (const p of natTable) {
          if (p.r.family !== 4 || p.r.bits <= r.bits || !inside(p.r, r)) continue;
          // a route of this table at least as specific that holds it decides instead
          if (routes.some((q) => q.r.family === 4 && q.r.bits > r.bits && q.r.bits <= p.r.bits && inside(p.r, q.r))) continue;
          set(p.r, through(p) ? up(p.r, realm) : blackhole(p.r));
        }
        break;
      }
      default:
        set(r, blackhole(r));
    }
  }
  // Nothing falls through to the main table (whose routes are the interfaces' own).
  if (!out.has('0.0.0.0/0')) out.set('0.0.0.0/0', `blackhole 0.0.0.0/0 table ${kernelTable}`);
  if (!out.has('::/0')) out.set('::/0', `blackhole ::/0 table ${kernelTable}`);
  return out;
}

/** NAT gateways with a realm each: the available public ones, by id. */
function natsInOrder(input: RouterInput): KNat[] {
  return input.nats.filter((n) => n.available && n.publicIp).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// Network ACLs

const ident = (id: string) => id.replace(/[^A-Za-z0-9_]/g, '_');
const aclChain = (aclId: string, egress: boolean, variant = '') => `acl_${ident(aclId)}_${egress ? 'out' : 'in'}${variant}`;

/**
 * One ACL direction as nft rules: allow → return (on to the next step), deny → drop; the `*` rule
 * drops. With `count` (a chain), each drop is preceded by the same match jumping to it (it counts
 * the packet and returns).
 */
export function compileAclChain(acl: AclInput, egress: boolean, count?: string): string[] {
  const lines: string[] = [];
  const entries = acl.entries.filter((e) => e.egress === egress).sort((a, b) => a.ruleNumber - b.ruleNumber);
  for (const e of entries) {
    const r = range(e.cidr);
    if (!r) continue;
    const words: string[] = [];
    const addr = `${r.family === 4 ? 'ip' : 'ip6'} ${egress ? 'daddr' : 'saddr'}`;
    words.push(r.bits === 0 ? `meta nfproto ${r.family === 4 ? 'ipv4' : 'ipv6'}` : `${addr} ${cidrText(r)}`);
    if (e.protocol !== -1) {
      words.push(`meta l4proto ${e.protocol}`);
      if (e.protocol === 6 || e.protocol === 17) {
        const from = e.ports?.from ?? 0;
        const to = e.ports?.to ?? 65535;
        if (from > 0 || to < 65535) words.push(`th dport ${from === to ? from : `${from}-${to}`}`);
      } else if (e.protocol === 1 || e.protocol === 58) {
        const kw = e.protocol === 1 ? 'icmp' : 'icmpv6';
        const type = e.icmp?.type ?? -1;
        const code = e.icmp?.code ?? -1;
        // (ICMP over the other family never matches: `icmp` needs IPv4, `icmpv6` IPv6)
        if (type !== -1) words.push(`${kw} type ${type}`);
        if (code !== -1) words.push(`${kw} code ${code}`);
        if (type === -1 && code === -1) words.push(`meta nfproto ${e.protocol === 1 ? 'ipv4' : 'ipv6'}`);
      }
    }
    if (count && !e.allow) lines.push(`${words.join(' ')} jump ${count}`);
    words.push(e.allow ? 'return' : 'drop');
    lines.push(`${words.join(' ')} comment "rule ${e.ruleNumber}"`);
  }
  if (count) lines.push(`jump ${count}`);
  lines.push('drop comment "rule *"');
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The whole router

const q = (s: string) => `"${s}"`;
const setOf = (items: string[]) => (items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`);

export function compileRouter(
  input: RouterInput,
  names: Names,
  tableNumber: (routeTableId: string) => number,
  rulePref: (eniId: string) => number,
): RouterPlan {
  const vpc = input.vpcId;
  const uplink = names.uplink(vpc);
  const hasUplink = !!input.igwId || input.eigwIds.length > 0;
  const subnets = new Map(input.subnets.map((s) => [s.id, s]));
  const tables = new Map(input.tables.map((t) => [t.id, t]));
  const acls = new Map(input.acls.map((a) => [a.id, a]));
  const ifaces = input.interfaces.filter((i) => subnets.has(i.subnetId));
  const ends = (subnetId?: string) =>
    ifaces.filter((i) => subnetId === undefined || i.subnetId === subnetId).map((i) => q(names.routerEnd(i.id)));

  // Peer links of active peering connections between two different VPCs.
  const peerLinks: PeerLinkSpec[] = [];
  for (const p of input.peerings) {
    const side = p.vpcIds.indexOf(vpc);
    if (!p.active || side < 0 || p.vpcIds[0] === p.vpcIds[1]) continue;
    const other = (1 - side) as 0 | 1;
    peerLinks.push({
      pcxId: p.id,
      side: side as 0 | 1,
      device: names.peerLink(p.id, side as 0 | 1),
      otherVpcId: p.vpcIds[other],
      otherDevice: names.peerLink(p.id, other),
    });
  }

  // Routes and rules.
  const routes = new Map<string, string>();
  const usedTables = new Set<string>();
  for (const s of input.subnets) if (s.tableId && tables.has(s.tableId)) usedTables.add(s.tableId);
  for (const id of usedTables) {
    const n = tableNumber(id);
    for (const [dest, line] of compileTable(input, tables.get(id)!, n, names)) routes.set(`${n} ${dest}`, line);
  }
  const rules = new Map<string, RuleSpec>();
  for (const i of ifaces) {
    const tableId = subnets.get(i.subnetId)?.tableId;
    const pref = rulePref(i.id);
    // (a subnet without a known route table routes nothing: a blackhole rule)
    const table = tableId && tables.has(tableId) ? tableNumber(tableId) : 0;
    for (const family of [4, 6] as const) rules.set(`${family} ${pref}`, { family, pref, iif: names.routerEnd(i.id), table });
  }

  // nftables.
  const forward: string[] = [];
  const chains = new Map<string, string[]>();
  const pre: string[] = [];
  const post: string[] = [];
  const allEnds = ends();
  // An interface sends from its own addresses (the source/destination check).
  for (const i of ifaces) {
    if (!i.sourceDestCheck || i.natGateway) continue;
    const dev = q(names.routerEnd(i.id));
    forward.push(i.ipv4.length ? `iifname ${dev} ip saddr != ${setOf(i.ipv4)} drop` : `iifname ${dev} meta nfproto ipv4 drop`);
    forward.push(i.ipv6.length ? `iifname ${dev} ip6 saddr != ${setOf(i.ipv6)} drop` : `iifname ${dev} meta nfproto ipv6 drop`);
  }
  // No transit: what comes from the internet or a peer goes to this VPC's interfaces only.
  const outside = [...(hasUplink ? [q(uplink)] : []), ...peerLinks.map((l) => q(l.device))];
  if (outside.length)
    forward.push(allEnds.length ? `iifname ${setOf(outside)} oifname != ${setOf(allEnds)} drop` : `iifname ${setOf(outside)} drop`);

  // The route back, per destination subnet: from the internet (a new flow: replies of flows that
  // went out come back as they left), from each peer.
  const backChain = (name: string, v4: Iv[], v6: Iv[]) => {
    const lines: string[] = [];
    if (v4.length) lines.push(`ip saddr ${setOf(elements(4, v4))} return`);
    if (v6.length) lines.push(`ip6 saddr ${setOf(elements(6, v6))} return`);
    lines.push('drop');
    chains.set(name, lines);
  };
  const subnetsWithEnds = input.subnets.filter((s) => ends(s.id).length > 0);
  const vmapByEnds = (chainOf: (s: KSubnet) => string | undefined) => {
    const items: string[] = [];
    for (const s of subnetsWithEnds) {
      const c = chainOf(s);
      if (c) for (const e of ends(s.id)) items.push(`${e} : jump ${c}`);
    }
    return items;
  };
  if (hasUplink) {
    const igwOf = (t: RouteTarget) => t.kind === 'igw' && t.id === input.igwId;
    for (const s of subnetsWithEnds) {
      const t = tables.get(s.tableId ?? '');
      backChain(
        `inet_back_${ident(s.id)}`,
        input.igwId ? addressesRoutedBy(t, 4, igwOf) : [],
        input.igwId ? addressesRoutedBy(t, 6, igwOf) : [],
      );
    }
    // IPv4 enters only at a public address (dnat) or as a reply.
    forward.push(`iifname ${q(uplink)} ct direction original meta nfproto ipv4 ct status & dnat == 0 drop`);
    const items = vmapByEnds((s) => `inet_back_${ident(s.id)}`);
    if (items.length) forward.push(`iifname ${q(uplink)} ct direction original oifname vmap { ${items.join(', ')} }`);
  }
  for (const l of peerLinks) {
    const pcx = (t: RouteTarget) => t.kind === 'pcx' && t.id === l.pcxId;
    for (const s of subnetsWithEnds) {
      const t = tables.get(s.tableId ?? '');
      backChain(`peer_back_${ident(l.pcxId)}_${ident(s.id)}`, addressesRoutedBy(t, 4, pcx), addressesRoutedBy(t, 6, pcx));
    }
    const items = vmapByEnds((s) => `peer_back_${ident(l.pcxId)}_${ident(s.id)}`);
    if (items.length) forward.push(`iifname ${q(l.device)} oifname vmap { ${items.join(', ')} }`);
  }

  // The internet gateway: 1:1 NAT for interfaces with a public IPv4 address.
  const publicOnes = input.igwId ? ifaces.filter((i) => i.publicIp && i.ipv4.length && !i.natGateway) : [];
  if (hasUplink) {
    const privates = publicOnes.flatMap((i) => i.ipv4);
    forward.push(
      privates.length
        ? `oifname ${q(uplink)} meta rtclassid ${REALM_IGW} ip saddr != ${setOf(privates)} drop`
        : `oifname ${q(uplink)} meta rtclassid ${REALM_IGW} drop`,
    );
    if (publicOnes.length) {
      pre.push(`iifname ${q(uplink)} dnat ip to ip daddr map { ${publicOnes.map((i) => `${i.publicIp} : ${i.ipv4[0]}`).join(', ')} }`);
      post.push(
        `oifname ${q(uplink)} meta rtclassid ${REALM_IGW} snat ip to ip saddr map { ${publicOnes.flatMap((i) => i.ipv4.map((a) => `${a} : ${i.publicIp}`)).join(', ')} }`,
      );
    }
  }
  // NAT gateways: snat to the gateway's address; the connection marked with the gateway's realm
  // (its replies cross the gateway's subnet's ACL too).
  const nats = natsInOrder(input);
  nats.forEach((n, k) => {
    const realm = REALM_NAT0 + k;
    if (!hasUplink) return;
    forward.push(`oifname ${q(uplink)} meta rtclassid ${realm} ct mark set ${realm}`);
    post.push(`oifname ${q(uplink)} meta rtclassid ${realm} snat ip to ${n.publicIp}`);
  });

  // Network ACLs. Chains per ACL direction; per subnet, what leaves it (`from_S`: nothing within
  // the subnet, its ACL out, a NAT gateway's subnet in and out) and what enters it (its ACL in).
  const aclOf = (s: KSubnet | undefined) => (s?.aclId && acls.get(s.aclId) ? s.aclId : undefined);
  // One chain per ACL, direction and what its drops count as: `acl_A_out` (counted as the
  // sender's egress), `acl_A_in` (the receiver's ingress), `acl_A_in_nat` (a NAT gateway's subnet
  // on the way out: the sender's egress), `acl_A_{in,out}_plain` (not counted).
  const usedCounts = new Set<Sink>();
  const ensureAcl = (id: string, egress: boolean, sink: Sink | undefined, variant = '') => {
    const name = aclChain(id, egress, variant);
    if (!chains.has(name)) {
      if (sink) usedCounts.add(sink);
      chains.set(name, compileAclChain(acls.get(id)!, egress, sink && countChain(sink)));
    }
    return name;
  };
  const natCross = (n: KNat, out: boolean) => {
    const a = aclOf(subnets.get(n.subnetId));
    if (!a) return []; // (no ACL known: nothing to cross, as the simulated plane)
    return [
      `jump ${out ? ensureAcl(a, false, 'out', '_nat') : ensureAcl(a, false, undefined, '_plain')}`,
      `jump ${ensureAcl(a, true, undefined, '_plain')}`,
    ];
  };
  const fromItems: string[] = [];
  const intoItems: string[] = [];
  for (const s of subnetsWithEnds) {
    const a = aclOf(s);
    const lines = [`oifname ${setOf(ends(s.id))} accept`];
    if (a) lines.push(`jump ${ensureAcl(a, true, 'out')}`);
    nats.forEach((n, k) => {
      if (n.subnetId === s.id || !hasUplink) return;
      const c = `nat_out_${ident(n.id)}`;
      if (!chains.has(c)) chains.set(c, natCross(n, true));
      lines.push(`meta rtclassid ${REALM_NAT0 + k} jump ${c}`);
    });
    chains.set(`from_${ident(s.id)}`, lines);
    const into = a && ensureAcl(a, false, 'in');
    for (const e of ends(s.id)) {
      fromItems.push(`${e} : jump from_${ident(s.id)}`);
      if (into) intoItems.push(`${e} : jump ${into}`);
    }
  }
  if (hasUplink) {
    // Replies of NAT-ed flows cross the NAT gateway's subnet (in, then out) before the instance's.
    nats.forEach((n, k) => {
      const c = `nat_back_${ident(n.id)}`;
      const own = ends(n.subnetId);
      chains.set(c, [...(own.length ? [`oifname ${setOf(own)} return`] : []), ...natCross(n, false)]);
      forward.push(`iifname ${q(uplink)} ct direction reply ct mark ${REALM_NAT0 + k} jump ${c}`);
    });
  }
  for (const sink of usedCounts) chains.set(countChain(sink), countLines(sink));
  if (fromItems.length) forward.push(`iifname vmap { ${fromItems.join(', ')} }`);
  if (intoItems.length) forward.push(`oifname vmap { ${intoItems.join(', ')} }`);

  const body: string[] = dropSetDecls();
  // (the counting chains first: the ACL chains jump to them)
  const ordered = [...chains].sort((a, b) => Number(b[0].startsWith('acl_count_')) - Number(a[0].startsWith('acl_count_')));
  for (const [name, lines] of ordered) body.push(`  chain ${name} {\n${lines.map((l) => `    ${l}\n`).join('')}  }`);
  body.push(
    `  chain forward {\n    type filter hook forward priority filter; policy accept;\n${forward.map((l) => `    ${l}\n`).join('')}  }`,
  );
  body.push(
    `  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n${pre.map((l) => `    ${l}\n`).join('')}  }`,
  );
  body.push(
    `  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n${post.map((l) => `    ${l}\n`).join('')}  }`,
  );
  const nftTable = `table inet palisade {\n${body.join('\n')}\n}\n`;
  const nft = `table inet palisade\ndelete table inet palisade\n${nftTable}`;
  const nftChains = [...chains.keys(), 'forward', 'prerouting', 'postrouting'];

  // The internet namespace's side: public addresses and IPv6 blocks toward this VPC's downlink.
  const internet = new Map<string, string>();
  if (hasUplink) {
    const down = names.downlink(vpc);
    if (input.igwId) {
      const pubs = [...publicOnes.map((i) => i.publicIp!), ...nats.map((n) => n.publicIp!)];
      for (const p of pubs) internet.set(`${p}/32`, `${p}/32 via ${LINK.uplink4.router} dev ${down} onlink src ${INTERNET_SOURCE.v4}`);
    }
    for (const c of input.cidrs6) {
      const r = range(c);
      if (r?.family === 6) internet.set(cidrText(r), `${cidrText(r)} via ${LINK.router6} dev ${down} src ${INTERNET_SOURCE.v6}`);
    }
  }
  return { uplink: hasUplink, peerLinks, rules, routes, nft, nftTable, nftChains, internet };
}

/**
 * The script that brings a router's table from `prevChains` (what was applied) to `plan` keeping
 * the drop-accounting sets' elements: every rule flushed, the chains no longer wanted deleted, the
 * sets declared again (unchanged: kept) and the chains filled — one transaction.
 */
export function routerNftUpdate(prevChains: readonly string[], plan: Pick<RouterPlan, 'nftTable' | 'nftChains'>): string {
  const next = new Set(plan.nftChains);
  const gone = prevChains.filter((c) => !next.has(c)).map((c) => `delete chain inet palisade ${c}\n`);
  return `flush table inet palisade\n${gone.join('')}${plan.nftTable}`;
}

/** The internet namespace's default source addresses (routes toward the VPCs carry them). */
export const INTERNET_SOURCE = { v4: '198.51.100.1', v6: '2001:db8::1' };
/** The ranges "the internet" answers at: every address in them is local to the internet namespace. */
export const INTERNET_RANGES = ['198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'];
