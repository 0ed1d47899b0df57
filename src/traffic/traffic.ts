// Traffic through the data plane, as the admin API offers it (routes in src/admin-api/routes.ts):
// batches of "what if" verdicts, connections opened and driven packet by packet (recorded by flow
// logs), and reachability questions. No HTTP here: bodies arrive validated (admin-api/schemas.ts).
import { crypto } from '../core/lazy.ts';
import type { Store } from '../store/store.ts';
import type { Clock } from '../core/clock.ts';
import type { ServerConfig } from '../core/context.ts';
import type { GateResult, Observation, Packet, Verdict } from '../dataplane/dataplane.ts';
import { protoByName } from '../dataplane/sg-policy.ts';
import { TCP } from '../dataplane/conntrack.ts';
import { BoundedTable } from '../core/bounded-table.ts';
import type { RuleInput } from '../dataplane/sg-policy.ts';
import { EndpointError, flowEnd, fromTheInternet, resolveEndpoint, type Resolved } from './endpoints.ts';
import { FLOW_ACCEPT, FLOW_DECIDED_BY, flowPath, judgeFlowFast } from '../dataplane/flow.ts';
import { matrixProtocol, reachabilityMatrix, type MatrixInterface } from '../dataplane/matrix.ts';
import { KIND, type EniDoc, type InstanceDoc, type PeeringDoc } from '../core/documents/ec2.ts';

/** Node-level edges a matrix lists before it answers with class edges only. */
const MATRIX_MAX_EDGES = 20_000;
import type { LiveNetwork } from './live-view.ts';
import { canReach, whoCanReach } from '../analysis/reach.ts';
import { targetText, type PathDecision } from '../dataplane/routing.ts';

/** A flow as callers describe it (the admin API validates these fields: admin-api/schemas.ts). */
export interface FlowSpec {
  from: string;
  to: string;
  protocol?: string | number;
  port?: number;
  srcPort?: number;
  icmpType?: number;
  icmpCode?: number;
  flags?: string[] | number;
  bytes?: number;
}

/** Subscribers to the traffic the data plane judged (flow logs). */
type TrafficObserver = (observations: Observation[]) => void;

export function protocolOf(p: string | number | undefined): number {
  if (p === undefined) return 6;
  if (typeof p === 'number') return p;
  const lower = p.toLowerCase();
  const named = protoByName(lower);
  if (named !== undefined) return named;
  if (/^\d+$/.test(lower) && Number(lower) <= 255) return Number(lower);
  throw new EndpointError(`unknown protocol '${p}': use tcp, udp, icmp, icmpv6 or a number 0-255`);
}

function flagsOf(f: string[] | number | undefined): number {
  if (f === undefined) return 0;
  if (typeof f === 'number') return f;
  let n = 0;
  for (const x of f) {
    const k = x.toUpperCase() as keyof typeof TCP;
    if (!Object.hasOwn(TCP, k)) throw new EndpointError(`unknown TCP flag '${x}'`);
    n |= TCP[k];
  }
  return n;
}

const ruleView = (r: RuleInput) => ({
  securityGroupRuleId: r.id,
  groupId: r.groupId,
  direction: r.egress ? 'egress' : 'ingress',
  protocol: r.protocol,
  ...(r.from !== undefined ? { fromPort: r.from, toPort: r.to } : {}),
  ...(r.cidr4 ? { cidr: r.cidr4 } : {}),
  ...(r.cidr6 ? { ipv6Cidr: r.cidr6 } : {}),
  ...(r.prefixListId ? { prefixListId: r.prefixListId } : {}),
  ...(r.refGroupId ? { referencedGroupId: r.refGroupId } : {}),
});

function gateView(g: GateResult | undefined) {
  if (!g) return undefined;
  return {
    interfaceId: g.interfaceId,
    allowed: g.allowed,
    by: g.by,
    tracked: g.tracked,
    ...(g.rules.length ? { rules: g.rules.map(ruleView) } : {}),
    ...(g.nearest.length ? { nearestRules: g.nearest.map(ruleView) } : {}),
  };
}

