// The engine tests' one reference evaluator of security-group rules, written straight from AWS's
// semantics (VPC User Guide, "Security group rules"): rules only allow; every rule of every group
// on the interface counts; a rule matches a packet of its protocol (any, for '-1') within its
// ports (ICMP: its type, and code, -1 for any) from (ingress) or to (egress) its peer — a CIDR
// block, a prefix list's CIDR blocks, or a referenced group: the private addresses, in the rule's
// group's VPC, of the interfaces that have that group. One rule at a time, over plain data, and
// slow on purpose: it shares no code with the engine (src/dataplane/) it judges — its own table
// of protocols, its own CIDR arithmetic on the bigints of src/core/cidr.ts.
import { addressToBigInt, parseCidr } from '../../src/core/cidr.ts';
import type { GroupInput, InterfaceInput, RuleInput } from '../../src/dataplane/sg-rules.ts';

/** What the reference judges by: the groups, interfaces and prefix lists by id. */
export interface Estate {
  groups: ReadonlyMap<string, GroupInput>;
  interfaces: ReadonlyMap<string, InterfaceInput>;
  prefixLists: ReadonlyMap<string, readonly string[]>;
}

/** One new connection through one gate of an interface: `remote` is the other end's address. */
export interface Query {
  iface: string;
  egress: boolean;
  proto: number;
  port: number;
  icmpType: number;
  icmpCode: number;
  remote: string;
}

/** An estate from lists (ids as keys). */
export function estateOf(e: { groups: GroupInput[]; interfaces: InterfaceInput[]; prefixLists: Record<string, string[]> }): Estate {
  return {
    groups: new Map(e.groups.map((g) => [g.id, g])),
    interfaces: new Map(e.interfaces.map((i) => [i.id, i])),
    prefixLists: new Map(Object.entries(e.prefixLists)),
  };
}

const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 };

/** Is the address in the CIDR block (of its family)? */
export function inCidr(cidr: string, addr: string): boolean {
  const c = parseCidr(cidr);
  const a = addressToBigInt(addr);
  if (!c || !a || c.family !== a.family) return false;
  const size = 1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix);
  return a.value >= c.base && a.value < c.base + size;
}

/** The same address, however written? */
export function sameAddress(x: string, y: string): boolean {
  const a = addressToBigInt(x);
  const b = addressToBigInt(y);
  return !!a && !!b && a.family === b.family && a.value === b.value;
}

/** Does rule `r` of group `g` let the connection through (its direction aside)? */
export function ruleAllows(e: Estate, g: GroupInput, r: RuleInput, q: Query): boolean {
  if (r.protocol !== '-1') {
    const p = Object.hasOwn(PROTOCOLS, r.protocol) ? PROTOCOLS[r.protocol]! : Number(r.protocol);
    if (p !== q.proto) return false;
    if (p === 6 || p === 17) {
      if (q.port < r.from! || q.port > r.to!) return false;
    } else if (p === 1 || p === 58) {
      if (r.from !== -1 && r.from !== q.icmpType) return false;
      if (r.from !== -1 && r.to !== -1 && r.to !== q.icmpCode) return false;
    }
  }
  if (r.cidr4 || r.cidr6) return inCidr((r.cidr4 ?? r.cidr6)!, q.remote);
  if (r.prefixListId) return (e.prefixLists.get(r.prefixListId) ?? []).some((c) => inCidr(c, q.remote));
  if (r.refGroupId) {
    return [...e.interfaces.values()].some(
      (i) => i.vpcId === g.vpcId && i.groups.includes(r.refGroupId!) && [...i.ipv4, ...i.ipv6].some((a) => sameAddress(a, q.remote)),
    );
  }
  return false;
}

/** Does the interface's gate let the new connection through: does any rule, in that direction? */
export function referenceAllows(e: Estate, q: Query): boolean {
  const iface = e.interfaces.get(q.iface);
  if (!iface) return false;
  for (const gid of iface.groups) {
    const g = e.groups.get(gid);
    if (!g) continue;
    for (const r of g.rules) if (r.egress === q.egress && ruleAllows(e, g, r, q)) return true;
  }
  return false;
}
