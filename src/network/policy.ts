// The compiled security-group policy. Each group compiles, per direction, into
//   protocol → port (or ICMP type/code) segments → address set + referenced groups/prefix lists,
// and an interface's gate is the union over its groups. Group references and prefix lists stay
// symbolic: a reference is checked against an index of which groups each private address belongs
// to, a prefix list against its own compiled set. So a rule change recompiles one group, a
// membership or address change touches one index entry, a prefix-list edit one set: the cost of
// a change is proportional to what changed, and a lookup is a few bisections whatever the size.
import { addressSet, parseAddress, setHas, EMPTY_SET, Set4, Set6, type Address, type AddressSet } from './addresses.ts';

export type Direction = 'ingress' | 'egress';

export interface RuleInput {
  id: string;
  groupId: string;
  egress: boolean;
  /** '-1', 'tcp', 'udp', 'icmp', 'icmpv6' or a protocol number */
  protocol: string;
  from?: number;
  to?: number;
  cidr4?: string;
  cidr6?: string;
  prefixListId?: string;
  refGroupId?: string;
}

export interface GroupInput { id: string; vpcId: string; rules: RuleInput[] }

export interface InterfaceInput {
  id: string;
  vpcId: string;
  /** private IPv4 addresses (primary first) */
  ipv4: string[];
  ipv6: string[];
  publicIp?: string;
  groups: string[];
}

export const PROTO: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 };

export function protocolNumber(p: string): number {
  return p === '-1' ? -1 : PROTO[p] ?? Number(p);
}

export const hasPortSpace = (proto: number) => proto === 6 || proto === 17 || proto === 1 || proto === 58;

/** The point a packet occupies in its protocol's port space (ICMP: type*256+code). */
export function portPoint(proto: number, port: number | undefined, icmpType?: number, icmpCode?: number): number {
  if (proto === 1 || proto === 58) return ((icmpType ?? 0) & 0xff) * 256 + ((icmpCode ?? 0) & 0xff);
  return port ?? 0;
}

/** A rule's interval in its protocol's port space. */
export function ruleInterval(r: RuleInput): [number, number] {
  const p = protocolNumber(r.protocol);
  if (p === 6 || p === 17) return [r.from ?? 0, r.to ?? 65535];
  if (p === 1 || p === 58) {
    const t = r.from ?? -1;
    const c = r.to ?? -1;
    if (t === -1) return [0, 65535];
    if (c === -1) return [t * 256, t * 256 + 255];
    return [t * 256 + c, t * 256 + c];
  }
  return [0, 65535];
}

/** What a group allows on one stretch of one protocol's port space. */
export interface Segment {
  set: AddressSet;
  /** the IPv4 ranges of `set`, interleaved [lo0, hi0, lo1, hi1, …] for a cache-friendly search */
  v4: Float64Array;
  prefixLists: string[];
  groups: Set<string> | null;
  rules: RuleInput[];
}

interface PortIndex { bounds: Int32Array; segs: (Segment | null)[] }

export interface DirectionIndex {
  all: Segment | null;
  byProto: Map<number, PortIndex>;
}

function segmentOf(rules: RuleInput[]): Segment {
  const cidrs: string[] = [];
  const pls: string[] = [];
  let groups: Set<string> | null = null;
  for (const r of rules) {
    if (r.cidr4) cidrs.push(r.cidr4);
    else if (r.cidr6) cidrs.push(r.cidr6);
    else if (r.prefixListId) { if (!pls.includes(r.prefixListId)) pls.push(r.prefixListId); }
    else if (r.refGroupId) (groups ??= new Set()).add(r.refGroupId);
  }
  const set = cidrs.length ? addressSet(cidrs) : EMPTY_SET;
  return { set, v4: Float64Array.from(set.v4.ranges().flat()), prefixLists: pls, groups, rules };
}

function compilePorts(rules: RuleInput[]): PortIndex {
  const points = new Set<number>();
  const spans = rules.map((r) => ruleInterval(r));
  for (const [a, b] of spans) {
    points.add(a);
    points.add(b + 1);
  }
  const bounds = Int32Array.from([...points].sort((x, y) => x - y));
  const members: RuleInput[][] = Array.from(bounds, () => []);
  spans.forEach(([a, b], i) => {
    let k = bisect(bounds, a);
    while (k < bounds.length && bounds[k]! <= b) members[k++]!.push(rules[i]!);
  });
  return { bounds, segs: members.map((m) => (m.length ? segmentOf(m) : null)) };
}

