// The flat form of the compiled policy, for the verdict path. Each group compiles, per direction,
// into int32 words (no objects, no strings, no pointers to chase) in two shared arenas: a hot one
// with what nearly every lookup reads, and a cold one with what few do.
//
//   hot blob (starting on a cache line): header (HDR words; offsets relative to the blob's
//     start, 0 = nothing; two 16-bit offsets to a word where so marked):
//       [0] segment of the all-protocol ('-1') rules | what else it holds << 16: prefix lists
//           (ALL_HAS_PL), IPv6 (ALL_HAS_V6)
//       [1] port entry of tcp | of udp << 16   [2] of icmp | of icmpv6 << 16
//       [3] an IPv4 filter of the all-protocol segment's wide ranges (see `ADDR_WIDE`)
//       [4] the all-protocol segment's references' mask
//       [5..6] the IPv4 filter of that segment's ranges (64 bits of /16 blocks, see `ADDR_WIDE`)
//       [7] a filter of its narrow ranges' /20 blocks
//       [8] the references' second mask (see `groupBitB`)
//     then the port entries of tcp (its summary and its filter's first 4 words, for ports below
//     8192, in the header's line), udp, icmp
//     and icmpv6, then the all-protocol segment (read only past the address filter), then
//     the entries of other protocols: most lookups read the header and a filter word, in the
//     blob's first line, and nothing else
//   port entry (the header's offset is that of its filter; ENTRY_SUM words before it summarize
//     what its rules admit whatever the port, see `entrySummary`, so that a remote none of them
//     admits stops at the header's test even on a covered port):
//     [filter (PORT_MAP words), port index (offset in the cold blob), c, (chunk filter, chunk
//     peers) × c, chunk starts (c + 1 words)]: bit k of the filter is set when some rule covers a
//     point of [64k, 64k+63] of the protocol's port space (ICMP: type*256+code), so a lookup of an
//     uncovered port stops at one word; then per chunk of 256 points (c of them, up to the last
//     point covered) a finer filter (bit b: some rule covers a point of its [8b, 8b+7]) and a
//     summary of what the chunk's rules admit (see `chunkPeers`), side by side so that a lookup
//     past the filter reads one more hot line, and only a remote the chunk's rules may admit goes
//     on to the cold index; then the index of the chunk's first bound among the cold index's (n
//     past the last chunk)
//   cold blob: [where the table of other protocols is in the hot blob: [n, (proto, port entry)…],
//     or 0], the port indexes [n, (bound0, seg0) … (bound(n-1), seg(n-1))] (bound k starts the
//     stretch of the port space that segment k covers; segk 0 = nothing allowed; a lookup scans
//     the few bounds of its chunk, one outside 0..65535 bisects them all), then their segments
//     (offsets relative to the cold blob's start)
//   segment: [n4, (lo, hi)×n4, nRefs, refs' mask, group handles…, nPl, prefix-list handles…, v6]
//     IPv4 ranges merged and sorted, stored with the sign bit flipped (so int32 order is address
//     order); group references and prefix lists as interned handles (with the union of the
//     references' `groupBit`s, a one-word filter); v6 is an index into the
//     group direction's side list of IPv6 sets (-1 = none).
//
// A lookup tests the header's line once (address filter, references' mask against a superset of
// the remote's, what the segment holds, the port filter's word: see Policy.allowsAt) and only
// past that test reads the segment, the chunk's finer filter and, for a covered port, a few
// bounds and a segment.
import { cidrRange, Set6 } from './addresses.ts';
import type { RuleInput } from './sg-policy.ts';

export const HDR = 9;
/** Header word 3: the table of other protocols' port entries. */
export const OTHERS = 3;
/**
 * The all-protocol segment's IPv4 filters. A remote passes when its /16 block's bit is set in
 * ADDR_MAP (words 5..6: every block its ranges meet, modulo 64; all bits for a range of 64 blocks
 * or more) and either its block's bit is set in ADDR_WIDE (word 3: the blocks of its wide ranges,
 * those meeting more than 4 /20 blocks, see `wideBit`; all bits for a range of 32 blocks or more)
 * or its /20 block's bit in ADDR_NARROW (word 7: the /20 blocks of its narrow ranges, see
 * `narrowBit`). So a remote whose /16 block holds only narrow ranges elsewhere in the block stops
 * at the header. (The table of other protocols is found through the cold blob's first word.)
 */
