// The read side of the EC2 documents that several handler files share: finding a resource by id
// (with AWS's Malformed/NotFound errors), the defaults of a scope, and what still depends on a
// resource (DependencyViolation). Handler files import from here, never from each other's
// lookups, so the service has no import cycles.

import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { crypto } from '../../core/lazy.ts';
import {
  KIND,
  type DhcpOptionsDoc,
  type EgressOnlyInternetGatewayDoc,
  type ElasticIpDoc,
  type EniDoc,
  type InstanceDoc,
  type InternetGatewayDoc,
  type NatGatewayDoc,
  type NetworkAclDoc,
  type PeeringDoc,
  type KeyPairDoc,
  type LaunchTemplateDoc,
  type VolumeDoc,
  type PrefixListDoc,
  type RouteDoc,
  type RouteTableDoc,
  type SecurityGroupDoc,
  type SubnetDoc,
  type VpcDoc,
  type VpcEndpointDoc,
} from '../../core/documents/ec2.ts';
import { ID_PATTERN } from './ids.ts';
import { imageCatalogue, type CatalogueImage } from './image-catalogue.ts';
import { instanceTypeCatalogue, type InstanceTypeFacts } from './instance-type-catalogue.ts';
import { notFoundError } from '../../core/resource-types.ts';

// ---------------------------------------------------------------------------------------------
// VPCs

