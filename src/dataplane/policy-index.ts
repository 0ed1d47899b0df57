// The compiled index's tables and their upkeep: ids interned to dense handles, each group's two
// directions compiled into blobs in the arenas (gate-index.ts), the interface table, and the
// membership index of which interfaces hold each private address. Group references and prefix
// lists stay symbolic: a reference is checked against the membership index, a prefix list against
// its own set. So a rule change recompiles one group, a membership or address change touches one
// index entry, a prefix-list edit one set: the cost of a change is proportional to what changed.
// The verdict path that reads these tables is CompiledPolicy (compiled-policy.ts); their words
// are named in layout.ts.
import { addressSet, parseAddress, EMPTY_SET, type Set6, type Address, type AddressSet } from './addresses.ts';
import { AddrTable } from './addr-table.ts';
import { Arena, compileDirectionWords, type CompiledDirection } from './gate-index.ts';
import * as layout from './layout.ts';
import { protocolNumber, ruleInterval, type GroupInput, type InterfaceInput, type RuleInput } from './sg-rules.ts';

// (module constants of this file: see layout.ts on why)
const {
  groupBit,
  groupBitB,
  flip4,
  HDR,
  COLD_OTHERS,
  NO_BLOB,
  LINE,
  DIRECTIONS,
  INGRESS,
  EGRESS,
  ROW,
  ROW_HEAD,
  ROW_GROUP,
  ROW_GROUPS,
  COUNT,
  VPC_SHIFT,
  SEVERAL,
} = layout;

interface GroupRec {
  vpcId: string;
  rules: RuleInput[];
}

/** The key of a (VPC handle, private address) pair in the membership index. */
export const holderKey = (vpc: number, a: Address) => `${vpc}/${a.family}/${a.v}`;

const protocolOf = (r: RuleInput) => protocolNumber(r.protocol);

export class PolicyIndex {
  // ---- interned ids: groups, VPCs, prefix lists and interfaces are dense integers -----------
  protected readonly groupIds = new Map<string, number>();
  protected readonly groupRecs: (GroupRec | undefined)[] = [];
  /**
   * per group handle, DIRECTIONS entries (INGRESS, EGRESS): the offsets of its hot and cold blobs
   * in the arenas (NO_BLOB = empty) and their lengths
   */
  protected gOff = new Int32Array(256);
  protected gCold = new Int32Array(256);
  protected gLen: number[] = [];
  protected gLenCold: number[] = [];
  protected gV6: Set6[][] = [];
  protected readonly hot = new Arena(LINE);
  protected readonly cold = new Arena();

  protected readonly vpcIds = new Map<string, number>();
  protected readonly plIds = new Map<string, number>();
  protected plSets: AddressSet[] = [];

  protected readonly interfaces = new Map<string, InterfaceInput>();
  protected readonly ifHandles = new Map<string, number>();
  /** per interface handle, its row (layout.ts: ROW words) */
  protected ifTab = new Int32Array(ROW * 256);
  protected ifGroups: number[][] = [];
  protected ifAddrs: Address[][] = [];
  protected ifFree: number[] = [];
  protected ifNext = 0;

  /** (vpc, private address) → handles of the interfaces holding it (one entry per address held) */
  protected readonly holders = new Map<string, number[]>();
  /** the IPv4 part of `holders` for the verdict path: the one holder, or SEVERAL */
  protected readonly fast4 = new AddrTable();

  /** counters for benchmarks and tests */
  compiles = 0;
  /**
   * Bumped by every change to the interface table (setInterface, removeInterface, clear): what is
   * read of an interface by id — its handle, its record — is current while this stays the same
   * (DataPlane's resolved ends compare it instead of looking the id up again).
   */
  generation = 0;

