// An in-memory table that cannot grow without bound: entries expire (each one's expiry is read
// from the entry, so touching it can extend it) and past `capacity` the oldest entries are
// evicted first. Used for state callers create at will: IMDS tokens, the admin API's open
// connections. Expired entries are dropped when read, and swept when the table is full — at most
// once per capacity/8 insertions, so a table full of live entries evicts in O(1), not O(n).
export class BoundedTable<K, V> {
  private readonly entries = new Map<K, V>();
  private sinceSweep = 0;

  constructor(
    readonly capacity: number,
    /** When an entry stops being valid (epoch ms, on the server clock). */
    private readonly expiresAt: (v: V) => number,
  ) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The live entry, or undefined (an expired one is dropped). */
  get(key: K, now: number): V | undefined {
    const v = this.entries.get(key);
    if (v === undefined) return undefined;
    if (this.expiresAt(v) <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return v;
  }

  /** Adds (or replaces) an entry, making room first: expired entries, then the oldest. */
  set(key: K, value: V, now: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) {
      if (this.sinceSweep >= this.capacity / 8) this.sweep(now);
      for (const k of this.entries.keys()) {
        if (this.entries.size < this.capacity) break;
        this.entries.delete(k);
      }
    }
    this.sinceSweep++;
    this.entries.set(key, value);
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  /** Drops every entry the predicate selects. */
  deleteWhere(pred: (v: V, k: K) => boolean): void {
    for (const [k, v] of this.entries) if (pred(v, k)) this.entries.delete(k);
  }

  /** Drops every expired entry; returns how many. */
  sweep(now: number): number {
    this.sinceSweep = 0;
    let n = 0;
    for (const [k, v] of this.entries) {
      if (this.expiresAt(v) <= now) {
        this.entries.delete(k);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.entries.clear();
  }
}
