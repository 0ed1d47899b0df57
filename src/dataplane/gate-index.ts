// The compiler of the flat policy: one group's rules, per direction, into the int32 words of a hot
// and a cold blob (their layout is named in layout.ts), and the arenas that hold the blobs.
import { cidrRange, Set6 } from './addresses.ts';
import type { RuleInput } from './sg-rules.ts';
import * as layout from './layout.ts';

// (module constants of this file: see layout.ts on why)
const {
  HDR,
  H_ALL,
  ALL_HAS_PL,
  ALL_HAS_V6,
  H_TCP_UDP,
  H_ICMP,
  HIGH_HALF,
  H_ADDR_WIDE,
  H_ADDR_MAP,
  H_ADDR_NARROW,
  H_ALL_REFS,
  H_ALL_REFS_B,
  addressBit,
  wideBit,
  narrowBit,
  groupBit,
  groupBitB,
  flip4,
  unflip4,
  ENTRY_SUM,
  E_SUM_ADDR,
  E_SUM_REFS,
  E_SUM_REFS_B,
  entrySumBit,
  E_FILTER,
  PORT_MAP,
  MAP_BLOCK,
  E_INDEX,
  E_CHUNKS,
  E_CHUNK,
  CHUNK_BITS,
  CHUNK_BLOCK,
  CHUNK,
  C_FILTER,
  C_PEERS,
  chunkStarts,
  PEER_ANY_ADDRESS,
  peerAddressBit,
  peerGroupBit,
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
  ARENA_SLACK,
} = layout;

/** A range meeting more /20 blocks than this is wide (see layout.ts `H_ADDR_WIDE`). */
const NARROW = 4;

export interface CompiledDirection {
  hot: number[];
  cold: number[];
  v6: Set6[];
}

/**
 * One direction of one group. `interval` places a rule in its protocol's port space,
 * `protocol` gives its protocol number (-1 = all); `group` and `prefixList` intern ids.
 */
