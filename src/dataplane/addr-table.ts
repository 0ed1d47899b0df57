// The membership index's IPv4 part, for the verdict path: (VPC, IPv4 address) → which interface
// holds it and a superset of its groups' masks, in flat int32 tables (see layout.ts, SLOT…SUMS).
import * as layout from './layout.ts';

// (module constants of this file: see layout.ts on why)
const { SLOT, SLOT_ADDRESS, SLOT_VPC, SLOT_VALUE, SLOT_MASK, FREE, DELETED, SEVERAL, SUMS, SUM_A, SUM_B } = layout;

/**
 * (VPC, IPv4 address) → value (≥ 0, or SEVERAL) and a mask, open addressing with linear probing.
 * Slots are SLOT int32 words [flipped address, vpc, value, mask] — one probe reads one slot — the
 * value FREE marking an empty slot and DELETED a deleted one.
 *
 * Beside the slots, one word per slot (a quarter of their size): `sums[i]` holds at least the mask
 * bits of every live entry whose probe starts at slot i (it may hold stale bits of entries
 * since deleted or changed, never fewer), so most lookups that only need to rule out a mask read
 * one word of a small array; the stale bits are swept when they pile up.
 */
export class AddrTable {
  slots = new Int32Array(SLOT * 1024).fill(FREE);
  /** per slot: its entry's second mask (see `groupBitB`) */
  masksB = new Int32Array(1024);
  /** per slot i: [SUMS i + SUM_A] a superset of the first masks, [SUMS i + SUM_B] of the second, of the entries whose probe starts at i */
  sums = new Int32Array(SUMS * 1024);
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
      const at = i * SLOT;
      const v = s[at + SLOT_VALUE]!;
      if (v === FREE) return -1;
      if (s[at + SLOT_ADDRESS] === a && s[at + SLOT_VPC] === vpc && v !== DELETED) return i;
      i = (i + 1) & m;
    }
  }

  /** The value of the entry (FREE when there is none). */
  get(vpc: number, a: number): number {
    const i = this.find(vpc, a);
    return i < 0 ? FREE : this.slots[i * SLOT + SLOT_VALUE]!;
  }

  /** The mask of the entry (0 when there is none). */
  maskOf(vpc: number, a: number): number {
    const i = this.find(vpc, a);
    return i < 0 ? 0 : this.slots[i * SLOT + SLOT_MASK]!;
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
      const at = i * SLOT;
      const v = s[at + SLOT_VALUE]!;
      if (v === FREE) break;
      if (v === DELETED) {
        if (free < 0) free = i;
      } else if (s[at + SLOT_ADDRESS] === a && s[at + SLOT_VPC] === vpc) {
        if (s[at + SLOT_MASK] !== mask || this.masksB[i] !== maskB) this.stale++;
        s[at + SLOT_VALUE] = value;
        s[at + SLOT_MASK] = mask;
        this.masksB[i] = maskB;
        this.sums[SUMS * home + SUM_A] = this.sums[SUMS * home + SUM_A]! | mask;
        this.sums[SUMS * home + SUM_B] = this.sums[SUMS * home + SUM_B]! | maskB;
        this.sweep();
        return;
      }
      i = (i + 1) & this.mask;
    }
    if (free >= 0) i = free;
    const at = i * SLOT;
    if (s[at + SLOT_VALUE] === FREE) this.used++;
    s[at + SLOT_ADDRESS] = a;
    s[at + SLOT_VPC] = vpc;
    s[at + SLOT_VALUE] = value;
    s[at + SLOT_MASK] = mask;
    this.masksB[i] = maskB;
    this.sums[SUMS * home + SUM_A] = this.sums[SUMS * home + SUM_A]! | mask;
    this.sums[SUMS * home + SUM_B] = this.sums[SUMS * home + SUM_B]! | maskB;
  }

  delete(vpc: number, a: number): void {
    const s = this.slots;
    let i = AddrTable.hash(vpc, a) & this.mask;
    for (;;) {
      const at = i * SLOT;
      const v = s[at + SLOT_VALUE]!;
      if (v === FREE) return;
      if (v !== DELETED && s[at + SLOT_ADDRESS] === a && s[at + SLOT_VPC] === vpc) {
        s[at + SLOT_VALUE] = DELETED;
        this.stale++;
        this.sweep();
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  clear(): void {
    this.slots = new Int32Array(SLOT * 1024).fill(FREE);
    this.masksB = new Int32Array(1024);
    this.sums = new Int32Array(SUMS * 1024);
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
    for (let i = 0, at = 0; at < s.length; i++, at += SLOT) {
      const v = s[at + SLOT_VALUE]!;
      if (v >= 0 || v === SEVERAL) {
        const home = AddrTable.hash(s[at + SLOT_VPC]!, s[at + SLOT_ADDRESS]!) & this.mask;
        sums[SUMS * home + SUM_A] = sums[SUMS * home + SUM_A]! | s[at + SLOT_MASK]!;
        sums[SUMS * home + SUM_B] = sums[SUMS * home + SUM_B]! | this.masksB[i]!;
      }
    }
    this.stale = 0;
  }

  /** Drops deleted slots; sized for the live ones to fill at most 60%. */
  private rebuild(): void {
    const old = this.slots;
    const oldB = this.masksB;
    const live = (at: number) => old[at + SLOT_VALUE]! >= 0 || old[at + SLOT_VALUE] === SEVERAL;
    let n = 0;
    for (let at = 0; at < old.length; at += SLOT) if (live(at)) n++;
    let capacity = 1024;
    while ((n + 1) * 5 > capacity * 3) capacity *= 2;
    this.slots = new Int32Array(capacity * SLOT).fill(FREE);
    this.masksB = new Int32Array(capacity);
    this.sums = new Int32Array(SUMS * capacity);
    this.mask = capacity - 1;
    this.used = 0;
    this.stale = 0;
    for (let at = 0; at < old.length; at += SLOT)
      if (live(at)) this.set(old[at + SLOT_VPC]!, old[at + SLOT_ADDRESS]!, old[at + SLOT_VALUE]!, old[at + SLOT_MASK]!, oldB[at / SLOT]!);
  }
}
