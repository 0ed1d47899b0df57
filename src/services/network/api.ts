// The JSON API for sending traffic through the data plane, under /_palisade/network/:
//   POST /_palisade/network/evaluate            {flows:[{from,to,protocol,port,…}], explain?, record?} → verdicts (no state changes)
//   POST /_palisade/network/connections         {from,to,protocol,port,srcPort?} → opens a connection (first packet)
//   POST /_palisade/network/connections/ID/send {direction:"forward"|"reply", flags?, bytes?} → verdict of one packet
//   DELETE /_palisade/network/connections/ID    closes it (FIN both ways)
//   POST /_palisade/network/reach               {to, port?, protocol?, from?} → who can reach it / can from reach it
//   GET  /_palisade/network/connections/ID
// and the server clock: GET /_palisade/clock, POST /_palisade/clock {advanceSeconds} | {epochMillis}.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crypto } from '../../lazy.ts';
import type { Store } from '../../store/store.ts';
import type { Clock } from '../../clock.ts';
import { VirtualClock } from '../../clock.ts';
import type { ServerConfig } from '../../gateway/context.ts';
import type { Extension } from '../../gateway/server.ts';
import type { DataPlane, GateResult, Observation, Packet, Verdict } from '../../network/dataplane.ts';
import { PROTO } from '../../network/policy.ts';
import { TCP } from '../../network/conntrack.ts';
import type { RuleInput } from '../../network/policy.ts';
import { EndpointError, path, resolveEndpoint, type Resolved } from './endpoints.ts';
import { liveView, settle } from './live-view.ts';
import { canReach, whoCanReach } from '../../analysis/reach.ts';

/** Subscribers to the traffic the data plane judged (flow logs). */
export type TrafficObserver = (observations: Observation[]) => void;

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

export function protocolOf(p: string | number | undefined): number {
  if (p === undefined) return 6;
  if (typeof p === 'number') return p;
  const lower = p.toLowerCase();
  if (lower in PROTO) return PROTO[lower]!;
  if (/^\d+$/.test(lower) && Number(lower) <= 255) return Number(lower);
  throw new EndpointError(`unknown protocol '${p}': use tcp, udp, icmp, icmpv6 or a number 0-255`);
}

function flagsOf(f: string[] | number | undefined): number {
  if (f === undefined) return 0;
  if (typeof f === 'number') return f;
  let n = 0;
  for (const x of f) {
    const k = x.toUpperCase() as keyof typeof TCP;
    if (!(k in TCP)) throw new EndpointError(`unknown TCP flag '${x}'`);
    n |= TCP[k];
  }
  return n;
}

const ruleView = (r: RuleInput) => ({
  securityGroupRuleId: r.id, groupId: r.groupId, direction: r.egress ? 'egress' : 'ingress', protocol: r.protocol,
  ...(r.from !== undefined ? { fromPort: r.from, toPort: r.to } : {}),
  ...(r.cidr4 ? { cidr: r.cidr4 } : {}), ...(r.cidr6 ? { ipv6Cidr: r.cidr6 } : {}),
  ...(r.prefixListId ? { prefixListId: r.prefixListId } : {}), ...(r.refGroupId ? { referencedGroupId: r.refGroupId } : {}),
});

function gateView(g: GateResult | undefined) {
  if (!g) return undefined;
  return {
    interfaceId: g.interfaceId, allowed: g.allowed, by: g.by, tracked: g.tracked,
    ...(g.rules.length ? { rules: g.rules.map(ruleView) } : {}),
    ...(g.nearest.length ? { nearestRules: g.nearest.map(ruleView) } : {}),
  };
}