/** A verdict with its explanation in words. */
/** The hops of a route, as JSON. */
function hopsView(route: PathDecision | undefined) {
  return route?.hops.map((h) =>
    h.kind === 'route'
      ? {
          subnetId: h.subnetId,
          routeTableId: h.route.tableId,
          destination: h.route.destination,
          target: targetText(h.route.target),
          state: h.route.blackhole ? 'blackhole' : 'active',
        }
      : { subnetId: h.subnetId, noRoute: h.why },
  );
}

const ruleText = (n: number) => (n >= 32767 ? '*' : String(n));

function explainVerdict(v: Verdict | { verdict: 'REJECT'; decidedBy: 'route'; reason: string; route?: PathDecision }) {
  const out: Record<string, unknown> = { verdict: v.verdict, decidedBy: v.decidedBy };
  if ('reason' in v && v.reason) out.reason = v.reason;
  if ('egress' in v && v.egress) out.egress = gateView(v.egress);
  if ('ingress' in v && v.ingress) out.ingress = gateView(v.ingress);
  if (v.route?.hops.length) out.route = hopsView(v.route);
  if (v.decidedBy === 'route') {
    out.explanation = `rejected by the route: ${'reason' in v ? v.reason : 'no route'}`;
    return out;
  }
  const vv = v as Verdict;
  if (vv.decidedBy === 'acl' && vv.acl) {
    const a = vv.acl;
    out.acl = { networkAclId: a.aclId, subnetId: a.subnetId, direction: a.direction, ruleNumber: a.ruleNumber, reply: a.reply };
    out.explanation =
      `rejected by the network ACL ${a.aclId} of ${a.subnetId} (${a.direction}${a.reply ? ', the reply' : ''}): ` +
      `rule ${ruleText(a.ruleNumber)} denies it` +
      (a.reply ? '; network ACLs are stateless: allow the reply (e.g. the ephemeral ports 1024-65535) in that direction' : '');
    return out;
  }
  if (vv.verdict === 'ACCEPT') {
    const parts = [vv.egress, vv.ingress]
      .filter(Boolean)
      .map((g) =>
        g!.by === 'tracked-connection'
          ? `${g!.gate} of ${g!.interfaceId}: a tracked connection`
          : `${g!.gate} of ${g!.interfaceId}: ${g!.rules.map((r) => `${r.id} (${r.groupId})`).join(', ')}${g!.tracked ? '' : ' [untracked]'}`,
      );
    out.explanation = `allowed — ${parts.join('; ')}`;
  } else {
    const g = vv.decidedBy === 'egress' ? vv.egress! : vv.ingress!;
    out.explanation =
      g.by === 'no-interface'
        ? `rejected: ${g.interfaceId} is not known to the data plane`
        : `rejected by the ${g.gate} gate of ${g.interfaceId}: no rule of its security groups matches` +
          (g.nearest.length
            ? `; closest: ${g.nearest.map((r) => `${r.id} (${r.groupId}) ${r.protocol} ${r.from ?? ''}${r.to !== undefined && r.to !== r.from ? '-' + r.to : ''} ${r.cidr4 ?? r.cidr6 ?? r.prefixListId ?? r.refGroupId}`).join(', ')}`
            : '');
  }
  return out;
}

interface Connection {
  id: string;
  src: Resolved;
  dst: Resolved;
  proto: number;
  srcPort: number;
  dstPort: number;
  icmpType?: number;
  icmpCode?: number;
  opened: number;
  lastUsed: number;
  packets: number;
}

/** Most connections open at once through the admin API: past it the oldest are forgotten first. */
const MAX_CONNECTIONS = 50_000;

/**
 * How long an idle connection handle lives on the server clock: longer than any connection
 * tracking timeout AWS allows (TCP established, at most 432,000 s), so a handle outlives its
 * tracking entry and a late packet is judged by the rules again, as on AWS.
 */
const CONNECTION_IDLE_MS = 7 * 86_400_000;

