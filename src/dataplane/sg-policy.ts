// The compiled security-group policy. Each group compiles, per direction, into
//   protocol → port (or ICMP type/code) segments → address ranges + referenced groups/prefix lists,
// and an interface's gate is the union over its groups. Group references and prefix lists stay
// symbolic: a reference is checked against an index of which groups each private address belongs
// to, a prefix list against its own compiled set. So a rule change recompiles one group, a
// membership or address change touches one index entry, a prefix-list edit one set: the cost of
// a change is proportional to what changed.
//
// The verdict path (`allowsAt`, which `allows` and the data plane use) reads flat int32 tables
// only: ids are interned to dense handles, an interface is a 16-byte row of group handles, a
// group direction a blob in an arena laid out so that most lookups read one cache line of it
// (gate-index.ts), and the remote address's groups come from an open-addressing table (whose
// per-slot sums, a superset of the two group masks, most lookups read instead of the slot).
// Per group, one branch-free test of the header's line (all-protocol address filters and
// references, the port entry's summary of its peers and its port filter word) lets most groups
// go without reading anything else; a group that only its port entry let through has its
// chunk's filter and peers tested next (one more hot line); the rest goes to `groupMatches`.
// No strings, no Maps, no allocation — and nothing remembered between queries.
import { addressSet, cidrRange, parseAddress, setHas, EMPTY_SET, Set4, Set6, type Address, type AddressSet } from './addresses.ts';
import { ADDR_MAP, addressBit, AddrTable, ALL_HAS_PL, ALL_HAS_V6, ALL_REFS, ALL_REFS_B, OTHERS, ADDR_WIDE, ADDR_NARROW, wideBit, narrowBit, groupBit, groupBitB, Arena, compileDirectionWords, flip4, HDR, PORT_MAP, CHUNK_BITS, ENTRY_SUM, chunkPeer, type CompiledDirection } from './gate-index.ts';

export type Direction = 'ingress' | 'egress';

export interface RuleInput {
  id: string;
  groupId: string;
  egress: boolean;
  /** '-1', 'tcp', 'udp', 'icmp', 'icmpv6' or a protocol number */
  protocol: string;
  from?: number;
  to?: number;
  cidr4?: string;
  cidr6?: string;
  prefixListId?: string;
  refGroupId?: string;
}

export interface GroupInput { id: string; vpcId: string; rules: RuleInput[] }

export interface InterfaceInput {
  id: string;
  vpcId: string;
  /** private IPv4 addresses (primary first) */
  ipv4: string[];
  ipv6: string[];
  publicIp?: string;
  groups: string[];
}

export const PROTO: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 };

/** The number of a protocol name in PROTO (own entries only: `constructor` is no protocol). */
export const protoByName = (name: string): number | undefined => (Object.hasOwn(PROTO, name) ? PROTO[name] : undefined);

export function protocolNumber(p: string): number {
  return p === '-1' ? -1 : protoByName(p) ?? Number(p);
}

export const hasPortSpace = (proto: number) => proto === 6 || proto === 17 || proto === 1 || proto === 58;

/** The point a packet occupies in its protocol's port space (ICMP: type*256+code). */
export function portPoint(proto: number, port: number | undefined, icmpType?: number, icmpCode?: number): number {
  if (proto === 1 || proto === 58) return ((icmpType ?? 0) & 0xff) * 256 + ((icmpCode ?? 0) & 0xff);
  return port ?? 0;
}

/** A rule's interval in its protocol's port space. */
export function ruleInterval(r: RuleInput): [number, number] {
  const p = protocolNumber(r.protocol);
  if (p === 6 || p === 17) return [r.from ?? 0, r.to ?? 65535];
  if (p === 1 || p === 58) {
    const t = r.from ?? -1;
    const c = r.to ?? -1;
    if (t === -1) return [0, 65535];
    if (c === -1) return [t * 256, t * 256 + 255];
    return [t * 256 + c, t * 256 + c];
  }
  return [0, 65535];
}

export interface GateQuery {
  direction: Direction;
  proto: number;
  /** tcp/udp destination port of the new connection; ICMP via icmpType/icmpCode */
  port?: number;
  icmpType?: number;
  icmpCode?: number;
  /** the other end: source for ingress, destination for egress */
  remote: Address;
}

/** A rule's own address set, parsed once (explanations look at rules one by one). */
const ruleSets = new WeakMap<RuleInput, AddressSet>();