export function compileDirectionWords(
  rules: RuleInput[],
  protocol: (r: RuleInput) => number,
  interval: (r: RuleInput) => [number, number],
  group: (id: string) => number,
  prefixList: (id: string) => number,
): CompiledDirection {
  const hot: number[] = new Array<number>(HDR).fill(0);
  // the cold words before the port indexes (COLD_OTHERS: no table of other protocols yet)
  const cold: number[] = new Array<number>(COLD_OTHERS + 1).fill(0);
  const v6: Set6[] = [];
  const all: RuleInput[] = [];
  const byProto = new Map<number, RuleInput[]>();
  for (const r of rules) {
    const p = protocol(r);
    if (p === -1) all.push(r);
    else {
      let list = byProto.get(p);
      if (!list) byProto.set(p, (list = []));
      list.push(r);
    }
  }
  // a segment, appended to `w` (its words in layout order, each where the reader looks for it)
  const segment = (w: number[], members: RuleInput[]): number => {
    const r4: [number, number][] = [];
    const r6: [bigint, bigint][] = [];
    const refs: number[] = [];
    const pls: number[] = [];
    for (const r of members) {
      const cidr = r.cidr4 || r.cidr6;
      if (cidr) {
        const c = cidrRange(cidr);
        if (!c) continue;
        if (c.family === 4) r4.push([c.r[0], c.r[1]]);
        else r6.push([c.r[0], c.r[1]]);
      } else if (r.prefixListId) {
        const h = prefixList(r.prefixListId);
        if (!pls.includes(h)) pls.push(h);
      } else if (r.refGroupId) {
        const h = group(r.refGroupId);
        if (!refs.includes(h)) refs.push(h);
      }
    }
    if (!r4.length && !r6.length && !refs.length && !pls.length) return 0;
    const at = w.length;
    r4.sort((x, y) => x[0] - y[0]);
    const merged: [number, number][] = [];
    for (const [a, b] of r4) {
      const last = merged[merged.length - 1];
      if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
      else merged.push([a, b]);
    }
    w[at + S_N4] = merged.length;
    merged.forEach(([a, b], k) => {
      w[at + S_RANGES + PAIR * k + RANGE_LO] = flip4(a);
      w[at + S_RANGES + PAIR * k + RANGE_HI] = flip4(b);
    });
    refs.sort((x, y) => x - y);
    const r = segRefs(w, at);
    w[r + R_COUNT] = refs.length;
    w[r + R_MASK] = refs.reduce((m, g) => m | groupBit(g), 0);
    refs.forEach((g, k) => {
      w[r + R_GROUPS + k] = g;
    });
    const p = segPrefixLists(w, r);
    w[p + P_COUNT] = pls.length;
    pls.forEach((h, k) => {
      w[p + P_LISTS + k] = h;
    });
    w[segV6(w, p)] = r6.length ? v6.push(Set6.from(r6)) - 1 : NO_V6;
    return at;
  };
  // the port indexes (with slots for their segments) first, their segments after
  const pending: [number, RuleInput[]][] = [];
  const ports = (list: RuleInput[]): number => {
    const spans = list.map(interval);
    const points = new Set<number>();
    for (const [a, b] of spans) {
      points.add(a);
      points.add(b + 1);
    }
    const bounds = [...points].sort((x, y) => x - y);
    const members: RuleInput[][] = bounds.map(() => []);
    spans.forEach(([a, b], i) => {
      let k = bisect(bounds, a);
      while (k < bounds.length && bounds[k]! <= b) members[k++]!.push(list[i]!);
    });
    const n = bounds.length;
    // the spans within 0..65535, and the chunks of 1 << CHUNK_BITS points up to the last point covered
    const inside: [number, number, number][] = [];
    spans.forEach(([a, b], x) => {
      if (Math.max(a, 0) <= Math.min(b, 65535)) inside.push([Math.max(a, 0), Math.min(b, 65535), x]);
    });
    let top = -1;
    for (const [, b] of inside) top = Math.max(top, b);
    const chunks = top < 0 ? 0 : (top >> CHUNK_BITS) + 1;
    // the entry's words, each where the reader looks for it: its summary of what its rules admit
    // (see `entrySummary`) before it, its filter, its cold index, its chunks' pairs and starts
    const entry = hot.length + ENTRY_SUM;
    [hot[entry + E_SUM_ADDR], hot[entry + E_SUM_REFS], hot[entry + E_SUM_REFS_B]] = entrySummary(list, group);
    for (let k = 0; k < PORT_MAP; k++) hot[entry + E_FILTER + k] = 0;
    const index = cold.length;
    hot[entry + E_INDEX] = index;
    hot[entry + E_CHUNKS] = chunks;
    for (let i = 0; i < chunks; i++) {
      hot[entry + E_CHUNK + CHUNK * i + C_FILTER] = 0;
      hot[entry + E_CHUNK + CHUNK * i + C_PEERS] = 0;
    }
    // where each chunk's bounds start (and n past the last)
    const starts = entry + chunkStarts(chunks);
    for (let i = 0, k = 0; i <= chunks; i++) {
      while (k < n && bounds[k]! < i << CHUNK_BITS) k++;
      hot[starts + i] = k;
    }
    for (const [lo, hi, x] of inside) {
      for (let k = lo >> MAP_BLOCK; k <= hi >> MAP_BLOCK; k++)
        hot[entry + E_FILTER + (k >> 5)] = hot[entry + E_FILTER + (k >> 5)]! | (1 << (k & 31));
      const peers = chunkPeers(list[x]!, group);
      for (let i = lo >> CHUNK_BITS; i <= hi >> CHUNK_BITS; i++) {
        const first = i === lo >> CHUNK_BITS ? (lo >> CHUNK_BLOCK) & 31 : 0;
        const last = i === hi >> CHUNK_BITS ? (hi >> CHUNK_BLOCK) & 31 : 31;
        hot[entry + E_CHUNK + CHUNK * i + C_FILTER] =
          hot[entry + E_CHUNK + CHUNK * i + C_FILTER]! | ((last === 31 ? -1 : (1 << (last + 1)) - 1) & ~((1 << first) - 1));
        hot[entry + E_CHUNK + CHUNK * i + C_PEERS] = hot[entry + E_CHUNK + CHUNK * i + C_PEERS]! | peers;
      }
    }
    // the port index, with a slot for each bound's segment (filled in once the hot blob is done)
    cold[index + PI_COUNT] = n;
    for (let k = 0; k < n; k++) {
      const pair = index + PI_PAIRS + PAIR * k;
      cold[pair + PI_BOUND] = bounds[k]!;
      cold[pair + PI_SEGMENT] = 0;
      if (members[k]!.length) pending.push([pair + PI_SEGMENT, members[k]!]);
    }
    return entry;
  };
  // tcp, udp, icmp, icmpv6 first: their offsets are small (16 bits in the header)
  for (const [p, word, shift] of [
    [6, H_TCP_UDP, 0],
    [17, H_TCP_UDP, HIGH_HALF],
    [1, H_ICMP, 0],
    [58, H_ICMP, HIGH_HALF],
  ] as const) {
    const list = byProto.get(p);
    if (list) hot[word] = hot[word]! | (ports(list) << shift);
  }
  // the all-protocol segment: a lookup reads it only when the header lets it
  const s = all.length ? segment(hot, all) : 0;
  const others: [number, number][] = [];
  for (const [p, list] of byProto) if (p !== 6 && p !== 17 && p !== 1 && p !== 58) others.push([p, ports(list)]);
  if (others.length) {
    const t = hot.length;
    cold[COLD_OTHERS] = t;
    hot[t + OT_COUNT] = others.length;
    others.forEach(([p, e], k) => {
      hot[t + OT_PAIRS + PAIR * k + OT_PROTO] = p;
      hot[t + OT_PAIRS + PAIR * k + OT_ENTRY] = e;
    });
  }
  if (s) {
    hot[H_ALL] = s;
    // the all-protocol segment's address filter
    for (let k = 0; k < hot[s + S_N4]!; k++) {
      const lo = unflip4(hot[s + S_RANGES + PAIR * k + RANGE_LO]!);
      const hi = unflip4(hot[s + S_RANGES + PAIR * k + RANGE_HI]!);
      const first = Math.floor(lo / 65536);
      const last = Math.floor(hi / 65536);
      for (let b = first; b <= last && b < first + 64; b++) {
        const bit = addressBit(b * 65536);
        hot[H_ADDR_MAP + (bit >> 5)] = hot[H_ADDR_MAP + (bit >> 5)]! | (1 << (bit & 31));
      }
      const first20 = Math.floor(lo / 4096);
      const last20 = Math.floor(hi / 4096);
      if (last20 - first20 < NARROW)
        for (let z = first20; z <= last20; z++) hot[H_ADDR_NARROW] = hot[H_ADDR_NARROW]! | (1 << narrowBit(z * 4096));
      else if (last - first >= 31) hot[H_ADDR_WIDE] = -1;
      else for (let b = first; b <= last; b++) hot[H_ADDR_WIDE] = hot[H_ADDR_WIDE]! | (1 << wideBit(b * 65536));
    }
    // its references' two masks and what else it holds
    const r = segRefs(hot, s);
    const nRef = hot[r + R_COUNT]!;
    hot[H_ALL_REFS] = hot[r + R_MASK]!;
    for (let k = 0; k < nRef; k++) hot[H_ALL_REFS_B] = hot[H_ALL_REFS_B]! | groupBitB(hot[r + R_GROUPS + k]!);
    const p = segPrefixLists(hot, r);
    hot[H_ALL] |= (hot[p + P_COUNT] ? ALL_HAS_PL : 0) | (hot[segV6(hot, p)] !== NO_V6 ? ALL_HAS_V6 : 0);
  }
  for (const [slot, members] of pending) cold[slot] = segment(cold, members);
  return { hot, cold, v6 };
}

