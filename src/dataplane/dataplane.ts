// Judging traffic: a packet passes only if the sender's egress gate AND the receiver's ingress
// gate each let it through — by a tracked connection, or by a rule. Pure: time comes in, the
// caller resolves who the endpoints are.
import type { Address } from './addresses.ts';
import { ConnTrack, DEFAULT_TIMEOUTS, flowKey, type Timeouts } from './conntrack.ts';
import { Policy, portPoint, type Direction, type GateQuery, type RuleInput } from './sg-policy.ts';
import { NetworkPaths, type AclDecision, type NatInput, type PacketFacts, type PathDecision } from './routing.ts';

export type Endpoint =
  | {
      kind: 'interface';
      interfaceId: string;
      address: Address;
      text: string;
      /** the address the far side sees, if not `address` (public IP) */ seenAs?: { address: Address; text: string };
    }
  | { kind: 'external'; address: Address; text: string };

export interface Packet {
  proto: number;
  srcPort: number;
  dstPort: number;
  icmpType?: number;
  icmpCode?: number;
  flags?: number;
  bytes?: number;
}

type GateBy = 'rule' | 'tracked-connection' | 'no-matching-rule' | 'no-interface';

export interface GateResult {
  gate: Direction;
  interfaceId: string;
  allowed: boolean;
  by: GateBy;
  /** whether this interface tracks the flow (worked out when the verdict commits or explains; else `allowed`) */
  tracked: boolean;
  rules: RuleInput[];
  /** for a reject: rules of the same protocol / port, the closest ones */
  nearest: RuleInput[];
}

export interface Observation {
  interfaceId: string;
  direction: Direction;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  proto: number;
  bytes: number;
  flags: number;
  action: 'ACCEPT' | 'REJECT';
  time: number;
  /** the packet's own addresses where they differ from src/dst (a NAT gateway's interface: pkt-srcaddr, pkt-dstaddr) */
  pktSrc?: string;
  pktDst?: string;
}

/** A network ACL that stopped a packet: which subnet's, which way, which rule. */
export interface AclStop extends AclDecision {
  subnetId: string;
  direction: 'outbound' | 'inbound';
  /** it was the reply that this ACL would stop (ACLs are stateless: replies need rules too) */
  reply: boolean;
}

export interface Verdict {
  verdict: 'ACCEPT' | 'REJECT';
  decidedBy: 'egress' | 'ingress' | 'both' | 'route' | 'acl';
  egress?: GateResult;
  ingress?: GateResult;
  acl?: AclStop;
  /** the route the packet took (when routing knows the endpoints) */
  route?: PathDecision;
  reason?: string;
  observations: Observation[];
}

export interface JudgeOptions {
  /** false: add no explanations (faster batches) */
  explain?: boolean;
  /** false: a "what if" that changes no connection state and records nothing */
  commit?: boolean;
  /** the path the packet takes (its subnets' ACLs are crossed on the way) */
  route?: PathDecision;
  /** the packet goes the route's way back (a reply): the ACLs are crossed the other way */
  reversed?: boolean;
  /** also check that replies could come back through the ACLs (a connection question: probe, evaluate) */
  replies?: boolean;
}

/** The ICMP type of the reply to an echo request (others reply with their own type). */
const replyType = (proto: number, t: number | undefined) => (proto === 1 && t === 8 ? 0 : proto === 58 && t === 128 ? 129 : t);

export class DataPlane {
  constructor(
    readonly policy: Policy = new Policy(),
    /** Routes, network ACLs and gateways around the groups (empty: every path as the groups alone decide). */
    readonly paths: NetworkPaths = new NetworkPaths(),
  ) {}
  private readonly tracks = new Map<string, ConnTrack>();
  private readonly timeouts = new Map<string, Timeouts>();

  setTimeouts(interfaceId: string, t: Partial<Timeouts> | undefined): void {
    const full = { ...DEFAULT_TIMEOUTS };
    for (const k of ['tcpEstablished', 'udpStream', 'udp'] as const) if (t?.[k] !== undefined) full[k] = t[k]!;
    this.timeouts.set(interfaceId, full);
    this.tracks.get(interfaceId)?.setTimeouts(full);
  }

  forget(interfaceId: string): void {
    this.tracks.delete(interfaceId);
    this.timeouts.delete(interfaceId);
  }

  reset(): void {
    this.tracks.clear();
    this.timeouts.clear();
    this.policy.clear();
    this.paths.clear();
  }

  conntrack(interfaceId: string): ConnTrack {
    let t = this.tracks.get(interfaceId);
    if (!t) this.tracks.set(interfaceId, (t = new ConnTrack(this.timeouts.get(interfaceId) ?? DEFAULT_TIMEOUTS)));
    return t;
  }

  /** Is this packet a new connection's through the gate? (No state is changed.) */
  check(interfaceId: string, q: GateQuery): boolean {
    return this.policy.allows(interfaceId, q);
  }

