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
export function cidrRange(text: string): Range | undefined {
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
  /** the choice as a route code (see `routeCode`) */
  code: number;
}
interface CompiledTable {
  vpcId: string;
  /** longest prefix first */
  v4: CompiledRoute4[];
  v6: CompiledRoute6[];
  /** prefix-list destinations (gateway endpoints, customer lists): by longest prefix with the CIDRs, which win ties */
  lists: { id: string; choice: RouteChoice }[];
  /**
   * The verdict path's copy, placed in NetworkPaths' word arena: `v4` (ROUTE_STRIDE words each:
   * lo, hi — sign-flipped, see `flip` — route code, prefix length), then `lists` (2 words each:
   * the prefix list's name index, the route code).
   */
  block: Int32Array;
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
  /**
   * The verdict path's copies: the IPv4 entries in rule order, ingress then egress (ACL_STRIDE
   * words each: see `aclAllows`), placed in NetworkPaths' word arena — unless an entry does not fit
   * the words (`block` undefined: the entries are read as objects) — and the IPv6 ones.
   */
  block: Int32Array | undefined;
  in4: CompiledEntry[];
  out4: CompiledEntry[];
  in6: CompiledEntry[];
  out6: CompiledEntry[];
}

// ---------------------------------------------------------------------------------------------
// The verdict path's encoding (`decideFast`, `aclAllows`): ids interned to dense indices, a route
// as one integer, tables and ACLs as flat number arrays — no strings, no BigInt for IPv4, nothing
// allocated per query.

/** A route's target kind, as the low 3 bits of its route code. */
export const ROUTE_KIND = { local: 0, igw: 1, eigw: 2, nat: 3, eni: 4, pcx: 5, vpce: 6, other: 7 } as const;
const K_LOCAL = 0;
const K_IGW = 1;
const K_EIGW = 2;
const K_NAT = 3;
const K_PCX = 5;
const K_VPCE = 6;
/** A route code: (target's name index + 1) * 16 + blackhole * 8 + kind; -1 for no route. */
const BLACKHOLE = 8;
const kindOf = (code: number) => code & 7;
const targetOf = (code: number) => (code >>> 4) - 1;
/** An IPv4 route in the arena: lo, hi (flipped), route code, prefix length. */
const ROUTE_STRIDE = 4;
/**
 * An IPv4 ACL entry in the arena: lo, hi (flipped), a word of protocol + 1 (9 bits), allow (1 bit),
 * ICMP type + 1 and ICMP code + 1 (9 bits each: 0 for any), a word of the port range (lo | hi << 16).
 */
const ACL_STRIDE = 4;
const A_ALLOW = 1 << 9;
const PL_STRIDE = 3;
/** An IPv4 address (or range end) with its top bit flipped: unsigned order as int32 order. */
const flip = (v: number) => (v ^ 0x80000000) | 0;
/** per subnet, in `sub`: is it set, its route table's index, its ACL's index */
const SUB_STRIDE = 3;
const SUB_SET = 0;
const SUB_TABLE = 1;
const SUB_ACL = 2;
/** per table, in `tdir`: its block's offset in the arena (-1: no table), its IPv4 routes, its list routes */
const TDIR_STRIDE = 3;
/** per ACL, in `adir`: its block's offset (-1: no ACL, -2: read its entries as objects), its ingress and egress entries */
const ADIR_STRIDE = 3;
/** per interface, in `ifRow`: its subnet's index, its VPC's index, has it an IPv6 address (1/0) */
const IF_STRIDE = 3;

