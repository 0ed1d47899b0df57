// Reachability over the one path model (dataplane/flow.ts): routes, gateways, peering, the
// stateless network ACLs and both security-group gates — the same judge probe and evaluate use.
// Who can open a connection to an interface's port is computed over address and port spaces
// (the admitted sets split at the route tables' and ACLs' boundaries, not by enumerating
// addresses); whether A can reach B comes with the rules and hops on the path, or what stops it
// and the change that would open it.
import { Policy, protocolNumber, type InterfaceInput, type RuleInput } from '../dataplane/sg-policy.ts';
import { DataPlane, type Endpoint, type Packet, type Verdict } from '../dataplane/dataplane.ts';
import { parseAddress, setHas, Set4, Set6, type Address, type AddressSet } from '../dataplane/addresses.ts';
import { bigIntToAddress } from '../core/cidr.ts';
import {
  NetworkPaths,
  type AclEntryRange,
  type PacketFacts,
  type PathDecision,
  type RouteChoice,
  type RoutedInterface,
} from '../dataplane/routing.ts';
import { flowPath, judgeFlow, type FlowEnd, type RouteReject } from '../dataplane/flow.ts';

export interface EstateView {
  policy: Policy;
  /** the routing around the groups (route tables, ACLs, gateways); absent: the plain model */
  paths?: NetworkPaths;
  /** interface id → instance id, for reporting */
  instanceOf(interfaceId: string): string | undefined;
  /** instance id → its primary interface */
  primaryOf(instanceId: string): string | undefined;
}

export interface Source {
  kind: 'internet' | 'interface';
  /** internet: the admitted CIDR blocks */
  cidrs?: string[];
  interfaceId?: string;
  instanceId?: string;
  address?: string;
  ingressRules: RuleInput[];
  egressRules?: RuleInput[];
}

export interface ReachAnswer {
  target: { interfaceId: string; instanceId?: string; privateIp?: string; publicIp?: string };
  protocol: number;
  port?: number;
  sources: Source[];
  notes: string[];
}

/**
 * The client's port replies go back to. ACLs are stateless, so the reply must pass the ACLs on the
 * way back to it: like probe and evaluate (which default a flow's source port to it), reach judges
 * replies at 49152, the first port of the IANA ephemeral range (49152-65535) that Windows, macOS
 * and many NATs use. An ACL that allows the usual 1024-65535 (or 32768-65535, Linux) covers it.
 */
export const EPHEMERAL_PORT = 49152;

const ported = (proto: number) => proto === 6 || proto === 17;
const icmpOf = (proto: number) => proto === 1 || proto === 58;
/** The ICMP type a new flow is asked about (echo request), and its reply's. */
const echo = (proto: number) => (proto === 58 ? 128 : 8);
const echoReply = (proto: number) => (proto === 58 ? 129 : 0);
const addrText = (a: Address) => bigIntToAddress(a.family, BigInt(a.v));

function planeOf(view: EstateView): DataPlane {
  return new DataPlane(view.policy, view.paths ?? new NetworkPaths());
}

function packet(proto: number, port: number | undefined): Packet {
  return {
    proto,
    srcPort: ported(proto) ? EPHEMERAL_PORT : 0,
    dstPort: ported(proto) ? (port ?? 0) : 0,
    ...(icmpOf(proto) ? { icmpType: echo(proto), icmpCode: 0 } : {}),
  };
}

/** Minimal CIDR blocks covering [lo, hi]. */
function rangeToCidrs(family: 4 | 6, lo: bigint, hi: bigint): string[] {
  const bits = family === 4 ? 32 : 128;
  const out: string[] = [];
  while (lo <= hi) {
    let size = 0;
    while (size < bits) {
      const block = 1n << BigInt(size + 1);
      if (lo % block !== 0n || lo + block - 1n > hi) break;
      size++;
    }
    out.push(`${bigIntToAddress(family, lo)}/${bits - size}`);
    lo += 1n << BigInt(size);
    if (out.length > 10_000) break;
  }
  return out;
}

function setToCidrs(s: AddressSet): string[] {
  return [
    ...s.v4.ranges().flatMap(([a, b]) => rangeToCidrs(4, BigInt(a), BigInt(b))),
    ...s.v6.ranges().flatMap(([a, b]) => rangeToCidrs(6, a, b)),
  ];
}