export const vpcNotFound = (id: string) => new ApiError('InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`);

export function getVpc(ctx: Ctx, id: string | undefined): VpcDoc {
  if (!id) throw err.missing('VpcId');
  if (!ID_PATTERN('vpc').test(id)) throw new ApiError('InvalidVpcID.Malformed', `Invalid id: "${id}" (expecting "vpc-...")`);
  const vpc = ctx.tx.get<VpcDoc>(KIND.vpc, ctx.scope, id);
  if (!vpc) throw vpcNotFound(id);
  return vpc;
}

export function defaultVpc(ctx: Ctx): VpcDoc | undefined {
  return ctx.tx.all<VpcDoc>(KIND.vpc, ctx.scope).find((v) => v.isDefault);
}

// ---------------------------------------------------------------------------------------------
// Subnets

export const subnetNotFound = (id: string) => new ApiError('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);

export function getSubnet(ctx: Ctx, id: string | undefined): SubnetDoc {
  if (!id) throw err.missing('SubnetId');
  if (!ID_PATTERN('subnet').test(id)) throw new ApiError('InvalidSubnetID.Malformed', `Invalid id: "${id}" (expecting "subnet-...")`);
  const s = ctx.tx.get<SubnetDoc>(KIND.subnet, ctx.scope, id);
  if (!s) throw subnetNotFound(id);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Around a VPC: DHCP options, internet gateways, NAT gateways, Elastic IPs

/** An id of the prefix, or AWS's Malformed error (`Invalid id: "x" (expecting "igw-...")`). */
function wellFormed(prefix: string, id: string | undefined, param: string, malformed: string): string {
  if (!id) throw err.missing(param);
  if (!ID_PATTERN(prefix).test(id)) throw new ApiError(malformed, `Invalid id: "${id}" (expecting "${prefix}-...")`);
  return id;
}

export const dhcpOptionsOf = (ctx: Ctx) => ctx.tx.all<DhcpOptionsDoc>(KIND.dhcpOptions, ctx.scope);

export function getDhcpOptions(ctx: Ctx, id: string | undefined): DhcpOptionsDoc {
  const dopt = wellFormed('dopt', id, 'DhcpOptionsId', 'InvalidDhcpOptionsId.Malformed');
  const d = ctx.tx.get<DhcpOptionsDoc>(KIND.dhcpOptions, ctx.scope, dopt);
  if (!d) throw notFoundError('dopt', dopt);
  return d;
}

/** The region's default DHCP options set, which new VPCs get (none if the caller deleted it). */
export function defaultDhcpOptions(ctx: Ctx): DhcpOptionsDoc | undefined {
  return dhcpOptionsOf(ctx).find((d) => d.isDefault);
}

export const internetGatewaysOf = (ctx: Ctx) => ctx.tx.all<InternetGatewayDoc>(KIND.internetGateway, ctx.scope);

export function getInternetGateway(ctx: Ctx, id: string | undefined): InternetGatewayDoc {
  const igw = wellFormed('igw', id, 'InternetGatewayId', 'InvalidInternetGatewayId.Malformed');
  const g = ctx.tx.get<InternetGatewayDoc>(KIND.internetGateway, ctx.scope, igw);
  if (!g) throw notFoundError('igw', igw);
  return g;
}

/** The internet gateway attached to the VPC (at most one). */
export function internetGatewayOf(ctx: Ctx, vpcId: string): InternetGatewayDoc | undefined {
  return internetGatewaysOf(ctx).find((g) => g.attachments.some((a) => a.vpcId === vpcId));
}

export const egressOnlyInternetGatewaysOf = (ctx: Ctx) =>
  ctx.tx.all<EgressOnlyInternetGatewayDoc>(KIND.egressOnlyInternetGateway, ctx.scope);

export function getEgressOnlyInternetGateway(ctx: Ctx, id: string | undefined): EgressOnlyInternetGatewayDoc {
  const eigw = wellFormed('eigw', id, 'EgressOnlyInternetGatewayId', 'InvalidEgressOnlyInternetGatewayId.Malformed');
  const g = ctx.tx.get<EgressOnlyInternetGatewayDoc>(KIND.egressOnlyInternetGateway, ctx.scope, eigw);
  if (!g) throw notFoundError('eigw', eigw);
  return g;
}

/** Deleted and failed NAT gateways stay visible for about an hour, as in AWS. */
const ENDED_NAT_VISIBLE_MS = 60 * 60 * 1000;

/** The NAT gateways the caller sees (the long-deleted ones are gone). */
export function natGatewaysOf(ctx: Ctx): NatGatewayDoc[] {
  const now = ctx.clock.now();
  return ctx.tx
    .all<NatGatewayDoc>(KIND.natGateway, ctx.scope)
    .filter((n) => n.endedAt === undefined || n.endedAt + ENDED_NAT_VISIBLE_MS > now);
}

export function getNatGateway(ctx: Ctx, id: string | undefined): NatGatewayDoc {
  const nat = wellFormed('nat', id, 'NatGatewayId', 'NatGatewayMalformed');
  const n = natGatewaysOf(ctx).find((x) => x.id === nat);
  if (!n) throw notFoundError('nat', nat);
  return n;
}

export const elasticIpsOf = (ctx: Ctx) => ctx.tx.all<ElasticIpDoc>(KIND.elasticIp, ctx.scope);

export function getElasticIp(ctx: Ctx, allocationId: string | undefined): ElasticIpDoc {
  const id = wellFormed('eipalloc', allocationId, 'AllocationId', 'InvalidAllocationID.Malformed');
  const e = ctx.tx.get<ElasticIpDoc>(KIND.elasticIp, ctx.scope, id);
  if (!e) throw notFoundError('eipalloc', id);
  return e;
}

/**
 * The Elastic IP's association if it still holds: its interface exists and still has the
 * address (an interface deleted with its instance takes the association with it, as in AWS).
 */
export function liveAssociation(ctx: Ctx, eip: ElasticIpDoc): (ElasticIpDoc['association'] & {}) | undefined {
  const a = eip.association;
  if (!a) return undefined;
  const eni = ctx.tx.get<EniDoc>(KIND.eni, ctx.scope, a.networkInterfaceId);
  return eni?.privateIps.includes(a.privateIp) ? a : undefined;
}

/** The Elastic IP mapped to a private address of the interface (its primary address by default). */
export function elasticIpOf(ctx: Ctx, eni: EniDoc, privateIp = eni.privateIps[0]): ElasticIpDoc | undefined {
  return elasticIpsOf(ctx).find((e) => {
    const a = liveAssociation(ctx, e);
    return a?.networkInterfaceId === eni.id && a.privateIp === privateIp;
  });
}

/** An internet gateway attached to the VPC, or an egress-only one made for it (DeleteVpc answers DependencyViolation). */
export function vpcHasGateways(ctx: Ctx, vpcId: string): boolean {
  return !!internetGatewayOf(ctx, vpcId) || egressOnlyInternetGatewaysOf(ctx).some((g) => g.attachments.some((a) => a.vpcId === vpcId));
}

// ---------------------------------------------------------------------------------------------
// Security groups

export const groupNotFound = (id: string) => new ApiError('InvalidGroup.NotFound', `The security group '${id}' does not exist`);

/**
 * AWS's Malformed answers for a group id: `Invalid id: "name" (expecting "sg-...")` without the
 * prefix (GH:genevieve/leftovers#7), `Invalid id: "sg-xxxxxxxxxxxxxxxxx"` with it but no hex
 * digits after it, and for an empty id `The security-group ID '' is malformed` (GH:systeminit/si#3042).
 */
export function checkGroupId(id: string): void {
  if (!ID_PATTERN('sg').test(id)) {
    throw new ApiError(
      'InvalidGroupId.Malformed',
      id === ''
        ? `The security-group ID '' is malformed`
        : id.startsWith('sg-')
          ? `Invalid id: "${id}"`
          : `Invalid id: "${id}" (expecting "sg-...")`,
    );
  }
}

export function getGroup(ctx: Ctx, id: string, scope = ctx.scope): SecurityGroupDoc {
  checkGroupId(id);
  const g = ctx.tx.get<SecurityGroupDoc>(KIND.sg, scope, id);
  if (!g) throw groupNotFound(id);
  return g;
}

/** Names resolve only in the default VPC (case-insensitively), as AWS does. */
export function getGroupByName(ctx: Ctx, name: string, scope = ctx.scope): SecurityGroupDoc {
  const vpc = scope === ctx.scope ? defaultVpc(ctx) : ctx.tx.all<VpcDoc>(KIND.vpc, scope).find((v) => v.isDefault);
  if (!vpc)
    throw new ApiError('VPCIdNotSpecified', 'No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.');
  const lower = name.toLowerCase();
  const g = ctx.tx.all<SecurityGroupDoc>(KIND.sg, scope).find((x) => x.vpcId === vpc.id && x.name.toLowerCase() === lower);
  if (!g) throw new ApiError('InvalidGroup.NotFound', `The security group '${name}' does not exist in default VPC '${vpc.id}'`);
  return g;
}

export function resolveTarget(ctx: Ctx, groupId: string | undefined, groupName: string | undefined): SecurityGroupDoc {
  if (groupId !== undefined) return getGroup(ctx, groupId);
  if (groupName !== undefined) return getGroupByName(ctx, groupName);
  throw err.missing('GroupId');
}

// ---------------------------------------------------------------------------------------------
// Prefix lists (the account's own and AWS-managed)

export const prefixListNotFound = (id: string) =>
  new ApiError('InvalidPrefixListID.NotFound', `The prefix list ID '${id}' does not exist.`);

/** AWS-managed lists: representative published ranges; weights as AWS documents them. */
const AWS_LISTS: { name: (r: string) => string; family: 'IPv4' | 'IPv6'; weight: number; entries: string[] }[] = [
  {
    name: (r) => `com.amazonaws.${r}.s3`,
    family: 'IPv4',
    weight: 1,
    entries: ['3.5.0.0/19', '16.182.0.0/16', '18.34.0.0/19', '52.216.0.0/15', '54.231.0.0/16'],
  },
  { name: (r) => `com.amazonaws.${r}.dynamodb`, family: 'IPv4', weight: 1, entries: ['3.218.180.0/22', '35.71.64.0/22', '52.94.0.0/22'] },
  {
    name: () => 'com.amazonaws.global.cloudfront.origin-facing',
    family: 'IPv4',
    weight: 55,
    entries: [
      '13.32.0.0/15',
      '18.160.0.0/15',
      '52.84.0.0/15',
      '54.182.0.0/16',
      '54.192.0.0/16',
      '54.230.0.0/16',
      '204.246.164.0/22',
      '205.251.192.0/19',
    ],
  },
  {
    name: () => 'com.amazonaws.global.ipv6.cloudfront.origin-facing',
    family: 'IPv6',
    weight: 55,
    entries: ['2600:9000:2000::/36', '2600:9000:1000::/36'],
  },
];

export function awsLists(ctx: Ctx): PrefixListDoc[] {
  return awsPrefixLists(ctx.region);
}

/** The AWS-managed prefix lists of a region (fixed ids per region). */
export function awsPrefixLists(region: string): PrefixListDoc[] {
  return AWS_LISTS.map((l, i) => {
    const name = l.name(region);
    const id = `pl-${crypto().createHash('sha256').update(`${region}/${name}`).digest('hex').slice(0, 8)}`;
    const entries = l.entries.map((cidr) => ({ cidr }));
    return {
      id,
      seq: -100 + i,
      name,
      family: l.family,
      maxEntries: l.weight,
      version: 1,
      entries,
      history: [entries],
      ownerId: 'AWS',
      state: 'create-complete',
      tags: [],
    };
  });
}

export function findPrefixList(ctx: Ctx, id: string): PrefixListDoc | undefined {
  return ctx.tx.get<PrefixListDoc>(KIND.prefixList, ctx.scope, id) ?? awsLists(ctx).find((l) => l.id === id);
}

/** What a rule referencing the list counts toward the group's rule quota. */
export function prefixListWeight(ctx: Ctx, id: string): number {
  return findPrefixList(ctx, id)?.maxEntries ?? 1;
}

export function prefixListCidrs(ctx: Ctx, id: string): string[] {
  return findPrefixList(ctx, id)?.entries.map((e) => e.cidr) ?? [];
}

// ---------------------------------------------------------------------------------------------
// Network interfaces

export const eniNotFound = (id: string) =>
  new ApiError('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`);

export function getEni(ctx: Ctx, id: string | undefined): EniDoc {
  if (!id) throw err.missing('NetworkInterfaceId');
  // AWS's code spells `Id` here (errors-overview: InvalidNetworkInterfaceId.Malformed).
  if (!ID_PATTERN('eni').test(id)) throw new ApiError('InvalidNetworkInterfaceId.Malformed', `Invalid id: "${id}" (expecting "eni-...")`);
  const e = ctx.tx.get<EniDoc>(KIND.eni, ctx.scope, id);
  if (!e) throw eniNotFound(id);
  return e;
}

export const enisOf = (ctx: Ctx) => ctx.tx.all<EniDoc>(KIND.eni, ctx.scope);

// ---------------------------------------------------------------------------------------------
// Instances and their interfaces

const instanceNotFound = (ids: string[]) =>
  new ApiError(
    'InvalidInstanceID.NotFound',
    ids.length === 1 ? `The instance ID '${ids[0]}' does not exist` : `The instance IDs '${ids.join(', ')}' do not exist`,
  );

/** Terminated instances stay visible for about an hour, as in AWS. */
const TERMINATED_VISIBLE_MS = 60 * 60 * 1000;

function visible(ctx: Ctx, i: InstanceDoc): boolean {
  return i.state !== 'terminated' || (i.terminatedAt ?? 0) + TERMINATED_VISIBLE_MS > ctx.clock.now();
}

export function instancesOf(ctx: Ctx): InstanceDoc[] {
  return ctx.tx.all<InstanceDoc>(KIND.instance, ctx.scope).filter((i) => visible(ctx, i));
}

export function getInstances(ctx: Ctx, ids: string[] | undefined): InstanceDoc[] {
  if (!ids?.length) throw err.missing('InstanceId');
  for (const id of ids) if (!ID_PATTERN('i').test(id)) throw new ApiError('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
  const out = ids.map((id) => ctx.tx.get<InstanceDoc>(KIND.instance, ctx.scope, id));
  const missing = ids.filter((_, n) => !out[n] || !visible(ctx, out[n]!));
  if (missing.length) throw instanceNotFound(missing);
  return out as InstanceDoc[];
}

export const getInstance = (ctx: Ctx, id: string | undefined) => getInstances(ctx, id ? [id] : undefined)[0]!;

/** Interfaces by instance, built once per call (a call may ask for many instances). */
const attachmentIndex = new WeakMap<Ctx, Map<string, EniDoc[]>>();
export function interfacesOf(ctx: Ctx, instanceId: string): EniDoc[] {
  let idx = attachmentIndex.get(ctx);
  if (!idx) {
    idx = new Map();
    for (const e of enisOf(ctx)) {
      if (!e.attachment) continue;
      const list = idx.get(e.attachment.instanceId) ?? [];
      list.push(e);
      idx.set(e.attachment.instanceId, list);
    }
    for (const list of idx.values()) list.sort((a, b) => a.attachment!.deviceIndex - b.attachment!.deviceIndex);
    attachmentIndex.set(ctx, idx);
  }
  return idx.get(instanceId) ?? [];
}

/** Forget the per-call index after this call changed attachments. */
export function attachmentsChanged(ctx: Ctx): void {
  attachmentIndex.delete(ctx);
}

export function primaryInterface(ctx: Ctx, instanceId: string): EniDoc | undefined {
  return interfacesOf(ctx, instanceId).find((e) => e.attachment!.deviceIndex === 0);
}

// ---------------------------------------------------------------------------------------------
// What keeps a resource from deletion (AWS answers DependencyViolation)

/** Interfaces and live instances in the VPC (subnets and groups are checked by DeleteVpc itself). */
export function vpcHasDependents(ctx: Ctx, vpcId: string): boolean {
  return (
    enisOf(ctx).some((e) => e.vpcId === vpcId) ||
    instancesOf(ctx).some((i) => i.vpcId === vpcId && i.state !== 'terminated') ||
    vpcHasRoutingDependents(ctx, vpcId)
  );
}

/** Interfaces and live instances in the subnet. */
export function subnetHasDependents(ctx: Ctx, subnetId: string): boolean {
  return (
    enisOf(ctx).some((e) => e.subnetId === subnetId) || instancesOf(ctx).some((i) => i.subnetId === subnetId && i.state !== 'terminated')
  );
}

/** Private addresses the subnet's interfaces hold (AvailableIpAddressCount). */
export function subnetAddressesInUse(ctx: Ctx, subnetId: string): number {
  return enisOf(ctx)
    .filter((e) => e.subnetId === subnetId)
    .reduce((n, e) => n + e.privateIps.length, 0);
}

/** Interfaces and interface endpoints that carry the group (DeleteSecurityGroup answers DependencyViolation). */
export function groupInUse(ctx: Ctx, groupId: string): boolean {
  return enisOf(ctx).some((e) => e.groups.includes(groupId)) || vpcEndpointsOf(ctx).some((e) => e.groups.includes(groupId));
}

// ---------------------------------------------------------------------------------------------
// Key pairs (names are unique per account and region, case-sensitive)

export const keyPairNotFound = (name: string) => new ApiError('InvalidKeyPair.NotFound', `The key pair '${name}' does not exist`);

export function findKeyPair(ctx: Ctx, name: string): KeyPairDoc | undefined {
  return ctx.tx.all<KeyPairDoc>(KIND.keyPair, ctx.scope).find((k) => k.name === name);
}

/** The key pair a launch names (RunInstances, launch templates): InvalidKeyPair.NotFound otherwise. */
export function getKeyPair(ctx: Ctx, name: string): KeyPairDoc {
  const k = findKeyPair(ctx, name);
  if (!k) throw keyPairNotFound(name);
  return k;
}

// ---------------------------------------------------------------------------------------------
// Routing: route tables, network ACLs, peering connections, VPC endpoints

function checkId(prefix: string, id: string | undefined, param: string, malformed: string): string {
  if (!id) throw err.missing(param);
  if (!ID_PATTERN(prefix).test(id)) throw new ApiError(malformed, `Invalid id: "${id}" (expecting "${prefix}-...")`);
  return id;
}

export const routeTableNotFound = (id: string) => new ApiError('InvalidRouteTableID.NotFound', `The routeTable ID '${id}' does not exist`);
export const routeTablesOf = (ctx: Ctx) => ctx.tx.all<RouteTableDoc>(KIND.routeTable, ctx.scope);
export const isMainTable = (t: RouteTableDoc) => t.associations.some((a) => a.main);

export function getRouteTable(ctx: Ctx, id: string | undefined): RouteTableDoc {
  const rtb = checkId('rtb', id, 'RouteTableId', 'InvalidRouteTableId.Malformed');
  const t = ctx.tx.get<RouteTableDoc>(KIND.routeTable, ctx.scope, rtb);
  if (!t) throw routeTableNotFound(rtb);
  return t;
}

/** The VPC's main route table (every VPC has one; vpc-routing.ts makes it). */
export function mainRouteTableOf(ctx: Ctx, vpcId: string): RouteTableDoc | undefined {
  return routeTablesOf(ctx).find((t) => t.vpcId === vpcId && isMainTable(t));
}

/** The table a subnet routes by: its explicit association, else the VPC's main table. */
export function routeTableOfSubnet(ctx: Ctx, subnet: SubnetDoc): RouteTableDoc | undefined {
  return routeTablesOf(ctx).find((t) => t.associations.some((a) => a.subnetId === subnet.id)) ?? mainRouteTableOf(ctx, subnet.vpcId);
}

/** The `local` routes every table of the VPC has: one per associated IPv4 and IPv6 CIDR block. */
export function localRoutes(vpc: VpcDoc): RouteDoc[] {
  const local = { gatewayId: 'local', origin: 'CreateRouteTable' as const };
  return [
    ...vpc.cidrAssociations.filter((a) => a.state === 'associated').map((a) => ({ cidr4: a.cidr, ...local })),
    ...vpc.ipv6.filter((a) => a.state === 'associated').map((a) => ({ cidr6: a.cidr, ...local })),
  ];
}

export const networkAclNotFound = (id: string) => new ApiError('InvalidNetworkAclID.NotFound', `The networkAcl ID '${id}' does not exist`);
export const networkAclsOf = (ctx: Ctx) => ctx.tx.all<NetworkAclDoc>(KIND.networkAcl, ctx.scope);

export function getNetworkAcl(ctx: Ctx, id: string | undefined): NetworkAclDoc {
  const acl = checkId('acl', id, 'NetworkAclId', 'InvalidNetworkAclId.Malformed');
  const a = ctx.tx.get<NetworkAclDoc>(KIND.networkAcl, ctx.scope, acl);
  if (!a) throw networkAclNotFound(acl);
  return a;
}

export function defaultAclOf(ctx: Ctx, vpcId: string): NetworkAclDoc | undefined {
  return networkAclsOf(ctx).find((a) => a.vpcId === vpcId && a.isDefault);
}

/** The ACL of a subnet (exactly one: the VPC's default ACL until replaced). */
export function networkAclOfSubnet(ctx: Ctx, subnet: SubnetDoc): NetworkAclDoc | undefined {
  return networkAclsOf(ctx).find((a) => a.associations.some((x) => x.subnetId === subnet.id)) ?? defaultAclOf(ctx, subnet.vpcId);
}

/** Deleted, rejected and failed connections stay visible this long, as in AWS. */
const ENDED_PEERING_VISIBLE_MS = 2 * 60 * 60 * 1000;

export const peeringNotFound = (id: string) =>
  new ApiError('InvalidVpcPeeringConnectionID.NotFound', `The vpcPeeringConnection ID '${id}' does not exist`);

/** The peering connections this account sees in this region (its requests and those made to it). */
export function peeringsOf(ctx: Ctx): PeeringDoc[] {
  const now = ctx.clock.now();
  return ctx.tx.all<PeeringDoc>(KIND.peering, ctx.scope).filter((p) => p.ended === undefined || p.ended + ENDED_PEERING_VISIBLE_MS > now);
}

export function getPeering(ctx: Ctx, id: string | undefined): PeeringDoc {
  const pcx = checkId('pcx', id, 'VpcPeeringConnectionId', 'InvalidVpcPeeringConnectionId.Malformed');
  const p = peeringsOf(ctx).find((x) => x.id === pcx);
  if (!p) throw peeringNotFound(pcx);
  return p;
}

export const vpcEndpointNotFound = (id: string) =>
  new ApiError('InvalidVpcEndpointId.NotFound', `The Vpc Endpoint Id '${id}' does not exist`);
export const vpcEndpointsOf = (ctx: Ctx) => ctx.tx.all<VpcEndpointDoc>(KIND.vpcEndpoint, ctx.scope);

export function getVpcEndpoint(ctx: Ctx, id: string | undefined): VpcEndpointDoc {
  const vpce = checkId('vpce', id, 'VpcEndpointId', 'InvalidVpcEndpointId.Malformed');
  const e = ctx.tx.get<VpcEndpointDoc>(KIND.vpcEndpoint, ctx.scope, vpce);
  if (!e) throw vpcEndpointNotFound(vpce);
  return e;
}

/** Custom route tables and network ACLs, endpoints and active peering connections (the main table and default ACL go with the VPC). */
function vpcHasRoutingDependents(ctx: Ctx, vpcId: string): boolean {
  const mine = (side: PeeringDoc['requester']) => side.vpcId === vpcId && side.ownerId === ctx.account && side.region === ctx.region;
  return (
    routeTablesOf(ctx).some((t) => t.vpcId === vpcId && !isMainTable(t)) ||
    networkAclsOf(ctx).some((a) => a.vpcId === vpcId && !a.isDefault) ||
    vpcEndpointsOf(ctx).some((e) => e.vpcId === vpcId) ||
    peeringsOf(ctx).some((p) => p.status === 'active' && (mine(p.requester) || mine(p.accepter)))
  );
}

// ---------------------------------------------------------------------------------------------
// Images: the region's catalogue of public images (image-catalogue.ts)

export const imagesOf = (ctx: Ctx): CatalogueImage[] => imageCatalogue(ctx.region);

export const imageNotFound = (ids: string[]) =>
  new ApiError(
    'InvalidAMIID.NotFound',
    ids.length === 1 ? `The image id '[${ids[0]}]' does not exist` : `The image ids '[${ids.join(', ')}]' do not exist`,
  );

export function checkImageId(id: string | undefined): string {
  if (!id) throw err.missing('ImageId');
  if (!ID_PATTERN('ami').test(id)) throw new ApiError('InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);
  return id;
}

/** The image a launch names: InvalidAMIID.Malformed or .NotFound otherwise. */
export function getImage(ctx: Ctx, id: string | undefined): CatalogueImage {
  const i = imagesOf(ctx).find((x) => x.id === checkImageId(id));
  if (!i) throw imageNotFound([id!]);
  return i;
}

// ---------------------------------------------------------------------------------------------
// Instance types (instance-type-catalogue.ts) and the limits they set on interfaces

export const instanceTypeOf = (name: string): InstanceTypeFacts | undefined => instanceTypeCatalogue().get(name);

/** The type a launch names: AWS's InvalidParameterValue for a type it does not have. */
export function getInstanceType(name: string): InstanceTypeFacts {
  const t = instanceTypeOf(name);
  if (!t) throw err.invalidValue(`Invalid value '${name}' for InstanceType.`);
  return t;
}

/** The type of the instance an interface is attached to (its limits apply), if any. */
export function attachedInstanceType(ctx: Ctx, eni: EniDoc): InstanceTypeFacts | undefined {
  if (!eni.attachment) return undefined;
  const i = ctx.tx.get<InstanceDoc>(KIND.instance, ctx.scope, eni.attachment.instanceId);
  return i ? instanceTypeOf(i.instanceType) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Volumes and the instances they are attached to

export const volumesOf = (ctx: Ctx) => ctx.tx.all<VolumeDoc>(KIND.volume, ctx.scope);

export const volumeNotFound = (id: string) => new ApiError('InvalidVolume.NotFound', `The volume '${id}' does not exist.`);

export function checkVolumeId(id: string | undefined): string {
  if (!id) throw err.missing('VolumeId');
  if (!ID_PATTERN('vol').test(id)) throw new ApiError('InvalidVolumeID.Malformed', `Invalid id: "${id}" (expecting "vol-...")`);
  return id;
}

export function getVolume(ctx: Ctx, id: string | undefined): VolumeDoc {
  const v = ctx.tx.get<VolumeDoc>(KIND.volume, ctx.scope, checkVolumeId(id));
  if (!v) throw volumeNotFound(id!);
  return v;
}

/** Volumes by instance, built once per call (DescribeInstances asks for many instances). */
const volumeIndex = new WeakMap<Ctx, Map<string, VolumeDoc[]>>();
export function volumesOfInstance(ctx: Ctx, instanceId: string): VolumeDoc[] {
  let idx = volumeIndex.get(ctx);
  if (!idx) {
    idx = new Map();
    for (const v of volumesOf(ctx)) {
      if (!v.attachment) continue;
      const list = idx.get(v.attachment.instanceId) ?? [];
      list.push(v);
      idx.set(v.attachment.instanceId, list);
    }
    volumeIndex.set(ctx, idx);
  }
  return idx.get(instanceId) ?? [];
}

/** Forget the per-call index after this call attached or detached volumes. */
export function volumesChanged(ctx: Ctx): void {
  volumeIndex.delete(ctx);
}

// ---------------------------------------------------------------------------------------------
// Launch templates (names unique per account and region)

export const launchTemplatesOf = (ctx: Ctx) => ctx.tx.all<LaunchTemplateDoc>(KIND.launchTemplate, ctx.scope);

/** By id or name, with AWS's errors for each (RunInstances and the launch template calls). */
export function getLaunchTemplate(ctx: Ctx, id: string | undefined, name: string | undefined): LaunchTemplateDoc {
  if (id !== undefined && name !== undefined)
    throw err.combination('The parameters LaunchTemplateId and LaunchTemplateName cannot be used together.');
  if (id !== undefined) {
    if (!ID_PATTERN('lt').test(id))
      throw new ApiError('InvalidLaunchTemplateId.Malformed', `The specified launch template ID '${id}' is malformed.`);
    const t = ctx.tx.get<LaunchTemplateDoc>(KIND.launchTemplate, ctx.scope, id);
    if (!t) throw notFoundError('lt', id);
    return t;
  }
  if (name !== undefined) {
    const t = launchTemplatesOf(ctx).find((x) => x.name === name);
    if (!t)
      throw new ApiError(
        'InvalidLaunchTemplateName.NotFoundException',
        `The specified launch template, with template name ${name}, does not exist.`,
      );
    return t;
  }
  throw err.missing('LaunchTemplateId or LaunchTemplateName');
}
