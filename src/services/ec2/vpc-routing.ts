// What every VPC has around it: its main route table and its default network ACL, made with the
// VPC and deleted with it, and every subnet's association with exactly one network ACL. vpcs.ts
// and subnets.ts call in here at the moments that change them; `ensureRouting` makes what state
// written before Palisade had route tables and ACLs lacks (the routing handlers call it first).
import type { Ctx } from '../../core/context.ts';
import { KIND, type AclEntryDoc, type NetworkAclDoc, type RouteTableDoc, type SubnetDoc, type VpcDoc } from '../../core/documents/ec2.ts';
import { newId } from './ids.ts';
import { defaultAclOf, internetGatewayOf, mainRouteTableOf, networkAclsOf, routeTablesOf } from './lookups.ts';

/** The default ACL's allow-all rule (100 IPv4, 101 IPv6), both directions. */
function allowAll(cidr: { cidr4: string } | { cidr6: string }, ruleNumber: number): AclEntryDoc[] {
  return [false, true].map((egress) => ({ ruleNumber, egress, protocol: '-1', action: 'allow' as const, ...cidr }));
}

/** A route table of the VPC with no routes of its own (the `local` routes are the VPC's). */
export function newRouteTable(ctx: Ctx, vpcId: string, main: boolean, tags: RouteTableDoc['tags'] = []): RouteTableDoc {
  return ctx.tx.put<RouteTableDoc>(KIND.routeTable, ctx.scope, {
    id: newId('rtb'),
    vpcId,
    ownerId: ctx.account,
    routes: [],
    associations: main ? [{ id: newId('rtbassoc'), main: true }] : [],
    propagatingVgws: [],
    tags,
  });
}

/** A network ACL of the VPC: the default one allows everything, a custom one nothing (only the `*` rules). */
export function newNetworkAcl(ctx: Ctx, vpc: VpcDoc, isDefault: boolean, tags: NetworkAclDoc['tags'] = []): NetworkAclDoc {
  const entries = isDefault ? [...allowAll({ cidr4: '0.0.0.0/0' }, 100), ...(vpc.ipv6.length ? allowAll({ cidr6: '::/0' }, 101) : [])] : [];
  return ctx.tx.put<NetworkAclDoc>(KIND.networkAcl, ctx.scope, {
    id: newId('acl'),
    vpcId: vpc.id,
    ownerId: ctx.account,
    isDefault,
    entries,
    associations: [],
    tags,
  });
}

/** A new VPC's main route table and default ACL (kept idempotent: it also completes older state). */
export function createVpcRouting(ctx: Ctx, vpc: VpcDoc): void {
  if (!mainRouteTableOf(ctx, vpc.id)) {
    newRouteTable(ctx, vpc.id, true);
    if (vpc.isDefault) addDefaultInternetRoute(ctx, vpc.id);
  }
  if (!defaultAclOf(ctx, vpc.id)) newNetworkAcl(ctx, vpc, true);
}

/**
 * The default VPC's main table sends 0.0.0.0/0 to its internet gateway, as AWS makes it: called
 * once the gateway is attached (nothing when there is no gateway or the route is there).
 */
export function addDefaultInternetRoute(ctx: Ctx, vpcId: string): void {
  const main = mainRouteTableOf(ctx, vpcId);
  const igw = internetGatewayOf(ctx, vpcId);
  if (!main || !igw || main.routes.some((r) => r.cidr4 === '0.0.0.0/0')) return;
  ctx.tx
    .edit<RouteTableDoc>(KIND.routeTable, ctx.scope, main.id)!
    .routes.push({ cidr4: '0.0.0.0/0', gatewayId: igw.id, origin: 'CreateRoute' });
}

/** DeleteVpc: its main route table and default ACL go with it (custom ones are DependencyViolation first). */
export function deleteVpcRouting(ctx: Ctx, vpcId: string): void {
  for (const t of routeTablesOf(ctx)) if (t.vpcId === vpcId) ctx.tx.delete(KIND.routeTable, ctx.scope, t.id);
  for (const a of networkAclsOf(ctx)) if (a.vpcId === vpcId) ctx.tx.delete(KIND.networkAcl, ctx.scope, a.id);
}