export const ADDR_WIDE = 3;
export const ADDR_NARROW = 7;
/** Header words 5..6: see `ADDR_WIDE`. */
export const ADDR_MAP = 5;
/** The bit of an IPv4 address in ADDR_MAP: its /16 block, modulo 64. */
export const addressBit = (v: number) => (v >>> 16) & 63;
/** Its bit in ADDR_WIDE: its /16 block, hashed. */
export const wideBit = (v: number) => ((v >>> 16) ^ (v >>> 21)) & 31;
/** Its bit in ADDR_NARROW: its /20 block, hashed (the 16 of a /16 block on 16 bits). */
export const narrowBit = (v: number) => ((v >>> 12) ^ (v >>> 16) ^ (v >>> 21)) & 31;
/** A range meeting more /20 blocks than this is wide (see `ADDR_WIDE`). */
const NARROW = 4;
/** Header word 4: the all-protocol segment's references' mask (see `groupBit`; 0 = none). */
export const ALL_REFS = 4;
/** In header word 0, above the segment's offset: what else it holds. */
export const ALL_HAS_PL = 1 << 16;
export const ALL_HAS_V6 = 2 << 16;
export const PORT_MAP = 32;
/** A port entry's chunks (past its filter, its cold index's offset and the number of chunks) are of 1 << CHUNK_BITS points. */
export const CHUNK_BITS = 8;

/** A group handle's bit in a one-word filter of groups. */
export const groupBit = (g: number) => 1 << (g & 31);
/**
 * A second bit of a group handle (from its next five bits): a reference filter tests both masks,
 * so that it tells apart up to 1024 groups where one word alone tells apart 32.
 */
export const groupBitB = (g: number) => 1 << ((g >>> 5) & 31);
/** Header word 8: the all-protocol segment's references' second mask (see `groupBitB`). */
export const ALL_REFS_B = 8;

/** The IPv4 address as an int32 ordered like the address. */
export const flip4 = (v: number) => (v ^ 0x80000000) | 0;

