// Subnets: CIDR inside one of the VPC's blocks, no overlap, AWS's five reserved addresses.
import type {
  CreateSubnetRequest,
  CreateSubnetResult,
  DeleteSubnetRequest,
  DescribeSubnetsRequest,
  DescribeSubnetsResult,
  ModifySubnetAttributeRequest,
  Subnet,
  AssociateSubnetCidrBlockRequest,
  AssociateSubnetCidrBlockResult,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { containsCidr, formatCidr, overlaps, parseCidr, size } from '../../core/cidr.ts';
import { arn, ID_PATTERN, newId } from './ids.ts';
import { KIND, type SubnetDoc, type TagPair, type VpcDoc } from '../../core/documents/ec2.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { zonesOf, type Zone } from '../../core/regions.ts';
import { getSubnet, getVpc, subnetAddressesInUse, subnetHasDependents, subnetNotFound } from './lookups.ts';
import { subnetRoutingCreated, subnetRoutingDeleted } from './vpc-routing.ts';

export function createSubnetDoc(
  ctx: Ctx,
  vpc: VpcDoc,
  cidr: string,
  zone: Zone,
  opts: { defaultForAz?: boolean; mapPublicIpOnLaunch?: boolean; ipv6?: string; tags?: TagPair[] } = {},
): SubnetDoc {
  const s: SubnetDoc = {
    id: newId('subnet'),
    vpcId: vpc.id,
    cidr,
    az: zone.name,
    azId: zone.id,
    defaultForAz: opts.defaultForAz ?? false,
    mapPublicIpOnLaunch: opts.mapPublicIpOnLaunch ?? false,
    assignIpv6AddressOnCreation: false,
    ipv6: opts.ipv6 ? [{ associationId: newId('subnet-cidr-assoc'), cidr: opts.ipv6, state: 'associated' }] : [],
    tags: opts.tags ?? [],
  };
  ctx.tx.put(KIND.subnet, ctx.scope, s);
  subnetRoutingCreated(ctx, s);
  return s;
}

function toSubnet(ctx: Ctx, s: SubnetDoc): Subnet {
  const c = parseCidr(s.cidr)!;
  const used = subnetAddressesInUse(ctx, s.id);
  return {
    SubnetId: s.id,
    VpcId: s.vpcId,
    CidrBlock: s.cidr,
    State: 'available',
    AvailabilityZone: s.az,
    AvailabilityZoneId: s.azId,
    AvailableIpAddressCount: Number(size(c)) - 5 - used,
    DefaultForAz: s.defaultForAz,
    MapPublicIpOnLaunch: s.mapPublicIpOnLaunch,
    AssignIpv6AddressOnCreation: s.assignIpv6AddressOnCreation,
    MapCustomerOwnedIpOnLaunch: false,
    EnableDns64: false,
    Ipv6Native: false,
    OwnerId: ctx.account,
    SubnetArn: arn(ctx.partition, 'ec2', ctx.region, ctx.account, `subnet/${s.id}`),
    Ipv6CidrBlockAssociationSet: s.ipv6.map((a) => ({
      AssociationId: a.associationId,
      Ipv6CidrBlock: a.cidr,
      Ipv6CidrBlockState: { State: a.state as never },
    })),
    PrivateDnsNameOptionsOnLaunch: { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: false },
    Tags: tagList(s.tags),
  };
}

function checkIpv6(ctx: Ctx, vpc: VpcDoc, text: string, except?: string): string {
  const c = parseCidr(text, 6);
  if (!c) throw err.invalidValue(`Value (${text}) for parameter ipv6CidrBlock is invalid. This is not a valid IPv6 CIDR block.`);
  if (c.prefix < 44 || c.prefix > 64) throw new ApiError('InvalidSubnet.Range', `The CIDR '${text}' is invalid.`);
  if (!vpc.ipv6.some((a) => containsCidr(parseCidr(a.cidr)!, c)))
    throw new ApiError('InvalidSubnet.Range', `The CIDR '${text}' is invalid.`);
  for (const s of ctx.tx.all<SubnetDoc>(KIND.subnet, ctx.scope)) {
    if (s.vpcId !== vpc.id || s.id === except) continue;
    if (s.ipv6.some((a) => overlaps(parseCidr(a.cidr)!, c)))
      throw new ApiError('InvalidSubnet.Conflict', `The CIDR '${text}' conflicts with another subnet`);
  }
  return formatCidr(c);
}

export const subnetHandlers = {
  CreateSubnet(ctx: Ctx, input: CreateSubnetRequest): CreateSubnetResult {
    const vpc = getVpc(ctx, input.VpcId);
    if (!input.CidrBlock) throw err.missing('CidrBlock');
    const c = parseCidr(input.CidrBlock, 4);
    if (!c) throw err.invalidValue(`Value (${input.CidrBlock}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`);
    if (c.prefix < 16 || c.prefix > 28 || !vpc.cidrAssociations.some((a) => containsCidr(parseCidr(a.cidr)!, c))) {
      throw new ApiError('InvalidSubnet.Range', `The CIDR '${input.CidrBlock}' is invalid.`);
    }
    for (const s of ctx.tx.all<SubnetDoc>(KIND.subnet, ctx.scope)) {
      if (s.vpcId === vpc.id && overlaps(parseCidr(s.cidr)!, c)) {
        throw new ApiError('InvalidSubnet.Conflict', `The CIDR '${input.CidrBlock}' conflicts with another subnet`);
      }
    }
    const zones = zonesOf(ctx.region);
    let zone: Zone;
    if (input.AvailabilityZone || input.AvailabilityZoneId) {
      const z = zones.find((x) => (input.AvailabilityZone ? x.name === input.AvailabilityZone : x.id === input.AvailabilityZoneId));
      if (!z) {
        throw err.invalidValue(
          `Value (${input.AvailabilityZone ?? input.AvailabilityZoneId}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${zones.map((x) => x.name).join(', ')}.`,
        );
      }
      zone = z;
    } else {
      zone = zones[Math.floor(Math.random() * zones.length)]!;
    }
    const ipv6 = input.Ipv6CidrBlock ? checkIpv6(ctx, vpc, input.Ipv6CidrBlock) : undefined;
    const tags = tagsFromSpecs(input.TagSpecifications, 'subnet');
    const s = createSubnetDoc(ctx, vpc, formatCidr(c), zone, { ipv6, tags });
    return { Subnet: { ...toSubnet(ctx, s), State: 'available' } };
  },

  DescribeSubnets(ctx: Ctx, input: DescribeSubnetsRequest): DescribeSubnetsResult {
    let subnets = ctx.tx.all<SubnetDoc>(KIND.subnet, ctx.scope);
    if (input.SubnetIds?.length) {
      for (const id of input.SubnetIds) {
        if (!ID_PATTERN('subnet').test(id)) throw new ApiError('InvalidSubnetID.Malformed', `Invalid id: "${id}" (expecting "subnet-...")`);
        if (!subnets.some((s) => s.id === id)) throw subnetNotFound(id);
      }
      subnets = subnets.filter((s) => input.SubnetIds!.includes(s.id));
    }
    const match = compileFilters<SubnetDoc>(input.Filters, {
      'subnet-id': (s) => s.id,
      subnetId: (s) => s.id,
      'vpc-id': (s) => s.vpcId,
      vpcId: (s) => s.vpcId,
      'cidr-block': (s) => s.cidr,
      cidr: (s) => s.cidr,
      cidrBlock: (s) => s.cidr,
      'availability-zone': (s) => s.az,
      availabilityZone: (s) => s.az,
      'availability-zone-id': (s) => s.azId,
      availabilityZoneId: (s) => s.azId,
      'default-for-az': (s) => s.defaultForAz,
      defaultForAz: (s) => s.defaultForAz,
      'map-public-ip-on-launch': (s) => s.mapPublicIpOnLaunch,
      'assign-ipv6-address-on-creation': (s) => s.assignIpv6AddressOnCreation,
      'ipv6-cidr-block-association.ipv6-cidr-block': (s) => s.ipv6.map((a) => a.cidr),
      'ipv6-cidr-block-association.association-id': (s) => s.ipv6.map((a) => a.associationId),
      'ipv6-cidr-block-association.state': (s) => s.ipv6.map((a) => a.state),
      'available-ip-address-count': (s) => toSubnet(ctx, s).AvailableIpAddressCount,
      'owner-id': () => ctx.account,
      state: () => 'available',
      'subnet-arn': (s) => arn(ctx.partition, 'ec2', ctx.region, ctx.account, `subnet/${s.id}`),
    });
    const { page, nextToken } = paginate(subnets.filter(match), input.MaxResults, input.NextToken);
    return { Subnets: page.map((s) => toSubnet(ctx, s)), NextToken: nextToken };
  },

  DeleteSubnet(ctx: Ctx, input: DeleteSubnetRequest): Record<string, never> {
    const s = getSubnet(ctx, input.SubnetId);
    if (subnetHasDependents(ctx, s.id)) {
      throw new ApiError('DependencyViolation', `The subnet '${s.id}' has dependencies and cannot be deleted.`);
    }
    subnetRoutingDeleted(ctx, s.id);
    ctx.tx.delete(KIND.subnet, ctx.scope, s.id);
    return {};
  },

  ModifySubnetAttribute(ctx: Ctx, input: ModifySubnetAttributeRequest): Record<string, never> {
    const s = ctx.tx.edit<SubnetDoc>(KIND.subnet, ctx.scope, getSubnet(ctx, input.SubnetId).id)!;
    let n = 0;
    if (input.MapPublicIpOnLaunch?.Value !== undefined) {
      s.mapPublicIpOnLaunch = input.MapPublicIpOnLaunch.Value;
      n++;
    }
    if (input.AssignIpv6AddressOnCreation?.Value !== undefined) {
      if (input.AssignIpv6AddressOnCreation.Value && s.ipv6.length === 0) {
        throw err.invalidParam(
          `Invalid value 'true' for assignIpv6AddressOnCreation. Cannot set assignIpv6AddressOnCreation to true unless the subnet (${s.id}) has an IPv6 CIDR block associated with it.`,
        );
      }
      s.assignIpv6AddressOnCreation = input.AssignIpv6AddressOnCreation.Value;
      n++;
    }
    if (n === 0) throw err.invalidParam('Either mapPublicIpOnLaunch or assignIpv6AddressOnCreation must be specified');
    return {};
  },

  AssociateSubnetCidrBlock(ctx: Ctx, input: AssociateSubnetCidrBlockRequest): AssociateSubnetCidrBlockResult {
    const s = ctx.tx.edit<SubnetDoc>(KIND.subnet, ctx.scope, getSubnet(ctx, input.SubnetId).id)!;
    if (!input.Ipv6CidrBlock) throw err.missing('Ipv6CidrBlock');
    if (s.ipv6.length) throw new ApiError('CidrLimitExceeded', `The subnet '${s.id}' already has an IPv6 CIDR block`);
    const cidr = checkIpv6(ctx, getVpc(ctx, s.vpcId), input.Ipv6CidrBlock, s.id);
    const a = { associationId: newId('subnet-cidr-assoc'), cidr, state: 'associated' };
    s.ipv6.push(a);
    return {
      SubnetId: s.id,
      Ipv6CidrBlockAssociation: { AssociationId: a.associationId, Ipv6CidrBlock: cidr, Ipv6CidrBlockState: { State: 'associating' } },
    };
  },
};
