// The verdict path of the compiled security-group policy: over the tables of PolicyIndex
// (policy-index.ts), does an interface's gate let a new connection through? An interface's gate
// is the union over its groups of what each group's blob (layout.ts) admits.
//
// `allowsAt` (which `allows` and the data plane use) reads flat int32 tables only: ids are
// interned to dense handles, an interface is a 16-byte row of group handles, a group direction a
// blob in an arena laid out so that most lookups read one cache line of it, and the remote
// address's groups come from an open-addressing table (whose per-slot sums, a superset of the two
// group masks, most lookups read instead of the slot). Per group, one branch-free test of the
// header's line (all-protocol address filters and references, the port entry's summary of its
// peers and its port filter word) lets most groups go without reading anything else; a group that
// only its port entry let through has its chunk's filter and peers tested next (one more hot
// line); the rest goes to `groupMatches`. No strings, no Maps, no allocation — and nothing
// remembered between queries.
import { setHas, type Address } from './addresses.ts';
import { AddrTable } from './addr-table.ts';
import * as layout from './layout.ts';
import { holderKey, PolicyIndex } from './policy-index.ts';
import { portPoint, protocolNumber, ruleCovers, type Direction, type GateQuery } from './sg-rules.ts';

// The layout as module constants of this file, which V8 folds into the verdict path's code (an
// imported binding would be read through its cell, and checked, at each use).
const {
  H_ALL,
  ALL_SEGMENT,
  ALL_HAS_PL,
  ALL_HAS_V6,
  H_TCP_UDP,
  H_ICMP,
  H_OTHERS,
  ENTRY_OFFSET,
  HIGH_HALF,
  H_ADDR_WIDE,
  H_ADDR_MAP,
  H_ADDR_NARROW,
  H_ALL_REFS,
  H_ALL_REFS_B,
  addressBit,
  wideBit,
  narrowBit,
  flip4,
  ENTRY_SUM,
  E_SUM_ADDR,
  E_SUM_REFS,
  E_SUM_REFS_B,
  entrySumBit,
  E_FILTER,
  MAP_BLOCK,
  MAP_WORD,
  E_INDEX,
  E_CHUNKS,
  E_CHUNK,
  CHUNK_BITS,
  CHUNK_BLOCK,
  CHUNK,
  C_FILTER,
  C_PEERS,
  chunkStarts,
  chunkPeer,
  COLD_OTHERS,
  OT_COUNT,
  OT_PAIRS,
  OT_PROTO,
  OT_ENTRY,
  PI_COUNT,
  PI_PAIRS,
  PI_BOUND,
  PI_SEGMENT,
  PAIR,
  RANGE_LO,
  RANGE_HI,
  S_N4,
  S_RANGES,
  R_COUNT,
  R_MASK,
  R_GROUPS,
  P_COUNT,
  P_LISTS,
  NO_V6,
  segRefs,
  segPrefixLists,
  segV6,
  NO_BLOB,
  DIRECTIONS,
  INGRESS,
  EGRESS,
  ROW,
  ROW_HEAD,
  ROW_GROUP,
  ROW_GROUPS,
  COUNT,
  VPC_SHIFT,
  SLOT,
  SLOT_VALUE,
  SLOT_MASK,
  SUMS,
  SUM_A,
  SUM_B,
} = layout;

/** What `memberRow` answers besides a row: no holder (or none in the masks), several to look at. */
const NO_MEMBER = -1;
const MEMBERS = -3;

