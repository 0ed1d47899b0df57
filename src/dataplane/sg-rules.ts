// The security-group engine's vocabulary: the groups, rules and interfaces it is given, the
// query of one gate, and where a rule and a packet sit in their protocol's port space. Shared by
// the compiled index (compiled-policy.ts, gate-index.ts) and the rule model (rule-model.ts).
import type { Address } from './addresses.ts';

export type Direction = 'ingress' | 'egress';

export interface RuleInput {
  id: string;
  groupId: string;
  egress: boolean;
  /** '-1', 'tcp', 'udp', 'icmp', 'icmpv6' or a protocol number */
  protocol: string;
  from?: number;
  to?: number;
  cidr4?: string;
  cidr6?: string;
  prefixListId?: string;
  refGroupId?: string;
}

export interface GroupInput {
  id: string;
  vpcId: string;
  rules: RuleInput[];
}

export interface InterfaceInput {
  id: string;
  vpcId: string;
  /** private IPv4 addresses (primary first) */
  ipv4: string[];
  ipv6: string[];
  publicIp?: string;
  groups: string[];
}

export const PROTO: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 };

/** The number of a protocol name in PROTO (own entries only: `constructor` is no protocol). */
export const protoByName = (name: string): number | undefined => (Object.hasOwn(PROTO, name) ? PROTO[name] : undefined);

export function protocolNumber(p: string): number {
  return p === '-1' ? -1 : (protoByName(p) ?? Number(p));
}

export const hasPortSpace = (proto: number) => proto === 6 || proto === 17 || proto === 1 || proto === 58;

/** The point a packet occupies in its protocol's port space (ICMP: type*256+code). */
export function portPoint(proto: number, port: number | undefined, icmpType?: number, icmpCode?: number): number {
  if (proto === 1 || proto === 58) return ((icmpType ?? 0) & 0xff) * 256 + ((icmpCode ?? 0) & 0xff);
  return port ?? 0;
}

/** A rule's interval in its protocol's port space. */
export function ruleInterval(r: RuleInput): [number, number] {
  const p = protocolNumber(r.protocol);
  if (p === 6 || p === 17) return [r.from ?? 0, r.to ?? 65535];
  if (p === 1 || p === 58) {
    const t = r.from ?? -1;
    const c = r.to ?? -1;
    if (t === -1) return [0, 65535];
    if (c === -1) return [t * 256, t * 256 + 255];
    return [t * 256 + c, t * 256 + c];
  }
  return [0, 65535];
}

/** Does the rule's protocol, and its interval, take in the packet's protocol and point (its peer aside)? */
export function ruleCovers(r: RuleInput, proto: number, point: number): boolean {
  const p = protocolNumber(r.protocol);
  if (p === -1) return true;
  if (p !== proto) return false;
  const [a, b] = ruleInterval(r);
  return point >= a && point <= b;
}

export interface GateQuery {
  direction: Direction;
  proto: number;
  /** tcp/udp destination port of the new connection; ICMP via icmpType/icmpCode */
  port?: number;
  icmpType?: number;
  icmpCode?: number;
  /** the other end: source for ingress, destination for egress */
  remote: Address;
}