interface GroupRec { vpcId: string; rules: RuleInput[] }

/**
 * Interface table row (16 bytes): [number of groups (capped at 31) | vpc handle << 5, the first
 * ROW_GROUPS group handles]; an interface with more groups has them all in `ifGroups`.
 */
const ROW = 4;
const ROW_GROUPS = ROW - 1;
const COUNT = 31;

/** The header's words as `allowsAt` names them by number (checked here, once). */
const LAYOUT = [ALL_REFS, ALL_REFS_B, ENTRY_SUM, ADDR_WIDE, ADDR_NARROW, ROW_GROUPS].join();
if (LAYOUT !== '4,8,3,3,7,3') throw new Error(`policy.ts: allowsAt expects the header layout 4,8,3,3,7,3, not ${LAYOUT}`);

const holderKey = (vpc: number, a: Address) => `${vpc}/${a.family}/${a.v}`;

export class Policy {
  // ---- interned ids: groups, VPCs, prefix lists and interfaces are dense integers -----------
  private readonly groupIds = new Map<string, number>();
  private readonly groupRecs: (GroupRec | undefined)[] = [];
  /**
   * per group handle ×2 (+0 ingress, +1 egress): the offsets of its hot and cold blobs in the
   * arenas (0 = empty) and their lengths (see gate-index.ts)
   */
  private gOff = new Int32Array(256);
  private gCold = new Int32Array(256);
  private gLen: number[] = [];
  private gLenCold: number[] = [];
  private gV6: Set6[][] = [];
  private readonly hot = new Arena(16);
  private readonly cold = new Arena();

  private readonly vpcIds = new Map<string, number>();
  private readonly plIds = new Map<string, number>();
  private plSets: AddressSet[] = [];

  private readonly interfaces = new Map<string, InterfaceInput>();
  private readonly ifHandles = new Map<string, number>();
  private ifTab = new Int32Array(ROW * 256);
  private ifGroups: number[][] = [];
  private ifAddrs: Address[][] = [];
  private ifFree: number[] = [];
  private ifNext = 0;

  /** (vpc, private address) → handles of the interfaces holding it (one entry per address held) */
  private readonly holders = new Map<string, number[]>();
  /** the IPv4 part of `holders` for the verdict path: the one holder, or -2 for several */
  private readonly fast4 = new AddrTable();

  /** counters for benchmarks and tests */
  compiles = 0;

  private groupHandle(id: string): number {
    let h = this.groupIds.get(id);
    if (h === undefined) {
      h = this.groupIds.size;
      this.groupIds.set(id, h);
      if (2 * h + 2 > this.gOff.length) {
        const next = new Int32Array(this.gOff.length * 2);
        next.set(this.gOff);
        this.gOff = next;
        const nextCold = new Int32Array(this.gCold.length * 2);
        nextCold.set(this.gCold);
        this.gCold = nextCold;
      }
      this.gLen.push(0, 0);
      this.gLenCold.push(0, 0);
      this.gV6.push([], []);
    }
    return h;
  }

  private vpcHandle(id: string): number {
    let h = this.vpcIds.get(id);
    if (h === undefined) {
      this.vpcIds.set(id, (h = this.vpcIds.size));
    }
    return h;
  }

  private plHandle(id: string): number {
    let h = this.plIds.get(id);
    if (h === undefined) {
      this.plIds.set(id, (h = this.plIds.size));
      this.plSets.push(EMPTY_SET);
    }
    return h;
  }

  // ---- changes --------------------------------------------------------------------------

  setGroup(g: GroupInput): void {
    this.compiles++;
    const h = this.groupHandle(g.id);
    this.groupRecs[h] = { vpcId: g.vpcId, rules: g.rules };
    const group = (id: string) => this.groupHandle(id);
    const pl = (id: string) => this.plHandle(id);
    this.place(2 * h, compileDirectionWords(g.rules.filter((r) => !r.egress), protocolNumber2, ruleInterval, group, pl));
    this.place(2 * h + 1, compileDirectionWords(g.rules.filter((r) => r.egress), protocolNumber2, ruleInterval, group, pl));
    this.compact();
  }

  removeGroup(id: string): void {
    const h = this.groupIds.get(id);
    if (h === undefined) return;
    this.groupRecs[h] = undefined;
    this.place(2 * h, undefined);
    this.place(2 * h + 1, undefined);
  }

