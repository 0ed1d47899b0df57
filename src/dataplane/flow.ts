// One flow between two ends, judged the one way Palisade judges traffic: the path (routes,
// gateways, peering — routing.ts — where the estate has them; else the plain model) and then the
// data plane (ACLs and both security-group gates, dataplane.ts). Every reader goes through here:
// the traffic API and `probe`, `reach`, Network Insights and the audit, live or offline.
import type { Address } from './addresses.ts';
import { bigIntToAddress } from '../core/cidr.ts';
import { parseAddress } from './addresses.ts';
import type { DataPlane, Endpoint, JudgeOptions, Packet, Verdict } from './dataplane.ts';
import { decidePath, type PathDecision, type PathEnd } from './routing.ts';

/** An end of a flow: an interface at one of its addresses (its public one: `viaPublic`), or a host outside. */
export type FlowEnd =
  | { kind: 'interface'; interfaceId: string; address: Address; text: string; viaPublic: boolean }
  | { kind: 'external'; address: Address; text: string };

/** A flow that has no path: rejected by the route. */
export interface RouteReject {
  verdict: 'REJECT';
  decidedBy: 'route';
  reason: string;
  route?: PathDecision;
  observations: [];
}

export type FlowPath = { src: Endpoint; dst: Endpoint; route?: PathDecision } | { noRoute: string; route?: PathDecision };

/**
 * The ends as the data plane sees them, or why no path exists. Where routing knows both
 * interfaces (their subnets' route tables and ACLs), the path is the one the VPC's routes give;
 * otherwise (an estate without routing data) the plain model: private addresses inside a VPC,
 * the internet at public addresses.
 */
export function flowPath(plane: DataPlane, src: FlowEnd, dst: FlowEnd): FlowPath {
  if (src.kind === 'interface' && dst.kind === 'interface' && src.interfaceId === dst.interfaceId)
    return { noRoute: 'source and destination are the same interface' };
  return routedPath(plane, src, dst) ?? plainPath(plane, src, dst);
}

/** The interface's own address for a flow of this family (its primary private IPv4, or the IPv6 named). */
function local(plane: DataPlane, e: Extract<FlowEnd, { kind: 'interface' }>): Extract<Endpoint, { kind: 'interface' }> {
  const ipv4 = plane.policy.getInterface(e.interfaceId)?.ipv4[0];
  if (e.address.family === 6 || !ipv4) return { kind: 'interface', interfaceId: e.interfaceId, address: e.address, text: e.text };
  return { kind: 'interface', interfaceId: e.interfaceId, address: parsed(ipv4), text: ipv4 };
}

/** Addresses parsed once (the verdict path meets the same interface addresses again and again); frozen, bounded. */
const parsedAddresses = new Map<string, Address>();
function parsed(text: string): Address {
  let a = parsedAddresses.get(text);
  if (!a) {
    a = Object.freeze(parseAddress(text)!);
    if (parsedAddresses.size >= 100_000) parsedAddresses.clear();
    parsedAddresses.set(text, a);
  }
  return a;
}

/** The text of an address the path produced (a public IPv4, a NAT gateway's), worked out once per address. */
const texts = new WeakMap<Address, string>();
function text(a: Address): string {
  let t = texts.get(a);
  if (t === undefined) texts.set(a, (t = bigIntToAddress(a.family, BigInt(a.v))));
  return t;
}

function routedPath(plane: DataPlane, src: FlowEnd, dst: FlowEnd): FlowPath | undefined {
  const paths = plane.paths;
  const end = (e: FlowEnd): PathEnd | undefined => {
    if (e.kind === 'external') return { kind: 'external', address: e.address };
    const iface = paths.interface(e.interfaceId);
    return iface && { kind: 'interface', iface, address: e.address, viaPublic: e.viaPublic };
  };
  const a = end(src);
  const b = end(dst);
  if (!a || !b) return undefined;
  const route = decidePath(paths, a, b);
  if (!route.ok) return { noRoute: route.reason ?? 'no route', route };
  const seen = route.sourceSeenAs;
  const source: Endpoint =
    src.kind === 'external'
      ? { kind: 'external', address: src.address, text: src.text }
      : { ...local(plane, src), ...(seen ? { seenAs: { address: seen, text: text(seen) } } : {}) };
  const destination: Endpoint =
    dst.kind === 'external'
      ? { kind: 'external', address: dst.address, text: dst.text }
      : { ...local(plane, dst), ...(dst.viaPublic ? { seenAs: { address: dst.address, text: dst.text } } : {}) };
  return { src: source, dst: destination, route };
}

function plainPath(plane: DataPlane, src: FlowEnd, dst: FlowEnd): FlowPath {
  if (src.kind === 'external' && dst.kind === 'external') return { noRoute: 'neither end is a Palisade network interface' };
  if (src.address.family !== dst.address.family)
    return { noRoute: 'the two ends are of different address families (IPv4 and IPv6 never mix)' };
  const info = (e: Extract<FlowEnd, { kind: 'interface' }>) => plane.policy.getInterface(e.interfaceId);
  const publicOf = (e: Extract<FlowEnd, { kind: 'interface' }>) => {
    const p = info(e)?.publicIp;
    return p ? { address: parseAddress(p)!, text: p } : undefined;
  };
  if (src.kind === 'interface' && dst.kind === 'interface') {
    if (!dst.viaPublic) {
      const [a, b] = [info(src)?.vpcId, info(dst)?.vpcId];
      if (a !== b)
        return { noRoute: `no route from ${a} to ${b}: private addresses are reachable only inside their VPC (or through peering)` };
      return { src: local(plane, src), dst: { kind: 'interface', interfaceId: dst.interfaceId, address: dst.address, text: dst.text } };
    }
    const pub = publicOf(src);
    if (!pub) return { noRoute: `${src.interfaceId} has no public IPv4 address: it cannot reach the internet` };
    return {
      src: { ...local(plane, src), seenAs: pub },
      dst: { ...local(plane, dst), seenAs: { address: dst.address, text: dst.text } },
    };
  }
  if (src.kind === 'external') {
    const d = dst as Extract<FlowEnd, { kind: 'interface' }>;
    if (!d.viaPublic && d.address.family === 4)
      return { noRoute: `the internet reaches ${d.interfaceId} only at its public IP address, not at ${d.text}` };
    return {
      src: { kind: 'external', address: src.address, text: src.text },
      dst: { ...local(plane, d), ...(d.viaPublic ? { seenAs: { address: d.address, text: d.text } } : {}) },
    };
  }
  const pub = publicOf(src);
  if (dst.address.family === 4 && !pub) return { noRoute: `${src.interfaceId} has no public IPv4 address: it cannot reach the internet` };
  return {
    src: { ...local(plane, src), ...(dst.address.family === 4 ? { seenAs: pub! } : {}) },
    dst: { kind: 'external', address: dst.address, text: dst.text },
  };
}

/**
 * Judges a new flow from `src` to `dst`: its path, then the ACLs and both gates, and (for a new
 * connection) whether its replies come back through the stateless ACLs.
 */
export function judgeFlow(
  plane: DataPlane,
  src: FlowEnd,
  dst: FlowEnd,
  pkt: Packet,
  now: number,
  opts: Pick<JudgeOptions, 'explain' | 'commit' | 'replies'> = {},
): Verdict | RouteReject {
  const p = flowPath(plane, src, dst);
  if ('noRoute' in p) return { verdict: 'REJECT', decidedBy: 'route', reason: p.noRoute, route: p.route, observations: [] };
  return plane.judge(p.src, p.dst, pkt, now, { ...opts, route: p.route });
}