function bisect(bounds: Int32Array, v: number): number {
  let a = 0;
  let b = bounds.length - 1;
  let found = -1;
  while (a <= b) {
    const m = (a + b) >>> 1;
    if (bounds[m]! <= v) { found = m; a = m + 1; } else b = m - 1;
  }
  return found;
}

function lookup(idx: PortIndex, point: number): Segment | null {
  const k = bisect(idx.bounds, point);
  return k < 0 ? null : idx.segs[k] ?? null;
}

export function compileDirection(rules: RuleInput[]): DirectionIndex {
  const all: RuleInput[] = [];
  const byProto = new Map<number, RuleInput[]>();
  for (const r of rules) {
    const p = protocolNumber(r.protocol);
    if (p === -1) all.push(r);
    else {
      const list = byProto.get(p) ?? [];
      list.push(r);
      byProto.set(p, list);
    }
  }
  const out: DirectionIndex = { all: all.length ? segmentOf(all) : null, byProto: new Map() };
  for (const [p, list] of byProto) out.byProto.set(p, compilePorts(list));
  return out;
}

interface CompiledGroup { vpcId: string; rules: RuleInput[]; ingress: DirectionIndex; egress: DirectionIndex }
interface Membership { counts: Map<string, number>; list: string[] }

export interface GateQuery {
  direction: Direction;
  proto: number;
  /** tcp/udp destination port of the new connection; ICMP via icmpType/icmpCode */
  port?: number;
  icmpType?: number;
  icmpCode?: number;
  /** the other end: source for ingress, destination for egress */
  remote: Address;
}

/** A rule's own address set, parsed once (explanations look at rules one by one). */
const ruleSets = new WeakMap<RuleInput, AddressSet>();

export class Policy {
  private readonly groups = new Map<string, CompiledGroup>();
  private readonly interfaces = new Map<string, InterfaceInput>();
  private readonly prefixLists = new Map<string, AddressSet>();
  /** vpc → private address (number for IPv4, bigint for IPv6) → groups of the interfaces holding it */
  private readonly memberships = new Map<string, Map<number | bigint, Membership>>();
  /** group → interfaces holding it */
  private readonly holders = new Map<string, Set<string>>();
  /** per interface, its groups' compiled indexes, resolved (no lookups on the hot path) */
  private readonly gates = new Map<string, CompiledGroup[]>();
  /** counters for benchmarks and tests */
  compiles = 0;

  // ---- changes --------------------------------------------------------------------------

  setGroup(g: GroupInput): void {
    this.compiles++;
    this.groups.set(g.id, {
      vpcId: g.vpcId, rules: g.rules,
      ingress: compileDirection(g.rules.filter((r) => !r.egress)), egress: compileDirection(g.rules.filter((r) => r.egress)),
    });
    this.invalidate(g.id);
  }

  removeGroup(id: string): void {
    this.groups.delete(id);
    this.invalidate(id);
  }

  /** Interfaces holding the group recompile their gates on next use. */
  private invalidate(groupId: string): void {
    for (const i of this.holders.get(groupId) ?? []) this.gates.delete(i);
  }

  private gatesOf(i: InterfaceInput): CompiledGroup[] {
    let gate = this.gates.get(i.id);
    if (!gate) {
      gate = i.groups.map((gid) => this.groups.get(gid)).filter((g): g is CompiledGroup => !!g);
      this.gates.set(i.id, gate);
    }
    return gate;
  }

  setPrefixList(id: string, cidrs: string[]): void {
    this.prefixLists.set(id, addressSet(cidrs));
  }

  removePrefixList(id: string): void {
    this.prefixLists.delete(id);
  }

  private index(i: InterfaceInput, delta: 1 | -1): void {
    let byVpc = this.memberships.get(i.vpcId);
    if (!byVpc) this.memberships.set(i.vpcId, (byVpc = new Map()));
    for (const text of [...i.ipv4, ...i.ipv6]) {
      const a = parseAddress(text);
      if (!a) continue;
      let m = byVpc.get(a.v);
      if (!m) byVpc.set(a.v, (m = { counts: new Map(), list: [] }));
      for (const g of i.groups) {
        const n = (m.counts.get(g) ?? 0) + delta;
        if (n <= 0) m.counts.delete(g);
        else m.counts.set(g, n);
      }
      m.list = [...m.counts.keys()];
      if (m.counts.size === 0) byVpc.delete(a.v);
    }
    for (const g of i.groups) {
      let h = this.holders.get(g);
      if (!h) this.holders.set(g, (h = new Set()));
      if (delta > 0) h.add(i.id);
      else h.delete(i.id);
    }
    this.gates.delete(i.id);
  }