export class CompiledPolicy extends PolicyIndex {
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
   * the verdict path. Reads the interface's row, then per group its blob (see layout.ts).
   */
  allowsAt(h: number, direction: Direction, proto: number, point: number, remote: Address): boolean {
    const T = this.ifTab;
    const base = h * ROW;
    if (h < 0 || base >= T.length) return false;
    const w0 = T[base + ROW_HEAD]!;
    if (w0 === 0) return false;
    const n = (w0 & COUNT) === COUNT ? this.ifGroups[h]!.length : w0 & COUNT;
    const vpc = w0 >>> VPC_SHIFT;
    const d = direction === 'ingress' ? INGRESS : EGRESS;
    // where the protocol's port entry is: header word, and shift (other protocols: a table, read
    // by the slow path)
    const word = proto === 6 || proto === 17 ? H_TCP_UDP : proto === 1 || proto === 58 ? H_ICMP : H_OTHERS;
    const shift = proto === 17 || proto === 58 ? HIGH_HALF : 0;
    const H = this.hot.words;
    const G = this.gOff;
    const v4 = remote.family === 4;
    const v = v4 ? flip4(remote.v) : 0;
    // the remote's bit in the address filters (none for IPv6)
    const vword = v4 ? H_ADDR_MAP + (addressBit(remote.v) >>> 5) : H_ADDR_MAP;
    const vmask = v4 ? 1 << (addressBit(remote.v) & 31) : 0;
    const vwide = v4 ? wideBit(remote.v) : 0;
    const vnarrow = v4 ? narrowBit(remote.v) : 0;
    // its bit in the port entries' summaries (IPv6 remotes pass them all)
    const vshift = v4 ? entrySumBit(remote.v) : 0;
    const v6 = v4 ? 0 : 1;
    // what sends a group to the slow path whatever its filters say: for IPv6, an all-protocol
    // segment with IPv6 ranges or prefix lists; for IPv4, one with prefix lists; and a protocol
    // with its port entries in the table, or a point outside 0..65535
    const inside = word !== H_OTHERS && point >= 0 && point <= 65535;
    const always = v4 ? ALL_HAS_PL : ALL_HAS_PL | ALL_HAS_V6;
    const force = inside ? 0 : 1;
    // (other protocols and points: no port entry for the test)
    const emask = inside ? ENTRY_OFFSET : 0;
    const pword = inside ? point >>> MAP_WORD : 0;
    const pmask = inside ? 1 << ((point >>> MAP_BLOCK) & 31) : 0;
    // supersets of the remote's groups' two masks (two words of the address table's sums), read
    // at the first group with a blob
    let rsum = 0;
    let rsumB = 0;
    let looked = false;
    for (let k = 0; k < n; k++) {
      const gd = DIRECTIONS * (k < ROW_GROUPS ? T[base + ROW_GROUP + k]! : this.ifGroups[h]![k]!) + d;
      const o = G[gd]!;
      if (o === NO_BLOB) continue;
      if (!looked) {
        looked = true;
        if (v4) {
          const at = SUMS * (AddrTable.hash(vpc, v) & this.fast4.mask);
          rsum = this.fast4.sums[at + SUM_A]!;
          rsumB = this.fast4.sums[at + SUM_B]!;
        } else rsum = rsumB = -1;
      }
      // one test of the header's line: the address filter of the all-protocol segment, its
      // references' masks, what it holds, and, when the port entry's summary lets the remote
      // through, the port filter's word
      const e = (H[o + word]! >>> shift) & emask;
      // the references: both masks must meet (the sign bit of (x | -x) is set when x is not 0)
      const ra = H[o + H_ALL_REFS]! & rsum;
      const rb = H[o + H_ALL_REFS_B]! & rsumB;
      // the port entry: its summary (address filter, references), then its filter's word (with
      // no entry, words of the header's line, masked out)
      const none = (e - 1) >> 31;
      const E = o + e + (ENTRY_SUM & none);
      const pa = H[E + E_SUM_REFS]! & rsum;
      const pb = H[E + E_SUM_REFS_B]! & rsumB;
      const peer = ((H[E + E_SUM_ADDR]! >>> vshift) & 1) | (((pa | -pa) & (pb | -pb)) >>> 31) | v6;
      // the address filters: H_ADDR_MAP's word, H_ADDR_WIDE, H_ADDR_NARROW
      const lead =
        (H[o + vword]! & vmask & -(((H[o + H_ADDR_WIDE]! >>> vwide) | (H[o + H_ADDR_NARROW]! >>> vnarrow)) & 1)) |
        ((ra | -ra) & (rb | -rb)) |
        (H[o + H_ALL]! & always) |
        force;
      if ((lead | (H[E + E_FILTER + pword]! & pmask & ~none & -peer)) === 0) continue;
      // only the port entry let it through: the point's chunk (its filter, and for an IPv4
      // remote its peers), in the entry's next hot line, before the slow path
      if (lead === 0) {
        const q = E + E_CHUNK + CHUNK * (point >>> CHUNK_BITS);
        if ((H[q + C_FILTER]! & (1 << ((point >>> CHUNK_BLOCK) & 31))) === 0 || (v4 && chunkPeer(H[q + C_PEERS]!, remote.v, rsum) === 0))
          continue;
      }
      if (this.groupMatches(gd, o, word, shift, proto, point, remote, v, vpc, rsum, rsumB)) return true;
    }
    return false;
  }