export class NetworkApi {
  /** Open connections: forgotten when idle for CONNECTION_IDLE_MS, or oldest first past MAX_CONNECTIONS. */
  private readonly connections = new BoundedTable<string, Connection>(MAX_CONNECTIONS, (c) => c.lastUsed + CONNECTION_IDLE_MS);
  readonly observers: TrafficObserver[] = [];

  constructor(
    private readonly store: Store,
    private readonly network: LiveNetwork,
    private readonly clock: Clock,
    private readonly config: ServerConfig,
  ) {}

  /** `account/region` of a call: the body's, else the query string's, else the server's defaults. */
  scopeOf(body: { account?: string; region?: string }, query: URLSearchParams): string {
    const account = body.account ?? query.get('account') ?? this.config.defaultAccount;
    const region = body.region ?? query.get('region') ?? this.config.region;
    return `${account}/${region}`;
  }

  private packet(spec: FlowSpec, proto: number, forward: boolean, conn?: Connection): Packet {
    const icmp = proto === 1 || proto === 58;
    // Only TCP and UDP have ports (security-group rules of other protocols cover "all ports", and
    // flow logs write 0 for them): any port given with another protocol is ignored.
    const ported = proto === 6 || proto === 17;
    const srcPort = conn ? (forward ? conn.srcPort : conn.dstPort) : ported ? (spec.srcPort ?? 49152) : 0;
    const dstPort = conn ? (forward ? conn.dstPort : conn.srcPort) : ported ? (spec.port ?? 0) : 0;
    if (ported && !conn && (spec.port === undefined || !Number.isInteger(spec.port) || spec.port < 0 || spec.port > 65535)) {
      throw new EndpointError('port (0-65535) is required for tcp and udp');
    }
    if (ported && !conn && spec.srcPort !== undefined && (!Number.isInteger(spec.srcPort) || spec.srcPort < 0 || spec.srcPort > 65535)) {
      throw new EndpointError('srcPort must be 0-65535');
    }
    const icmpType = conn
      ? forward
        ? conn.icmpType
        : conn.icmpType === 8
          ? 0
          : conn.icmpType === 128
            ? 129
            : conn.icmpType
      : (spec.icmpType ?? (proto === 58 ? 128 : 8));
    return {
      proto,
      srcPort,
      dstPort,
      icmpType: icmp ? icmpType : undefined,
      icmpCode: icmp ? (conn?.icmpCode ?? spec.icmpCode ?? 0) : undefined,
      flags: flagsOf(spec.flags),
      bytes: spec.bytes ?? 0,
    };
  }

  /** Judges one flow spec: resolve endpoints, find the path, ask the data plane. */
  evaluate(spec: FlowSpec, scope: string, commit: boolean, conn?: { c: Connection; forward: boolean }, explain = true, replies = !conn) {
    const proto = conn ? conn.c.proto : protocolOf(spec.protocol);
    // The family of the flow: IPv6 when either end is named by an IPv6 address.
    const literal = (e: string | undefined) =>
      !!e && !e.startsWith('i-') && !e.startsWith('eni-') && e.replace('internet:', '').includes(':');
    const family = literal(spec.to) || literal(spec.from) ? 6 : 4;
    // The connection's way, from who opened it to whom; a reply goes the same way back.
    const from = conn ? conn.c.src : resolveEndpoint(this.store, spec.from, scope, family);
    const named = conn ? conn.c.dst : resolveEndpoint(this.store, spec.to, scope, family);
    const to = conn || from.kind !== 'external' ? named : fromTheInternet(named, spec.to);
    const forward = conn?.forward ?? true;
    const [s, d] = forward ? [from, to] : [to, from];
    const plane = this.network.plane();
    const p = flowPath(plane, flowEnd(from), flowEnd(to));
    if ('noRoute' in p)
      return {
        verdict: { verdict: 'REJECT' as const, decidedBy: 'route' as const, reason: p.noRoute, route: p.route },
        src: s,
        dst: d,
        proto,
      };
    const pkt = this.packet(spec, proto, forward, conn?.c);
    const [ps, pd] = forward ? [p.src, p.dst] : [p.dst, p.src];
    // A question about a new connection (no connection yet) also asks whether its replies come back.
    const v = plane.judge(ps, pd, pkt, this.clock.now(), { explain, commit, route: p.route, reversed: !forward, replies });
    if (commit && v.observations.length) for (const o of this.observers) o(v.observations);
    return { verdict: v, src: s, dst: d, proto, pkt };
  }

