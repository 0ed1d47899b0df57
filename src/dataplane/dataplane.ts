// Judging traffic: a packet passes only if the sender's egress gate AND the receiver's ingress
// gate each let it through — by a tracked connection, or by a rule. Pure: time comes in, the
// caller resolves who the endpoints are.
import type { Address } from './addresses.ts';
import { parseAddress } from './addresses.ts';
import { bigIntToAddress } from '../core/cidr.ts';
import { ConnTrack, DEFAULT_TIMEOUTS, flowKey, type Timeouts } from './conntrack.ts';
import { Policy, portPoint, type Direction, type GateQuery, type InterfaceInput, type RuleInput } from './sg-policy.ts';
import { NetworkPaths, type AclDecision, type NatInput, type PacketFacts, type PathDecision } from './routing.ts';

/** An end of a flow: an interface at one of its addresses (its public one: `viaPublic`), or a host outside. */
export type FlowEnd =
  | { kind: 'interface'; interfaceId: string; address: Address; text: string; viaPublic: boolean }
  | { kind: 'external'; address: Address; text: string };

/**
 * A new flow's verdict as the verdict path (`DataPlane.verdict`) answers it: ACCEPT, or the step
 * that rejected it — the same as `judgeFlow`'s `decidedBy` (FLOW_DECIDED_BY names them).
 */
export const FLOW_ACCEPT = 0;
export const FLOW_REJECT_ROUTE = 1;
export const FLOW_REJECT_ACL = 2;
export const FLOW_REJECT_EGRESS = 3;
export const FLOW_REJECT_INGRESS = 4;
export type FlowCode = 0 | 1 | 2 | 3 | 4;
export const FLOW_DECIDED_BY = ['both', 'route', 'acl', 'egress', 'ingress'] as const;