  private gate(
    gate: Direction,
    iface: Extract<Endpoint, { kind: 'interface' }>,
    remote: Endpoint,
    pkt: Packet,
    now: number,
    explain: boolean,
    commit: boolean,
  ): GateResult {
    const id = iface.interfaceId;
    const handle = this.policy.handleOf(id);
    if (handle < 0) return { gate, interfaceId: id, allowed: false, by: 'no-interface', tracked: false, rules: [], nearest: [] };
    // A "what if" creates no table; an interface that tracks nothing has no entry to look up.
    const ct = commit ? this.conntrack(id) : this.tracks.get(id);
    let key = '';
    if (ct && (commit || ct.size > 0)) {
      const icmp = pkt.proto === 1 || pkt.proto === 58;
      const localPort = gate === 'egress' ? pkt.srcPort : pkt.dstPort;
      const remotePort = gate === 'egress' ? pkt.dstPort : pkt.srcPort;
      key = flowKey(pkt.proto, iface.text, icmp ? 0 : localPort, remote.text, icmp ? 0 : remotePort);
      const entry = ct.get(key, now);
      if (entry) {
        if (commit) ct.touch(entry, now, gate === 'egress' ? !entry.inbound : entry.inbound, pkt.flags ?? 0);
        return { gate, interfaceId: id, allowed: true, by: 'tracked-connection', tracked: true, rules: [], nearest: [] };
      }
    }
    const q: GateQuery = {
      direction: gate,
      proto: pkt.proto,
      port: pkt.dstPort,
      icmpType: pkt.icmpType,
      icmpCode: pkt.icmpCode,
      remote: remote.address,
    };
    const allowed = this.policy.allowsAt(
      handle,
      gate,
      pkt.proto,
      portPoint(pkt.proto, pkt.dstPort, pkt.icmpType, pkt.icmpCode),
      remote.address,
    );
    // Whether the interface tracks the flow matters to a committed packet and to an explanation;
    // a bare "what if" verdict (neither) skips the question, which costs more than the verdict.
    const tracked = allowed && (commit || explain ? !this.policy.allOpenFor(id, q) : true);
    if (allowed && tracked && commit) ct!.open(key, pkt.proto, gate === 'ingress', now, pkt.flags ?? 0);
    return {
      gate,
      interfaceId: id,
      allowed,
      by: allowed ? 'rule' : 'no-matching-rule',
      tracked,
      rules: allowed && explain ? this.policy.matchingRules(id, q) : [],
      nearest: !allowed && explain ? this.policy.nearRules(id, q) : [],
    };
  }

  /**
   * What a NAT gateway's interface records of a packet it translates (the Flow Logs guide's
   * "Traffic through a NAT gateway"): in from the instance and out from the gateway's own
   * address on the way out; in to the gateway's address and out to the instance on the way back,
   * with the packet's original addresses in pkt-srcaddr / pkt-dstaddr.
   */
  private observeNat(
    nat: NatInput,
    src: Endpoint,
    dst: Endpoint,
    seenDst: Endpoint,
    pkt: Packet,
    now: number,
    reversed: boolean,
    out: Observation[],
  ): void {
    const eni = nat.interfaceId!;
    const own = nat.privateIp!;
    const base = {
      interfaceId: eni,
      srcPort: pkt.srcPort,
      dstPort: pkt.dstPort,
      proto: pkt.proto,
      bytes: pkt.bytes ?? 0,
      flags: pkt.flags ?? 0,
      action: 'ACCEPT' as const,
      time: now,
    };
    if (!reversed) {
      out.push({ ...base, direction: 'ingress', src: src.text, dst: own, pktDst: seenDst.text });
      out.push({ ...base, direction: 'egress', src: own, dst: seenDst.text });
    } else {
      out.push({ ...base, direction: 'ingress', src: src.text, dst: own });
      out.push({ ...base, direction: 'egress', src: own, dst: dst.text, pktSrc: src.text });
    }
  }

