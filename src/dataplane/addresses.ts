// Address sets for the data plane: sorted, merged intervals searched by bisection. IPv4 as
// plain numbers (the hot path), IPv6 as bigints.
import { addressToBigInt, parseCidr } from '../core/cidr.ts';

export type Address = { family: 4; v: number } | { family: 6; v: bigint };

export function parseAddress(text: string): Address | undefined {
  const a = addressToBigInt(text);
  if (!a) return undefined;
  return a.family === 4 ? { family: 4, v: Number(a.value) } : { family: 6, v: a.value };
}

/** Disjoint, sorted closed intervals [lo, hi] of IPv4 addresses. */
export class Set4 {
  private constructor(
    private readonly lo: Float64Array,
    private readonly hi: Float64Array,
  ) {}
  static readonly EMPTY = new Set4(new Float64Array(0), new Float64Array(0));

  static from(ranges: [number, number][]): Set4 {
    if (ranges.length === 0) return Set4.EMPTY;
    ranges.sort((a, b) => a[0] - b[0]);
    const lo: number[] = [];
    const hi: number[] = [];
    for (const [a, b] of ranges) {
      const n = lo.length;
      if (n && a <= hi[n - 1]! + 1) hi[n - 1] = Math.max(hi[n - 1]!, b);
      else {
        lo.push(a);
        hi.push(b);
      }
    }
    return new Set4(Float64Array.from(lo), Float64Array.from(hi));
  }

  get size(): number {
    return this.lo.length;
  }

  has(v: number): boolean {
    const lo = this.lo;
    let a = 0;
    let b = lo.length - 1;
    while (a <= b) {
      const m = (a + b) >>> 1;
      if (lo[m]! <= v) {
        if (v <= this.hi[m]!) return true;
        a = m + 1;
      } else b = m - 1;
    }
    return false;
  }

  ranges(): [number, number][] {
    return Array.from(this.lo, (l, i) => [l, this.hi[i]!]);
  }
}

/** Disjoint, sorted closed intervals of IPv6 addresses. */
export class Set6 {
  private constructor(
    private readonly lo: bigint[],
    private readonly hi: bigint[],
  ) {}
  static readonly EMPTY = new Set6([], []);

  static from(ranges: [bigint, bigint][]): Set6 {
    if (ranges.length === 0) return Set6.EMPTY;
    ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const lo: bigint[] = [];
    const hi: bigint[] = [];
    for (const [a, b] of ranges) {
      const n = lo.length;
      if (n && a <= hi[n - 1]! + 1n) hi[n - 1] = hi[n - 1]! > b ? hi[n - 1]! : b;
      else {
        lo.push(a);
        hi.push(b);
      }
    }
    return new Set6(lo, hi);
  }

  get size(): number {
    return this.lo.length;
  }

  has(v: bigint): boolean {
    let a = 0;
    let b = this.lo.length - 1;
    while (a <= b) {
      const m = (a + b) >>> 1;
      if (this.lo[m]! <= v) {
        if (v <= this.hi[m]!) return true;
        a = m + 1;
      } else b = m - 1;
    }
    return false;
  }

  ranges(): [bigint, bigint][] {
    return this.lo.map((l, i) => [l, this.hi[i]!]);
  }
}

export interface AddressSet {
  v4: Set4;
  v6: Set6;
}
export const EMPTY_SET: AddressSet = { v4: Set4.EMPTY, v6: Set6.EMPTY };

type CidrRange = { family: 4; r: [number, number] } | { family: 6; r: [bigint, bigint] };

// A group's sets are compiled again on every change to it: each CIDR's range is worked out once
// (shared, frozen), up to a bound.
const ranges = new Map<string, CidrRange | null>();

export function cidrRange(cidr: string): CidrRange | undefined {
  let r = ranges.get(cidr);
  if (r === undefined) {
    r = computeRange(cidr) ?? null;
    if (r) Object.freeze(Object.freeze(r).r);
    if (ranges.size >= 10_000) ranges.clear();
    ranges.set(cidr, r);
  }
  return r ?? undefined;
}

function computeRange(cidr: string): CidrRange | undefined {
  const c = parseCidr(cidr);
  if (!c) return undefined;
  const size = 1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix);
  if (c.family === 4) return { family: 4, r: [Number(c.base), Number(c.base + size - 1n)] };
  return { family: 6, r: [c.base, c.base + size - 1n] };
}

export function addressSet(cidrs: Iterable<string>): AddressSet {
  const r4: [number, number][] = [];
  const r6: [bigint, bigint][] = [];
  for (const c of cidrs) {
    const r = cidrRange(c);
    if (!r) continue;
    if (r.family === 4) r4.push(r.r);
    else r6.push(r.r);
  }
  return { v4: Set4.from(r4), v6: Set6.from(r6) };
}

export function setHas(s: AddressSet, a: Address): boolean {
  return a.family === 4 ? s.v4.has(a.v) : s.v6.has(a.v);
}