/** A verdict with its explanation in words. */
export function explainVerdict(v: Verdict | { verdict: 'REJECT'; decidedBy: 'route'; reason: string }) {
  const out: Record<string, unknown> = { verdict: v.verdict, decidedBy: v.decidedBy };
  if ('reason' in v && v.reason) out.reason = v.reason;
  if ('egress' in v && v.egress) out.egress = gateView(v.egress);
  if ('ingress' in v && v.ingress) out.ingress = gateView(v.ingress);
  if (v.decidedBy === 'route') return out;
  const vv = v as Verdict;
  if (vv.verdict === 'ACCEPT') {
    const parts = [vv.egress, vv.ingress].filter(Boolean).map((g) => g!.by === 'tracked-connection'
      ? `${g!.gate} of ${g!.interfaceId}: a tracked connection`
      : `${g!.gate} of ${g!.interfaceId}: ${g!.rules.map((r) => `${r.id} (${r.groupId})`).join(', ')}${g!.tracked ? '' : ' [untracked]'}`);
    out.explanation = `allowed — ${parts.join('; ')}`;
  } else {
    const g = vv.decidedBy === 'egress' ? vv.egress! : vv.ingress!;
    out.explanation = g.by === 'no-interface'
      ? `rejected: ${g.interfaceId} is not known to the data plane`
      : `rejected by the ${g.gate} gate of ${g.interfaceId}: no rule of its security groups matches` +
        (g.nearest.length ? `; closest: ${g.nearest.map((r) => `${r.id} (${r.groupId}) ${r.protocol} ${r.from ?? ''}${r.to !== undefined && r.to !== r.from ? '-' + r.to : ''} ${r.cidr4 ?? r.cidr6 ?? r.prefixListId ?? r.refGroupId}`).join(', ')}` : '');
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
  packets: number;
}

async function readJson(req: IncomingMessage, body: Buffer): Promise<Record<string, unknown>> {
  void req;
  if (body.length === 0) return {};
  try {
    const v = JSON.parse(body.toString('utf8'));
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error();
    return v as Record<string, unknown>;
  } catch {
    throw new EndpointError('the request body must be a JSON object');
  }
}

function send(res: ServerResponse, status: number, body: unknown): true {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  return true;
}

export class NetworkApi implements Extension {
  private readonly connections = new Map<string, Connection>();
  readonly observers: TrafficObserver[] = [];

  constructor(private readonly store: Store, private readonly plane: DataPlane, private readonly clock: Clock, private readonly config: ServerConfig) {}

  private scopeOf(body: Record<string, unknown>, url: URL): string {
    const account = String(body.account ?? url.searchParams.get('account') ?? this.config.defaultAccount);
    const region = String(body.region ?? url.searchParams.get('region') ?? this.config.region);
    return `${account}/${region}`;
  }

  private packet(spec: FlowSpec, proto: number, forward: boolean, conn?: Connection): Packet {
    const icmp = proto === 1 || proto === 58;
    // Only TCP and UDP have ports (security-group rules of other protocols cover "all ports", and
    // flow logs write 0 for them): any port given with another protocol is ignored.
    const ported = proto === 6 || proto === 17;
    const srcPort = conn ? (forward ? conn.srcPort : conn.dstPort) : ported ? spec.srcPort ?? 49152 : 0;
    const dstPort = conn ? (forward ? conn.dstPort : conn.srcPort) : ported ? spec.port ?? 0 : 0;
    if (ported && !conn && (spec.port === undefined || !Number.isInteger(spec.port) || spec.port < 0 || spec.port > 65535)) {
      throw new EndpointError('port (0-65535) is required for tcp and udp');
    }
    if (ported && !conn && spec.srcPort !== undefined && (!Number.isInteger(spec.srcPort) || spec.srcPort < 0 || spec.srcPort > 65535)) {
      throw new EndpointError('srcPort must be 0-65535');
    }
    const icmpType = conn ? (forward ? conn.icmpType : conn.icmpType === 8 ? 0 : conn.icmpType === 128 ? 129 : conn.icmpType) : spec.icmpType ?? (proto === 58 ? 128 : 8);
    return { proto, srcPort, dstPort, icmpType: icmp ? icmpType : undefined, icmpCode: icmp ? (conn?.icmpCode ?? spec.icmpCode ?? 0) : undefined, flags: flagsOf(spec.flags), bytes: spec.bytes ?? 0 };
  }

  /** Judges one flow spec: resolve endpoints, find the path, ask the data plane. */
  evaluate(spec: FlowSpec, scope: string, commit: boolean, conn?: { c: Connection; forward: boolean }, explain = true) {
    const proto = conn ? conn.c.proto : protocolOf(spec.protocol);
    const family = spec.to && !spec.to.startsWith('i-') && !spec.to.startsWith('eni-') && spec.to.replace('internet:', '').includes(':') ? 6 : 4;
    const s = conn ? (conn.forward ? conn.c.src : conn.c.dst) : resolveEndpoint(this.store, spec.from, scope, family);
    const d = conn ? (conn.forward ? conn.c.dst : conn.c.src) : resolveEndpoint(this.store, spec.to, scope, family);
    const p = path(s, d);
    if ('noRoute' in p) return { verdict: { verdict: 'REJECT' as const, decidedBy: 'route' as const, reason: p.noRoute }, src: s, dst: d, proto };
    const pkt = this.packet(spec, proto, conn?.forward ?? true, conn?.c);
    const v = settle(this.plane).judge(p.src, p.dst, pkt, this.clock.now(), { explain, commit });
    if (commit && v.observations.length) for (const o of this.observers) o(v.observations);
    return { verdict: v, src: s, dst: d, proto, pkt };
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    if (p === '/_palisade/clock') return this.clockApi(req, res, body);
    if (!p.startsWith('/_palisade/network/')) return false;
    try {
      const json = req.method === 'GET' || req.method === 'DELETE' ? {} : await readJson(req, body);
      const scope = this.scopeOf(json, url);
      if (p === '/_palisade/network/evaluate' && req.method === 'POST') {
        const flows = json.flows;
        if (!Array.isArray(flows)) throw new EndpointError('flows must be a list of {from, to, protocol, port}');
        const record = json.record === true;
        const brief = json.explain === false;
        const results = flows.map((f) => {
          try {
            const v = this.evaluate(f as FlowSpec, scope, record, undefined, !brief).verdict;
            return brief ? { verdict: v.verdict, decidedBy: v.decidedBy } : explainVerdict(v);
          } catch (e) {
            if (e instanceof EndpointError) return { error: e.message };
            throw e;
          }
        });
        return send(res, 200, { results });
      }
      if (p === '/_palisade/network/reach' && req.method === 'POST') {
        const view = liveView(this.store, this.plane);
        const to = String(json.to ?? '');
        const port = json.port === undefined ? undefined : Number(json.port);
        try {
          if (json.from !== undefined) return send(res, 200, canReach(view, String(json.from), to, (json.protocol as string | number | undefined) ?? 'tcp', port));
          return send(res, 200, whoCanReach(view, to, (json.protocol as string | number | undefined) ?? 'tcp', port));
        } catch (e) {
          throw new EndpointError((e as Error).message);
        }
      }
      if (p === '/_palisade/network/connections' && req.method === 'POST') {
        const spec = json as unknown as FlowSpec;
        const proto = protocolOf(spec.protocol);
        const r = this.evaluate({ ...spec, flags: spec.flags ?? (proto === 6 ? ['SYN'] : undefined) }, scope, true);
        const c: Connection = {
          id: `conn-${crypto().randomUUID()}`, src: r.src, dst: r.dst, proto, srcPort: r.pkt?.srcPort ?? 0, dstPort: r.pkt?.dstPort ?? 0,
          icmpType: r.pkt?.icmpType, icmpCode: r.pkt?.icmpCode, opened: this.clock.now(), packets: 1,
        };
        this.connections.set(c.id, c);
        return send(res, 201, { connectionId: c.id, from: r.src.label, to: r.dst.label, protocol: proto, srcPort: c.srcPort, dstPort: c.dstPort, ...explainVerdict(r.verdict) });
      }
      const m = /^\/_palisade\/network\/connections\/([\w-]+)(\/send)?$/.exec(p);
      if (m) {
        const c = this.connections.get(m[1]!);
        if (!c) return send(res, 404, { error: `no connection ${m[1]}` });
        if (m[2] && req.method === 'POST') {
          const direction = json.direction ?? 'forward';
          if (direction !== 'forward' && direction !== 'reply') throw new EndpointError('direction must be forward or reply');
          const spec = json as unknown as FlowSpec;
          const r = this.evaluate({ ...spec, from: '', to: '' }, scope, true, { c, forward: direction === 'forward' });
          c.packets++;
          return send(res, 200, { connectionId: c.id, direction, ...explainVerdict(r.verdict) });
        }
        if (!m[2] && req.method === 'DELETE') {
          const fin = c.proto === 6 ? { flags: TCP.FIN | TCP.ACK } : {};
          const a = this.evaluate({ from: '', to: '', ...fin }, scope, true, { c, forward: true });
          const b = this.evaluate({ from: '', to: '', ...fin }, scope, true, { c, forward: false });
          this.connections.delete(c.id);
          return send(res, 200, { connectionId: c.id, closed: true, forward: explainVerdict(a.verdict), reply: explainVerdict(b.verdict) });
        }
        if (!m[2] && req.method === 'GET') {
          return send(res, 200, { connectionId: c.id, from: c.src.label, to: c.dst.label, protocol: c.proto, srcPort: c.srcPort, dstPort: c.dstPort, packets: c.packets, opened: new Date(c.opened).toISOString() });
        }
      }
      return send(res, 404, { error: `unknown endpoint ${req.method} ${p}` });
    } catch (e) {
      if (e instanceof EndpointError) return send(res, e.status, { error: e.message });
      throw e;
    }
  }

  private async clockApi(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> {
    const virtual = this.clock instanceof VirtualClock ? this.clock : undefined;
    if (req.method === 'GET') return send(res, 200, { now: new Date(this.clock.now()).toISOString(), epochMillis: this.clock.now(), virtual: !!virtual });
    if (req.method !== 'POST') return send(res, 405, { error: 'GET or POST' });
    if (!virtual) return send(res, 409, { error: 'the clock is the system clock: start Palisade with --clock virtual to pin and advance it' });
    let json: Record<string, unknown>;
    try {
      json = await readJson(req, body);
    } catch (e) {
      return send(res, 400, { error: (e as Error).message });
    }
    if (typeof json.advanceSeconds === 'number' && json.advanceSeconds >= 0) virtual.advance(json.advanceSeconds);
    else if (typeof json.epochMillis === 'number') virtual.set(json.epochMillis);
    else return send(res, 400, { error: 'give {"advanceSeconds": N} (N ≥ 0) or {"epochMillis": T}' });
    return send(res, 200, { now: new Date(virtual.now()).toISOString(), epochMillis: virtual.now(), virtual: true });
  }
}
