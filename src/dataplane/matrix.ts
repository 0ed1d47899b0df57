// Who can reach whom, for every pair of interfaces at once: the open ports of each ordered pair
// (and from and to the internet), judged by the one flow judge (flow.ts) — the same verdicts as
// `reach` and `probe` give pair by pair — but asked once per pair of equivalence classes.
//
// Two interfaces are equivalent when nothing the judge reads tells them apart: the same subnet
// (so the same route table and ACL), the same security groups, a public IPv4 address or not, and
// addresses in the same elementary range of every CIDR that appears anywhere (security-group rules,
// prefix lists, ACL entries, routes) — so every rule, entry and route that contains one contains
// the other, and group references match both or neither (membership is by groups). One member
// answers for its class; the answer is the same for each member.
import type { Address } from './addresses.ts';
import { parseAddress } from './addresses.ts';
import { cidrRange } from './routing.ts';
import type { DataPlane } from './dataplane.ts';
import { FLOW_ACCEPT, FLOW_REJECT_ROUTE, type FlowEnd } from './flow.ts';
import { protocolNumber } from './sg-policy.ts';

export interface MatrixInterface {
  id: string;
  instanceId?: string;
  subnetId: string;
  vpcId: string;
}

export interface MatrixOptions {
  /** protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6, -1 all) */
  proto: number;
  /** only this port (TCP/UDP); otherwise every port */
  port?: number;
  /** VPC pairs joined by an active peering connection (`vpc-a|vpc-b`, both orders) */
  peered: Set<string>;
  /** the stand-ins for "anyone on the internet" */
  internet4: string;
  internet6: string;
  /** node-level edges are listed up to this many; past it only class edges are (edgesTruncated) */
  maxEdges: number;
  now: number;
}

export interface MatrixNode {
  id: string;
  instanceId?: string;
  subnetId: string;
  vpcId: string;
  groups: string[];
  privateIp?: string;
  publicIp?: string;
  ipv6?: string[];
  class: number;
}

export interface MatrixEdge {
  from: string;
  to: string;
  protocol: string;
  /** open destination port ranges (TCP/UDP); empty for protocols without ports */
  ports: [number, number][];
  exposure: 'internet' | 'vpc' | 'peered';
}

export interface Matrix {
  nodes: (MatrixNode | { id: 'internet'; kind: 'internet' })[];
  edges: MatrixEdge[];
  /** edges between classes (`c<n>`, and `internet`): the whole answer, whatever its size */
  classEdges: MatrixEdge[];
  classes: number;
  pairsJudged: number;
  edgesTruncated: boolean;
}

const PROTOCOL_NAME: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmpv6', [-1]: '-1' };
const EPHEMERAL = 49152;

