// The flat form of the compiled policy, for the verdict path. Each group compiles, per direction,
// into one run of int32 words in a shared arena (no objects, no strings, no pointers to chase):
//
//   blob header (HDR words, offsets relative to the blob's start, 0 = nothing):
//     [0] segment of the all-protocol ('-1') rules
//     [1] port index of tcp   [2] udp   [3] icmp   [4] icmpv6
//     [5] table of other protocols: [n, (proto, port index)…]
//   port index: [n, filter (PORT_MAP words), bound0 … bound(n-1), seg0 … seg(n-1)]; bound k
//     starts the stretch of the protocol's port space (ICMP: type*256+code) that segment k covers
//     (0 = nothing allowed); the filter is a bitmap of the 64-point blocks any rule touches
//   segment: [n4, (lo, hi)×n4, nRefs, group handles…, nPl, prefix-list handles…, v6]
//     IPv4 ranges merged and sorted, stored with the sign bit flipped (so int32 order is address
//     order); group references and prefix lists as interned handles; v6 is an index into the
//     blob's side list of IPv6 sets (-1 = none).
//
// A lookup is: a bisection in the port bounds, then one in the segment's ranges — a few cache
// lines whatever the number of rules.
import { cidrRange, Set6 } from './addresses.ts';
import type { RuleInput } from './policy.ts';

export const HDR = 6;
/**
 * Words of a port index's filter: bit k is set when some rule covers a point of [64k, 64k+63]
 * (points in 0..65535), so most lookups of an uncovered port stop at one word.
 */
export const PORT_MAP = 32;

/** The IPv4 address as an int32 ordered like the address. */
export const flip4 = (v: number) => (v ^ 0x80000000) | 0;

export interface CompiledDirection { words: number[]; v6: Set6[] }

export interface Interval { a: number; b: number }

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
  const w: number[] = [0, 0, 0, 0, 0, 0];
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
  const segment = (members: RuleInput[]): number => {
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
    w.push(refs.length, ...refs, pls.length, ...pls);
    if (r6.length) {
      w.push(v6.length);
      v6.push(Set6.from(r6));
    } else w.push(-1);
    return at;
  };
  // Port indexes first (each with its bounds and slots for its segments), their segments after:
  // a blob's header, all-protocol segment and port indexes are contiguous.
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
    const at = w.length;
    w.push(n);
    const map = w.length;
    for (let k = 0; k < PORT_MAP; k++) w.push(0);
    for (const [a, b] of spans) {
      const lo = Math.max(a, 0);
      const hi = Math.min(b, 65535);
      for (let k = lo >> 6; k <= hi >> 6 && lo <= hi; k++) w[map + (k >> 5)] |= 1 << (k & 31);
    }
    w.push(...bounds);
    for (let k = 0; k < n; k++) {
      w.push(0);
      if (members[k]!.length) pending.push([w.length - 1, members[k]!]);
    }
    return at;
  };
  if (all.length) w[0] = segment(all);
  const others: number[] = [];
  const order = [...byProto.keys()].sort((x, y) => rank(x) - rank(y));
  for (const p of order) {
    const at = ports(byProto.get(p)!);
    if (p === 6) w[1] = at;
    else if (p === 17) w[2] = at;
    else if (p === 1) w[3] = at;
    else if (p === 58) w[4] = at;
    else others.push(p, at);
  }
  if (others.length) {
    w[5] = w.length;
    w.push(others.length >> 1, ...others);
  }
  for (const [slot, members] of pending) w[slot] = segment(members);
  return { words: w, v6 };
}

const rank = (p: number) => (p === 6 ? 0 : p === 17 ? 1 : p === 1 ? 2 : p === 58 ? 3 : 4 + p);

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
 * live ones down (blobs hold only relative offsets, so moving one is a copy).
 */
export class Arena {
  words = new Int32Array(1 << 12);
  top = HDR; // words 0..HDR-1: the empty blob (all zero: nothing allowed)
  dead = 0;