function resolveInterface(view: EstateView, spec: string): InterfaceInput {
  const id = spec.startsWith('i-')
    ? view.primaryOf(spec)
    : spec.startsWith('eni-')
      ? spec
      : [...view.policy.allInterfaces()].find((i) => i.ipv4.includes(spec) || i.ipv6.includes(spec) || i.publicIp === spec)?.id;
  const i = id ? view.policy.getInterface(id) : undefined;
  if (!i) throw new Error(`unknown target '${spec}': give an instance id, interface id or one of its addresses`);
  return i;
}

// ---- address sets split at boundaries ------------------------------------------------------

/**
 * The parts of `set` (one family) on which `keep` holds, where `keep` is constant between the
 * given boundaries (each range [lo, hi] splits at lo and hi + 1): exact, one test per piece.
 */
function filter4(set: Set4, cuts: [number, number][], keep: (v: number) => boolean): Set4 {
  const points = [...new Set(cuts.flatMap(([lo, hi]) => [lo, hi + 1]))].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const [lo, hi] of set.ranges()) {
    let start = lo;
    for (const p of points) {
      if (p <= start) continue;
      if (p > hi) break;
      if (keep(start)) out.push([start, p - 1]);
      start = p;
    }
    if (keep(start)) out.push([start, hi]);
  }
  return Set4.from(out);
}