  setInterface(i: InterfaceInput): void {
    const old = this.interfaces.get(i.id);
    if (old) this.index(old, -1);
    const copy = { ...i, ipv4: [...i.ipv4], ipv6: [...i.ipv6], groups: [...i.groups] };
    this.interfaces.set(i.id, copy);
    this.index(copy, 1);
  }

  removeInterface(id: string): void {
    const old = this.interfaces.get(id);
    if (old) this.index(old, -1);
    this.interfaces.delete(id);
  }

  clear(): void {
    this.groups.clear();
    this.holders.clear();
    this.gates.clear();
    this.interfaces.clear();
    this.prefixLists.clear();
    this.memberships.clear();
  }

  getInterface(id: string): InterfaceInput | undefined {
    return this.interfaces.get(id);
  }

  allInterfaces(): IterableIterator<InterfaceInput> {
    return this.interfaces.values();
  }

  groupRules(id: string): RuleInput[] {
    return this.groups.get(id)?.rules ?? [];
  }

  prefixListSet(id: string): AddressSet {
    return this.prefixLists.get(id) ?? EMPTY_SET;
  }

  // ---- verdicts ---------------------------------------------------------------------------

  private memberGroups(vpcId: string, a: Address): Map<string, number> | undefined {
    return this.memberships.get(vpcId)?.get(a.v)?.counts;
  }

  private segmentMatches(seg: Segment | null, remote: Address, members: string[] | undefined): boolean {
    if (!seg) return false;
    if (remote.family === 4) {
      const r = seg.v4;
      let a = 0;
      let b = (r.length >> 1) - 1;
      const v = remote.v;
      while (a <= b) {
        const m = (a + b) >>> 1;
        if (r[m << 1]! <= v) {
          if (v <= r[(m << 1) + 1]!) return true;
          a = m + 1;
        } else b = m - 1;
      }
    } else if (seg.set.v6.has(remote.v)) return true;
    for (let k = 0; k < seg.prefixLists.length; k++) if (setHas(this.prefixLists.get(seg.prefixLists[k]!) ?? EMPTY_SET, remote)) return true;
    if (seg.groups && members) {
      for (let k = 0; k < members.length; k++) if (seg.groups.has(members[k]!)) return true;
    }
    return false;
  }

  /** Does the interface's aggregated policy allow a new connection through this gate? */
  allows(interfaceId: string, q: GateQuery): boolean {
    const i = this.interfaces.get(interfaceId);
    if (!i) return false;
    const groups = this.gatesOf(i);
    const ingress = q.direction === 'ingress';
    // which groups the remote address belongs to (for group references): looked up once
    const members = this.memberships.get(i.vpcId)?.get(q.remote.v)?.list;
    let point = -1;
    for (let k = 0; k < groups.length; k++) {
      const d = ingress ? groups[k]!.ingress : groups[k]!.egress;
      if (d.all && this.segmentMatches(d.all, q.remote, members)) return true;
      const idx = d.byProto.get(q.proto);
      if (!idx) continue;
      if (point < 0) point = portPoint(q.proto, q.port, q.icmpType, q.icmpCode);
      if (this.segmentMatches(lookup(idx, point), q.remote, members)) return true;
    }
    return false;
  }

  /** The rules that allow the connection through this gate (empty when none does). */
  matchingRules(interfaceId: string, q: GateQuery): RuleInput[] {
    const i = this.interfaces.get(interfaceId);
    if (!i) return [];
    const out: RuleInput[] = [];
    for (const gid of i.groups) {
      const g = this.groups.get(gid);
      if (!g) continue;
      for (const r of g.rules) if (r.egress === (q.direction === 'egress') && this.ruleMatches(r, g.vpcId, q)) out.push(r);
    }
    return out;
  }

