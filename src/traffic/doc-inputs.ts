// The store's documents as the data planes read them: a security group's rules, a route's target,
// a network ACL entry. One mapping for the simulated plane (plane-sync.ts, routing-sync.ts) and
// the kernel's (src/kernel/).
import type { AclEntryInput, RouteTarget } from '../dataplane/routing.ts';
import type { RuleInput } from '../dataplane/sg-policy.ts';
import type { AclEntryDoc, RouteDoc, SecurityGroupDoc } from '../core/documents/ec2.ts';

/** A group's rules as the engine reads them, one per source (as AWS's sgr- rules). */
export function rulesOfGroup(g: SecurityGroupDoc): RuleInput[] {
  return g.rules.map((r) => ({
    id: r.id,
    groupId: g.id,
    egress: r.egress,
    protocol: r.protocol,
    from: r.from,
    to: r.to,
    cidr4: r.cidr4,
    cidr6: r.cidr6,
    prefixListId: r.prefixListId,
    refGroupId: r.group?.groupId,
  }));
}

/** Where a route sends what it matches. */
export function routeTarget(r: RouteDoc): RouteTarget {
  if (r.gatewayId === 'local') return { kind: 'local' };
  if (r.gatewayId?.startsWith('igw-')) return { kind: 'igw', id: r.gatewayId };
  if (r.gatewayId?.startsWith('vpce-')) return { kind: 'vpce', id: r.gatewayId };
  if (r.egressOnlyGatewayId) return { kind: 'eigw', id: r.egressOnlyGatewayId };
  if (r.natGatewayId) return { kind: 'nat', id: r.natGatewayId };
  if (r.peeringId) return { kind: 'pcx', id: r.peeringId };
  if (r.networkInterfaceId) return { kind: 'eni', id: r.networkInterfaceId };
  return { kind: 'other', id: r.gatewayId ?? 'unknown' };
}

/** A network ACL entry as the engine reads it (undefined: an entry without a CIDR). */
export function aclEntryInput(e: AclEntryDoc): AclEntryInput | undefined {
  const cidr = e.cidr4 ?? e.cidr6;
  if (!cidr) return undefined;
  return {
    ruleNumber: e.ruleNumber,
    egress: e.egress,
    protocol: e.protocol === '-1' ? -1 : Number(e.protocol),
    allow: e.action === 'allow',
    cidr,
    ports: e.ports,
    icmp: e.icmp,
  };
}
