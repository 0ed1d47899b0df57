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

/**
 * A resolved end (`DataPlane.endHandle`) is END_STRIDE words: its flags (END_*), its routing index
 * (NetworkPaths.routedIndex, -1: routing does not know it, or an external end), its policy handle
 * (-1: none), the generation it was resolved at (`generation`; -1: not yet, or released).
 */
const END_STRIDE = 4;
const E_FLAGS = 0;
const E_RI = 1;
const E_SH = 2;
const E_GEN = 3;
/** Words for n ends, none resolved. */
function endTable(n: number): Int32Array {
  const w = new Int32Array(END_STRIDE * n);
  for (let k = E_GEN; k < w.length; k += END_STRIDE) w[k] = -1;
  return w;
}
/** The policy's and routing's generations as one (never -1: an unresolved end's). */
const generation = (policy: Policy, paths: NetworkPaths) => (policy.generation + paths.generation) & 0x3fffffff;
const END_USED = 1;
const END_IFACE = 2;
/** an interface at its public address (FlowEnd viaPublic) */
const END_PUBLIC = 4;
/** handles 0 and 1: the two ends `verdict` resolves for its own call */
const SCRATCH = 2;
/** a released slot's address and end */
const NO_ADDRESS: Address = Object.freeze({ family: 4, v: 0 });
const NO_END: FlowEnd = Object.freeze({ kind: 'external', address: NO_ADDRESS, text: '' });
/** per routing index, DataPlane.riWords: the policy handle, the primary IPv4's value */
const RI_STRIDE = 2;

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
  // The verdict path's resolved ends (`endHandle`): per handle, END_STRIDE words (flags, routing
  // index, policy handle, the generation they were resolved at), the end as given, and the
  // address the data plane judges it at.
  private endWords: Int32Array = endTable(64);
  /** per handle: the end as given (its id, its texts), its address, the address it is judged at (flow.ts local()) */
  private endEnd: FlowEnd[] = [];
  private endAddr: Address[] = [];
  private endLocal: Address[] = [];
  private endCount = SCRATCH;
  private readonly endFree: number[] = [];
  /**
   * Per routing index (NetworkPaths.routedIndex): the policy's record of the interface its handle
   * and primary IPv4 were read from — re-read when the policy holds another (every change to an
   * interface stores a new record) — so that resolving a routed end looks up two ids, not four;
   * RI_STRIDE words (its policy handle, its primary IPv4's value: -1 none, -2 not an IPv4) and the address.
   */
  private riRec: (InterfaceInput | undefined)[] = [];
  private riWords: Float64Array = new Float64Array(0);
  private riV4: (Address | undefined)[] = [];

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
   * An end resolved once for `verdictAt`: a small integer standing for it (an index into the
   * plane's tables of its routing index, policy handle and the address it is judged at). It stays
   * valid across changes: the tables are re-read for it, at its next use, when the policy's or
   * routing's generation has moved (one comparison per end per verdict). Release it with
   * `releaseEnd` when done (a handle is a slot of the plane's tables until then).
   */
  endHandle(end: FlowEnd): number {
    const h = this.endFree.pop() ?? this.endCount++;
    this.bindEnd(h, end);
    return h;
  }

  /** Gives a handle of `endHandle` back (its slot is reused; using it again is an error). */
  releaseEnd(h: number): void {
    if (!Number.isInteger(h) || h < SCRATCH || h >= this.endCount || (this.endWords[END_STRIDE * h + E_FLAGS]! & END_USED) === 0) return;
    this.endWords.fill(0, END_STRIDE * h, END_STRIDE * h + END_STRIDE);
    this.endWords[END_STRIDE * h + E_GEN] = -1;
    this.endEnd[h] = NO_END;
    this.endAddr[h] = this.endLocal[h] = NO_ADDRESS;
    this.endFree.push(h);
  }

  /** Puts an end in slot h, to be resolved at its first use. */
  private bindEnd(h: number, e: FlowEnd): void {
    if (END_STRIDE * h >= this.endWords.length) {
      const words = endTable((2 * this.endWords.length) / END_STRIDE);
      words.set(this.endWords);
      this.endWords = words;
    }
    const b = END_STRIDE * h;
    this.endWords[b + E_FLAGS] = END_USED | (e.kind === 'interface' ? END_IFACE | (e.viaPublic ? END_PUBLIC : 0) : 0);
    this.endWords[b + E_GEN] = -1;
    this.endEnd[h] = e;
    this.endAddr[h] = e.address;
  }

  /** Reads slot h's end from the policy and routing as they are at generation `gen`. */
  private resolveEnd(h: number, gen: number): void {
    const W = this.endWords;
    const b = END_STRIDE * h;
    const f = Number.isInteger(h) && h >= 0 && h < this.endCount ? W[b + E_FLAGS]! : 0;
    if ((f & END_USED) === 0) throw new RangeError(`${h} is not an end handle of this plane (DataPlane.endHandle)`);
    const e = this.endEnd[h]!;
    const addr = this.endAddr[h]!;
    W[b + E_GEN] = gen;
    if (e.kind !== 'interface') {
      W[b + E_RI] = -1;
      W[b + E_SH] = -1;
      this.endLocal[h] = addr;
      return;
    }
    const id = e.interfaceId;
    const ri = this.paths.routedIndex(id);
    const rec = this.policy.getInterface(id);
    let sh: number;
    let v4Value: number;
    const R = this.riWords;
    if (ri >= 0 && ri < this.riRec.length && rec !== undefined && this.riRec[ri] === rec) {
      sh = R[RI_STRIDE * ri]!;
      v4Value = R[RI_STRIDE * ri + 1]!;
    } else {
      sh = this.policy.handleOf(id);
      const t = rec?.ipv4[0];
      // (an IPv6 text among the IPv4 ones — not AWS's — is used as local() uses it)
      const v4 = t ? parsedAddress(t) : undefined;
      v4Value = v4 === undefined ? -1 : v4.family === 4 ? v4.v : -2;
      if (ri >= 0) {
        while (this.riRec.length <= ri) {
          this.riRec.push(undefined);
          this.riV4.push(undefined);
        }
        if (RI_STRIDE * ri >= this.riWords.length) {
          const next = new Float64Array(Math.max(128, 4 * ri + 4));
          next.set(this.riWords);
          this.riWords = next;
        }
        this.riRec[ri] = rec;
        this.riWords[RI_STRIDE * ri] = sh;
        this.riWords[RI_STRIDE * ri + 1] = v4Value;
        this.riV4[ri] = v4;
      } else {
        W[b + E_RI] = ri;
        W[b + E_SH] = sh;
        this.endLocal[h] = v4 !== undefined && addr.family === 4 && v4Value !== addr.v ? v4 : addr;
        return;
      }
    }
    W[b + E_RI] = ri;
    W[b + E_SH] = sh;
    // local(): its primary IPv4 for an IPv4 flow — the end's own address object where it is that
    // address (one object fewer to read per verdict)
    this.endLocal[h] = v4Value !== -1 && addr.family === 4 && v4Value !== addr.v ? this.riV4[ri]! : addr;
  }

  /** An interface end's id ('' for an external one). */
  private endId(h: number): string {
    const e = this.endEnd[h]!;
    return e.kind === 'interface' ? e.interfaceId : '';
  }

  /** The text of the address an end is judged at (`endLocal`), for the tracked connections' keys. */
  private localText(h: number): string {
    const e = this.endEnd[h]!;
    if (e.kind !== 'interface' || e.address.family !== 4) return e.text;
    const t = this.policy.getInterface(e.interfaceId)?.ipv4[0];
    return t && parsedAddress(t) ? t : e.text;
  }

  /**
   * A new flow's verdict, the path included — what `judgeFlow(…, { commit: false, explain: false,
   * replies })` decides, step for step (the property tests hold them equal) — as a FlowCode, and
   * nothing allocated: the ends resolved (`verdictAt`), then judged by `verdictAt`. A "what if":
   * no state changes, nothing is recorded (an interface's tracked connections still let their
   * packets through, as in `judge`).
   */
  verdict(src: FlowEnd, dst: FlowEnd, pkt: Packet, now: number, replies = true): FlowCode {
    this.bindEnd(0, src);
    this.bindEnd(1, dst);
    return this.verdictAt(0, 1, pkt.proto, pkt.srcPort, pkt.dstPort, pkt.icmpType ?? NaN, pkt.icmpCode ?? NaN, now, replies);
  }

  /**
   * `verdict` on resolved ends (`endHandle`) and the packet's numbers — the one implementation of
   * the verdict path: the path by NetworkPaths.decideFast over interned tables, the ACLs by
   * NetworkPaths.aclAllows, both gates by `policy.allowsAt`, the reply through the ACLs. An end
   * resolved before the policy or routing changed is read again first (one integer comparison
   * tells). `icmpType` / `icmpCode`: NaN for a packet without them (as `Packet`'s undefined).
   */
  verdictAt(
    src: number,
    dst: number,
    proto: number,
    srcPort: number,
    dstPort: number,
    icmpType: number,
    icmpCode: number,
    now: number,
    replies = true,
  ): FlowCode {
    const gen = generation(this.policy, this.paths);
    let W = this.endWords;
    // (a handle out of range reads undefined: resolveEnd refuses it)
    if (W[END_STRIDE * src + E_GEN] !== gen || W[END_STRIDE * dst + E_GEN] !== gen) {
      this.resolveEnd(src, gen);
      this.resolveEnd(dst, gen);
      W = this.endWords;
    }
    const sf = W[END_STRIDE * src + E_FLAGS]!;
    const df = W[END_STRIDE * dst + E_FLAGS]!;
    const si = W[END_STRIDE * src + E_RI]!;
    const di = W[END_STRIDE * dst + E_RI]!;
    const sIf = (sf & END_IFACE) !== 0;
    const dIf = (df & END_IFACE) !== 0;
    // the same interface (two routed ones: the same routing index)
    if (sIf && dIf && (si >= 0 && di >= 0 ? si === di : this.endId(src) === this.endId(dst))) return FLOW_REJECT_ROUTE;
    // an interface routing does not know: the plain model (flow.ts plainPath)
    if ((sIf && si < 0) || (dIf && di < 0)) return this.plainAt(src, dst, proto, srcPort, dstPort, icmpType, icmpCode, now, replies);
    const paths = this.paths;
    const viaPublic = (df & END_PUBLIC) !== 0;
    const dAddr = this.endAddr[dst]!;
    if (!paths.decideFast(si, this.endAddr[src]!, di, dAddr, viaPublic)) return FLOW_REJECT_ROUTE;
    // The ends as flow.ts routedPath makes them: an interface at its primary private IPv4 for an
    // IPv4 flow, seen by the other side at `seen` (its public IPv4, the NAT gateway's) or at the
    // public address the flow was sent to.
    const seen = paths.fastSeen;
    const srcA = this.endLocal[src]!;
    const seenDst = viaPublic ? dAddr : this.endLocal[dst]!;
    // the texts: only for an interface that tracks connections (the key of its table)
    let srcText = '';
    let seenSrcText = '';
    let dstText = '';
    let seenDstText = '';
    if (this.tracks.size > 0) {
      srcText = this.localText(src);
      seenSrcText = seen ? addressText(seen) : srcText;
      dstText = this.localText(dst);
      seenDstText = viaPublic ? this.endEnd[dst]!.text : dstText;
    }
    return this.verdictOf(
      src,
      dst,
      srcA,
      seen ?? srcA,
      seenDst,
      srcText,
      seenSrcText,
      dstText,
      seenDstText,
      paths.fastAclOut,
      paths.fastAclIn,
      paths.fastNatSubnet,
      proto,
      srcPort,
      dstPort,
      icmpType,
      icmpCode,
      now,
      replies,
    );
  }

  /** `verdictAt` where routing does not know an interface: flow.ts plainPath's ends, no ACLs. */
  private plainAt(
    s: number,
    d: number,
    proto: number,
    srcPort: number,
    dstPort: number,
    icmpType: number,
    icmpCode: number,
    now: number,
    replies: boolean,
  ): FlowCode {
    const W = this.endWords;
    const sIf = (W[END_STRIDE * s + E_FLAGS]! & END_IFACE) !== 0;
    const dIf = (W[END_STRIDE * d + E_FLAGS]! & END_IFACE) !== 0;
    if (!sIf && !dIf) return FLOW_REJECT_ROUTE;
    const sAddr = this.endAddr[s]!;
    const dAddr = this.endAddr[d]!;
    if (sAddr.family !== dAddr.family) return FLOW_REJECT_ROUTE;
    const policy = this.policy;
    const sRec = sIf ? policy.getInterface(this.endId(s)) : undefined;
    const dRec = dIf ? policy.getInterface(this.endId(d)) : undefined;
    // local(): an interface at its primary private IPv4 for an IPv4 flow
    const srcA = this.endLocal[s]!;
    const srcText = this.localText(s);
    const dLocal = this.endLocal[d]!;
    const dLocalText = this.localText(d);
    let seenSrc = srcA;
    let seenSrcText = srcText;
    let dstText = this.endEnd[d]!.text;
    let seenDst = dAddr;
    let seenDstText = dstText;
    const viaPublic = dIf && (W[END_STRIDE * d + E_FLAGS]! & END_PUBLIC) !== 0;
    if (sIf && dIf) {
      if (!viaPublic) {
        if (sRec?.vpcId !== dRec?.vpcId) return FLOW_REJECT_ROUTE;
      } else {
        const pub = sRec?.publicIp;
        if (!pub) return FLOW_REJECT_ROUTE;
        seenSrc = parsedAddress(pub);
        seenSrcText = pub;
        dstText = dLocalText;
      }
    } else if (!sIf) {
      if (!viaPublic && dAddr.family === 4) return FLOW_REJECT_ROUTE;
      dstText = dLocalText;
      if (!viaPublic) {
        seenDst = dLocal;
        seenDstText = dLocalText;
      }
    } else if (dAddr.family === 4) {
      const pub = sRec?.publicIp;
      if (!pub) return FLOW_REJECT_ROUTE;
      seenSrc = parsedAddress(pub);
      seenSrcText = pub;
    }
    return this.verdictOf(
      s,
      d,
      srcA,
      seenSrc,
      seenDst,
      srcText,
      seenSrcText,
      dstText,
      seenDstText,
      -1,
      -1,
      -1,
      proto,
      srcPort,
      dstPort,
      icmpType,
      icmpCode,
      now,
      replies,
    );
  }

  /**
   * `judge` (commit: false, explain: false) on resolved ends (s, d), their addresses and the path's
   * ACL subnets (indices, -1: none): the ACLs on the way, both gates, the reply through the ACLs.
   * The texts are read only for an interface that tracks connections.
   */
  private verdictOf(
    s: number,
    d: number,
    srcA: Address,
    seenSrc: Address,
    seenDst: Address,
    srcText: string,
    seenSrcText: string,
    dstText: string,
    seenDstText: string,
    aclOut: number,
    aclIn: number,
    nat: number,
    proto: number,
    srcPort: number,
    port: number,
    type: number,
    code: number,
    now: number,
    replies: boolean,
  ): FlowCode {
    const paths = this.paths;
    const W = this.endWords;
    if (aclOut >= 0 && !paths.aclAllows(aclOut, true, seenDst, proto, port, type, code)) return FLOW_REJECT_ACL;
    if (nat >= 0 && !paths.aclAllows(nat, false, srcA, proto, port, type, code)) return FLOW_REJECT_ACL;
    const point = portPoint(proto, port, type, code);
    if (
      (W[END_STRIDE * s + E_FLAGS]! & END_IFACE) !== 0 &&
      !this.gateFast(true, W[END_STRIDE * s + E_SH]!, s, proto, srcPort, port, point, seenDst, now, srcText, seenDstText)
    )
      return FLOW_REJECT_EGRESS;
    if (nat >= 0 && !paths.aclAllows(nat, true, seenDst, proto, port, type, code)) return FLOW_REJECT_ACL;
    if (aclIn >= 0 && !paths.aclAllows(aclIn, false, seenSrc, proto, port, type, code)) return FLOW_REJECT_ACL;
    if (
      (W[END_STRIDE * d + E_FLAGS]! & END_IFACE) !== 0 &&
      !this.gateFast(false, W[END_STRIDE * d + E_SH]!, d, proto, srcPort, port, point, seenSrc, now, dstText, seenSrcText)
    )
      return FLOW_REJECT_INGRESS;
    if (replies) {
      // ACLs are stateless: the reply crosses them again, to the sender's port.
      const backType = replyType(proto, type) ?? NaN;
      if (aclIn >= 0 && !paths.aclAllows(aclIn, true, seenSrc, proto, srcPort, backType, code)) return FLOW_REJECT_ACL;
      if (nat >= 0 && !paths.aclAllows(nat, false, seenDst, proto, srcPort, backType, code)) return FLOW_REJECT_ACL;
      if (nat >= 0 && !paths.aclAllows(nat, true, srcA, proto, srcPort, backType, code)) return FLOW_REJECT_ACL;
      if (aclOut >= 0 && !paths.aclAllows(aclOut, false, seenDst, proto, srcPort, backType, code)) return FLOW_REJECT_ACL;
    }
    return FLOW_ACCEPT;
  }

  /** `gate` for a "what if" verdict on a resolved end: a tracked connection, else the rules. */
  private gateFast(
    egress: boolean,
    h: number,
    end: number,
    proto: number,
    srcPort: number,
    dstPort: number,
    point: number,
    remote: Address,
    now: number,
    localText: string,
    remoteText: string,
  ): boolean {
    if (h < 0) return false;
    if (this.tracks.size > 0) {
      const ct = this.tracks.get(this.endId(end));
      if (ct !== undefined && ct.size > 0) {
        const icmp = proto === 1 || proto === 58;
        const localPort = egress ? srcPort : dstPort;
        const remotePort = egress ? dstPort : srcPort;
        if (ct.get(flowKey(proto, localText, icmp ? 0 : localPort, remoteText, icmp ? 0 : remotePort), now)) return true;
      }
    }
    return this.policy.allowsAt(h, egress ? 'egress' : 'ingress', proto, point, remote);
  }
}