  private place(gd: number, c: CompiledDirection | undefined): void {
    if (this.gOff[gd] !== 0) this.hot.free(this.gLen[gd]!);
    if (this.gCold[gd] !== 0) this.cold.free(this.gLenCold[gd]!);
    const empty = !c || c.hot.length === HDR && c.hot.every((x) => x === 0);
    this.gOff[gd] = empty ? 0 : this.hot.alloc(c.hot);
    this.gLen[gd] = empty ? 0 : c.hot.length;
    this.gCold[gd] = empty || c.cold.length <= 1 ? 0 : this.cold.alloc(c.cold);
    this.gLenCold[gd] = empty ? 0 : c.cold.length;
    this.gV6[gd] = c?.v6 ?? [];
  }

  /** Moves the live blobs of an arena with too many dead words down. */
  private compact(): void {
    for (const [arena, off, len] of [[this.hot, this.gOff, this.gLen], [this.cold, this.gCold, this.gLenCold]] as const) {
      if (!arena.wasteful) continue;
      const live: number[] = [];
      for (let gd = 0; gd < 2 * this.groupIds.size; gd++) if (off[gd] !== 0) live.push(gd);
      arena.compact(live.map((gd) => ({ off: off[gd]!, len: len[gd]! })), (i, at) => { off[live[i]!] = at; });
    }
  }

  setPrefixList(id: string, cidrs: string[]): void {
    this.plSets[this.plHandle(id)] = addressSet(cidrs);
  }

  removePrefixList(id: string): void {
    const h = this.plIds.get(id);
    if (h !== undefined) this.plSets[h] = EMPTY_SET;
  }

  setInterface(i: InterfaceInput): void {
    let h = this.ifHandles.get(i.id);
    if (h !== undefined) this.unindex(h);
    else {
      h = this.ifFree.pop() ?? this.ifNext++;
      this.ifHandles.set(i.id, h);
    }
    const copy = { ...i, ipv4: [...i.ipv4], ipv6: [...i.ipv6], groups: [...i.groups] };
    this.interfaces.set(i.id, copy);
    const groups = copy.groups.map((g) => this.groupHandle(g));
    const vpc = this.vpcHandle(copy.vpcId);
    if ((h + 1) * ROW > this.ifTab.length) {
      const next = new Int32Array(this.ifTab.length * 2);
      next.set(this.ifTab);
      this.ifTab = next;
    }
    const base = h * ROW;
    this.ifTab[base] = Math.min(groups.length, COUNT) | (vpc << 5);
    for (let k = 0; k < ROW_GROUPS; k++) this.ifTab[base + 1 + k] = groups[k] ?? 0;
    this.ifGroups[h] = groups;
    const addrs: Address[] = [];
    for (const text of [...copy.ipv4, ...copy.ipv6]) {
      const a = parseAddress(text);
      if (!a) continue;
      addrs.push(a);
      const key = holderKey(vpc, a);
      const list = this.holders.get(key);
      if (list) list.push(h);
      else this.holders.set(key, [h]);
      this.syncFast(vpc, a, key);
    }
    this.ifAddrs[h] = addrs;
  }

  /** Takes an interface's addresses out of the membership index. */
  private unindex(h: number): void {
    const vpc = this.ifTab[h * ROW]! >>> 5;
    for (const a of this.ifAddrs[h] ?? []) {
      const key = holderKey(vpc, a);
      const list = this.holders.get(key);
      if (!list) continue;
      const k = list.indexOf(h);
      if (k >= 0) list.splice(k, 1);
      if (!list.length) this.holders.delete(key);
      this.syncFast(vpc, a, key);
    }
    this.ifAddrs[h] = [];
  }

  private syncFast(vpc: number, a: Address, key: string): void {
    if (a.family !== 4) return;
    const list = this.holders.get(key);
    if (!list) this.fast4.delete(vpc, flip4(a.v));
    else {
      let mask = 0;
      let maskB = 0;
      for (const h of list) for (const g of this.ifGroups[h]!) {
        mask |= groupBit(g);
        maskB |= groupBitB(g);
      }
      this.fast4.set(vpc, flip4(a.v), list.every((x) => x === list[0]) ? list[0]! : -2, mask, maskB);
    }
  }