function filter6(set: Set6, cuts: [bigint, bigint][], keep: (v: bigint) => boolean): Set6 {
  const points = [...new Set(cuts.flatMap(([lo, hi]) => [lo, hi + 1n]))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (const [lo, hi] of set.ranges()) {
    let start = lo;
    for (const p of points) {
      if (p <= start) continue;
      if (p > hi) break;
      if (keep(start)) out.push([start, p - 1n]);
      start = p;
    }
    if (keep(start)) out.push([start, hi]);
  }
  return Set6.from(out);
}

const entryCuts4 = (es: readonly AclEntryRange[]): [number, number][] => es.filter((e) => e.family === 4).map((e) => [e.lo4, e.hi4]);
const entryCuts6 = (es: readonly AclEntryRange[]): [bigint, bigint][] => es.filter((e) => e.family === 6).map((e) => [e.lo6, e.hi6]);

const sameSet = (a: AddressSet, b: AddressSet) =>
  JSON.stringify(a.v4.ranges()) === JSON.stringify(b.v4.ranges()) && a.v6.ranges().join() === b.v6.ranges().join();

// ---- who can reach ---------------------------------------------------------------------------

/** Every source that can open a connection to `target` on proto/port, and through which rules. */
export function whoCanReach(view: EstateView, targetSpec: string, protocol: string | number, port?: number): ReachAnswer {
  const target = resolveInterface(view, targetSpec);
  const proto = typeof protocol === 'number' ? protocol : protocolNumber(protocol.toLowerCase());
  const p = view.policy;
  const plane = planeOf(view);
  const icmp = icmpOf(proto);
  const adm = p.admitted(target.id, 'ingress', proto, port, icmp ? echo(proto) : undefined, 0);
  const notes: string[] = [];
  const sources: Source[] = [];

  // The internet: what the groups admit, at the public IPv4 address (or the IPv6 addresses), as
  // far as the path lets it in (and its replies out).
  const admittedHere: AddressSet = { v4: target.publicIp ? adm.set.v4 : Set4.EMPTY, v6: target.ipv6.length ? adm.set.v6 : Set6.EMPTY };
  if (adm.set.v4.size && !target.publicIp)
    notes.push(`${target.id} has no public IPv4 address: the internet cannot reach it over IPv4, whatever its rules admit`);
  const routed = plane.paths.interface(target.id);
  const internet = routed ? internetPath(plane.paths, routed, admittedHere, proto, port, notes) : admittedHere;
  const cidrs = setToCidrs(internet);
  if (cidrs.length) sources.push({ kind: 'internet', cidrs, ingressRules: adm.rules.filter((r) => r.cidr4 || r.cidr6 || r.prefixListId) });

  // Interfaces: each judged as probe judges it, from its primary address to the target's.
  const pkt = packet(proto, port);
  let blocked = 0;
  for (const s of p.allInterfaces()) {
    if (s.id === target.id) continue;
    const addr = s.ipv4[0] ?? s.ipv6[0];
    const a = addr ? parseAddress(addr) : undefined;
    const to = a?.family === 6 ? target.ipv6[0] : target.ipv4[0];
    if (!a || !to) continue;
    const src: FlowEnd = { kind: 'interface', interfaceId: s.id, address: a, text: addr!, viaPublic: false };
    const dst: FlowEnd = { kind: 'interface', interfaceId: target.id, address: parseAddress(to)!, text: to, viaPublic: false };
    const quick = judgeFlow(plane, src, dst, pkt, 0, { commit: false, explain: false, replies: true });
    if (quick.verdict === 'ACCEPT') {
      const v = judgeFlow(plane, src, dst, pkt, 0, { commit: false, explain: true, replies: true }) as Verdict;
      sources.push({
        kind: 'interface',
        interfaceId: s.id,
        instanceId: view.instanceOf(s.id),
        address: addr,
        ingressRules: v.ingress?.rules ?? [],
        egressRules: v.egress?.rules ?? [],
      });
      continue;
    }
    // Blocked on the path although the groups would let it through: worth a note (in the
    // target's VPC, or on the way through a peering connection).
    if (quick.decidedBy !== 'route' && quick.decidedBy !== 'acl') continue;
    const viaPeering = quick.route?.hops.some((h) => h.kind === 'route' && h.route.target.kind === 'pcx');
    if (s.vpcId !== target.vpcId && !viaPeering) continue;
    const groupsAdmit =
      (setHas(adm.set, a) || s.groups.some((g) => adm.groups.has(g))) &&
      p.allows(s.id, { direction: 'egress', proto, port, icmpType: echo(proto), icmpCode: 0, remote: parseAddress(to)! });
    if (!groupsAdmit) continue;
    if (++blocked > 20) continue;
    const who = `${view.instanceOf(s.id) ?? s.id} (${addr})`;
    if (quick.decidedBy === 'route') notes.push(`${who}: its security groups allow it, but there is no path: ${quick.reason}`);
    else {
      const x = (quick as Verdict).acl!;
      notes.push(
        `${who}: its security groups allow it, but the network ACL ${x.aclId} of ${x.subnetId} (${x.direction}${x.reply ? ', the replies' : ''}) denies it at rule ${x.ruleNumber >= 32767 ? '*' : x.ruleNumber}`,
      );
    }
  }
  if (blocked > 20) notes.push(`… and ${blocked - 20} more interfaces blocked on the path`);
  return {
    target: { interfaceId: target.id, instanceId: view.instanceOf(target.id), privateIp: target.ipv4[0], publicIp: target.publicIp },
    protocol: proto,
    port,
    sources,
    notes,
  };
}

/**
 * The internet addresses in `admitted` whose connection reaches a routed interface: the VPC has an
 * internet gateway, the subnet's route table sends the address back through it, the subnet's
 * ACL lets the packet in and its reply (to EPHEMERAL_PORT) out. Exact over address ranges.
 */
function internetPath(
  paths: NetworkPaths,
  t: RoutedInterface,
  admitted: AddressSet,
  proto: number,
  port: number | undefined,
  notes: string[],
): AddressSet {
  if (!admitted.v4.size && !admitted.v6.size) return admitted;
  const igw = paths.internetGatewayOf(t.vpcId);
  if (!igw) {
    notes.push(`${t.vpcId} has no internet gateway attached: nothing from the internet reaches ${t.id}`);
    return { v4: Set4.EMPTY, v6: Set6.EMPTY };
  }
  const layout = paths.layout(t.subnetId);
  const table = paths.subnet(t.subnetId)?.routeTableId;
  const routesBack = (a: Address) => {
    const r = paths.route(t.subnetId, a);
    return !!r && !r.blackhole && r.target.kind === 'igw' && r.target.id === igw.id;
  };
  const inFacts: PacketFacts = {
    proto,
    port: ported(proto) ? (port ?? 0) : 0,
    ...(icmpOf(proto) ? { icmpType: echo(proto), icmpCode: 0 } : {}),
  };
  const outFacts: PacketFacts = {
    proto,
    port: ported(proto) ? EPHEMERAL_PORT : 0,
    ...(icmpOf(proto) ? { icmpType: echoReply(proto), icmpCode: 0 } : {}),
  };
  const aclLets = (a: Address) =>
    (paths.acl(t.subnetId, false, a, inFacts)?.allowed ?? true) && (paths.acl(t.subnetId, true, a, outFacts)?.allowed ?? true);
  const routes = {
    v4: filter4(admitted.v4, layout?.routes.v4 ?? [], (v) => routesBack({ family: 4, v })),
    v6: filter6(admitted.v6, layout?.routes.v6 ?? [], (v) => routesBack({ family: 6, v })),
  };
  if ((admitted.v4.size || admitted.v6.size) && !routes.v4.size && !routes.v6.size)
    notes.push(
      `${t.subnetId}'s route table ${table ?? ''} has no route to the internet through ${igw.id}: nothing from the internet reaches ${t.id}`,
    );
  else if (!sameSet(admitted, routes))
    notes.push(`${t.subnetId}'s route table ${table ?? ''} sends only part of the admitted addresses back through ${igw.id}`);
  const entries = [...(layout?.acl?.ingress ?? []), ...(layout?.acl?.egress ?? [])];
  const allowed = {
    v4: filter4(routes.v4, entryCuts4(entries), (v) => aclLets({ family: 4, v })),
    v6: filter6(routes.v6, entryCuts6(entries), (v) => aclLets({ family: 6, v })),
  };
  if (!sameSet(routes, allowed)) {
    const acl = paths.subnet(t.subnetId)?.aclId;
    notes.push(
      `the network ACL ${acl} of ${t.subnetId} narrows who reaches ${t.id} from the internet (its inbound rules, and outbound for the replies to the ephemeral port ${EPHEMERAL_PORT})`,
    );
  }
  return allowed;
}

// ---- can A reach B ---------------------------------------------------------------------------

/** The route a verdict took, without raw addresses (JSON-safe, IPv6 included). */
export type RouteView = Omit<PathDecision, 'hops' | 'sourceSeenAs'> & {
  hops: (
    { kind: 'route'; subnetId: string; route: RouteChoice } | { kind: 'no-route'; subnetId: string; destination: string; why: string }
  )[];
  sourceSeenAs?: string;
};
export type ReachVerdict = (Omit<Verdict, 'route'> | Omit<RouteReject, 'route'>) & { route?: RouteView };

export interface PathAnswer {
  reachable: boolean;
  verdict: ReachVerdict;
  openPorts?: [number, number][];
  suggestion?: string;
}

function routeView(r: PathDecision | undefined): RouteView | undefined {
  if (!r) return undefined;
  const { hops, sourceSeenAs, ...rest } = r;
  return {
    ...rest,
    hops: hops.map((h) => (h.kind === 'route' ? h : { ...h, destination: addrText(h.destination) })),
    ...(sourceSeenAs ? { sourceSeenAs: addrText(sourceSeenAs) } : {}),
  };
}

function viewOf(v: Verdict | RouteReject): ReachVerdict {
  const { route, ...rest } = v;
  const r = routeView(route);
  return r ? { ...rest, route: r } : rest;
}

interface End {
  end: FlowEnd;
  iface?: InterfaceInput;
}

const literal6 = (spec: string) => {
  const t = spec.startsWith('internet:') ? spec.slice(9) : spec;
  return !t.startsWith('i-') && !t.startsWith('eni-') && t.includes(':');
};

/**
 * An end named by the user: `internet:IP`, an instance or interface id (its primary address of
 * the flow's family; seen from the internet, its public IPv4) or one of an interface's addresses.
 */
function endOf(view: EstateView, spec: string, family: 4 | 6, fromInternet: boolean): End {
  if (spec.startsWith('internet:')) {
    const a = parseAddress(spec.slice(9));
    if (!a) throw new Error(`'${spec}' is not internet:IP`);
    return { end: { kind: 'external', address: a, text: spec.slice(9) } };
  }
  const i = resolveInterface(view, spec);
  const named = !spec.startsWith('i-') && !spec.startsWith('eni-');
  let text: string;
  let viaPublic = false;
  if (named) {
    text = spec;
    viaPublic = spec === i.publicIp;
  } else if (family === 6) text = i.ipv6[0] ?? i.ipv4[0]!;
  else if (fromInternet && i.publicIp) {
    text = i.publicIp;
    viaPublic = true;
  } else text = i.ipv4[0] ?? i.ipv6[0]!;
  return { end: { kind: 'interface', interfaceId: i.id, address: parseAddress(text)!, text, viaPublic }, iface: i };
}

/** Can `from` open a connection to `to`? With the deciding rules and route, or the fix. */
export function canReach(view: EstateView, from: string, to: string, protocol: string | number = 'tcp', port?: number): PathAnswer {
  const proto = typeof protocol === 'number' ? protocol : protocolNumber(protocol.toLowerCase());
  const family = literal6(from) || literal6(to) ? 6 : 4;
  const a = endOf(view, from, family, false);
  const b = endOf(view, to, family, a.end.kind === 'external');
  const plane = planeOf(view);
  const path = flowPath(plane, a.end, b.end);
  const opts = { commit: false, explain: true, replies: true } as const;
  if ('noRoute' in path) {
    const v = judgeFlow(plane, a.end, b.end, packet(proto, port), 0, opts);
    return {
      reachable: false,
      verdict: viewOf(v),
      ...(port === undefined && ported(proto) ? { openPorts: [] } : {}),
      suggestion: routeFix(plane.paths, a, b, family),
    };
  }
  if (port === undefined && ported(proto)) {
    const open = openPorts(plane, a.end, b.end, path, proto);
    const v = judgeFlow(plane, a.end, b.end, packet(proto, open[0]?.[0] ?? 0), 0, opts);
    return { reachable: open.length > 0, verdict: viewOf(v), openPorts: open };
  }
  const v = judgeFlow(plane, a.end, b.end, packet(proto, port), 0, opts);
  return {
    reachable: v.verdict === 'ACCEPT',
    verdict: viewOf(v),
    suggestion: v.verdict === 'REJECT' ? suggest(plane, v, path, a, b, proto, port) : undefined,
  };
}

/** The port ranges open from src to dst: judged once per piece between the rules' and ACL entries' port boundaries. */
function openPorts(
  plane: DataPlane,
  src: FlowEnd,
  dst: FlowEnd,
  path: { src: Endpoint; dst: Endpoint; route?: PathDecision },
  proto: number,
) {
  const points = new Set<number>([0]);
  const add = (from: number | undefined, to: number | undefined) => {
    points.add(from ?? 0);
    if ((to ?? 65535) < 65535) points.add((to ?? 65535) + 1);
  };
  for (const [ep, egress] of [
    [path.src, true],
    [path.dst, false],
  ] as const) {
    if (ep.kind !== 'interface') continue;
    const i = plane.policy.getInterface(ep.interfaceId);
    for (const g of i?.groups ?? []) {
      for (const r of plane.policy.groupRules(g)) {
        if (r.egress === egress && protocolNumber(r.protocol) === proto) add(r.from, r.to);
      }
    }
  }
  const r = path.route;
  for (const subnet of [r?.aclOut, r?.aclIn, r?.natSubnet]) {
    const acl = subnet ? plane.paths.layout(subnet)?.acl : undefined;
    for (const e of [...(acl?.ingress ?? []), ...(acl?.egress ?? [])]) if (e.protocol === proto) add(e.portLo, e.portHi);
  }
  const starts = [...points].sort((x, y) => x - y);
  const out: [number, number][] = [];
  starts.forEach((s, k) => {
    const e = (starts[k + 1] ?? 65536) - 1;
    if (judgeFlow(plane, src, dst, packet(proto, s), 0, { commit: false, explain: false, replies: true }).verdict !== 'ACCEPT') return;
    const last = out[out.length - 1];
    if (last && last[1] === s - 1) last[1] = e;
    else out.push([s, e]);
  });
  return out;
}

// ---- the fix ---------------------------------------------------------------------------------

const protoText = (proto: number) => (proto === 6 ? 'tcp' : proto === 17 ? 'udp' : proto === 1 ? 'icmp' : String(proto));

/** A way for a route-rejected flow: the internet route, gateway, public address or peering it lacks. */
function routeFix(paths: NetworkPaths, a: End, b: End, family: 4 | 6): string | undefined {
  const inward = a.end.kind === 'external' ? b : undefined;
  const outward = b.end.kind === 'external' ? a : undefined;
  const edge = inward ?? outward;
  if (edge?.iface) {
    const i = edge.iface;
    if (family === 4 && !i.publicIp)
      return `aws ec2 allocate-address --domain vpc, then aws ec2 associate-address --allocation-id <eipalloc-id> --network-interface-id ${i.id} (or route ${outward ? 'through a NAT gateway' : 'through a load balancer'})`;
    if (family === 6 && !i.ipv6.length) return `aws ec2 assign-ipv6-addresses --network-interface-id ${i.id} --ipv6-address-count 1`;
    const r = paths.interface(i.id);
    if (!r) return undefined;
    const table = paths.subnet(r.subnetId)?.routeTableId;
    const dest = family === 4 ? '--destination-cidr-block 0.0.0.0/0' : '--destination-ipv6-cidr-block ::/0';
    const igw = paths.internetGatewayOf(r.vpcId);
    if (!igw)
      return `aws ec2 create-internet-gateway, then aws ec2 attach-internet-gateway --internet-gateway-id <igw-id> --vpc-id ${r.vpcId} and aws ec2 create-route --route-table-id ${table} ${dest} --gateway-id <igw-id>`;
    const remote = (inward ? a.end : b.end).address;
    const now = paths.route(r.subnetId, remote);
    if (now && !now.blackhole && now.target.kind === 'igw' && now.target.id === igw.id) return undefined;
    if (now) {
      const flag = now.destination.includes(':')
        ? '--destination-ipv6-cidr-block'
        : now.destination.startsWith('pl-')
          ? ''
          : '--destination-cidr-block';
      if (flag) return `aws ec2 replace-route --route-table-id ${now.tableId} ${flag} ${now.destination} --gateway-id ${igw.id}`;
    }
    return `aws ec2 create-route --route-table-id ${table} ${dest} --gateway-id ${igw.id}`;
  }
  if (!a.iface || !b.iface || a.iface.vpcId === b.iface.vpcId) return undefined;
  // Two VPCs: a peering connection, and a route through it on both sides.
  const peer = `aws ec2 create-vpc-peering-connection --vpc-id ${a.iface.vpcId} --peer-vpc-id ${b.iface.vpcId}, accept it (aws ec2 accept-vpc-peering-connection), then a route through it in both VPCs' route tables`;
  const ra = paths.interface(a.iface.id);
  const rb = paths.interface(b.iface.id);
  if (!ra || !rb) return peer;
  const out = paths.route(ra.subnetId, b.end.address);
  const back = paths.route(rb.subnetId, a.end.address);
  const pcx = out?.target.kind === 'pcx' ? out.target.id : back?.target.kind === 'pcx' ? back.target.id : undefined;
  const p = pcx ? paths.peering(pcx) : undefined;
  if (!pcx || !p) return peer;
  if (!p.active) return `aws ec2 accept-vpc-peering-connection --vpc-peering-connection-id ${pcx}`;
  const vpcCidr = (r: RoutedInterface, addr: Address) => {
    const local = paths.route(r.subnetId, addr);
    return local?.target.kind === 'local' ? local.destination : `${addrText(addr)}/${addr.family === 4 ? 32 : 128}`;
  };
  const flag = (c: string) => (c.includes(':') ? '--destination-ipv6-cidr-block' : '--destination-cidr-block');
  const fixes: string[] = [];
  if (!(out?.target.kind === 'pcx' && out.target.id === pcx && !out.blackhole)) {
    const c = vpcCidr(rb, b.end.address);
    fixes.push(
      `aws ec2 create-route --route-table-id ${paths.subnet(ra.subnetId)?.routeTableId} ${flag(c)} ${c} --vpc-peering-connection-id ${pcx}`,
    );
  }
  if (!(back?.target.kind === 'pcx' && back.target.id === pcx && !back.blackhole)) {
    const c = vpcCidr(ra, a.end.address);
    fixes.push(
      `aws ec2 create-route --route-table-id ${paths.subnet(rb.subnetId)?.routeTableId} ${flag(c)} ${c} --vpc-peering-connection-id ${pcx}`,
    );
  }
  return fixes.length ? fixes.join(' && ') : undefined;
}

/** The highest free rule number below `n`, a multiple of 10 if one is free. */
function ruleBelow(n: number, used: Set<number>): number | undefined {
  for (let k = Math.floor((n - 1) / 10) * 10; k >= 10; k -= 10) if (!used.has(k)) return k;
  for (let k = n - 1; k >= 1; k--) if (!used.has(k)) return k;
  return undefined;
}

/** An ACL entry that lets the stopped packet (or its reply) through, numbered before the one that denies it. */
function aclFix(plane: DataPlane, v: Verdict, path: { src: Endpoint; dst: Endpoint; route?: PathDecision }, proto: number, port?: number) {
  const stop = v.acl!;
  const outbound = stop.direction === 'outbound';
  const layout = plane.paths.layout(stop.subnetId)?.acl;
  const used = new Set((outbound ? layout?.egress : layout?.ingress)?.map((e) => e.ruleNumber) ?? []);
  const n = ruleBelow(stop.ruleNumber, used);
  if (n === undefined) return `no rule number below ${stop.ruleNumber} is free in ${stop.aclId}: renumber its entries`;
  const seen = (e: Endpoint) => (e.kind === 'interface' && e.seenAs ? e.seenAs.address : e.address);
  const own = (e: Endpoint) => e.address;
  // The far side as this subnet's ACL sees it.
  let remote: Address;
  if (stop.subnetId === path.route?.natSubnet) remote = outbound !== stop.reply ? seen(path.dst) : own(path.src);
  else if (stop.subnetId === path.route?.aclIn && stop.subnetId !== path.route?.aclOut) remote = seen(path.src);
  else remote = seen(path.dst);
  const cidr = remote.family === 4 ? `--cidr-block ${addrText(remote)}/32` : `--ipv6-cidr-block ${addrText(remote)}/128`;
  const ports = ported(proto)
    ? ` --port-range From=${stop.reply ? 1024 : (port ?? 0)},To=${stop.reply ? 65535 : (port ?? 0)}`
    : icmpOf(proto)
      ? ` --icmp-type-code Type=${stop.reply ? echoReply(proto) : echo(proto)},Code=-1`
      : '';
  const cmd = `aws ec2 create-network-acl-entry --network-acl-id ${stop.aclId} --rule-number ${n} --protocol ${proto}${ports} ${cidr} --rule-action allow ${outbound ? '--egress' : '--ingress'}`;
  return stop.reply
    ? `${cmd} (network ACLs are stateless: the replies go ${stop.direction} to the client's ephemeral ports 1024-65535, which must be allowed too)`
    : cmd;
}

function suggest(
  plane: DataPlane,
  v: Verdict | RouteReject,
  path: { src: Endpoint; dst: Endpoint; route?: PathDecision },
  a: End,
  b: End,
  proto: number,
  port?: number,
): string | undefined {
  if (v.decidedBy === 'route') return undefined;
  if (v.decidedBy === 'acl' && (v as Verdict).acl) return aclFix(plane, v as Verdict, path, proto, port);
  const portText = port !== undefined && ported(proto) ? ` --port ${port}` : '';
  const text = (e: End) => (e.end as { text: string }).text;
  const single = (e: End) => (e.end.address.family === 4 ? `${text(e)}/32` : `${text(e)}/128`);
  if (v.decidedBy === 'ingress' && b.iface) {
    const group = b.iface.groups[0];
    const sameVpc = a.iface && a.iface.vpcId === b.iface.vpcId;
    const source =
      a.iface && a.iface.groups[0] && sameVpc
        ? `--source-group ${a.iface.groups[0]}`
        : `--cidr ${path.src.kind === 'interface' && path.src.seenAs ? `${path.src.seenAs.text}/32` : single(a)}`;
    return group
      ? `aws ec2 authorize-security-group-ingress --group-id ${group} --protocol ${protoText(proto)}${portText} ${source}`
      : `attach a security group to ${b.iface.id}`;
  }
  if (v.decidedBy === 'egress' && a.iface) {
    const group = a.iface.groups[0];
    const seenDst = path.dst.kind === 'interface' && path.dst.seenAs ? path.dst.seenAs.text : undefined;
    const six = b.end.address.family === 6;
    const cidr = seenDst ? `${seenDst}/32` : single(b);
    const dest =
      b.iface && b.iface.groups[0] && b.iface.vpcId === a.iface.vpcId && !seenDst
        ? `"UserIdGroupPairs":[{"GroupId":"${b.iface.groups[0]}"}]`
        : six
          ? `"Ipv6Ranges":[{"CidrIpv6":"${cidr}"}]`
          : `"IpRanges":[{"CidrIp":"${cidr}"}]`;
    const ports = port !== undefined && ported(proto) ? `,"FromPort":${port},"ToPort":${port}` : '';
    return group
      ? `aws ec2 authorize-security-group-egress --group-id ${group} --ip-permissions '[{"IpProtocol":"${protoText(proto)}"${ports},${dest}}]'`
      : `attach a security group to ${a.iface.id}`;
  }
  return undefined;
}

export type { Address };