export interface CompiledDirection { hot: number[]; cold: number[]; v6: Set6[] }

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
  // cold word 0: where the table of other protocols is in the hot blob (0 = none)
  const cold: number[] = [0];
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
    const merged: number[] = [];
    for (const [a, b] of r4) {
      const n = merged.length;
      if (n && a <= merged[n - 1]! + 1) merged[n - 1] = Math.max(merged[n - 1]!, b);
      else merged.push(a, b);
    }
    w.push(merged.length >> 1);
    for (const x of merged) w.push(flip4(x));
    refs.sort((x, y) => x - y);
    w.push(refs.length, refs.reduce((m, g) => m | groupBit(g), 0), ...refs, pls.length, ...pls);
    if (r6.length) {
      w.push(v6.length);
      v6.push(Set6.from(r6));
    } else w.push(-1);
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
    // the entry's peers, summed up in the ENTRY_SUM words before it (see `entrySummary`)
    hot.push(...entrySummary(list, group));
    const entry = hot.length;
    const map = hot.length;
    for (let k = 0; k < PORT_MAP; k++) hot.push(0);
    hot.push(cold.length);
    // the spans within 0..65535, and the chunks of CHUNK points up to the last point covered
    const inside: [number, number, number][] = [];
    spans.forEach(([a, b], x) => { if (Math.max(a, 0) <= Math.min(b, 65535)) inside.push([Math.max(a, 0), Math.min(b, 65535), x]); });
    let top = -1;
    for (const [, b] of inside) top = Math.max(top, b);
    const chunks = top < 0 ? 0 : (top >> CHUNK_BITS) + 1;
    hot.push(chunks);
    // the chunks' (filter, peers) pairs, then where each chunk's bounds start (and n past the last)
    const fine = hot.length;
    for (let i = 0; i < chunks; i++) hot.push(0, 0);
    for (let i = 0, k = 0; i <= chunks; i++) {
      while (k < n && bounds[k]! < i << CHUNK_BITS) k++;
      hot.push(k);
    }
    for (const [lo, hi, x] of inside) {
      for (let k = lo >> 6; k <= hi >> 6; k++) hot[map + (k >> 5)] |= 1 << (k & 31);
      const peers = chunkPeers(list[x]!, group);
      for (let i = lo >> CHUNK_BITS; i <= hi >> CHUNK_BITS; i++) {
        const first = i === lo >> CHUNK_BITS ? (lo >> 3) & 31 : 0;
        const last = i === hi >> CHUNK_BITS ? (hi >> 3) & 31 : 31;
        hot[fine + 2 * i] |= (last === 31 ? -1 : (1 << (last + 1)) - 1) & ~((1 << first) - 1);
        hot[fine + 2 * i + 1] |= peers;
      }
    }
    cold.push(n);
    for (let k = 0; k < n; k++) {
      cold.push(bounds[k]!, 0);
      if (members[k]!.length) pending.push([cold.length - 1, members[k]!]);
    }
    return entry;
  };
  // tcp, udp, icmp, icmpv6 first: their offsets are small (16 bits in the header)
  for (const [p, word, shift] of [[6, 1, 0], [17, 1, 16], [1, 2, 0], [58, 2, 16]] as const) {
    const list = byProto.get(p);
    if (list) hot[word] |= ports(list) << shift;
  }
  // the all-protocol segment: a lookup reads it only when the header lets it
  const s = all.length ? segment(hot, all) : 0;
  const others: number[] = [];
  for (const [p, list] of byProto) if (p !== 6 && p !== 17 && p !== 1 && p !== 58) others.push(p, ports(list));
  if (others.length) {
    cold[0] = hot.length;
    hot.push(others.length >> 1, ...others);
  }
  if (s) {
    hot[0] = s;
    // the all-protocol segment's address filter
    for (let k = 0; k < hot[s]!; k++) {
      const lo = (hot[s + 1 + 2 * k]! ^ 0x80000000) >>> 0;
      const hi = (hot[s + 2 + 2 * k]! ^ 0x80000000) >>> 0;
      const first = Math.floor(lo / 65536);
      const last = Math.floor(hi / 65536);
      for (let b = first; b <= last && b < first + 64; b++) hot[ADDR_MAP + ((b & 63) >> 5)] |= 1 << (b & 31);
      const first20 = Math.floor(lo / 4096);
      const last20 = Math.floor(hi / 4096);
      if (last20 - first20 < NARROW) for (let z = first20; z <= last20; z++) hot[ADDR_NARROW] |= 1 << narrowBit(z * 4096);
      else if (last - first >= 31) hot[ADDR_WIDE] = -1;
      else for (let b = first; b <= last; b++) hot[ADDR_WIDE] |= 1 << wideBit(b * 65536);
    }
    const r = s + 1 + 2 * hot[s]!;
    const nRef = hot[r]!;
    hot[ALL_REFS] = hot[r + 1]!;
    for (let k = 0; k < nRef; k++) hot[ALL_REFS_B] |= groupBitB(hot[r + 2 + k]!);
    const nPl = hot[r + 2 + nRef]!;
    hot[0] |= (nPl ? ALL_HAS_PL : 0) | (hot[r + 3 + nRef + nPl]! >= 0 ? ALL_HAS_V6 : 0);
  }
  for (const [slot, members] of pending) cold[slot] = segment(cold, members);
  return { hot, cold, v6 };
}

/**
 * What a port entry's rules admit, whatever the port: [IPv4 filter (bit (v >>> 16) & 31 of each
 * /16 block their ranges meet; all bits for a prefix list or a range of 32 blocks or more), the
 * references' `groupBit`s, their `groupBitB`s]. An IPv4 remote outside the filter and without a
 * referenced group's bits is allowed by none of them (IPv6 remotes are not filtered).
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
      else for (let b = first; b <= last; b++) addr |= 1 << (b & 31);
    } else if (r.prefixListId) addr = -1;
    else if (r.refGroupId) {
      const g = group(r.refGroupId);
      refs |= groupBit(g);
      refsB |= groupBitB(g);
    }
  }
  return [addr, refs, refsB];
}
/**
 * What one rule admits, in a chunk's peers word (see `chunkPeer`): the low 16 bits are an IPv4
 * filter (bit (v >>> 16) & 15 of each /16 block its range meets; all of them for a prefix list or
 * a range of 16 blocks or more), the high 16 a reference's group, bit 16 + (g & 15). IPv6 ranges
 * add nothing (IPv6 remotes are not filtered).
 */