  removeInterface(id: string): void {
    const h = this.ifHandles.get(id);
    if (h === undefined) return;
    this.unindex(h);
    this.ifTab.fill(0, h * ROW, (h + 1) * ROW);
    this.ifGroups[h] = [];
    this.ifHandles.delete(id);
    this.interfaces.delete(id);
    this.ifFree.push(h);
  }

  clear(): void {
    this.groupIds.clear();
    this.groupRecs.length = 0;
    this.gOff = new Int32Array(256);
    this.gCold = new Int32Array(256);
    this.gLen = [];
    this.gLenCold = [];
    this.gV6 = [];
    this.hot.reset();
    this.cold.reset();
    this.vpcIds.clear();
    this.plIds.clear();
    this.plSets = [];
    this.interfaces.clear();
    this.ifHandles.clear();
    this.ifTab = new Int32Array(ROW * 256);
    this.ifGroups = [];
    this.ifAddrs = [];
    this.ifFree = [];
    this.ifNext = 0;
    this.holders.clear();
    this.fast4.clear();
  }

  getInterface(id: string): InterfaceInput | undefined {
    return this.interfaces.get(id);
  }

  allInterfaces(): IterableIterator<InterfaceInput> {
    return this.interfaces.values();
  }

  groupRules(id: string): RuleInput[] {
    const h = this.groupIds.get(id);
    return (h === undefined ? undefined : this.groupRecs[h]?.rules) ?? [];
  }

  private groupVpc(id: string): string | undefined {
    const h = this.groupIds.get(id);
    return h === undefined ? undefined : this.groupRecs[h]?.vpcId;
  }

  prefixListSet(id: string): AddressSet {
    const h = this.plIds.get(id);
    return h === undefined ? EMPTY_SET : this.plSets[h]!;
  }

  // ---- verdicts ---------------------------------------------------------------------------

  /**
   * The interface's handle for `allowsAt` (-1 when there is no such interface). A handle stays
   * valid until the interface is removed (or the policy cleared); it may then be reused.
   */
  handleOf(interfaceId: string): number {
    return this.ifHandles.get(interfaceId) ?? -1;
  }

  /** Does the interface's aggregated policy allow a new connection through this gate? */
  allows(interfaceId: string, q: GateQuery): boolean {
    return this.allowsAt(this.handleOf(interfaceId), q.direction, q.proto, portPoint(q.proto, q.port, q.icmpType, q.icmpCode), q.remote);
  }

