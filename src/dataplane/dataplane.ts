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
 * (-1: none).
 */
const END_STRIDE = 4;
const E_FLAGS = 0;
const E_RI = 1;
const E_SH = 2;
const END_USED = 1;
const END_IFACE = 2;
/** an interface at its public address (FlowEnd viaPublic) */
const END_PUBLIC = 4;
/** handles 0 and 1: the two ends `verdict` resolves for its own call */
const SCRATCH = 2;
/** a released slot's address */
const NO_ADDRESS: Address = Object.freeze({ family: 4, v: 0 });

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
  // index, policy handle), the generation — the policy's plus routing's — they were resolved at
  // (NaN: not yet, or released), the end as given, and the address the data plane judges it at.
  private endWords: Int32Array = new Int32Array(END_STRIDE * 64);
  private endGen: Float64Array = new Float64Array(64).fill(NaN);
  private endId: string[] = [];
  private endAddr: Address[] = [];
  private endText: string[] = [];
  /** flow.ts local(): an interface's primary private IPv4 for an IPv4 flow, else the end's address */
  private endLocal: Address[] = [];
  private endLocalText: string[] = [];
  private endCount = SCRATCH;
  private readonly endFree: number[] = [];
  /**
   * Per routing index (NetworkPaths.routedIndex): the policy's record of the interface its handle
   * and primary IPv4 were read from — re-read when the policy holds another (every change to an
   * interface stores a new record) — so that resolving a routed end looks up two ids, not four.
   */
  private riRec: (InterfaceInput | undefined)[] = [];
  private riSh: Int32Array = new Int32Array(0);
  private riV4: (Address | undefined)[] = [];
  private riV4Text: (string | undefined)[] = [];

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
    this.endGen[h] = NaN;
    this.endId[h] = '';
    this.endText[h] = this.endLocalText[h] = '';
    this.endAddr[h] = this.endLocal[h] = NO_ADDRESS;
    this.endFree.push(h);
  }

  /** Puts an end in slot h, to be resolved at its first use. */
  private bindEnd(h: number, e: FlowEnd): void {
    if (h >= this.endGen.length) {
      const words = new Int32Array(2 * this.endWords.length);
      words.set(this.endWords);
      this.endWords = words;
      const gen = new Float64Array(2 * this.endGen.length).fill(NaN);
      gen.set(this.endGen);
      this.endGen = gen;
    }
    const iface = e.kind === 'interface';
    this.endWords[END_STRIDE * h + E_FLAGS] = END_USED | (iface ? END_IFACE | (e.viaPublic ? END_PUBLIC : 0) : 0);
    this.endGen[h] = NaN;
    this.endId[h] = iface ? e.interfaceId : '';
    this.endAddr[h] = e.address;
    this.endText[h] = e.text;
  }

  /** Reads slot h's end from the policy and routing as they are at generation `gen`. */
  private resolveEnd(h: number, gen: number): void {
    const W = this.endWords;
    const b = END_STRIDE * h;
    const f = Number.isInteger(h) && h >= 0 && h < this.endCount ? W[b + E_FLAGS]! : 0;
    if ((f & END_USED) === 0) throw new RangeError(`${h} is not an end handle of this plane (DataPlane.endHandle)`);
    const addr = this.endAddr[h]!;
    const text = this.endText[h]!;
    this.endGen[h] = gen;
    if ((f & END_IFACE) === 0) {
      W[b + E_RI] = -1;
      W[b + E_SH] = -1;
      this.endLocal[h] = addr;
      this.endLocalText[h] = text;
      return;
    }
    const id = this.endId[h]!;
    const ri = this.paths.routedIndex(id);
    const rec = this.policy.getInterface(id);
    let sh: number;
    let v4: Address | undefined;
    let v4Text: string | undefined;
    if (ri >= 0 && ri < this.riRec.length && rec !== undefined && this.riRec[ri] === rec) {
      sh = this.riSh[ri]!;
      v4 = this.riV4[ri];
      v4Text = this.riV4Text[ri];
    } else {
      sh = this.policy.handleOf(id);
      v4Text = rec?.ipv4[0];
      // (an IPv6 text among the IPv4 ones — not AWS's — is used as local() uses it)
      v4 = v4Text ? parsedAddress(v4Text) : undefined;
      if (ri >= 0) {
        while (this.riRec.length <= ri) {
          this.riRec.push(undefined);
          this.riV4.push(undefined);
          this.riV4Text.push(undefined);
        }
        if (ri >= this.riSh.length) {
          const next = new Int32Array(Math.max(64, 2 * ri + 2));
          next.set(this.riSh);
          this.riSh = next;
        }
        this.riRec[ri] = rec;
        this.riSh[ri] = sh;
        this.riV4[ri] = v4;
        this.riV4Text[ri] = v4Text;
      }
    }
    W[b + E_RI] = ri;
    W[b + E_SH] = sh;
    const local = addr.family === 4 && v4 !== undefined;
    this.endLocal[h] = local ? v4! : addr;
    this.endLocalText[h] = local ? v4Text! : text;
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
    const gen = this.policy.generation + this.paths.generation;
    const G = this.endGen;
    if (G[src] !== gen) this.resolveEnd(src, gen);
    if (G[dst] !== gen) this.resolveEnd(dst, gen);
    const W = this.endWords;
    const sf = W[END_STRIDE * src + E_FLAGS]!;
    const df = W[END_STRIDE * dst + E_FLAGS]!;
    const si = W[END_STRIDE * src + E_RI]!;
    const di = W[END_STRIDE * dst + E_RI]!;
    const sIf = (sf & END_IFACE) !== 0;
    const dIf = (df & END_IFACE) !== 0;
    // the same interface (two routed ones: the same routing index)
    if (sIf && dIf && (si >= 0 && di >= 0 ? si === di : this.endId[src] === this.endId[dst])) return FLOW_REJECT_ROUTE;
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
      srcText = this.endLocalText[src]!;
      seenSrcText = seen ? addressText(seen) : srcText;
      dstText = this.endLocalText[dst]!;
      seenDstText = viaPublic ? this.endText[dst]! : dstText;
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
    const sRec = sIf ? policy.getInterface(this.endId[s]!) : undefined;
    const dRec = dIf ? policy.getInterface(this.endId[d]!) : undefined;
    // local(): an interface at its primary private IPv4 for an IPv4 flow
    const srcA = this.endLocal[s]!;
    const srcText = this.endLocalText[s]!;
    const dLocal = this.endLocal[d]!;
    const dLocalText = this.endLocalText[d]!;
    let seenSrc = srcA;
    let seenSrcText = srcText;
    let dstText = this.endText[d]!;
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
      const ct = this.tracks.get(this.endId[end]!);
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
