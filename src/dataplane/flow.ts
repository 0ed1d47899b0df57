// One flow between two ends, judged the one way Palisade judges traffic: the path (routes,
// gateways, peering — routing.ts — where the estate has them; else the plain model) and then the
// data plane (ACLs and both security-group gates, dataplane.ts). Every reader goes through here:
// the traffic API and `probe`, `reach`, Network Insights and the audit, live or offline.
import { parseAddress } from './addresses.ts';
import {
  addressText as text,
  FLOW_ACCEPT,
  FLOW_DECIDED_BY,
  parsedAddress as parsed,
  type AclStop,
  type DataPlane,
  type Endpoint,
  type FlowCode,
  type FlowEnd,
  type GateResult,
  type JudgeOptions,
  type Packet,
  type Verdict,
} from './dataplane.ts';
import { decidePath, type PathDecision, type PathEnd } from './routing.ts';

export type { FlowEnd, FlowCode } from './dataplane.ts';
export { FLOW_ACCEPT, FLOW_REJECT_ROUTE, FLOW_REJECT_ACL, FLOW_REJECT_EGRESS, FLOW_REJECT_INGRESS, FLOW_DECIDED_BY } from './dataplane.ts';

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

type FlowOptions = Pick<JudgeOptions, 'explain' | 'commit' | 'replies'>;

/**
 * Judges a new flow from `src` to `dst`: its path, then the ACLs and both gates, and (for a new
 * connection) whether its replies come back through the stateless ACLs.
 *
 * A "what if" without explanations (`explain: false, commit: false`) is decided by the verdict
 * path (`judgeFlowFast`); its answer's `verdict` and `decidedBy` are that verdict, and the rest —
 * `route`, `egress`, `ingress`, `acl`, `reason`, as this function gives them otherwise — is worked
 * out when first read (on the plane as it is then: read it before changing the plane or `pkt`).
 */
export function judgeFlow(
  plane: DataPlane,
  src: FlowEnd,
  dst: FlowEnd,
  pkt: Packet,
  now: number,
  opts: FlowOptions = {},
): Verdict | RouteReject {
  if (opts.explain === false && opts.commit === false)
    return new QuickVerdict(plane.verdict(src, dst, pkt, now, !!opts.replies), plane, src, dst, pkt, now, opts);
  return judgeFlowFully(plane, src, dst, pkt, now, opts);
}

function judgeFlowFully(plane: DataPlane, src: FlowEnd, dst: FlowEnd, pkt: Packet, now: number, opts: FlowOptions): Verdict | RouteReject {
  const p = flowPath(plane, src, dst);
  if ('noRoute' in p) return { verdict: 'REJECT', decidedBy: 'route', reason: p.noRoute, route: p.route, observations: [] };
  return plane.judge(p.src, p.dst, pkt, now, { ...opts, route: p.route });
}

/**
 * The verdict alone on a new flow (a "what if": commit false, explain false), through the whole
 * path — route, ACLs, both gates and, with `replies` (the default), the reply through the ACLs —
 * allocating nothing: FLOW_ACCEPT or the step that rejected it (FLOW_DECIDED_BY[code] is
 * `judgeFlow`'s `decidedBy` for the same flow). For batches of verdicts: the matrix, the batch API.
 */
export function judgeFlowFast(plane: DataPlane, src: FlowEnd, dst: FlowEnd, pkt: Packet, now: number, replies = true): FlowCode {
  return plane.verdict(src, dst, pkt, now, replies);
}

const NO_OBSERVATIONS = Object.freeze([]) as unknown as [];

/** judgeFlow's answer to a "what if" without explanations: the verdict path's, the rest on demand. */
class QuickVerdict implements Verdict {
  readonly verdict: 'ACCEPT' | 'REJECT';
  readonly decidedBy: Verdict['decidedBy'];
  readonly observations: [] = NO_OBSERVATIONS;
  readonly #plane: DataPlane;
  readonly #src: FlowEnd;
  readonly #dst: FlowEnd;
  readonly #pkt: Packet;
  readonly #now: number;
  readonly #opts: FlowOptions;
  #full: Verdict | RouteReject | undefined;

  constructor(code: FlowCode, plane: DataPlane, src: FlowEnd, dst: FlowEnd, pkt: Packet, now: number, opts: FlowOptions) {
    this.verdict = code === FLOW_ACCEPT ? 'ACCEPT' : 'REJECT';
    this.decidedBy = FLOW_DECIDED_BY[code];
    this.#plane = plane;
    this.#src = src;
    this.#dst = dst;
    this.#pkt = pkt;
    this.#now = now;
    this.#opts = opts;
  }
  #details(): Verdict | RouteReject {
    return (this.#full ??= judgeFlowFully(this.#plane, this.#src, this.#dst, this.#pkt, this.#now, this.#opts));
  }
  get route(): PathDecision | undefined {
    return this.#details().route;
  }
  get reason(): string | undefined {
    return this.#details().reason;
  }
  get egress(): GateResult | undefined {
    const v = this.#details();
    return 'egress' in v ? v.egress : undefined;
  }
  get ingress(): GateResult | undefined {
    const v = this.#details();
    return 'ingress' in v ? v.ingress : undefined;
  }
  get acl(): AclStop | undefined {
    const v = this.#details();
    return 'acl' in v ? v.acl : undefined;
  }
  /** As JSON, the answer `judgeFlow` gives with explanations off (the verdict path's verdict). */
  toJSON(): object {
    return { ...this.#details(), verdict: this.verdict, decidedBy: this.decidedBy };
  }
}