  /**
   * `allows` by handle, with the packet's point in its protocol's port space (`portPoint`):
   * the verdict path. Reads the interface's row, then per group its blob (see gate-index.ts).
   */
  allowsAt(h: number, direction: Direction, proto: number, point: number, remote: Address): boolean {
    const T = this.ifTab;
    const base = h * ROW;
    if (h < 0 || base >= T.length) return false;
    const w0 = T[base]!;
    if (w0 === 0) return false;
    const n = (w0 & COUNT) === COUNT ? this.ifGroups[h]!.length : w0 & COUNT;
    const vpc = w0 >>> 5;
    const d = direction === 'ingress' ? 0 : 1;
    // where the protocol's port entry is: header word, and shift (other protocols: a table, read
    // by the slow path)
    const word = proto === 6 || proto === 17 ? 1 : proto === 1 || proto === 58 ? 2 : OTHERS;
    const shift = proto === 17 || proto === 58 ? 16 : 0;
    const H = this.hot.words;
    const G = this.gOff;
    const v4 = remote.family === 4;
    const v = v4 ? flip4(remote.v) : 0;
    // the remote's bit in the address filters (none for IPv6)
    const vword = v4 ? ADDR_MAP + (addressBit(remote.v) >>> 5) : ADDR_MAP;
    const vmask = v4 ? 1 << (addressBit(remote.v) & 31) : 0;
    const vwide = v4 ? wideBit(remote.v) : 0;
    const vnarrow = v4 ? narrowBit(remote.v) : 0;
    // its bit in the port entries' summaries (IPv6 remotes pass them all)
    const vshift = v4 ? (remote.v >>> 16) & 31 : 0;
    const v6 = v4 ? 0 : 1;
    // what sends a group to the slow path whatever its filters say: for IPv6, an all-protocol
    // segment with IPv6 ranges or prefix lists; for IPv4, one with prefix lists; and a protocol
    // with its port entries in the table, or a point outside 0..65535
    const inside = word !== OTHERS && point >= 0 && point <= 65535;
    const always = v4 ? ALL_HAS_PL : ALL_HAS_PL | ALL_HAS_V6;
    const force = inside ? 0 : 1;
    // (other protocols and points: no port entry for the test)
    const emask = inside ? 0xffff : 0;
    const pword = inside ? point >>> 11 : 0;
    const pmask = inside ? 1 << ((point >>> 6) & 31) : 0;
    // supersets of the remote's groups' two masks (two words of the address table's sums), read
    // at the first group with a blob
    let rsum = 0;
    let rsumB = 0;
    let looked = false;
    // (the loop names the header's words by number, see LAYOUT: module constants are read through
    // cells, each use checked)
    for (let k = 0; k < n; k++) {
      const gd = 2 * (k < 3 ? T[base + 1 + k]! : this.ifGroups[h]![k]!) + d;
      const o = G[gd]!;
      if (o === 0) continue;
      if (!looked) {
        looked = true;
        if (v4) {
          const at = 2 * (AddrTable.hash(vpc, v) & this.fast4.mask);
          rsum = this.fast4.sums[at]!;
          rsumB = this.fast4.sums[at + 1]!;
        } else rsum = rsumB = -1;
      }
      // one test of the header's line: the address filter of the all-protocol segment, its
      // references' masks, what it holds, and, when the port entry's summary lets the remote
      // through, the port filter's word
      const e = (H[o + word]! >>> shift) & emask;
      // the references (ALL_REFS, ALL_REFS_B): both masks must meet (the sign bit of (x | -x) is
      // set when x is not 0)
      const ra = H[o + 4]! & rsum;
      const rb = H[o + 8]! & rsumB;
      // the port entry: its summary (ENTRY_SUM words: address filter, references), then its
      // filter's word (with no entry, words of the header's line, masked out)
      const none = (e - 1) >> 31;
      const E = o + e + (3 & none);
      const pa = H[E - 2]! & rsum;
      const pb = H[E - 1]! & rsumB;
      const peer = ((H[E - 3]! >>> vshift) & 1) | (((pa | -pa) & (pb | -pb)) >>> 31) | v6;
      // the address filters: ADDR_MAP's word, ADDR_WIDE, ADDR_NARROW
      const lead = (H[o + vword]! & vmask & -(((H[o + 3]! >>> vwide) | (H[o + 7]! >>> vnarrow)) & 1)) | ((ra | -ra) & (rb | -rb)) | (H[o]! & always) | force;
      if ((lead | (H[E + pword]! & pmask & ~none & -peer)) === 0) continue;
      // only the port entry let it through: the point's chunk (its filter, and for an IPv4
      // remote its peers), in the entry's next hot line, before the slow path
      if (lead === 0) {
        const q = E + PORT_MAP + 2 + 2 * (point >>> CHUNK_BITS);
        if ((H[q]! & (1 << ((point >>> 3) & 31))) === 0 || (v4 && chunkPeer(H[q + 1]!, remote.v, rsum) === 0)) continue;
      }
      if (this.groupMatches(gd, o, word, shift, proto, point, remote, v, vpc, rsum, rsumB)) return true;
    }
    return false;
  }