  private groupHandle(id: string): number {
    let h = this.groupIds.get(id);
    if (h === undefined) {
      h = this.groupIds.size;
      this.groupIds.set(id, h);
      if (DIRECTIONS * (h + 1) > this.gOff.length) {
        const next = new Int32Array(this.gOff.length * 2);
        next.set(this.gOff);
        this.gOff = next;
        const nextCold = new Int32Array(this.gCold.length * 2);
        nextCold.set(this.gCold);
        this.gCold = nextCold;
      }
      for (let d = 0; d < DIRECTIONS; d++) {
        this.gLen.push(0);
        this.gLenCold.push(0);
        this.gV6.push([]);
      }
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
    this.place(
      DIRECTIONS * h + INGRESS,
      compileDirectionWords(
        g.rules.filter((r) => !r.egress),
        protocolOf,
        ruleInterval,
        group,
        pl,
      ),
    );
    this.place(
      DIRECTIONS * h + EGRESS,
      compileDirectionWords(
        g.rules.filter((r) => r.egress),
        protocolOf,
        ruleInterval,
        group,
        pl,
      ),
    );
    this.compact();
  }

  removeGroup(id: string): void {
    const h = this.groupIds.get(id);
    if (h === undefined) return;
    this.groupRecs[h] = undefined;
    this.place(DIRECTIONS * h + INGRESS, undefined);
    this.place(DIRECTIONS * h + EGRESS, undefined);
  }

  private place(gd: number, c: CompiledDirection | undefined): void {
    if (this.gOff[gd] !== NO_BLOB) this.hot.free(this.gLen[gd]!);
    if (this.gCold[gd] !== NO_BLOB) this.cold.free(this.gLenCold[gd]!);
    const empty = !c || (c.hot.length === HDR && c.hot.every((x) => x === 0));
    this.gOff[gd] = empty ? NO_BLOB : this.hot.alloc(c.hot);
    this.gLen[gd] = empty ? 0 : c.hot.length;
    // (a cold blob of its first words only holds nothing)
    this.gCold[gd] = empty || c.cold.length <= COLD_OTHERS + 1 ? NO_BLOB : this.cold.alloc(c.cold);
    this.gLenCold[gd] = empty ? 0 : c.cold.length;
    this.gV6[gd] = c?.v6 ?? [];
  }

  /** Moves the live blobs of an arena with too many dead words down. */
  private compact(): void {
    for (const [arena, off, len] of [
      [this.hot, this.gOff, this.gLen],
      [this.cold, this.gCold, this.gLenCold],
    ] as const) {
      if (!arena.wasteful) continue;
      const live: number[] = [];
      for (let gd = 0; gd < DIRECTIONS * this.groupIds.size; gd++) if (off[gd] !== NO_BLOB) live.push(gd);
      arena.compact(
        live.map((gd) => ({ off: off[gd]!, len: len[gd]! })),
        (i, at) => {
          off[live[i]!] = at;
        },
      );
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
    this.generation++;
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
    this.ifTab[base + ROW_HEAD] = Math.min(groups.length, COUNT) | (vpc << VPC_SHIFT);
    for (let k = 0; k < ROW_GROUPS; k++) this.ifTab[base + ROW_GROUP + k] = groups[k] ?? 0;
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
    const vpc = this.ifTab[h * ROW + ROW_HEAD]! >>> VPC_SHIFT;
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
      for (const h of list)
        for (const g of this.ifGroups[h]!) {
          mask |= groupBit(g);
          maskB |= groupBitB(g);
        }
      this.fast4.set(vpc, flip4(a.v), list.every((x) => x === list[0]) ? list[0]! : SEVERAL, mask, maskB);
    }
  }

  removeInterface(id: string): void {
    const h = this.ifHandles.get(id);
    if (h === undefined) return;
    this.generation++;
    this.unindex(h);
    this.ifTab.fill(0, h * ROW, (h + 1) * ROW);
    this.ifGroups[h] = [];
    this.ifHandles.delete(id);
    this.interfaces.delete(id);
    this.ifFree.push(h);
  }

  clear(): void {
    this.generation++;
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

  // ---- what was given, by id --------------------------------------------------------------

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

  /** The VPC of a group that is set (undefined for one only referenced, or removed). */
  groupVpc(id: string): string | undefined {
    const h = this.groupIds.get(id);
    return h === undefined ? undefined : this.groupRecs[h]?.vpcId;
  }

  prefixListSet(id: string): AddressSet {
    const h = this.plIds.get(id);
    return h === undefined ? EMPTY_SET : this.plSets[h]!;
  }

  /** Is `a` a private address, in the VPC, of an interface holding the group? */
  isMember(vpcId: string, a: Address, groupId: string): boolean {
    const vpc = this.vpcIds.get(vpcId);
    const g = this.groupIds.get(groupId);
    if (vpc === undefined || g === undefined) return false;
    return (this.holders.get(holderKey(vpc, a)) ?? []).some((h) => this.ifGroups[h]!.includes(g));
  }
}