/** A new subnet is associated with its VPC's default ACL. */
export function subnetRoutingCreated(ctx: Ctx, subnet: SubnetDoc): void {
  if (networkAclsOf(ctx).some((a) => a.associations.some((x) => x.subnetId === subnet.id))) return;
  const acl = defaultAclOf(ctx, subnet.vpcId);
  if (!acl) return;
  ctx.tx.edit<NetworkAclDoc>(KIND.networkAcl, ctx.scope, acl.id)!.associations.push({ id: newId('aclassoc'), subnetId: subnet.id });
}

/** DeleteSubnet: its route table association and ACL association go with it. */
export function subnetRoutingDeleted(ctx: Ctx, subnetId: string): void {
  for (const t of routeTablesOf(ctx)) {
    if (t.associations.some((a) => a.subnetId === subnetId)) {
      const e = ctx.tx.edit<RouteTableDoc>(KIND.routeTable, ctx.scope, t.id)!;
      e.associations = e.associations.filter((a) => a.subnetId !== subnetId);
    }
  }
  for (const a of networkAclsOf(ctx)) {
    if (a.associations.some((x) => x.subnetId === subnetId)) {
      const e = ctx.tx.edit<NetworkAclDoc>(KIND.networkAcl, ctx.scope, a.id)!;
      e.associations = e.associations.filter((x) => x.subnetId !== subnetId);
    }
  }
}

/** The VPC got its first IPv6 block: its default ACL allows IPv6 too (rule 101), as AWS adds it. */
export function vpcIpv6Associated(ctx: Ctx, vpc: VpcDoc): void {
  const acl = defaultAclOf(ctx, vpc.id);
  if (!acl || acl.entries.some((e) => e.cidr6 === '::/0' && e.ruleNumber === 101)) return;
  const edit = ctx.tx.edit<NetworkAclDoc>(KIND.networkAcl, ctx.scope, acl.id)!;
  for (const entry of allowAll({ cidr6: '::/0' }, 101)) {
    if (!edit.entries.some((e) => e.ruleNumber === 101 && e.egress === entry.egress)) edit.entries.push(entry);
  }
}

/**
 * Every VPC has its main table and default ACL, every subnet an ACL, and nothing outlives its VPC
 * or subnet: makes what is missing and drops what is left over (state written before Palisade
 * kept them). Cheap when all is in order: one pass over the documents, nothing written.
 */
export function ensureRouting(ctx: Ctx): void {
  const vpcs = ctx.tx.all<VpcDoc>(KIND.vpc, ctx.scope);
  const subnets = ctx.tx.all<SubnetDoc>(KIND.subnet, ctx.scope);
  const vpcIds = new Set(vpcs.map((v) => v.id));
  const subnetIds = new Set(subnets.map((s) => s.id));
  for (const t of routeTablesOf(ctx)) {
    if (!vpcIds.has(t.vpcId)) ctx.tx.delete(KIND.routeTable, ctx.scope, t.id);
    else if (t.associations.some((a) => a.subnetId && !subnetIds.has(a.subnetId))) {
      const e = ctx.tx.edit<RouteTableDoc>(KIND.routeTable, ctx.scope, t.id)!;
      e.associations = e.associations.filter((a) => !a.subnetId || subnetIds.has(a.subnetId));
    }
  }
  for (const a of networkAclsOf(ctx)) {
    if (!vpcIds.has(a.vpcId)) ctx.tx.delete(KIND.networkAcl, ctx.scope, a.id);
    else if (a.associations.some((x) => !subnetIds.has(x.subnetId))) {
      const e = ctx.tx.edit<NetworkAclDoc>(KIND.networkAcl, ctx.scope, a.id)!;
      e.associations = e.associations.filter((x) => subnetIds.has(x.subnetId));
    }
  }
  const tables = routeTablesOf(ctx);
  const acls = networkAclsOf(ctx);
  const withMain = new Set(tables.filter((t) => t.associations.some((a) => a.main)).map((t) => t.vpcId));
  const withDefault = new Set(acls.filter((a) => a.isDefault).map((a) => a.vpcId));
  for (const vpc of vpcs) if (!withMain.has(vpc.id) || !withDefault.has(vpc.id)) createVpcRouting(ctx, vpc);
  const associated = new Set(acls.flatMap((a) => a.associations.map((x) => x.subnetId)));
  for (const s of subnets) if (!associated.has(s.id)) subnetRoutingCreated(ctx, s);
}