function chunkPeers(r: RuleInput, group: (id: string) => number): number {
  if (r.cidr4) {
    const c = cidrRange(r.cidr4);
    if (!c || c.family !== 4) return 0;
    const first = Math.floor(c.r[0] / 65536);
    const last = Math.floor(c.r[1] / 65536);
    if (last - first >= 15) return 0xffff;
    let bits = 0;
    for (let b = first; b <= last; b++) bits |= 1 << (b & 15);
    return bits;
  }
  if (r.prefixListId) return 0xffff;
  if (r.refGroupId) return 1 << (16 + (group(r.refGroupId) & 15));
  return 0;
}

/**
 * Does a chunk's peers word (see `chunkPeers`) let an IPv4 remote through: `v` its address, `rsum`
 * a superset of its groups' `groupBit`s?
 */
export const chunkPeer = (peers: number, v: number, rsum: number): number =>
  ((peers >>> ((v >>> 16) & 15)) & 1) | (peers & ((rsum | (rsum >>> 16)) << 16));

/** Words of summary before each port entry (see `entrySummary`). */
export const ENTRY_SUM = 3;

function bisect(bounds: number[], v: number): number {
  let a = 0;
  let b = bounds.length - 1;
  let found = -1;
  while (a <= b) {
    const m = (a + b) >>> 1;
    if (bounds[m]! <= v) { found = m; a = m + 1; } else b = m - 1;
  }
  return found;
}

/**
 * The arena: blobs are appended; a replaced blob's words are dead until a compaction moves the
 * live ones down (blobs hold only relative offsets, so moving one is a copy). With `align`, blobs
 * start on a multiple of that many words; a large arena lives in a WebAssembly.Memory, whose
 * buffer is page-aligned, so that multiple of 16 words is a cache line.
 */
export class Arena {
  words = new Int32Array(1 << 12);
  top = HDR; // words 0..HDR-1: the empty blob (all zero: nothing allowed); offset 0 = none
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
    // room past the blob for a filter word read at a port entry's offset 0 (see `allowsAt`)
    this.ensure(at + n + PORT_MAP);
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
    let top = HDR;
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
    this.top = HDR;
    this.dead = 0;
  }
}

/**
 * (VPC, IPv4 address) → value (≥ 0, or -2) and a mask, open addressing with linear probing. Slots
 * are 4 int32 words [flipped address, vpc, value, mask] — one probe reads one slot — the value -1
 * marking an empty slot and -3 a deleted one.
 *
 * Beside the slots, one word per slot (a quarter of their size): `sums[i]` holds at least the mask
 * bits of every live entry whose probe starts at slot i (it may hold stale bits of entries
 * since deleted or changed, never fewer), so most lookups that only need to rule out a mask read
 * one word of a small array; the stale bits are swept when they pile up.
 */
export class AddrTable {
  slots = new Int32Array(4 * 1024).fill(-1);
  /** per slot: its entry's second mask (see `groupBitB`) */
  masksB = new Int32Array(1024);
  /** per slot i: [2i] a superset of the first masks, [2i + 1] of the second, of the entries whose probe starts at i */
  sums = new Int32Array(2 * 1024);
  mask = 1023;
  used = 0; // live + deleted
  /** deletions and mask changes since `sums` was last swept */
  private stale = 0;

  static hash(vpc: number, a: number): number {
    const h = Math.imul(a ^ Math.imul(vpc, 0x85ebca6b), 0x9e3779b1);
    return h ^ (h >>> 16);
  }

  /** The slot of the entry (-1 when there is none). */
  find(vpc: number, a: number): number {
    const s = this.slots;
    const m = this.mask;
    let i = AddrTable.hash(vpc, a) & m;
    for (;;) {
      const at = i << 2;
      const v = s[at + 2]!;
      if (v === -1) return -1;
      if (s[at] === a && s[at + 1] === vpc && v !== -3) return i;
      i = (i + 1) & m;
    }
  }