  alloc(src: number[]): number {
    const n = src.length;
    if (this.top + n > this.words.length) {
      let size = this.words.length * 2;
      while (size < this.top + n) size *= 2;
      const next = new Int32Array(size);
      next.set(this.words.subarray(0, this.top));
      this.words = next;
    }
    const at = this.top;
    this.words.set(src, at);
    this.top += n;
    return at;
  }

  free(len: number): void {
    this.dead += len;
  }

  /** Worth compacting: more dead words than live ones (and not tiny). */
  get wasteful(): boolean {
    return this.dead > 1 << 16 && this.dead * 2 > this.top;
  }

  /** Moves the given live blobs down; `relocate` is told each blob's new offset. */
  compact(blobs: { off: number; len: number }[], relocate: (i: number, off: number) => void): void {
    const live = this.top - this.dead;
    let size = 1 << 12;
    while (size < live * 1.5) size *= 2;
    const next = new Int32Array(size);
    let top = HDR;
    blobs.forEach((b, i) => {
      next.set(this.words.subarray(b.off, b.off + b.len), top);
      relocate(i, top);
      top += b.len;
    });
    this.words = next;
    this.top = top;
    this.dead = 0;
  }
}

/**
 * IPv4 address → value (≥ 0, or -2), one table per VPC; open addressing with linear probing.
 * Slots are 2 int32 words [flipped address, value], the value -1 marking an empty slot and -3 a
 * deleted one: small enough to stay in the caches next to the rest of the verdict path.
 */
export class AddrTable {
  slots = new Int32Array(2 * 1024).fill(-1);
  mask = 1023;
  used = 0; // live + deleted

  private static hash(a: number): number {
    let h = Math.imul(a, 0x9e3779b1);
    h ^= h >>> 16;
    return h;
  }

  get(a: number): number {
    const s = this.slots;
    const m = this.mask;
    let i = AddrTable.hash(a) & m;
    for (;;) {
      const at = i << 1;
      const v = s[at + 1]!;
      if (v === -1) return -1;
      if (s[at] === a && v !== -3) return v;
      i = (i + 1) & m;
    }
  }

  set(a: number, value: number): void {
    if ((this.used + 1) * 2 > this.mask + 1) this.rebuild();
    const s = this.slots;
    let i = AddrTable.hash(a) & this.mask;
    let free = -1;
    for (;;) {
      const at = i << 1;
      const v = s[at + 1]!;
      if (v === -1) break;
      if (v === -3) { if (free < 0) free = at; } else if (s[at] === a) { s[at + 1] = value; return; }
      i = (i + 1) & this.mask;
    }
    const at = free >= 0 ? free : i << 1;
    if (s[at + 1] === -1) this.used++;
    s[at] = a;
    s[at + 1] = value;
  }

  delete(a: number): void {
    const s = this.slots;
    let i = AddrTable.hash(a) & this.mask;
    for (;;) {
      const at = i << 1;
      const v = s[at + 1]!;
      if (v === -1) return;
      if (v !== -3 && s[at] === a) { s[at + 1] = -3; return; }
      i = (i + 1) & this.mask;
    }
  }

  /** Drops deleted slots; sized for the live ones to fill at most a third. */
  private rebuild(): void {
    const old = this.slots;
    let live = 0;
    for (let at = 0; at < old.length; at += 2) if (old[at + 1]! >= 0 || old[at + 1] === -2) live++;
    let capacity = 1024;
    while ((live + 1) * 3 > capacity) capacity *= 2;
    this.slots = new Int32Array(capacity * 2).fill(-1);
    this.mask = capacity - 1;
    this.used = 0;
    for (let at = 0; at < old.length; at += 2) if (old[at + 1]! >= 0 || old[at + 1] === -2) this.set(old[at]!, old[at + 1]!);
  }
}