/** `a`, or a copy at least `n` long (twice as long), the rest filled with `fill`. */
function room(a: Int32Array, n: number, fill: number): Int32Array {
  if (n <= a.length) return a;
  const b = new Int32Array(Math.max(n, 2 * a.length)).fill(fill);
  b.set(a);
  return b;
}
const NAT_SET = 1;
const NAT_AVAILABLE = 2;
const NAT_PUBLIC = 4;
const PCX_SET = 1;
const PCX_ACTIVE = 2;

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

  // ---- the verdict path's tables (see `decideFast`), kept by the same calls as the maps above ----
  // Ids are interned to dense indices, once each (an id set and removed keeps its index, except an
  // interface's, which is reused). Names are the targets' ids — gateways, NAT gateways, peering
  // connections, prefix lists — in one space: a route's target is looked up by name whatever it is.
  private readonly subnetIx = new Map<string, number>();
  private readonly vpcIx = new Map<string, number>();
  private readonly tableIx = new Map<string, number>();
  private readonly aclIx = new Map<string, number>();
  private readonly nameIx = new Map<string, number>();
  /** per subnet index: SUB_STRIDE words */
  private sub: Int32Array = new Int32Array(0);
  private subCount = 0;
  /** per table / ACL index: where its block is in the arena (TDIR_STRIDE / ADIR_STRIDE words) */
  private tdir: Int32Array = new Int32Array(0);
  private adir: Int32Array = new Int32Array(0);
  /** the arena: the tables' and ACLs' blocks; `used` words of it, `garbage` of them replaced blocks */
  private words: Int32Array = new Int32Array(1024);
  private used = 0;
  private garbage = 0;
  /** per table / ACL index: the compiled table / ACL, if set */
  private tableById: (CompiledTable | undefined)[] = [];
  private aclById: (CompiledAcl | undefined)[] = [];
  /** per name index: a gateway's kind (0: none, 1: igw, 2: eigw) and VPC index (-1: detached) */
  private gwKind: number[] = [];
  private gwVpc: number[] = [];
  /** per name index: a NAT gateway's flags (NAT_*), subnet index, public address */
  private natFlags: number[] = [];
  private natSubnet: number[] = [];
  private natAddr: (Address | undefined)[] = [];
  /** per name index: a peering connection's flags (PCX_*) and its two VPCs' indices */
  private pcxFlags: number[] = [];
  private pcxA: number[] = [];
  private pcxB: number[] = [];
  /** per name index: a prefix list's IPv4 ranges (lo, hi, bits) and IPv6 ones */
  private plById: ({ v4: Float64Array; v6: [bigint, bigint, number][] } | undefined)[] = [];
  /** per VPC index: the name index of its internet gateway (the first attached, as `internetGatewayOf`), -1: none */
  private igwOf: number[] = [];
  private igwStale = true;
  /** interfaces: id → index (reused after removal); per index its subnet and VPC indices, public IPv4, IPv6 */
  private readonly ifIx = new Map<string, number>();
  private readonly ifFree: number[] = [];
  private ifRow: Int32Array = new Int32Array(0);
  private ifCount = 0;
  private ifPublic: (Address | undefined)[] = [];
  /** What `decideFast` found besides the verdict: the source as the destination sees it, the subnets whose ACLs are crossed (-1: none). */
  fastSeen: Address | undefined = undefined;
  fastAclOut = -1;
  fastAclIn = -1;
  fastNatSubnet = -1;
  /**
   * Bumped by every change to what `routedIndex` answers (interfaces and subnets set or removed,
   * clear): a routing index read for an id is current while this stays the same.
   */
  generation = 0;

  clear(): void {
    this.generation++;
    this.tables.clear();
    this.acls.clear();
    this.subnets.clear();
    this.gateways.clear();
    this.nats.clear();
    this.peerings.clear();
    this.prefixLists.clear();
    this.interfaces.clear();
    for (const m of [this.subnetIx, this.vpcIx, this.tableIx, this.aclIx, this.nameIx, this.ifIx]) m.clear();
    this.sub = new Int32Array(0);
    this.subCount = 0;
    this.tdir = new Int32Array(0);
    this.adir = new Int32Array(0);
    this.words = new Int32Array(1024);
    this.used = this.garbage = 0;
    this.tableById = [];
    this.aclById = [];
    this.gwKind = [];
    this.gwVpc = [];
    this.natFlags = [];
    this.natSubnet = [];
    this.natAddr = [];
    this.pcxFlags = [];
    this.pcxA = [];
    this.pcxB = [];
    this.plById = [];
    this.igwOf = [];
    this.igwStale = true;
    this.ifFree.length = 0;
    this.ifRow = new Int32Array(0);
    this.ifCount = 0;
    this.ifPublic = [];
  }

  private subnetIndex(id: string): number {
    let k = this.subnetIx.get(id);
    if (k === undefined) {
      this.subnetIx.set(id, (k = this.subCount++));
      this.sub = room(this.sub, SUB_STRIDE * this.subCount, 0);
      this.sub.fill(-1, SUB_STRIDE * k + 1, SUB_STRIDE * k + SUB_STRIDE);
    }
    return k;
  }
  private vpcIndex(id: string): number {
    let k = this.vpcIx.get(id);
    if (k === undefined) this.vpcIx.set(id, (k = this.vpcIx.size));
    return k;
  }
  private tableIndex(id: string): number {
    let k = this.tableIx.get(id);
    if (k === undefined) {
      this.tableIx.set(id, (k = this.tableById.length));
      this.tableById.push(undefined);
      this.tdir = room(this.tdir, TDIR_STRIDE * (k + 1), -1);
    }
    return k;
  }
  private aclIndex(id: string): number {
    let k = this.aclIx.get(id);
    if (k === undefined) {
      this.aclIx.set(id, (k = this.aclById.length));
      this.aclById.push(undefined);
      this.adir = room(this.adir, ADIR_STRIDE * (k + 1), -1);
    }
    return k;
  }
  private nameIndex(id: string): number {
    let k = this.nameIx.get(id);
    if (k === undefined) {
      this.nameIx.set(id, (k = this.gwKind.length));
      this.gwKind.push(0);
      this.gwVpc.push(-1);
      this.natFlags.push(0);
      this.natSubnet.push(-1);
      this.natAddr.push(undefined);
      this.pcxFlags.push(0);
      this.pcxA.push(-1);
      this.pcxB.push(-1);
      this.plById.push(undefined);
    }
    return k;
  }
  /** A route choice as one integer: its target's kind, blackhole, name index. */
  private routeCode(c: RouteChoice): number {
    const t = c.target;
    return (t.kind === 'local' ? 0 : this.nameIndex(t.id) + 1) * 16 + (c.blackhole ? BLACKHOLE : 0) + ROUTE_KIND[t.kind];
  }

  setInterface(i: RoutedInterface): void {
    this.generation++;
    this.interfaces.set(i.id, i);
    let k = this.ifIx.get(i.id);
    if (k === undefined) {
      k = this.ifFree.pop() ?? this.ifCount++;
      this.ifIx.set(i.id, k);
      this.ifRow = room(this.ifRow, IF_STRIDE * this.ifCount, 0);
    }
    this.ifRow[IF_STRIDE * k] = this.subnetIndex(i.subnetId);
    this.ifRow[IF_STRIDE * k + 1] = this.vpcIndex(i.vpcId);
    this.ifRow[IF_STRIDE * k + 2] = i.hasIpv6 ? 1 : 0;
    while (this.ifPublic.length <= k) this.ifPublic.push(undefined);
    this.ifPublic[k] = i.publicIp;
  }
  removeInterface(id: string): void {
    this.generation++;
    this.interfaces.delete(id);
    const k = this.ifIx.get(id);
    if (k === undefined) return;
    this.ifIx.delete(id);
    this.ifPublic[k] = undefined;
    this.ifFree.push(k);
  }
  /**
   * The verdict path's index of an interface routing knows (as `interface` knows it: set, in a
   * subnet that is set), or -1. An index stays valid until the interface is removed (it may then be
   * reused): look it up per query.
   */
  routedIndex(id: string): number {
    const k = this.ifIx.get(id);
    return k !== undefined && this.sub[SUB_STRIDE * this.ifRow[IF_STRIDE * k]! + SUB_SET] === 1 ? k : -1;
  }

  /** Places a block at the end of the arena: its offset. */
  private place(block: Int32Array): number {
    const at = this.used;
    this.words = room(this.words, at + block.length, 0);
    this.words.set(block, at);
    this.used += block.length;
    return at;
  }
  /** Counts a replaced block's words; past half the arena (and 64 Ki words), the arena is rebuilt from the live blocks. */
  private discard(words: number): void {
    this.garbage += words;
    if (this.garbage <= 65_536 || this.garbage <= this.used / 2) return;
    this.words = new Int32Array(Math.max(1024, this.used - this.garbage));
    this.used = this.garbage = 0;
    this.tableById.forEach((t, k) => {
      if (t) this.tdir[TDIR_STRIDE * k] = this.place(t.block);
    });
    this.aclById.forEach((a, k) => {
      if (a?.block) this.adir[ADIR_STRIDE * k] = this.place(a.block);
    });
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
      else v6.push({ lo: c.lo, hi: c.hi, bits: c.bits, choice, code: this.routeCode(choice) });
    }
    v4.sort((a, b) => b.bits - a.bits);
    v6.sort((a, b) => b.bits - a.bits);
    const block = new Int32Array(ROUTE_STRIDE * v4.length + 2 * lists.length);
    v4.forEach((r, k) => block.set([flip(r.lo), flip(r.hi), this.routeCode(r.choice), r.bits], ROUTE_STRIDE * k));
    lists.forEach((l, k) => block.set([this.nameIndex(l.id), this.routeCode(l.choice)], ROUTE_STRIDE * v4.length + 2 * k));
    const table: CompiledTable = { vpcId: t.vpcId, v4, v6, lists, block };
    this.tables.set(t.id, table);
    const k = this.tableIndex(t.id);
    const old = this.tableById[k]?.block.length ?? 0;
    this.tableById[k] = table;
    this.tdir.set([this.place(block), v4.length, lists.length], TDIR_STRIDE * k);
    this.discard(old);
  }

  removeRouteTable(id: string): void {
    this.tables.delete(id);
    const k = this.tableIx.get(id);
    if (k === undefined) return;
    const old = this.tableById[k]?.block.length ?? 0;
    this.tableById[k] = undefined;
    this.tdir.fill(-1, TDIR_STRIDE * k, TDIR_STRIDE * k + TDIR_STRIDE);
    this.discard(old);
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
    const ingress = side(false);
    const egress = side(true);
    const in4 = ingress.filter((e) => e.family === 4);
    const out4 = egress.filter((e) => e.family === 4);
    // the words hold protocols, ICMP types and codes -1..255 and ports 0..65535: AWS's ranges
    const fits = (n: number, lo: number, hi: number) => Number.isInteger(n) && n >= lo && n <= hi;
    const packable = [...in4, ...out4].every(
      (e) =>
        fits(e.protocol, -1, 255) &&
        fits(e.icmpType, -1, 255) &&
        fits(e.icmpCode, -1, 255) &&
        fits(e.portLo, 0, 65535) &&
        fits(e.portHi, 0, 65535),
    );
    let block: Int32Array | undefined;
    if (packable) {
      block = new Int32Array(ACL_STRIDE * (in4.length + out4.length));
      [...in4, ...out4].forEach((e, k) =>
        block!.set(
          [
            flip(e.lo4),
            flip(e.hi4),
            (e.protocol + 1) | (e.allow ? A_ALLOW : 0) | ((e.icmpType + 1) << 10) | ((e.icmpCode + 1) << 19),
            e.portLo | (e.portHi << 16),
          ],
          ACL_STRIDE * k,
        ),
      );
    }
    const acl: CompiledAcl = {
      ingress,
      egress,
      block,
      in4,
      out4,
      in6: ingress.filter((e) => e.family === 6),
      out6: egress.filter((e) => e.family === 6),
    };
    this.acls.set(a.id, acl);
    const k = this.aclIndex(a.id);
    const old = this.aclById[k]?.block?.length ?? 0;
    this.aclById[k] = acl;
    this.adir.set([block ? this.place(block) : -2, in4.length, out4.length], ADIR_STRIDE * k);
    this.discard(old);
  }

  removeAcl(id: string): void {
    this.acls.delete(id);
    const k = this.aclIx.get(id);
    if (k === undefined) return;
    const old = this.aclById[k]?.block?.length ?? 0;
    this.aclById[k] = undefined;
    this.adir.fill(-1, ADIR_STRIDE * k, ADIR_STRIDE * k + ADIR_STRIDE);
    this.discard(old);
  }

  setSubnet(s: SubnetInput): void {
    this.generation++;
    this.subnets.set(s.id, s);
    const k = this.subnetIndex(s.id);
    const table = this.tableIndex(s.routeTableId);
    const acl = this.aclIndex(s.aclId);
    this.sub.set([1, table, acl], SUB_STRIDE * k);
  }
  removeSubnet(id: string): void {
    this.generation++;
    this.subnets.delete(id);
    const k = this.subnetIx.get(id);
    if (k !== undefined) this.sub[SUB_STRIDE * k + SUB_SET] = 0;
  }
  subnet(id: string): SubnetInput | undefined {
    return this.subnets.get(id);
  }

  setGateway(g: GatewayInput): void {
    this.gateways.set(g.id, g);
    const k = this.nameIndex(g.id);
    this.gwKind[k] = g.kind === 'igw' ? 1 : 2;
    this.gwVpc[k] = g.vpcId === undefined ? -1 : this.vpcIndex(g.vpcId);
    this.igwStale = true;
  }
  removeGateway(id: string): void {
    this.gateways.delete(id);
    const k = this.nameIx.get(id);
    if (k !== undefined) this.gwKind[k] = 0;
    this.igwStale = true;
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
    const k = this.nameIndex(n.id);
    this.natFlags[k] = NAT_SET | (n.available ? NAT_AVAILABLE : 0) | (n.publicIp ? NAT_PUBLIC : 0);
    this.natSubnet[k] = this.subnetIndex(n.subnetId);
    this.natAddr[k] = n.publicIp ? natAddress(n, n.publicIp) : undefined;
  }
  removeNat(id: string): void {
    this.nats.delete(id);
    const k = this.nameIx.get(id);
    if (k !== undefined) this.natFlags[k] = 0;
  }
  nat(id: string): NatInput | undefined {
    return this.nats.get(id);
  }

  setPeering(p: PeeringInput): void {
    this.peerings.set(p.id, p);
    const k = this.nameIndex(p.id);
    this.pcxFlags[k] = PCX_SET | (p.active ? PCX_ACTIVE : 0);
    this.pcxA[k] = p.vpcIds[0] === undefined ? -1 : this.vpcIndex(p.vpcIds[0]);
    this.pcxB[k] = p.vpcIds[1] === undefined ? -1 : this.vpcIndex(p.vpcIds[1]);
  }
  removePeering(id: string): void {
    this.peerings.delete(id);
    const k = this.nameIx.get(id);
    if (k !== undefined) this.pcxFlags[k] = 0;
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
    const flat = new Float64Array(PL_STRIDE * v4.length);
    v4.forEach((r, k) => flat.set(r, PL_STRIDE * k));
    this.plById[this.nameIndex(id)] = { v4: flat, v6 };
  }
  removePrefixList(id: string): void {
    this.prefixLists.delete(id);
    const k = this.nameIx.get(id);
    if (k !== undefined) this.plById[k] = undefined;
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

  // ---- the verdict path: `route`, `acl` and `decidePath` over the interned tables ---------------

  /** `route` by subnet index, as a route code (-1: no route). */
  routeFast(subnet: number, dst: Address): number {
    const S = this.sub;
    if (subnet < 0 || S[SUB_STRIDE * subnet + SUB_SET] !== 1) return -1;
    const D = this.tdir;
    const t = S[SUB_STRIDE * subnet + SUB_TABLE]!;
    const at = D[TDIR_STRIDE * t]!;
    if (at < 0) return -1;
    const W = this.words;
    const lists = at + ROUTE_STRIDE * D[TDIR_STRIDE * t + 1]!;
    const listsEnd = lists + 2 * D[TDIR_STRIDE * t + 2]!;
    let best = -1;
    let bits = -1;
    if (dst.family === 4) {
      const v = dst.v;
      const f = flip(v);
      for (let i = at; i < lists; i += ROUTE_STRIDE)
        if (f >= W[i]! && f <= W[i + 1]!) {
          best = W[i + 2]!;
          bits = W[i + 3]!;
          break;
        }
      for (let j = lists; j < listsEnd; j += 2) {
        const p = this.plById[W[j]!];
        if (p === undefined) continue;
        const P = p.v4;
        for (let i = 0; i < P.length; i += PL_STRIDE)
          if (P[i + 2]! > bits && v >= P[i]! && v <= P[i + 1]!) {
            bits = P[i + 2]!;
            best = W[j + 1]!;
          }
      }
      return best;
    }
    const v = dst.v;
    for (const r of this.tableById[t]!.v6)
      if (v >= r.lo && v <= r.hi) {
        bits = r.bits;
        best = r.code;
        break;
      }
    for (let j = lists; j < listsEnd; j += 2) {
      const p = this.plById[W[j]!];
      if (p === undefined) continue;
      for (const [lo, hi, b] of p.v6)
        if (b > bits && v >= lo && v <= hi) {
          bits = b;
          best = W[j + 1]!;
        }
    }
    return best;
  }

  /**
   * `acl(…).allowed` by subnet index (true where `acl` has no decision: no such subnet or ACL).
   * `icmpType`/`icmpCode`: NaN for none (it equals no entry's).
   */
  aclAllows(subnet: number, egress: boolean, remote: Address, proto: number, port: number, icmpType: number, icmpCode: number): boolean {
    const S = this.sub;
    if (subnet < 0 || S[SUB_STRIDE * subnet + SUB_SET] !== 1) return true;
    const a = S[SUB_STRIDE * subnet + SUB_ACL]!;
    const D = this.adir;
    const at = D[ADIR_STRIDE * a]!;
    if (at === -1) return true;
    if (remote.family === 6 || at === -2) return this.aclAllowsSlow(a, egress, remote, proto, port, icmpType, icmpCode);
    const W = this.words;
    const nIn = D[ADIR_STRIDE * a + 1]!;
    const from = egress ? at + ACL_STRIDE * nIn : at;
    const to = from + ACL_STRIDE * (egress ? D[ADIR_STRIDE * a + 2]! : nIn);
    const f = flip(remote.v);
    for (let i = from; i < to; i += ACL_STRIDE) {
      if (f < W[i]! || f > W[i + 1]!) continue;
      const m = W[i + 2]!;
      const p = (m & 511) - 1;
      if (p !== -1) {
        if (p !== proto) continue;
        if (proto === 6 || proto === 17) {
          const r = W[i + 3]!;
          if (port < (r & 0xffff) || port > r >>> 16) continue;
        } else if (proto === 1 || proto === 58) {
          const t = ((m >>> 10) & 511) - 1;
          if (t !== -1 && t !== icmpType) continue;
          const c = ((m >>> 19) & 511) - 1;
          if (c !== -1 && c !== icmpCode) continue;
        }
      }
      return (m & A_ALLOW) !== 0;
    }
    return false;
  }

  /** `aclAllows` over the entries as objects: IPv6, and an ACL whose entries do not fit the words. */
  private aclAllowsSlow(
    acl: number,
    egress: boolean,
    remote: Address,
    proto: number,
    port: number,
    icmpType: number,
    icmpCode: number,
  ): boolean {
    const a = this.aclById[acl]!;
    const v4 = remote.family === 4;
    for (const e of v4 ? (egress ? a.out4 : a.in4) : egress ? a.out6 : a.in6) {
      if (v4 ? remote.v < e.lo4 || remote.v > e.hi4 : remote.v < e.lo6 || remote.v > e.hi6) continue;
      if (e.protocol !== -1) {
        if (e.protocol !== proto) continue;
        if (proto === 6 || proto === 17) {
          if (port < e.portLo || port > e.portHi) continue;
        } else if (proto === 1 || proto === 58) {
          if (e.icmpType !== -1 && e.icmpType !== icmpType) continue;
          if (e.icmpCode !== -1 && e.icmpCode !== icmpCode) continue;
        }
      }
      return e.allow;
    }
    return false;
  }

  /** The name index of a VPC's internet gateway (as `internetGatewayOf`), -1: none. */
  private igwOfVpc(vpc: number): number {
    if (this.igwStale || vpc >= this.igwOf.length) {
      this.igwOf = new Array<number>(this.vpcIx.size).fill(-1);
      for (const g of this.gateways.values()) {
        if (g.kind !== 'igw' || g.vpcId === undefined) continue;
        const v = this.vpcIx.get(g.vpcId)!;
        if (this.igwOf[v] === -1) this.igwOf[v] = this.nameIx.get(g.id)!;
      }
      this.igwStale = false;
    }
    return this.igwOf[vpc] ?? -1;
  }

  /**
   * `decidePath` for the verdict alone: true when there is a path, with what the data plane needs
   * of it in `fastSeen`, `fastAclOut`, `fastAclIn`, `fastNatSubnet` (until the next call). The ends:
   * `src`/`dst` an interface's `routedIndex`, or -1 for a host outside; their addresses as given.
   * The same steps in the same order as `decidePath`, without the reasons.
   */
  decideFast(src: number, srcAddr: Address, dst: number, dstAddr: Address, viaPublic: boolean): boolean {
    this.fastSeen = undefined;
    this.fastAclOut = this.fastAclIn = this.fastNatSubnet = -1;
    if (src < 0 && dst < 0) return false;
    if (srcAddr.family !== dstAddr.family) return false;
    const v4 = dstAddr.family === 4;
    // From the internet in.
    if (src < 0) {
      if (v4 && !viaPublic) return false;
      const igw = this.igwOfVpc(this.ifRow[IF_STRIDE * dst + 1]!);
      if (igw < 0) return false;
      const back = this.routeFast(this.ifRow[IF_STRIDE * dst]!, srcAddr);
      if (back < 0 || (back & BLACKHOLE) !== 0 || kindOf(back) !== K_IGW || targetOf(back) !== igw) return false;
      this.fastAclIn = this.ifRow[IF_STRIDE * dst]!;
      return true;
    }
    const sSubnet = this.ifRow[IF_STRIDE * src]!;
    const sVpc = this.ifRow[IF_STRIDE * src + 1]!;
    const out = this.routeFast(sSubnet, dstAddr);
    if (out < 0 || (out & BLACKHOLE) !== 0) return false;
    const kind = kindOf(out);
    const target = targetOf(out);
    if (dst >= 0 && !viaPublic) {
      const dSubnet = this.ifRow[IF_STRIDE * dst]!;
      const dVpc = this.ifRow[IF_STRIDE * dst + 1]!;
      if (dVpc === sVpc) {
        if (kind !== K_LOCAL) return false;
        if (dSubnet !== sSubnet) {
          this.fastAclOut = sSubnet;
          this.fastAclIn = dSubnet;
        }
        return true;
      }
      if (kind === K_PCX) {
        const f = this.pcxFlags[target]!;
        const a = this.pcxA[target]!;
        const b = this.pcxB[target]!;
        if ((f & PCX_ACTIVE) === 0 || (a !== sVpc && b !== sVpc) || (a !== dVpc && b !== dVpc)) return false;
        const back = this.routeFast(dSubnet, srcAddr);
        if (back < 0 || (back & BLACKHOLE) !== 0 || kindOf(back) !== K_PCX || targetOf(back) !== target) return false;
        this.fastAclOut = sSubnet;
        this.fastAclIn = dSubnet;
        return true;
      }
      if (v4 || (kind !== K_IGW && kind !== K_EIGW)) return false;
    }
    // Out of the VPC: to the internet, or to an interface's public address (out and back in).
    let seen: Address | undefined;
    let natSubnet = -1;
    switch (kind) {
      case K_IGW:
        if (this.gwKind[target] === 0 || this.gwVpc[target] !== sVpc) return false;
        if (v4) {
          seen = this.ifPublic[src];
          if (!seen) return false;
        } else if (this.ifRow[IF_STRIDE * src + 2] !== 1) return false;
        break;
      case K_EIGW:
        if (v4) return false;
        if (this.gwKind[target] === 0 || this.gwVpc[target] !== sVpc) return false;
        break;
      case K_NAT: {
        if (!v4) return false;
        const f = this.natFlags[target]!;
        if ((f & NAT_AVAILABLE) === 0 || (f & NAT_PUBLIC) === 0) return false;
        const nSubnet = this.natSubnet[target]!;
        const via = this.routeFast(nSubnet, dstAddr);
        if (via < 0 || (via & BLACKHOLE) !== 0 || kindOf(via) !== K_IGW) return false;
        const igw = targetOf(via);
        if (this.gwKind[igw] === 0 || this.gwVpc[igw] !== sVpc) return false;
        seen = this.natAddr[target];
        natSubnet = nSubnet === sSubnet ? -1 : nSubnet;
        break;
      }
      case K_VPCE:
        if (dst >= 0) return false;
        this.fastAclOut = sSubnet;
        return true;
      default:
        return false;
    }
    this.fastSeen = seen;
    this.fastAclOut = sSubnet;
    this.fastNatSubnet = natSubnet;
    if (dst < 0) return true;
    // Back in at the destination's public address: its VPC's internet gateway and a route back.
    const igw = this.igwOfVpc(this.ifRow[IF_STRIDE * dst + 1]!);
    if (igw < 0) return false;
    const back = this.routeFast(this.ifRow[IF_STRIDE * dst]!, seen ?? srcAddr);
    if (back < 0 || (back & BLACKHOLE) !== 0 || kindOf(back) !== K_IGW || targetOf(back) !== igw) return false;
    this.fastAclIn = this.ifRow[IF_STRIDE * dst]!;
    return true;
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