/**
 * What a port entry's rules admit, whatever the port (its ENTRY_SUM words, see layout.ts): [IPv4
 * filter, the references' `groupBit`s, their `groupBitB`s]. An IPv4 remote outside the filter
 * and without a referenced group's bits is allowed by none of them (IPv6 remotes are not filtered).
 */
function entrySummary(list: RuleInput[], group: (id: string) => number): [number, number, number] {
  let addr = 0;
  let refs = 0;
  let refsB = 0;
  for (const r of list) {
    if (r.cidr4) {
      const c = cidrRange(r.cidr4);
      if (!c || c.family !== 4) continue;
      const first = Math.floor(c.r[0] / 65536);
      const last = Math.floor(c.r[1] / 65536);
      if (last - first >= 31) addr = -1;
      else for (let b = first; b <= last; b++) addr |= 1 << entrySumBit(b * 65536);
    } else if (r.prefixListId) addr = -1;
    else if (r.refGroupId) {
      const g = group(r.refGroupId);
      refs |= groupBit(g);
      refsB |= groupBitB(g);
    }
  }
  return [addr, refs, refsB];
}

/** What one rule admits, in a chunk's peers word (see layout.ts `chunkPeer`). */
function chunkPeers(r: RuleInput, group: (id: string) => number): number {
  if (r.cidr4) {
    const c = cidrRange(r.cidr4);
    if (!c || c.family !== 4) return 0;
    const first = Math.floor(c.r[0] / 65536);
    const last = Math.floor(c.r[1] / 65536);
    if (last - first >= 15) return PEER_ANY_ADDRESS;
    let bits = 0;
    for (let b = first; b <= last; b++) bits |= peerAddressBit(b * 65536);
    return bits;
  }
  if (r.prefixListId) return PEER_ANY_ADDRESS;
  if (r.refGroupId) return peerGroupBit(group(r.refGroupId));
  return 0;
}