  /** One rule against one connection: the plain semantics the index must agree with. */
  ruleMatches(r: RuleInput, vpcId: string, q: GateQuery): boolean {
    const p = protocolNumber(r.protocol);
    if (p !== -1) {
      if (p !== q.proto) return false;
      const [a, b] = ruleInterval(r);
      const point = portPoint(q.proto, q.port, q.icmpType, q.icmpCode);
      if (point < a || point > b) return false;
    }
    if (r.cidr4 || r.cidr6) {
      let set = ruleSets.get(r);
      if (!set) ruleSets.set(r, (set = addressSet([r.cidr4 ?? r.cidr6!])));
      return setHas(set, q.remote);
    }
    if (r.prefixListId) return setHas(this.prefixLists.get(r.prefixListId) ?? EMPTY_SET, q.remote);
    if (r.refGroupId) return this.memberGroups(vpcId, q.remote)?.has(r.refGroupId) ?? false;
    return false;
  }

  /** Rules of the interface in that direction for the same protocol, as hints for a reject. */
  nearRules(interfaceId: string, q: GateQuery): RuleInput[] {
    const i = this.interfaces.get(interfaceId);
    if (!i) return [];
    const want = q.direction === 'egress';
    const all = i.groups.flatMap((gid) => this.groups.get(gid)?.rules ?? []).filter((r) => r.egress === want);
    const sameProto = all.filter((r) => protocolNumber(r.protocol) === q.proto || protocolNumber(r.protocol) === -1);
    const point = portPoint(q.proto, q.port, q.icmpType, q.icmpCode);
    const samePort = sameProto.filter((r) => { const [a, b] = ruleInterval(r); return point >= a && point <= b; });
    return (samePort.length ? samePort : sameProto).slice(0, 5);
  }

  /**
   * Everything the gate admits for one protocol and port: the union of its CIDR and prefix-list
   * address sets, the groups whose members it admits, and the rules behind them — the symbolic
   * answer to "who can reach this port", without enumerating addresses.
   */
  admitted(interfaceId: string, direction: Direction, proto: number, port?: number, icmpType?: number, icmpCode?: number): { set: AddressSet; groups: Map<string, RuleInput[]>; rules: RuleInput[] } {
    const i = this.interfaces.get(interfaceId);
    const r4: [number, number][] = [];
    const r6: [bigint, bigint][] = [];
    const groups = new Map<string, RuleInput[]>();
    const rules: RuleInput[] = [];
    const add = (seg: Segment | null) => {
      if (!seg) return;
      r4.push(...seg.set.v4.ranges());
      r6.push(...seg.set.v6.ranges());
      for (const pl of seg.prefixLists) {
        const s = this.prefixLists.get(pl) ?? EMPTY_SET;
        r4.push(...s.v4.ranges());
        r6.push(...s.v6.ranges());
      }
      for (const r of seg.rules) {
        rules.push(r);
        if (r.refGroupId) groups.set(r.refGroupId, [...(groups.get(r.refGroupId) ?? []), r]);
      }
    };
    for (const g of i ? this.gatesOf(i) : []) {
      const d = direction === 'ingress' ? g.ingress : g.egress;
      add(d.all);
      const idx = d.byProto.get(proto);
      if (idx) add(lookup(idx, portPoint(proto, port, icmpType, icmpCode)));
    }
    return { set: { v4: Set4.from(r4), v6: Set6.from(r6) }, groups, rules };
  }

  /** The interfaces of a VPC holding a group (for group references). */
  membersOf(vpcId: string, groupId: string): InterfaceInput[] {
    const out: InterfaceInput[] = [];
    for (const i of this.interfaces.values()) if (i.vpcId === vpcId && i.groups.includes(groupId)) out.push(i);
    return out;
  }

  /** AWS's untracked condition for a TCP/UDP flow through this gate (see conntrack.ts). */
  allOpenFor(interfaceId: string, q: GateQuery): boolean {
    if (q.proto !== 6 && q.proto !== 17) return false;
    const i = this.interfaces.get(interfaceId);
    if (!i) return false;
    const world = q.remote.family === 4 ? '0.0.0.0/0' : '::/0';
    const rules = i.groups.flatMap((gid) => this.groups.get(gid)?.rules ?? []);
    const thisWay = q.direction === 'egress';
    const allowsWorld = rules.some((r) => r.egress === thisWay && (r.cidr4 ?? r.cidr6) === world && this.ruleMatches(r, i.vpcId, q));
    if (!allowsWorld) return false;
    return rules.some((r) => {
      if (r.egress === thisWay || (r.cidr4 ?? r.cidr6) !== world) return false;
      const p = protocolNumber(r.protocol);
      if (p === -1) return true;
      return p === q.proto && (r.from ?? 0) === 0 && (r.to ?? 65535) === 65535;
    });
  }
}

export { Set4, Set6 };