  /** The value of the entry (-1 when there is none). */
  get(vpc: number, a: number): number {
    const i = this.find(vpc, a);
    return i < 0 ? -1 : this.slots[(i << 2) + 2]!;
  }

  /** The mask of the entry (0 when there is none). */
  maskOf(vpc: number, a: number): number {
    const i = this.find(vpc, a);
    return i < 0 ? 0 : this.slots[(i << 2) + 3]!;
  }

  /** The second mask of the entry (0 when there is none). */
  maskBOf(vpc: number, a: number): number {
    const i = this.find(vpc, a);
    return i < 0 ? 0 : this.masksB[i]!;
  }

  set(vpc: number, a: number, value: number, mask: number, maskB = 0): void {
    if ((this.used + 1) * 10 > (this.mask + 1) * 7) this.rebuild();
    const s = this.slots;
    const home = AddrTable.hash(vpc, a) & this.mask;
    let i = home;
    let free = -1;
    for (;;) {
      const at = i << 2;
      const v = s[at + 2]!;
      if (v === -1) break;
      if (v === -3) { if (free < 0) free = i; } else if (s[at] === a && s[at + 1] === vpc) {
        if (s[at + 3] !== mask || this.masksB[i] !== maskB) this.stale++;
        s[at + 2] = value;
        s[at + 3] = mask;
        this.masksB[i] = maskB;
        this.sums[2 * home] |= mask;
        this.sums[2 * home + 1] |= maskB;
        this.sweep();
        return;
      }
      i = (i + 1) & this.mask;
    }
    if (free >= 0) i = free;
    const at = i << 2;
    if (s[at + 2] === -1) this.used++;
    s[at] = a;
    s[at + 1] = vpc;
    s[at + 2] = value;
    s[at + 3] = mask;
    this.masksB[i] = maskB;
    this.sums[2 * home] |= mask;
    this.sums[2 * home + 1] |= maskB;
  }

  delete(vpc: number, a: number): void {
    const s = this.slots;
    let i = AddrTable.hash(vpc, a) & this.mask;
    for (;;) {
      const at = i << 2;
      const v = s[at + 2]!;
      if (v === -1) return;
      if (v !== -3 && s[at] === a && s[at + 1] === vpc) {
        s[at + 2] = -3;
        this.stale++;
        this.sweep();
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  clear(): void {
    this.slots = new Int32Array(4 * 1024).fill(-1);
    this.masksB = new Int32Array(1024);
    this.sums = new Int32Array(2 * 1024);
    this.mask = 1023;
    this.used = 0;
    this.stale = 0;
  }

  /** Recomputes `sums` from the live entries once stale bits have piled up. */
  private sweep(): void {
    if (this.stale * 8 < this.mask + 1) return;
    const s = this.slots;
    const sums = this.sums;
    sums.fill(0);
    for (let i = 0, at = 0; at < s.length; i++, at += 4) {
      const v = s[at + 2]!;
      if (v >= 0 || v === -2) {
        const home = AddrTable.hash(s[at + 1]!, s[at]!) & this.mask;
        sums[2 * home] |= s[at + 3]!;
        sums[2 * home + 1] |= this.masksB[i]!;
      }
    }
    this.stale = 0;
  }

  /** Drops deleted slots; sized for the live ones to fill at most 60%. */
  private rebuild(): void {
    const old = this.slots;
    const oldB = this.masksB;
    const live = (at: number) => old[at + 2]! >= 0 || old[at + 2] === -2;
    let n = 0;
    for (let at = 0; at < old.length; at += 4) if (live(at)) n++;
    let capacity = 1024;
    while ((n + 1) * 5 > capacity * 3) capacity *= 2;
    this.slots = new Int32Array(capacity * 4).fill(-1);
    this.masksB = new Int32Array(capacity);
    this.sums = new Int32Array(2 * capacity);
    this.mask = capacity - 1;
    this.used = 0;
    this.stale = 0;
    for (let at = 0; at < old.length; at += 4) if (live(at)) this.set(old[at + 1]!, old[at]!, old[at + 2]!, old[at + 3]!, oldB[at >> 2]!);
  }
}