  /**
   * `evaluate(spec, scope, false, undefined, false)`'s verdict by the verdict path (judgeFlowFast),
   * or undefined where the packet is not valid (evaluate answers: a route reject, else the error).
   */
  private quickVerdict(spec: FlowSpec, scope: string) {
    const proto = protocolOf(spec.protocol);
    const literal = (e: string | undefined) =>
      !!e && !e.startsWith('i-') && !e.startsWith('eni-') && e.replace('internet:', '').includes(':');
    const family = literal(spec.to) || literal(spec.from) ? 6 : 4;
    const from = resolveEndpoint(this.store, spec.from, scope, family);
    const named = resolveEndpoint(this.store, spec.to, scope, family);
    const to = from.kind !== 'external' ? named : fromTheInternet(named, spec.to);
    let pkt: Packet;
    try {
      pkt = this.packet(spec, proto, true);
    } catch {
      return undefined;
    }
    return judgeFlowFast(this.network.plane(), flowEnd(from), flowEnd(to), pkt, this.clock.now());
  }

  /** Verdicts for a batch of flows (with `record`, they count as traffic for flow logs). */
  evaluateBatch(flows: FlowSpec[], scope: string, record: boolean, explain: boolean) {
    const results = flows.map((f) => {
      try {
        if (!explain && !record) {
          // a "what if" without explanations: the verdict path (the same verdict, nothing built)
          const code = this.quickVerdict(f, scope);
          if (code !== undefined) return { verdict: code === FLOW_ACCEPT ? 'ACCEPT' : 'REJECT', decidedBy: FLOW_DECIDED_BY[code] };
        }
        const v = this.evaluate(f, scope, record, undefined, explain).verdict;
        return explain ? explainVerdict(v) : { verdict: v.verdict, decidedBy: v.decidedBy };
      } catch (e) {
        if (e instanceof EndpointError) return { error: e.message };
        throw e;
      }
    });
    return { results };
  }

  /** Who can reach `to` (or whether `from` can), from the live estate. */
  reach(q: { to: string; from?: string; port?: number; protocol?: string | number }) {
    const view = this.network.view();
    try {
      if (q.from !== undefined) return canReach(view, q.from, q.to, q.protocol ?? 'tcp', q.port);
      return whoCanReach(view, q.to, q.protocol ?? 'tcp', q.port);
    } catch (e) {
      throw new EndpointError((e as Error).message);
    }
  }

  /**
   * Every pair's open ports at once (the console's network view): the interfaces of the scope's
   * running instances (and unattached interfaces), the internet at TEST-NET-2 / the IPv6
   * documentation range as the audit's stand-ins.
   */
  matrix(q: { protocol?: string | number; port?: number }, scope: string) {
    const t0 = performance.now();
    let proto: number;
    try {
      proto = matrixProtocol(q.protocol);
    } catch {
      throw new EndpointError(`unknown protocol '${q.protocol}': use tcp, udp, icmp, icmpv6, -1 or a number 0-255`);
    }
    if (q.port !== undefined && proto !== 6 && proto !== 17) throw new EndpointError('port applies to tcp and udp only');
    const plane = this.network.plane();
    const running = new Set<string>();
    for (const i of this.store.table(KIND.instance, scope).values() as Iterable<InstanceDoc>) if (i.state === 'running') running.add(i.id);
    const ifaces: MatrixInterface[] = [];
    for (const e of this.store.table(KIND.eni, scope).values() as Iterable<EniDoc>) {
      if (e.attachment ? !running.has(e.attachment.instanceId) : e.interfaceType !== 'interface') continue;
      ifaces.push({ id: e.id, subnetId: e.subnetId, vpcId: e.vpcId, ...(e.attachment ? { instanceId: e.attachment.instanceId } : {}) });
    }
    const peered = new Set<string>();
    for (const s of this.store.scopes(KIND.peering)) {
      for (const p of this.store.table(KIND.peering, s).values() as Iterable<PeeringDoc>) {
        if (p.status !== 'active') continue;
        peered.add(`${p.requester.vpcId}|${p.accepter.vpcId}`);
        peered.add(`${p.accepter.vpcId}|${p.requester.vpcId}`);
      }
    }
    const m = reachabilityMatrix(plane, ifaces, {
      proto,
      ...(q.port !== undefined ? { port: q.port } : {}),
      peered,
      internet4: '198.51.100.10',
      internet6: '2001:db8::10',
      maxEdges: MATRIX_MAX_EDGES,
      now: this.clock.now(),
    });
    return { ...m, durationMs: Math.round((performance.now() - t0) * 10) / 10 };
  }