  /** One group's blob (at o, for gd), everything in it: past the filters of `allowsAt`. */
  private groupMatches(
    gd: number,
    o: number,
    word: number,
    shift: number,
    proto: number,
    point: number,
    remote: Address,
    v: number,
    vpc: number,
    rsum: number,
    rsumB: number,
  ): boolean {
    const H = this.hot.words;
    const v4 = remote.family === 4;
    // the all-protocol rules: the header says what the segment holds
    const w0 = H[o + H_ALL]!;
    if (w0 !== 0) {
      const all = o + (w0 & ALL_SEGMENT);
      if (v4) {
        const bit = addressBit(remote.v);
        if (
          ((H[o + H_ADDR_MAP + (bit >>> 5)]! >>> (bit & 31)) &
            ((H[o + H_ADDR_WIDE]! >>> wideBit(remote.v)) | (H[o + H_ADDR_NARROW]! >>> narrowBit(remote.v))) &
            1) !==
            0 &&
          inRanges(H, all, v)
        )
          return true;
      } else if ((w0 & ALL_HAS_V6) !== 0 && this.v6Matches(H, all, gd, remote)) return true;
      if ((H[o + H_ALL_REFS]! & rsum) !== 0 && (H[o + H_ALL_REFS_B]! & rsumB) !== 0) {
        const mem = this.memberRow(vpc, remote, H[o + H_ALL_REFS]!, H[o + H_ALL_REFS_B]!);
        if (mem !== NO_MEMBER && this.refsMatch(H, all, mem, vpc, remote)) return true;
      }
      if ((w0 & ALL_HAS_PL) !== 0 && this.prefixListsMatch(H, all, remote)) return true;
    }
    // the protocol's port entry and its filter word; past them, a chunk's filter, the cold index
    // and a segment
    let e = (H[o + word]! >>> shift) & ENTRY_OFFSET;
    if (word === H_OTHERS) {
      // other protocols: a short table of (proto, port entry)
      const at0 = this.gCold[gd]!;
      const t = o + (at0 === NO_BLOB ? 0 : this.cold.words[at0 + COLD_OTHERS]!);
      e = 0;
      if (t !== o) {
        for (let x = H[t + OT_COUNT]! - 1; x >= 0; x--) {
          const pair = t + OT_PAIRS + PAIR * x;
          if (H[pair + OT_PROTO] === proto) {
            e = H[pair + OT_ENTRY]!;
            break;
          }
        }
      }
    }
    if (e === 0) return false;
    e += o;
    if (point >= 0 && point <= 65535) {
      if ((H[e + E_FILTER + (point >>> MAP_WORD)]! & (1 << ((point >>> MAP_BLOCK) & 31))) === 0) return false;
      // the point's chunk: its finer filter, and where its bounds start in the cold index
      const i = point >>> CHUNK_BITS;
      const q = e + E_CHUNK + CHUNK * i;
      if ((H[q + C_FILTER]! & (1 << ((point >>> CHUNK_BLOCK) & 31))) === 0) return false;
      // the chunk's peers: none of its rules admits the remote's /16 block or its groups
      if (v4 && chunkPeer(H[q + C_PEERS]!, remote.v, rsum) === 0) return false;
      const starts = e + chunkStarts(H[e + E_CHUNKS]!) + i;
      return this.chunkMatches(gd, H[e + E_INDEX]!, H[starts]!, H[starts + 1]!, point, remote, vpc);
    }
    return this.portMatches(gd, H[e + E_INDEX]!, point, remote, vpc);
  }

  /** Past a chunk's filter: the segment of the last bound at or below the point (among lo..hi-1, or lo-1). */
  private chunkMatches(gd: number, index: number, lo: number, hi: number, point: number, remote: Address, vpc: number): boolean {
    const C = this.cold.words;
    const at0 = this.gCold[gd]!;
    const p = at0 + index + PI_PAIRS; // the (bound, segment) pairs
    let at = lo - 1;
    for (let k = lo; k < hi && C[p + PAIR * k + PI_BOUND]! <= point; k++) at = k;
    if (at < 0) return false;
    const s = C[p + PAIR * at + PI_SEGMENT]!;
    return s !== 0 && this.segmentMatches(C, at0 + s, gd, vpc, remote);
  }

  /** A point outside 0..65535: a bisection in the cold port index, then the segment found. */
  private portMatches(gd: number, index: number, point: number, remote: Address, vpc: number): boolean {
    const C = this.cold.words;
    const at0 = this.gCold[gd]!;
    const q = at0 + index;
    const p = q + PI_PAIRS; // the (bound, segment) pairs
    let at = -1;
    let lo = 0;
    let hi = C[q + PI_COUNT]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (C[p + PAIR * mid + PI_BOUND]! <= point) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (at < 0) return false;
    const s = C[p + PAIR * at + PI_SEGMENT]!;
    return s !== 0 && this.segmentMatches(C, at0 + s, gd, vpc, remote);
  }