function bisect(bounds: number[], v: number): number {
  let a = 0;
  let b = bounds.length - 1;
  let found = -1;
  while (a <= b) {
    const m = (a + b) >>> 1;
    if (bounds[m]! <= v) {
      found = m;
      a = m + 1;
    } else b = m - 1;
  }
  return found;
}

/**
 * The arena: blobs are appended; a replaced blob's words are dead until a compaction moves the
 * live ones down (blobs hold only relative offsets, so moving one is a copy). With `align`, blobs
 * start on a multiple of that many words; a large arena lives in a WebAssembly.Memory, whose
 * buffer is page-aligned, so that multiple of LINE words is a cache line.
 */
export class Arena {
  words = new Int32Array(1 << 12);
  top = NO_BLOB + HDR; // words of NO_BLOB: the empty blob (all zero: nothing allowed)
  dead = 0;
  /** undefined: not yet; null: not available */
  private memory: WebAssembly.Memory | undefined | null;

  constructor(private readonly align = 1) {}

  private ensure(size: number): void {
    if (size <= this.words.length) return;
    let want = this.words.length * 2;
    while (want < size) want *= 2;
    if (this.align > 1 && want >= 1 << 15 && this.memory !== null) {
      const pages = Math.ceil((want * 4) / 65536);
      try {
        if (!this.memory) {
          this.memory = new WebAssembly.Memory({ initial: pages });
          const next = new Int32Array(this.memory.buffer);
          next.set(this.words.subarray(0, this.top));
          this.words = next;
        } else {
          this.memory.grow(pages - this.memory.buffer.byteLength / 65536);
          this.words = new Int32Array(this.memory.buffer);
        }
        return;
      } catch {
        // no WebAssembly memory to be had (address-space limits): an ordinary array, unaligned
        this.memory = null;
      }
    }
    const next = new Int32Array(want);
    next.set(this.words.subarray(0, this.top));
    this.words = next;
  }

  alloc(src: number[]): number {
    const n = src.length;
    const at = (this.top + this.align - 1) & -this.align;
    // room past the blob for a filter word read at a missing port entry (see `allowsAt`)
    this.ensure(at + n + ARENA_SLACK);
    this.words.set(src, at);
    this.top = at + n;
    return at;
  }

  free(len: number): void {
    this.dead += len;
  }

  /** Worth compacting: more dead words than live ones (and not tiny). */
  get wasteful(): boolean {
    return this.dead > 1 << 16 && this.dead * 2 > this.top;
  }

  /** Moves the given live blobs down, in place; `relocate` is told each blob's new offset. */
  compact(blobs: { off: number; len: number }[], relocate: (i: number, off: number) => void): void {
    const order = blobs.map((_, i) => i).sort((x, y) => blobs[x]!.off - blobs[y]!.off);
    let top = NO_BLOB + HDR;
    for (const i of order) {
      const b = blobs[i]!;
      const at = (top + this.align - 1) & -this.align;
      this.words.copyWithin(at, b.off, b.off + b.len);
      relocate(i, at);
      top = at + b.len;
    }
    this.words.fill(0, top, this.top);
    this.top = top;
    this.dead = 0;
  }

  /** Empties the arena (keeping its memory). */
  reset(): void {
    this.words.fill(0, 0, this.top);
    this.top = NO_BLOB + HDR;
    this.dead = 0;
  }
}