/** Addresses parsed once (the verdict path meets the same interface addresses again and again); frozen, bounded. */
const parsedAddresses = new Map<string, Address>();
export function parsedAddress(text: string): Address {
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
export function addressText(a: Address): string {
  let t = texts.get(a);
  if (t === undefined) texts.set(a, (t = bigIntToAddress(a.family, BigInt(a.v))));
  return t;
}

/** Not yet read from the policy (the verdict path's per-interface cache). */
const UNREAD = Object.freeze({}) as InterfaceInput;

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
  /**
   * The verdict path's view of the interfaces routing knows, per routing index
   * (NetworkPaths.routedIndex): the policy's record it was read from (re-read when the policy holds
   * another: every change to an interface stores a new record), its handle, its primary IPv4.
   */
  private endRec: (InterfaceInput | undefined)[] = [];
  /** per routing index: the policy handle, the primary IPv4's value (-1: none) */
  private endWords: Float64Array = new Float64Array(0);
  private endV4: (Address | undefined)[] = [];
  private endV4Text: string[] = [];

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

  // ---- the verdict path ------------------------------------------------------------------------

  /**
   * A new flow's verdict, the path included — what `judgeFlow(…, { commit: false, explain: false,
   * replies })` decides, step for step (the property tests hold them equal) — as a FlowCode, and
   * nothing allocated: the path by NetworkPaths.decideFast over interned tables, the ACLs by
   * NetworkPaths.aclAllows, both gates by `policy.allowsAt`, the reply through the ACLs. A "what
   * if": no state changes, nothing is recorded (an interface's tracked connections still let
   * their packets through, as in `judge`).
   */
  verdict(src: FlowEnd, dst: FlowEnd, pkt: Packet, now: number, replies = true): FlowCode {
    if (src.kind === 'interface' && dst.kind === 'interface' && src.interfaceId === dst.interfaceId) return FLOW_REJECT_ROUTE;
    const paths = this.paths;
    const si = src.kind === 'interface' ? paths.routedIndex(src.interfaceId) : -1;
    const di = dst.kind === 'interface' ? paths.routedIndex(dst.interfaceId) : -1;
    // an interface routing does not know: the plain model (flow.ts plainPath)
    if ((src.kind === 'interface' && si < 0) || (dst.kind === 'interface' && di < 0)) return this.plainVerdict(src, dst, pkt, now, replies);
    if (!paths.decideFast(si, src.address, di, dst.address, dst.kind === 'interface' && dst.viaPublic)) return FLOW_REJECT_ROUTE;
    const seen = paths.fastSeen;
    const aclOut = paths.fastAclOut;
    const aclIn = paths.fastAclIn;
    const nat = paths.fastNatSubnet;
    const tracking = this.tracks.size > 0;
    // The ends as flow.ts routedPath makes them: an interface at its primary private IPv4 for an
    // IPv4 flow, seen by the other side at `seen` (its public IPv4, the NAT gateway's) or at the
    // public address the flow was sent to.
    // (the end's own address object where it is the primary IPv4: one object fewer to read)
    let sh = -1;
    let srcA = src.address;
    let srcText = src.text;
    let seenSrc = src.address;
    let seenSrcText = src.text;
    if (src.kind === 'interface') {
      sh = this.endOf(si, src.interfaceId);
      const v4 = this.endWords[2 * si + 1]!;
      if (src.address.family === 4 && v4 !== -1) {
        if (src.address.v !== v4) srcA = this.endV4[si]!;
        if (tracking) srcText = this.endV4Text[si]!;
      }
      seenSrc = seen ?? srcA;
      if (tracking) seenSrcText = seen ? addressText(seen) : srcText;
    }
    let dh = -1;
    let dstA = dst.address;
    let dstText = dst.text;
    let seenDst = dst.address;
    let seenDstText = dst.text;
    if (dst.kind === 'interface') {
      dh = this.endOf(di, dst.interfaceId);
      const v4 = this.endWords[2 * di + 1]!;
      if (dst.address.family === 4 && v4 !== -1) {
        if (dst.address.v !== v4) dstA = this.endV4[di]!;
        if (tracking) dstText = this.endV4Text[di]!;
      }
      if (!dst.viaPublic) {
        seenDst = dstA;
        seenDstText = dstText;
      }
    }
    return this.verdictOf(
      src,
      dst,
      sh,
      dh,
      srcA,
      seenSrc,
      dstA,
      seenDst,
      srcText,
      seenSrcText,
      dstText,
      seenDstText,
      aclOut,
      aclIn,
      nat,
      replies,
      pkt,
      now,
    );
  }

  /** The handle of a routed interface (by routing index), its primary IPv4 read into endV4 / endV4Text. */
  private endOf(ri: number, id: string): number {
    const rec = this.policy.getInterface(id);
    if (ri >= this.endRec.length) {
      while (this.endRec.length <= ri) {
        this.endRec.push(UNREAD);
        this.endV4.push(undefined);
        this.endV4Text.push('');
      }
      if (2 * this.endRec.length > this.endWords.length) {
        const w = new Float64Array(4 * this.endRec.length);
        w.set(this.endWords);
        this.endWords = w;
      }
    }
    if (this.endRec[ri] !== rec) {
      this.endRec[ri] = rec;
      const t = rec?.ipv4[0];
      const a = t ? parsedAddress(t) : undefined;
      this.endV4[ri] = a;
      this.endV4Text[ri] = t ?? '';
      this.endWords[2 * ri] = this.policy.handleOf(id);
      // (an IPv6 text among the IPv4 ones — not AWS's — is used as local() uses it: never equal to an IPv4 value)
      this.endWords[2 * ri + 1] = a === undefined ? -1 : a.family === 4 ? a.v : -2;
    }
    return this.endWords[2 * ri]!;
  }

  /** `verdict` where routing does not know an interface: flow.ts plainPath's ends, no ACLs. */
  private plainVerdict(src: FlowEnd, dst: FlowEnd, pkt: Packet, now: number, replies: boolean): FlowCode {
    if (src.kind === 'external' && dst.kind === 'external') return FLOW_REJECT_ROUTE;
    if (src.address.family !== dst.address.family) return FLOW_REJECT_ROUTE;
    const policy = this.policy;
    const sRec = src.kind === 'interface' ? policy.getInterface(src.interfaceId) : undefined;
    const dRec = dst.kind === 'interface' ? policy.getInterface(dst.interfaceId) : undefined;
    // local(): an interface at its primary private IPv4 for an IPv4 flow
    const s4 = src.kind === 'interface' && src.address.family === 4 ? sRec?.ipv4[0] : undefined;
    const d4 = dst.kind === 'interface' && dst.address.family === 4 ? dRec?.ipv4[0] : undefined;
    const srcA = s4 ? parsedAddress(s4) : src.address;
    const srcText = s4 || src.text;
    const dLocal = d4 ? parsedAddress(d4) : dst.address;
    const dLocalText = d4 || dst.text;
    let seenSrc = srcA;
    let seenSrcText = srcText;
    let dstA = dst.address;
    let dstText = dst.text;
    let seenDst = dst.address;
    let seenDstText = dst.text;
    const viaPublic = dst.kind === 'interface' && dst.viaPublic;
    if (src.kind === 'interface' && dst.kind === 'interface') {
      if (!viaPublic) {
        if (sRec?.vpcId !== dRec?.vpcId) return FLOW_REJECT_ROUTE;
      } else {
        const pub = sRec?.publicIp;
        if (!pub) return FLOW_REJECT_ROUTE;
        seenSrc = parsedAddress(pub);
        seenSrcText = pub;
        dstA = dLocal;
        dstText = dLocalText;
      }
    } else if (src.kind === 'external') {
      if (!viaPublic && dst.address.family === 4) return FLOW_REJECT_ROUTE;
      dstA = dLocal;
      dstText = dLocalText;
      if (!viaPublic) {
        seenDst = dLocal;
        seenDstText = dLocalText;
      }
    } else if (dst.address.family === 4) {
      const pub = sRec?.publicIp;
      if (!pub) return FLOW_REJECT_ROUTE;
      seenSrc = parsedAddress(pub);
      seenSrcText = pub;
    }
    const sh = src.kind === 'interface' ? policy.handleOf(src.interfaceId) : -1;
    const dh = dst.kind === 'interface' ? policy.handleOf(dst.interfaceId) : -1;
    return this.verdictOf(
      src,
      dst,
      sh,
      dh,
      srcA,
      seenSrc,
      dstA,
      seenDst,
      srcText,
      seenSrcText,
      dstText,
      seenDstText,
      -1,
      -1,
      -1,
      replies,
      pkt,
      now,
    );
  }

  /**
   * `judge` (commit: false, explain: false) on the ends' addresses and the path's ACL subnets
   * (indices, -1: none): the ACLs on the way, both gates, the reply through the ACLs. The texts
   * are read only for an interface that tracks connections.
   */
  private verdictOf(
    src: FlowEnd,
    dst: FlowEnd,
    sh: number,
    dh: number,
    srcA: Address,
    seenSrc: Address,
    _dstA: Address,
    seenDst: Address,
    srcText: string,
    seenSrcText: string,
    dstText: string,
    seenDstText: string,
    aclOut: number,
    aclIn: number,
    nat: number,
    replies: boolean,
    pkt: Packet,
    now: number,
  ): FlowCode {
    const paths = this.paths;
    const proto = pkt.proto;
    const port = pkt.dstPort;
    // (an ICMP type or code the packet does not have equals no entry's: NaN)
    const type = pkt.icmpType ?? NaN;
    const code = pkt.icmpCode ?? NaN;
    if (aclOut >= 0 && !paths.aclAllows(aclOut, true, seenDst, proto, port, type, code)) return FLOW_REJECT_ACL;
    if (nat >= 0 && !paths.aclAllows(nat, false, srcA, proto, port, type, code)) return FLOW_REJECT_ACL;
    const point = portPoint(proto, port, pkt.icmpType, pkt.icmpCode);
    if (src.kind === 'interface' && !this.gateFast(true, sh, src.interfaceId, pkt, point, seenDst, now, srcText, seenDstText))
      return FLOW_REJECT_EGRESS;
    if (nat >= 0 && !paths.aclAllows(nat, true, seenDst, proto, port, type, code)) return FLOW_REJECT_ACL;
    if (aclIn >= 0 && !paths.aclAllows(aclIn, false, seenSrc, proto, port, type, code)) return FLOW_REJECT_ACL;
    if (dst.kind === 'interface' && !this.gateFast(false, dh, dst.interfaceId, pkt, point, seenSrc, now, dstText, seenSrcText))
      return FLOW_REJECT_INGRESS;
    if (replies) {
      // ACLs are stateless: the reply crosses them again, to the sender's port.
      const back = pkt.srcPort;
      const backType = replyType(proto, pkt.icmpType) ?? NaN;
      if (aclIn >= 0 && !paths.aclAllows(aclIn, true, seenSrc, proto, back, backType, code)) return FLOW_REJECT_ACL;
      if (nat >= 0 && !paths.aclAllows(nat, false, seenDst, proto, back, backType, code)) return FLOW_REJECT_ACL;
      if (nat >= 0 && !paths.aclAllows(nat, true, srcA, proto, back, backType, code)) return FLOW_REJECT_ACL;
      if (aclOut >= 0 && !paths.aclAllows(aclOut, false, seenDst, proto, back, backType, code)) return FLOW_REJECT_ACL;
    }
    return FLOW_ACCEPT;
  }

  /** `gate` for a "what if" verdict: a tracked connection, else the rules. */
  private gateFast(
    egress: boolean,
    h: number,
    id: string,
    pkt: Packet,
    point: number,
    remote: Address,
    now: number,
    localText: string,
    remoteText: string,
  ): boolean {
    if (h < 0) return false;
    if (this.tracks.size > 0) {
      const ct = this.tracks.get(id);
      if (ct !== undefined && ct.size > 0) {
        const icmp = pkt.proto === 1 || pkt.proto === 58;
        const localPort = egress ? pkt.srcPort : pkt.dstPort;
        const remotePort = egress ? pkt.dstPort : pkt.srcPort;
        if (ct.get(flowKey(pkt.proto, localText, icmp ? 0 : localPort, remoteText, icmp ? 0 : remotePort), now)) return true;
      }
    }
    return this.policy.allowsAt(h, egress ? 'egress' : 'ingress', pkt.proto, point, remote);
  }
}