  /** One segment, everything in it (the general case). */
  private segmentMatches(A: Int32Array, s: number, gd: number, vpc: number, remote: Address): boolean {
    if (remote.family === 4 ? inRanges(A, s, flip4(remote.v)) : this.v6Matches(A, s, gd, remote)) return true;
    const r = segRefs(A, s);
    if (A[r + R_COUNT] !== 0) {
      const mem = this.memberRow(vpc, remote, A[r + R_MASK]!, -1);
      if (mem !== NO_MEMBER && this.refsMatch(A, s, mem, vpc, remote)) return true;
    }
    return this.prefixListsMatch(A, s, remote);
  }

  /** The segment's group references against the remote's groups (`mem` as `memberRow`). */
  private refsMatch(A: Int32Array, s: number, mem: number, vpc: number, remote: Address): boolean {
    const r = segRefs(A, s);
    const refs = r + R_GROUPS;
    const end = refs + A[r + R_COUNT]!;
    if (mem >= 0) {
      // one holder: its row in the interface table
      const T = this.ifTab;
      const first = mem + ROW_GROUP;
      const last = first + (T[mem + ROW_HEAD]! & COUNT);
      for (let j = refs; j < end; j++) {
        const g = A[j]!;
        for (let x = first; x < last; x++) if (T[x] === g) return true;
      }
      return false;
    }
    if (mem !== MEMBERS) return false;
    for (const h of this.holders.get(holderKey(vpc, remote)) ?? []) {
      const groups = this.ifGroups[h]!;
      for (let j = refs; j < end; j++) if (groups.includes(A[j]!)) return true;
    }
    return false;
  }

  private prefixListsMatch(A: Int32Array, s: number, remote: Address): boolean {
    const i = segPrefixLists(A, segRefs(A, s));
    const nPl = A[i + P_COUNT]!;
    for (let j = 0; j < nPl; j++) if (setHas(this.plSets[A[i + P_LISTS + j]!]!, remote)) return true;
    return false;
  }

  private v6Matches(A: Int32Array, s: number, gd: number, remote: Address): boolean {
    if (remote.family !== 6) return false;
    const x = A[segV6(A, segPrefixLists(A, segRefs(A, s)))]!;
    return x !== NO_V6 && this.gV6[gd]![x]!.has(remote.v);
  }

  /**
   * Where the remote address's groups are: the base of its holder's row in the interface table
   * when one interface (with at most ROW_GROUPS groups) holds it in the VPC, NO_MEMBER when none
   * does or (IPv4) when its holders' groups meet none of the references' masks `refs`, `refsB`,
   * MEMBERS otherwise (see `refsMatch`).
   */
  private memberRow(vpc: number, remote: Address, refs: number, refsB: number): number {
    if (remote.family !== 4) return this.holders.has(holderKey(vpc, remote)) ? MEMBERS : NO_MEMBER;
    const F = this.fast4;
    const i = F.find(vpc, flip4(remote.v));
    // none of the references' groups in the holders' masks (exact, where the sums are supersets)
    if (i < 0 || (F.slots[SLOT * i + SLOT_MASK]! & refs) === 0 || (F.masksB[i]! & refsB) === 0) return NO_MEMBER;
    const one = F.slots[SLOT * i + SLOT_VALUE]!;
    if (one >= 0 && (this.ifTab[one * ROW + ROW_HEAD]! & COUNT) <= ROW_GROUPS) return one * ROW;
    return MEMBERS;
  }

  /** AWS's untracked condition for a TCP/UDP flow through this gate (see conntrack.ts). */
  allOpenFor(interfaceId: string, q: GateQuery): boolean {
    if (q.proto !== 6 && q.proto !== 17) return false;
    const i = this.interfaces.get(interfaceId);
    if (!i) return false;
    const world = q.remote.family === 4 ? '0.0.0.0/0' : '::/0';
    const rules = i.groups.flatMap((gid) => this.groupRules(gid));
    const thisWay = q.direction === 'egress';
    const point = portPoint(q.proto, q.port, q.icmpType, q.icmpCode);
    // (a rule of the world admits every remote of its family)
    const allowsWorld = rules.some((r) => r.egress === thisWay && (r.cidr4 ?? r.cidr6) === world && ruleCovers(r, q.proto, point));
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
  const n4 = A[s + S_N4]!;
  const i = s + S_RANGES;
  if (n4 <= 8) {
    for (let at = i, end = i + PAIR * n4; at < end; at += PAIR) if (A[at + RANGE_LO]! <= v && v <= A[at + RANGE_HI]!) return true;
    return false;
  }
  let lo = 0;
  let hi = n4 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = i + PAIR * mid;
    if (A[at + RANGE_LO]! <= v) {
      if (v <= A[at + RANGE_HI]!) return true;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return false;
}
