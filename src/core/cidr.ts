// CIDR and address maths on top of ipaddr.js: parsing as AWS accepts it, canonical form
// (host bits cleared), containment and overlap.
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;
export interface Cidr {
  family: Family;
  /** network address as a bigint (host bits cleared) */
  base: bigint;
  prefix: number;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

function bytesToBigInt(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function bigIntToBytes(v: bigint, len: number): number[] {
  const out = new Array<number>(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function addressToBigInt(addr: string): { family: Family; value: bigint } | undefined {
  try {
    if (ipaddr.IPv4.isValidFourPartDecimal(addr)) return { family: 4, value: bytesToBigInt(ipaddr.IPv4.parse(addr).toByteArray()) };
    if (ipaddr.IPv6.isValid(addr) && !addr.includes('%')) return { family: 6, value: bytesToBigInt(ipaddr.IPv6.parse(addr).toByteArray()) };
  } catch {
    /* fallthrough */
  }
  return undefined;
}

export function bigIntToAddress(family: Family, v: bigint): string {
  const bytes = bigIntToBytes(v, family === 4 ? 4 : 16);
  return family === 4 ? new ipaddr.IPv4(bytes).toString() : ipaddr.fromByteArray(bytes).toString();
}

// Rules are compiled again on every change to their group: parsed CIDRs are remembered
// (frozen, shared), up to a bound.
const parsed = new Map<string, Cidr | null>();

/** Parses `a.b.c.d/n` or `x::/n` strictly (the prefix is required), clearing host bits. */
export function parseCidr(text: string, family?: Family): Cidr | undefined {
  if (typeof text !== 'string') return undefined;
  const key = `${family ?? 0}\u0000${text}`;
  let c = parsed.get(key);
  if (c === undefined) {
    c = parseCidrUncached(text, family) ?? null;
    if (c) Object.freeze(c);
    if (parsed.size >= 10_000) parsed.clear();
    parsed.set(key, c);
  }
  return c ?? undefined;
}

function parseCidrUncached(text: string, family?: Family): Cidr | undefined {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const addr = addressToBigInt(m[1]!);
  if (!addr || (family && addr.family !== family)) return undefined;
  const prefix = Number(m[2]);
  const bits = BITS[addr.family];
  if (prefix > bits) return undefined;
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  return { family: addr.family, base: addr.value & ~hostMask, prefix };
}

const formatted = new WeakMap<Cidr, string>();
export function formatCidr(c: Cidr): string {
  // parsed CIDRs are shared and frozen: their text is worked out once
  const known = Object.isFrozen(c) ? formatted.get(c) : undefined;
  if (known !== undefined) return known;
  const text = `${bigIntToAddress(c.family, c.base)}/${c.prefix}`;
  if (Object.isFrozen(c)) formatted.set(c, text);
  return text;
}

export function canonicalCidr(text: string, family?: Family): string | undefined {
  const c = parseCidr(text, family);
  return c && formatCidr(c);
}

export function size(c: Cidr): bigint {
  return 1n << BigInt(BITS[c.family] - c.prefix);
}

export function last(c: Cidr): bigint {
  return c.base + size(c) - 1n;
}

export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.prefix <= inner.prefix && inner.base >= outer.base && last(inner) <= last(outer);
}

export function containsAddress(c: Cidr, family: Family, v: bigint): boolean {
  return c.family === family && v >= c.base && v <= last(c);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.base <= last(b) && b.base <= last(a);
}