  /** One group's blob (at o, for gd), everything in it: past the filters of `allowsAt`. */
  private groupMatches(gd: number, o: number, word: number, shift: number, proto: number, point: number, remote: Address, v: number, vpc: number, rsum: number, rsumB: number): boolean {
    const H = this.hot.words;
    const v4 = remote.family === 4;
    // the all-protocol rules: the header says what the segment holds
    const w0 = H[o]!;
    if (w0 !== 0) {
      const all = w0 & 0xffff;
      if (v4) {
        if (((H[o + ADDR_MAP + (addressBit(remote.v) >>> 5)]! >>> (addressBit(remote.v) & 31)) & ((H[o + ADDR_WIDE]! >>> wideBit(remote.v)) | (H[o + ADDR_NARROW]! >>> narrowBit(remote.v))) & 1) !== 0 && inRanges(H, o + all, v)) return true;
      } else if ((w0 & ALL_HAS_V6) !== 0 && this.v6Matches(H, o + all, gd, remote)) return true;
      if ((H[o + ALL_REFS]! & rsum) !== 0 && (H[o + ALL_REFS_B]! & rsumB) !== 0) {
        const mem = this.memberRow(vpc, remote, H[o + ALL_REFS]!, H[o + ALL_REFS_B]!);
        if (mem !== -1 && this.refsMatch(H, o + all, mem, vpc, remote)) return true;
      }
      if ((w0 & ALL_HAS_PL) !== 0 && this.prefixListsMatch(H, o + all, remote)) return true;
    }
    // the protocol's port entry and its filter word; past them, a chunk's filter, the cold index
    // and a segment
    let e = (H[o + word]! >>> shift) & 0xffff;
    if (word === OTHERS) {
      // other protocols: a short table of (proto, port entry)
      const at0 = this.gCold[gd]!;
      const t = o + (at0 === 0 ? 0 : this.cold.words[at0]!);
      e = 0;
      if (t !== o) for (let x = H[t]! - 1; x >= 0; x--) if (H[t + 1 + 2 * x] === proto) { e = H[t + 2 + 2 * x]!; break; }
    }
    if (e === 0) return false;
    e += o;
    if (point >= 0 && point <= 65535) {
      if ((H[e + (point >>> 11)]! & (1 << ((point >>> 6) & 31))) === 0) return false;
      // the point's chunk: its finer filter, and where its bounds start in the cold index
      const i = point >>> CHUNK_BITS;
      const q = e + PORT_MAP + 2 + 2 * i;
      if ((H[q]! & (1 << ((point >>> 3) & 31))) === 0) return false;
      // the chunk's peers: none of its rules admits the remote's /16 block or its groups
      if (v4 && chunkPeer(H[q + 1]!, remote.v, rsum) === 0) return false;
      const starts = e + PORT_MAP + 2 + 2 * H[e + PORT_MAP + 1]! + i;
      return this.chunkMatches(gd, H[e + PORT_MAP]!, H[starts]!, H[starts + 1]!, point, remote, vpc);
    }
    return this.portMatches(gd, H[e + PORT_MAP]!, point, remote, vpc);
  }

  /** Past a chunk's filter: the segment of the last bound at or below the point (among lo..hi-1, or lo-1). */
  private chunkMatches(gd: number, index: number, lo: number, hi: number, point: number, remote: Address, vpc: number): boolean {
    const C = this.cold.words;
    const at0 = this.gCold[gd]!;
    const p = at0 + index + 1; // the (bound, segment) pairs
    let at = lo - 1;
    for (let k = lo; k < hi && C[p + 2 * k]! <= point; k++) at = k;
    if (at < 0) return false;
    const s = C[p + 2 * at + 1]!;
    return s !== 0 && this.segmentMatches(C, at0 + s, gd, vpc, remote);
  }

  /** A point outside 0..65535: a bisection in the cold port index, then the segment found. */
  private portMatches(gd: number, index: number, point: number, remote: Address, vpc: number): boolean {
    const C = this.cold.words;
    const at0 = this.gCold[gd]!;
    const q = at0 + index;
    const p = q + 1; // the (bound, segment) pairs
    let at = -1;
    let lo = 0;
    let hi = C[q]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (C[p + 2 * mid]! <= point) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (at < 0) return false;
    const s = C[p + 2 * at + 1]!;
    return s !== 0 && this.segmentMatches(C, at0 + s, gd, vpc, remote);
  }

  /** One segment, everything in it (the general case). */
  private segmentMatches(A: Int32Array, s: number, gd: number, vpc: number, remote: Address): boolean {
    if (remote.family === 4 ? inRanges(A, s, flip4(remote.v)) : this.v6Matches(A, s, gd, remote)) return true;
    const r = s + 1 + 2 * A[s]!;
    if (A[r] !== 0) {
      const mem = this.memberRow(vpc, remote, A[r + 1]!, -1);
      if (mem !== -1 && this.refsMatch(A, s, mem, vpc, remote)) return true;
    }
    return this.prefixListsMatch(A, s, remote);
  }

  /** The segment's group references against the remote's groups (`mem` as `memberRow`). */
  private refsMatch(A: Int32Array, s: number, mem: number, vpc: number, remote: Address): boolean {
    const r = s + 1 + 2 * A[s]!;
    const nRef = A[r]!;
    if (mem >= 0) {
      // one holder: its row in the interface table
      const T = this.ifTab;
      const c = T[mem]! & COUNT;
      for (let j = r + 2; j < r + 2 + nRef; j++) {
        const g = A[j]!;
        for (let x = 1; x <= c; x++) if (T[mem + x] === g) return true;
      }
      return false;
    }
    if (mem !== -3) return false;
    for (const h of this.holders.get(holderKey(vpc, remote)) ?? []) {
      const groups = this.ifGroups[h]!;
      for (let j = r + 2; j < r + 2 + nRef; j++) if (groups.includes(A[j]!)) return true;
    }
    return false;
  }