  /**
   * Judges one packet from `src` to `dst`. `commit` false evaluates without touching connection
   * state (batch "what if" queries); `explain` adds the deciding rules.
   */
  judge(src: Endpoint, dst: Endpoint, pkt: Packet, now: number, opts: JudgeOptions = {}): Verdict {
    const explain = opts.explain ?? true;
    const commit = opts.commit ?? true;
    const route = opts.route;
    const observations: Observation[] = [];
    const bytes = pkt.bytes ?? 0;
    // What each side sees of the other: the public address when the path crosses the internet gateway.
    const seenSrc = src.kind === 'interface' && src.seenAs ? { ...src, address: src.seenAs.address, text: src.seenAs.text } : src;
    const seenDst = dst.kind === 'interface' && dst.seenAs ? { ...dst, address: dst.seenAs.address, text: dst.seenAs.text } : dst;
    const observe = (e: Extract<Endpoint, { kind: 'interface' }>, direction: Direction, action: 'ACCEPT' | 'REJECT') => {
      if (!commit) return;
      const [a, b] = direction === 'egress' ? [e.text, seenDst.text] : [seenSrc.text, e.text];
      observations.push({
        interfaceId: e.interfaceId,
        direction,
        src: a,
        dst: b,
        srcPort: pkt.srcPort,
        dstPort: pkt.dstPort,
        proto: pkt.proto,
        bytes,
        flags: pkt.flags ?? 0,
        action,
        time: now,
      });
    };
    // The subnets' ACLs on the way: out of the sender's subnet, through a NAT gateway's, into the receiver's.
    const outSubnet = route && (opts.reversed ? route.aclIn : route.aclOut);
    const inSubnet = route && (opts.reversed ? route.aclOut : route.aclIn);
    const facts: PacketFacts = { proto: pkt.proto, port: pkt.dstPort, icmpType: pkt.icmpType, icmpCode: pkt.icmpCode };
    const aclStop = (
      subnetId: string | undefined,
      outbound: boolean,
      remote: Address,
      f: PacketFacts,
      reply: boolean,
    ): AclStop | undefined => {
      if (!subnetId) return undefined;
      const d = this.paths.acl(subnetId, outbound, remote, f);
      return d && !d.allowed ? { ...d, subnetId, direction: outbound ? 'outbound' : 'inbound', reply } : undefined;
    };
    const stopped = (acl: AclStop, egress?: GateResult, ingress?: GateResult): Verdict => ({
      verdict: 'REJECT',
      decidedBy: 'acl',
      acl,
      egress,
      ingress,
      route,
      observations,
    });

    const out = aclStop(outSubnet, true, seenDst.address, facts, false) ?? aclStop(route?.natSubnet, false, src.address, facts, false);
    if (out) {
      if (src.kind === 'interface') observe(src, 'egress', 'REJECT');
      return stopped(out);
    }
    let egress: GateResult | undefined;
    if (src.kind === 'interface') {
      egress = this.gate('egress', src, seenDst, pkt, now, explain, commit);
      observe(src, 'egress', egress.allowed ? 'ACCEPT' : 'REJECT');
      if (!egress.allowed) return { verdict: 'REJECT', decidedBy: 'egress', egress, route, observations };
    }
    const into = aclStop(route?.natSubnet, true, seenDst.address, facts, false) ?? aclStop(inSubnet, false, seenSrc.address, facts, false);
    if (into) {
      if (dst.kind === 'interface') observe(dst, 'ingress', 'REJECT');
      return stopped(into, egress);
    }
    if (commit && route?.nat?.interfaceId && route.nat.privateIp)
      this.observeNat(route.nat, src, dst, seenDst, pkt, now, !!opts.reversed, observations);
    let ingress: GateResult | undefined;
    if (dst.kind === 'interface') {
      ingress = this.gate('ingress', dst, seenSrc, pkt, now, explain, commit);
      observe(dst, 'ingress', ingress.allowed ? 'ACCEPT' : 'REJECT');
      if (!ingress.allowed) return { verdict: 'REJECT', decidedBy: 'ingress', egress, ingress, route, observations };
    }
    if (opts.replies && route) {
      // ACLs are stateless: the reply crosses them again, to the sender's port.
      const back: PacketFacts = {
        proto: pkt.proto,
        port: pkt.srcPort,
        icmpType: replyType(pkt.proto, pkt.icmpType),
        icmpCode: pkt.icmpCode,
      };
      const stop =
        aclStop(inSubnet, true, seenSrc.address, back, true) ??
        aclStop(route.natSubnet, false, seenDst.address, back, true) ??
        aclStop(route.natSubnet, true, src.address, back, true) ??
        aclStop(outSubnet, false, seenDst.address, back, true);
      if (stop) {
        // The request got through (its ACCEPT records stand); the reply is dropped where the ACL
        // stands: REJECT at the interface that sends it, or at the one it was coming back to (the
        // "ping allowed by the group, reply blocked by the ACL" example of the Flow Logs guide).
        if (commit && stop.subnetId !== route.natSubnet) {
          const leaving = stop.direction === 'outbound';
          const at = leaving ? dst : src;
          if (at.kind === 'interface')
            observations.push({
              interfaceId: at.interfaceId,
              direction: leaving ? 'egress' : 'ingress',
              // each interface sees the other end as it did the request (a public address stays public)
              src: leaving ? dst.text : seenDst.text,
              dst: leaving ? seenSrc.text : src.text,
              srcPort: pkt.dstPort,
              dstPort: pkt.srcPort,
              proto: pkt.proto,
              bytes,
              flags: 0,
              action: 'REJECT',
              time: now,
            });
        }
        return stopped(stop, egress, ingress);
      }
    }
    return { verdict: 'ACCEPT', decidedBy: 'both', egress, ingress, route, observations };
  }
}