  /** Opens a connection: its first packet (SYN for TCP) is judged and recorded. */
  open(spec: FlowSpec, scope: string) {
    const proto = protocolOf(spec.protocol);
    // Real traffic: the verdict is the first packet's (its replies are packets of their own).
    const r = this.evaluate({ ...spec, flags: spec.flags ?? (proto === 6 ? ['SYN'] : undefined) }, scope, true, undefined, true, false);
    const now = this.clock.now();
    const c: Connection = {
      id: `conn-${crypto().randomUUID()}`,
      src: r.src,
      dst: r.dst,
      proto,
      srcPort: r.pkt?.srcPort ?? 0,
      dstPort: r.pkt?.dstPort ?? 0,
      icmpType: r.pkt?.icmpType,
      icmpCode: r.pkt?.icmpCode,
      opened: now,
      lastUsed: now,
      packets: 1,
    };
    this.connections.set(c.id, c, now);
    return {
      connectionId: c.id,
      from: r.src.label,
      to: r.dst.label,
      protocol: proto,
      srcPort: c.srcPort,
      dstPort: c.dstPort,
      ...explainVerdict(r.verdict),
    };
  }

  private connection(id: string): Connection {
    const c = this.connections.get(id, this.clock.now());
    if (!c) throw new EndpointError(`no connection ${id}`, 404);
    return c;
  }

  /** One more packet of an open connection, either way. */
  send(id: string, body: { direction?: 'forward' | 'reply'; flags?: string[] | number; bytes?: number }, scope: string) {
    const c = this.connection(id);
    const direction = body.direction ?? 'forward';
    const r = this.evaluate({ flags: body.flags, bytes: body.bytes, from: '', to: '' }, scope, true, {
      c,
      forward: direction === 'forward',
    });
    c.packets++;
    c.lastUsed = this.clock.now();
    return { connectionId: c.id, direction, ...explainVerdict(r.verdict) };
  }

  /** Closes a connection (FIN both ways for TCP) and forgets it. */
  close(id: string, scope: string) {
    const c = this.connection(id);
    const fin = c.proto === 6 ? { flags: TCP.FIN | TCP.ACK } : {};
    const a = this.evaluate({ from: '', to: '', ...fin }, scope, true, { c, forward: true });
    const b = this.evaluate({ from: '', to: '', ...fin }, scope, true, { c, forward: false });
    this.connections.delete(c.id);
    return { connectionId: c.id, closed: true, forward: explainVerdict(a.verdict), reply: explainVerdict(b.verdict) };
  }

  describe(id: string) {
    const c = this.connection(id);
    return {
      connectionId: c.id,
      from: c.src.label,
      to: c.dst.label,
      protocol: c.proto,
      srcPort: c.srcPort,
      dstPort: c.dstPort,
      packets: c.packets,
      opened: new Date(c.opened).toISOString(),
    };
  }

  /** Forgets every open connection (reset). */
  clear(): void {
    this.connections.clear();
  }
}