  private prefixListsMatch(A: Int32Array, s: number, remote: Address): boolean {
    const r = s + 1 + 2 * A[s]!;
    const i = r + 2 + A[r]!;
    const nPl = A[i]!;
    for (let j = 1; j <= nPl; j++) if (setHas(this.plSets[A[i + j]!]!, remote)) return true;
    return false;
  }

  private v6Matches(A: Int32Array, s: number, gd: number, remote: Address): boolean {
    if (remote.family !== 6) return false;
    const r = s + 1 + 2 * A[s]!;
    const i = r + 2 + A[r]!;
    const x = A[i + 1 + A[i]!]!;
    return x >= 0 && this.gV6[gd]![x]!.has(remote.v);
  }

  /**
   * Where the remote address's groups are: the base of its holder's row in the interface table
   * when one interface (with at most ROW_GROUPS groups) holds it in the VPC, -1 when none does
   * or (IPv4) when its holders' groups meet none of the references' masks `refs`, `refsB`, -3
   * otherwise (see `refsMatch`).
   */
  private memberRow(vpc: number, remote: Address, refs: number, refsB: number): number {
    if (remote.family !== 4) return this.holders.has(holderKey(vpc, remote)) ? -3 : -1;
    const F = this.fast4;
    const i = F.find(vpc, flip4(remote.v));
    // none of the references' groups in the holders' masks (exact, where the sums are supersets)
    if (i < 0 || (F.slots[4 * i + 3]! & refs) === 0 || (F.masksB[i]! & refsB) === 0) return -1;
    const one = F.slots[4 * i + 2]!;
    if (one >= 0 && (this.ifTab[one * ROW]! & COUNT) <= ROW_GROUPS) return one * ROW;
    return -3;
  }

  /** Is `a` a private address, in the VPC, of an interface holding the group? */
  private isMember(vpcId: string, a: Address, groupId: string): boolean {
    const vpc = this.vpcIds.get(vpcId);
    const g = this.groupIds.get(groupId);
    if (vpc === undefined || g === undefined) return false;
    return (this.holders.get(holderKey(vpc, a)) ?? []).some((h) => this.ifGroups[h]!.includes(g));
  }

  /** The rules that allow the connection through this gate (empty when none does). */
  matchingRules(interfaceId: string, q: GateQuery): RuleInput[] {
    const i = this.interfaces.get(interfaceId);
    if (!i) return [];
    const out: RuleInput[] = [];
    for (const gid of i.groups) {
      const vpcId = this.groupVpc(gid);
      if (vpcId === undefined) continue;
      for (const r of this.groupRules(gid)) if (r.egress === (q.direction === 'egress') && this.ruleMatches(r, vpcId, q)) out.push(r);
    }
    return out;
  }

  /** One rule against one connection: the plain semantics the index must agree with. */
  ruleMatches(r: RuleInput, vpcId: string, q: GateQuery): boolean {
    const p = protocolNumber(r.protocol);
    if (p !== -1) {
      if (p !== q.proto) return false;
      const [a, b] = ruleInterval(r);
      const point = portPoint(q.proto, q.port, q.icmpType, q.icmpCode);
      if (point < a || point > b) return false;
    }
    if (r.cidr4 || r.cidr6) {
      let set = ruleSets.get(r);
      if (!set) ruleSets.set(r, (set = addressSet([r.cidr4 ?? r.cidr6!])));
      return setHas(set, q.remote);
    }
    if (r.prefixListId) return setHas(this.prefixListSet(r.prefixListId), q.remote);
    if (r.refGroupId) return this.isMember(vpcId, q.remote, r.refGroupId);
    return false;
  }

  /** Rules of the interface in that direction for the same protocol, as hints for a reject. */
  nearRules(interfaceId: string, q: GateQuery): RuleInput[] {
    const i = this.interfaces.get(interfaceId);
    if (!i) return [];
    const want = q.direction === 'egress';
    const all = i.groups.flatMap((gid) => this.groupRules(gid)).filter((r) => r.egress === want);
    const sameProto = all.filter((r) => protocolNumber(r.protocol) === q.proto || protocolNumber(r.protocol) === -1);
    const point = portPoint(q.proto, q.port, q.icmpType, q.icmpCode);
    const samePort = sameProto.filter((r) => { const [a, b] = ruleInterval(r); return point >= a && point <= b; });
    return (samePort.length ? samePort : sameProto).slice(0, 5);
  }

