// The rule model: the security-group rules as given, one at a time, for explanations and
// analysis — which rules allow a connection through a gate (`matchingRules`), which come close
// when none does (`nearRules`), and what a gate admits on a port as address sets and groups
// (`admitted`, for reachability). It reads the rules, interfaces and membership the compiled
// index keeps (RuleSource) and shares no code with its verdict path.
import { addressSet, cidrRange, setHas, Set4, Set6, type Address, type AddressSet } from './addresses.ts';
import {
  portPoint,
  protocolNumber,
  ruleCovers,
  ruleInterval,
  type Direction,
  type GateQuery,
  type InterfaceInput,
  type RuleInput,
} from './sg-rules.ts';

/** What the rule model reads: the rules, interfaces and membership as the policy holds them. */
interface RuleSource {
  getInterface(id: string): InterfaceInput | undefined;
  allInterfaces(): IterableIterator<InterfaceInput>;
  groupRules(id: string): RuleInput[];
  /** the VPC of a group that is set (undefined otherwise) */
  groupVpc(id: string): string | undefined;
  prefixListSet(id: string): AddressSet;
  /** is `a` a private address, in the VPC, of an interface holding the group? */
  isMember(vpcId: string, a: Address, groupId: string): boolean;
}

/** A rule's own address set, parsed once (explanations look at rules one by one). */
const ruleSets = new WeakMap<RuleInput, AddressSet>();

export class RuleModel {
  constructor(private readonly src: RuleSource) {}

  /** The rules that allow the connection through this gate (empty when none does). */
  matchingRules(interfaceId: string, q: GateQuery): RuleInput[] {
    const i = this.src.getInterface(interfaceId);
    if (!i) return [];
    const out: RuleInput[] = [];
    for (const gid of i.groups) {
      const vpcId = this.src.groupVpc(gid);
      if (vpcId === undefined) continue;
      for (const r of this.src.groupRules(gid)) if (r.egress === (q.direction === 'egress') && this.ruleMatches(r, vpcId, q)) out.push(r);
    }
    return out;
  }

  /** One rule (of a group in the VPC) against one connection. */
  ruleMatches(r: RuleInput, vpcId: string, q: GateQuery): boolean {
    if (!ruleCovers(r, q.proto, portPoint(q.proto, q.port, q.icmpType, q.icmpCode))) return false;
    if (r.cidr4 || r.cidr6) {
      let set = ruleSets.get(r);
      if (!set) ruleSets.set(r, (set = addressSet([r.cidr4 ?? r.cidr6!])));
      return setHas(set, q.remote);
    }
    if (r.prefixListId) return setHas(this.src.prefixListSet(r.prefixListId), q.remote);
    if (r.refGroupId) return this.src.isMember(vpcId, q.remote, r.refGroupId);
    return false;
  }

  /** Rules of the interface in that direction for the same protocol, as hints for a reject. */
  nearRules(interfaceId: string, q: GateQuery): RuleInput[] {
    const i = this.src.getInterface(interfaceId);
    if (!i) return [];
    const want = q.direction === 'egress';
    const all = i.groups.flatMap((gid) => this.src.groupRules(gid)).filter((r) => r.egress === want);
    const sameProto = all.filter((r) => protocolNumber(r.protocol) === q.proto || protocolNumber(r.protocol) === -1);
    const point = portPoint(q.proto, q.port, q.icmpType, q.icmpCode);
    const samePort = sameProto.filter((r) => {
      const [a, b] = ruleInterval(r);
      return point >= a && point <= b;
    });
    return (samePort.length ? samePort : sameProto).slice(0, 5);
  }

  /**
   * Everything the gate admits for one protocol and port: the union of its CIDR and prefix-list
   * address sets, the groups whose members it admits, and the rules behind them — the symbolic
   * answer to "who can reach this port", without enumerating addresses. (Per group: its
   * all-protocol rules, then those of the protocol covering the port, in the group's order.)
   */
  admitted(
    interfaceId: string,
    direction: Direction,
    proto: number,
    port?: number,
    icmpType?: number,
    icmpCode?: number,
  ): { set: AddressSet; groups: Map<string, RuleInput[]>; rules: RuleInput[] } {
    const i = this.src.getInterface(interfaceId);
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
        const s = this.src.prefixListSet(r.prefixListId);
        r4.push(...s.v4.ranges());
        r6.push(...s.v6.ranges());
      }
      rules.push(r);
      if (r.refGroupId) groups.set(r.refGroupId, [...(groups.get(r.refGroupId) ?? []), r]);
    };
    const egress = direction === 'egress';
    for (const gid of i?.groups ?? []) {
      if (this.src.groupVpc(gid) === undefined) continue;
      const mine = this.src.groupRules(gid).filter((r) => !!r.egress === egress);
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
    for (const i of this.src.allInterfaces()) if (i.vpcId === vpcId && i.groups.includes(groupId)) out.push(i);
    return out;
  }
}