/** Sorted distinct boundaries (range starts and ends + 1) of every CIDR the judge may compare with. */
class Boundaries {
  private v4: number[] = [];
  private v6: bigint[] = [];
  addRange4(lo: number, hi: number): void {
    this.v4.push(lo, hi + 1);
  }
  addRange6(lo: bigint, hi: bigint): void {
    this.v6.push(lo, hi + 1n);
  }
  addCidr(text: string | undefined): void {
    const r = text ? cidrRange(text) : undefined;
    if (r?.family === 4) this.addRange4(r.lo, r.hi);
    else if (r) this.addRange6(r.lo, r.hi);
  }
  seal(): void {
    this.v4 = [...new Set(this.v4)].sort((a, b) => a - b);
    this.v6 = [...new Set(this.v6)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  /** The elementary range an address falls in (its index among the boundaries). */
  index(a: Address): number {
    const list: (number | bigint)[] = a.family === 4 ? this.v4 : this.v6;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]! <= a.v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

interface Member {
  node: MatrixNode;
  v4?: Address;
  v6?: Address;
  /** its ends resolved (DataPlane.endHandle), when it represents its class: see `end` */
  ends?: number[];
  /** its port segments' starts, when it represents its class: see `pointsOfOne` */
  points?: number[];
}

interface Klass {
  id: number;
  members: Member[];
  subnetId: string;
  vpcId: string;
}

export function reachabilityMatrix(plane: DataPlane, ifaces: MatrixInterface[], o: MatrixOptions): Matrix {
  const policy = plane.policy;
  const paths = plane.paths;
  const bounds = new Boundaries();
  const groups = new Set<string>();
  const subnets = new Set<string>();
  const members: Member[] = [];
  for (const i of ifaces) {
    const p = policy.getInterface(i.id);
    if (!p) continue;
    for (const g of p.groups) groups.add(g);
    subnets.add(i.subnetId);
    const v4 = p.ipv4[0] ? parseAddress(p.ipv4[0]) : undefined;
    const v6 = p.ipv6[0] ? parseAddress(p.ipv6[0]) : undefined;
    members.push({
      node: {
        id: i.id,
        ...(i.instanceId ? { instanceId: i.instanceId } : {}),
        subnetId: i.subnetId,
        vpcId: i.vpcId,
        groups: [...p.groups].sort(),
        ...(p.ipv4[0] ? { privateIp: p.ipv4[0] } : {}),
        ...(p.publicIp ? { publicIp: p.publicIp } : {}),
        ...(p.ipv6.length ? { ipv6: p.ipv6 } : {}),
        class: -1,
      },
      ...(v4 ? { v4 } : {}),
      ...(v6 ? { v6 } : {}),
    });
  }
  // Every CIDR the verdict may depend on: the groups' rules (and their prefix lists), the subnets' routes and ACLs.
  const splits = new Map<string, Set<number>>(); // port split points per group / subnet
  const portSplits = (key: string) => {
    let s = splits.get(key);
    if (!s) splits.set(key, (s = new Set()));
    return s;
  };
  for (const g of groups) {
    const pts = portSplits(`g:${g}`);
    for (const r of policy.groupRules(g)) {
      bounds.addCidr(r.cidr4);
      bounds.addCidr(r.cidr6);
      if (r.prefixListId) {
        const set = policy.prefixListSet(r.prefixListId);
        for (const [lo, hi] of set.v4.ranges()) bounds.addRange4(lo, hi);
        for (const [lo, hi] of set.v6.ranges()) bounds.addRange6(lo, hi);
      }
      if (r.from !== undefined && r.from >= 0) pts.add(r.from);
      if (r.to !== undefined && r.to >= 0 && r.to < 65535) pts.add(r.to + 1);
    }
  }
  for (const s of subnets) {
    const l = paths.layout(s);
    if (!l) continue;
    for (const [lo, hi] of l.routes.v4) bounds.addRange4(lo, hi);
    for (const [lo, hi] of l.routes.v6) bounds.addRange6(lo, hi);
    const pts = portSplits(`s:${s}`);
    for (const e of [...(l.acl?.ingress ?? []), ...(l.acl?.egress ?? [])]) {
      if (e.family === 4) bounds.addRange4(e.lo4, e.hi4);
      else bounds.addRange6(e.lo6, e.hi6);
      pts.add(e.portLo);
      if (e.portHi < 65535) pts.add(e.portHi + 1);
    }
  }
  bounds.seal();

  // Equivalence classes.
  const byKey = new Map<string, Klass>();
  const classes: Klass[] = [];
  for (const m of members) {
    const key = [
      m.node.subnetId,
      m.node.groups.join(','),
      m.v4 ? bounds.index(m.v4) : '-',
      m.node.publicIp ? 'p' : '',
      m.v6 ? bounds.index(m.v6) : '-',
    ].join('|');
    let k = byKey.get(key);
    if (!k) {
      k = { id: classes.length, members: [], subnetId: m.node.subnetId, vpcId: m.node.vpcId };
      byKey.set(key, k);
      classes.push(k);
    }
    m.node.class = k.id;
    k.members.push(m);
  }

  const protocol = PROTOCOL_NAME[o.proto] ?? String(o.proto);
  const ported = o.proto === 6 || o.proto === 17;
  // the packet's numbers (verdictAt): to each port from an ephemeral one, or an echo request
  const srcPort = ported ? EPHEMERAL : 0;
  const icmpType = ported ? NaN : o.proto === 58 ? 128 : 8;
  const icmpCode = ported ? NaN : 0;
  let judged = 0;
  /**
   * The open ports from one end to the other (one range [0,0] standing for "allowed" without
   * ports), the ends resolved (DataPlane.endHandle). No path (the route rejects, whatever the
   * port): none, and no verdict counted.
   */
  const openPorts = (src: number, dst: number, starts: readonly number[]): [number, number][] => {
    // the verdict path: the same verdict as judgeFlow's (commit false, explain false, replies), nothing allocated
    const code = (port: number) => plane.verdictAt(src, dst, o.proto, srcPort, ported ? port : 0, icmpType, icmpCode, o.now, true);
    // the route decides alike for every port: one verdict tells whether there is a path
    const first = o.port ?? 0;
    const c0 = code(first);
    if (c0 === FLOW_REJECT_ROUTE) return [];
    const judge = (port: number) => {
      judged++;
      return (port === first ? c0 : code(port)) === FLOW_ACCEPT;
    };
    if (!ported) return judge(0) ? [[0, 0]] : [];
    if (o.port !== undefined) return judge(o.port) ? [[o.port, o.port]] : [];
    const out: [number, number][] = [];
    starts.forEach((s, k) => {
      if (!judge(s)) return;
      const e = (starts[k + 1] ?? 65536) - 1;
      const last = out[out.length - 1];
      if (last && last[1] === s - 1) last[1] = e;
      else out.push([s, e]);
    });
    return out;
  };
  // The port segments' starts for a pair, sorted: 0 and where a rule or ACL entry of either end's
  // groups and subnet begins or ends (each end's own, worked out once; a pair's, merged).
  const pointsOfOne = (m: Member): number[] => {
    if (!m.points) {
      const pts = new Set<number>([0]);
      for (const g of m.node.groups) for (const p of splits.get(`g:${g}`) ?? []) pts.add(p);
      for (const p of splits.get(`s:${m.node.subnetId}`) ?? []) pts.add(p);
      m.points = [...pts].sort((x, y) => x - y);
    }
    return m.points;
  };
  const pointsOf = (a: Member, b: Member): number[] => {
    const x = pointsOfOne(a);
    const y = pointsOfOne(b);
    if (x === y) return x;
    const out: number[] = [];
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
      const v = j >= y.length || (i < x.length && x[i]! <= y[j]!) ? x[i++]! : y[j++]!;
      if (out.length === 0 || out[out.length - 1] !== v) out.push(v);
    }
    return out;
  };
  // Each class representative's ends resolved once (handles released at the end): per member,
  // [IPv4 private, IPv4 public, IPv6 private, IPv6 public] — -1: it has no such address.
  const made: number[] = [];
  const resolved = (e: FlowEnd | undefined): number => {
    if (!e) return -1;
    const h = plane.endHandle(e);
    made.push(h);
    return h;
  };
  const end = (m: Member, family: 4 | 6, viaPublic = false): number => {
    const hs = (m.ends ??= [-2, -2, -2, -2]);
    const k = (family === 4 ? 0 : 2) + (viaPublic ? 1 : 0);
    if (hs[k] === -2) hs[k] = resolved(endOf(m, family, viaPublic));
    return hs[k]!;
  };
  const endOf = (m: Member, family: 4 | 6, viaPublic: boolean): FlowEnd | undefined => {
    if (viaPublic) {
      const pub = m.node.publicIp ? parseAddress(m.node.publicIp) : undefined;
      return pub && { kind: 'interface', interfaceId: m.node.id, address: pub, text: m.node.publicIp!, viaPublic: true };
    }
    const a = family === 4 ? m.v4 : m.v6;
    const text = family === 4 ? m.node.privateIp : m.node.ipv6?.[0];
    return a && text ? { kind: 'interface', interfaceId: m.node.id, address: a, text, viaPublic: false } : undefined;
  };
  const internetEnds = new Map<4 | 6, number>();
  const internet = (family: 4 | 6): number => {
    let h = internetEnds.get(family);
    if (h === undefined) {
      const text = family === 4 ? o.internet4 : o.internet6;
      internetEnds.set(family, (h = resolved({ kind: 'external', address: parseAddress(text)!, text })));
    }
    return h;
  };
  const families: (4 | 6)[] = o.proto === 1 ? [4] : o.proto === 58 ? [6] : [4, 6];
  const union = (a: [number, number][], b: [number, number][]): [number, number][] => {
    if (!a.length) return b;
    if (!b.length) return a;
    const all = [...a, ...b].sort((x, y) => x[0] - y[0]);
    const out: [number, number][] = [];
    for (const r of all) {
      const last = out[out.length - 1];
      if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
      else out.push([r[0], r[1]]);
    }
    return out;
  };

  const classEdges: MatrixEdge[] = [];
  const cid = (k: Klass) => `c${k.id}`;
  // per VPC, the classes its classes may reach (in class order): its own, and its peers'
  const reachable = new Map<string, Klass[]>();
  const linkedTo = (vpcId: string): Klass[] => {
    let list = reachable.get(vpcId);
    if (!list) reachable.set(vpcId, (list = classes.filter((b) => b.vpcId === vpcId || o.peered.has(`${vpcId}|${b.vpcId}`))));
    return list;
  };
  try {
    for (const a of classes) {
      const ra = a.members[0]!;
      // To and from the internet: at the public IPv4 address, or the IPv6 address.
      let inbound: [number, number][] = [];
      let outbound: [number, number][] = [];
      for (const f of families) {
        const at = end(ra, f, f === 4);
        if (at >= 0) inbound = union(inbound, openPorts(internet(f), at, pointsOfOne(ra)));
        const from = end(ra, f);
        if (from >= 0) outbound = union(outbound, openPorts(from, internet(f), pointsOfOne(ra)));
      }
      if (inbound.length) classEdges.push({ from: 'internet', to: cid(a), protocol, ports: ported ? inbound : [], exposure: 'internet' });
      if (outbound.length) classEdges.push({ from: cid(a), to: 'internet', protocol, ports: ported ? outbound : [], exposure: 'internet' });
      for (const b of linkedTo(a.vpcId)) {
        const rb = a === b ? b.members[1] : b.members[0];
        if (!rb) continue; // a class of one: an interface does not reach itself
        let ports: [number, number][] = [];
        for (const f of families) {
          const s = end(ra, f);
          const d = end(rb, f);
          if (s >= 0 && d >= 0) ports = union(ports, openPorts(s, d, pointsOf(ra, rb)));
        }
        if (ports.length)
          classEdges.push({
            from: cid(a),
            to: cid(b),
            protocol,
            ports: ported ? ports : [],
            exposure: a.vpcId === b.vpcId ? 'vpc' : 'peered',
          });
      }
    }
  } finally {
    for (const h of made) plane.releaseEnd(h);
  }

  // Node edges: each class edge for every pair of members (no self edges), up to maxEdges.
  const edges: MatrixEdge[] = [];
  let truncated = false;
  const membersOf = (id: string): string[] =>
    id === 'internet' ? ['internet'] : classes[Number(id.slice(1))]!.members.map((m) => m.node.id);
  outer: for (const e of classEdges) {
    for (const f of membersOf(e.from)) {
      for (const t of membersOf(e.to)) {
        if (f === t) continue;
        if (edges.length >= o.maxEdges) {
          truncated = true;
          break outer;
        }
        edges.push({ ...e, from: f, to: t });
      }
    }
  }
  return {
    nodes: [...members.map((m) => m.node), { id: 'internet', kind: 'internet' }],
    edges: truncated ? [] : edges,
    classEdges,
    classes: classes.length,
    pairsJudged: judged,
    edgesTruncated: truncated,
  };
}

/** A protocol by name or number (-1: all); throws for anything else. */
export function matrixProtocol(p: string | number | undefined): number {
  const n = p === undefined ? 6 : typeof p === 'number' ? p : protocolNumber(p.toLowerCase());
  if (!Number.isInteger(n) || n < -1 || n > 255) throw new RangeError(`unknown protocol '${p}'`);
  return n;
}