  /**
   * Everything the gate admits for one protocol and port: the union of its CIDR and prefix-list
   * address sets, the groups whose members it admits, and the rules behind them — the symbolic
   * answer to "who can reach this port", without enumerating addresses. (Per group: its
   * all-protocol rules, then those of the protocol covering the port, in the group's order.)
   */
  admitted(interfaceId: string, direction: Direction, proto: number, port?: number, icmpType?: number, icmpCode?: number): { set: AddressSet; groups: Map<string, RuleInput[]>; rules: RuleInput[] } {
    const i = this.interfaces.get(interfaceId);
    const r4: [number, number][] = [];
    const r6: [bigint, bigint][] = [];
    const groups = new Map<string, RuleInput[]>();
    const rules: RuleInput[] = [];
    const point = portPoint(proto, port, icmpType, icmpCode);
    const add = (r: RuleInput) => {
      const cidr = r.cidr4 || r.cidr6;
      if (cidr) {
        const c = cidrRange(cidr);
        if (c?.family === 4) r4.push([c.r[0], c.r[1]]);
        else if (c) r6.push([c.r[0], c.r[1]]);
      } else if (r.prefixListId) {
        const s = this.prefixListSet(r.prefixListId);
        r4.push(...s.v4.ranges());
        r6.push(...s.v6.ranges());
      }
      rules.push(r);
      if (r.refGroupId) groups.set(r.refGroupId, [...(groups.get(r.refGroupId) ?? []), r]);
    };
    const egress = direction === 'egress';
    for (const gid of i?.groups ?? []) {
      if (this.groupVpc(gid) === undefined) continue;
      const mine = this.groupRules(gid).filter((r) => !!r.egress === egress);
      for (const r of mine) if (protocolNumber(r.protocol) === -1) add(r);
      for (const r of mine) {
        if (protocolNumber(r.protocol) !== proto || proto === -1) continue;
        const [a, b] = ruleInterval(r);
        if (point >= a && point <= b) add(r);
      }
    }
    return { set: { v4: Set4.from(r4), v6: Set6.from(r6) }, groups, rules };
  }

  /** The interfaces of a VPC holding a group (for group references). */
  membersOf(vpcId: string, groupId: string): InterfaceInput[] {
    const out: InterfaceInput[] = [];
    for (const i of this.interfaces.values()) if (i.vpcId === vpcId && i.groups.includes(groupId)) out.push(i);
    return out;
  }

  /** AWS's untracked condition for a TCP/UDP flow through this gate (see conntrack.ts). */
  allOpenFor(interfaceId: string, q: GateQuery): boolean {
    if (q.proto !== 6 && q.proto !== 17) return false;
    const i = this.interfaces.get(interfaceId);
    if (!i) return false;
    const world = q.remote.family === 4 ? '0.0.0.0/0' : '::/0';
    const rules = i.groups.flatMap((gid) => this.groupRules(gid));
    const thisWay = q.direction === 'egress';
    const allowsWorld = rules.some((r) => r.egress === thisWay && (r.cidr4 ?? r.cidr6) === world && this.ruleMatches(r, i.vpcId, q));
    if (!allowsWorld) return false;
    return rules.some((r) => {
      if (r.egress === thisWay || (r.cidr4 ?? r.cidr6) !== world) return false;
      const p = protocolNumber(r.protocol);
      if (p === -1) return true;
      return p === q.proto && (r.from ?? 0) === 0 && (r.to ?? 65535) === 65535;
    });
  }
}

/** Is the IPv4 address (flipped) in the segment's ranges? */
function inRanges(A: Int32Array, s: number, v: number): boolean {
  const n4 = A[s]!;
  const i = s + 1;
  if (n4 <= 8) {
    for (let at = i, end = i + 2 * n4; at < end; at += 2) if (A[at]! <= v && v <= A[at + 1]!) return true;
    return false;
  }
  let lo = 0;
  let hi = n4 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = i + 2 * mid;
    if (A[at]! <= v) {
      if (v <= A[at + 1]!) return true;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return false;
}

const protocolNumber2 = (r: RuleInput) => protocolNumber(r.protocol);

export { Set4, Set6 };
