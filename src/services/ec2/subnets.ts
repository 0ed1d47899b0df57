// Subnets: CIDR inside one of the VPC's blocks, no overlap, AWS's five reserved addresses. An
// IPv6-only (IPv6-native) subnet has an IPv6 block and no IPv4 one.
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
  DisassociateSubnetCidrBlockRequest,
  DisassociateSubnetCidrBlockResult,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { addressToBigInt, containsAddress, containsCidr, formatCidr, overlaps, parseCidr, size } from '../../core/cidr.ts';
import { arn, ID_PATTERN, newId } from './ids.ts';
import { KIND, type SubnetDoc, type TagPair, type VpcDoc } from '../../core/documents/ec2.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { zonesOf, type Zone } from '../../core/regions.ts';
import { enisOf, getSubnet, getVpc, subnetAddressesInUse, subnetHasDependents, subnetNotFound } from './lookups.ts';
import { subnetRoutingCreated, subnetRoutingDeleted } from './vpc-routing.ts';

export function createSubnetDoc(
  ctx: Ctx,
  vpc: VpcDoc,
  cidr: string,
  zone: Zone,
  opts: { defaultForAz?: boolean; mapPublicIpOnLaunch?: boolean; ipv6?: string; ipv6Native?: boolean; tags?: TagPair[] } = {},
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
    // AWS's defaults for an IPv6-only subnet: IPv6 addresses and resource-name AAAA records on launch.
    ...(opts.ipv6Native
      ? {
          ipv6Native: true,
          assignIpv6AddressOnCreation: true,
          hostnameType: 'resource-name' as const,
          enableResourceNameDnsAAAARecord: true,
        }
      : {}),
    tags: opts.tags ?? [],
  };
  ctx.tx.put(KIND.subnet, ctx.scope, s);
  subnetRoutingCreated(ctx, s);
  return s;
}

function toSubnet(ctx: Ctx, s: SubnetDoc): Subnet {
  const c = parseCidr(s.cidr);
  const used = subnetAddressesInUse(ctx, s.id);
  return {
    SubnetId: s.id,
    VpcId: s.vpcId,
    ...(c ? { CidrBlock: s.cidr } : {}),
    State: 'available',
    AvailabilityZone: s.az,
    AvailabilityZoneId: s.azId,
    AvailableIpAddressCount: c ? Number(size(c)) - 5 - used : 0,
    DefaultForAz: s.defaultForAz,
    MapPublicIpOnLaunch: s.mapPublicIpOnLaunch,
    AssignIpv6AddressOnCreation: s.assignIpv6AddressOnCreation,
    MapCustomerOwnedIpOnLaunch: false,
    EnableDns64: s.enableDns64 ?? false,
    Ipv6Native: s.ipv6Native ?? false,
    OwnerId: ctx.account,
    SubnetArn: arn(ctx.partition, 'ec2', ctx.region, ctx.account, `subnet/${s.id}`),
    Ipv6CidrBlockAssociationSet: s.ipv6.map((a) => ({
      AssociationId: a.associationId,
      Ipv6CidrBlock: a.cidr,
      Ipv6CidrBlockState: { State: a.state as never },
      Ipv6AddressAttribute: 'public',
      IpSource: 'amazon',
    })),
    PrivateDnsNameOptionsOnLaunch: {
      HostnameType: s.hostnameType ?? 'ip-name',
      EnableResourceNameDnsARecord: s.enableResourceNameDnsARecord ?? false,
      EnableResourceNameDnsAAAARecord: s.enableResourceNameDnsAAAARecord ?? false,
    },
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
    if (input.Ipv4IpamPoolId || input.Ipv6IpamPoolId) {
      throw err.combination('IPAM pools are not supported by Palisade; use CidrBlock and Ipv6CidrBlock.');
    }
    // AWS's checks for IPv6-only subnets, in AWS's order (moto's AWS-verified tests, getmoto/moto#9359).
    if (input.Ipv6Native && !input.Ipv6CidrBlock) {
      throw new ApiError('MissingParameter', "Either 'ipv6CidrBlock' or 'ipv6IpamPoolId' should be provided.");
    }
    if (input.Ipv6Native && input.CidrBlock) {
      throw err.combination('When specifying ipv4 parameters, cidrBlock or ipv4IpamPoolId, you cannot set ipv6Native to true.');
    }
    let cidr = '';
    if (!input.Ipv6Native) {
      if (!input.CidrBlock) throw err.missing('CidrBlock');
      const c = parseCidr(input.CidrBlock, 4);
      if (!c) throw err.invalidValue(`Value (${input.CidrBlock}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`);
      if (c.prefix < 16 || c.prefix > 28 || !vpc.cidrAssociations.some((a) => containsCidr(parseCidr(a.cidr)!, c))) {
        throw new ApiError('InvalidSubnet.Range', `The CIDR '${input.CidrBlock}' is invalid.`);
      }
      for (const s of ctx.tx.all<SubnetDoc>(KIND.subnet, ctx.scope)) {
        const other = parseCidr(s.cidr);
        if (s.vpcId === vpc.id && other && overlaps(other, c)) {
          throw new ApiError('InvalidSubnet.Conflict', `The CIDR '${input.CidrBlock}' conflicts with another subnet`);
        }
      }
      cidr = formatCidr(c);
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
    const s = createSubnetDoc(ctx, vpc, cidr, zone, { ipv6, ipv6Native: input.Ipv6Native, tags });
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
      'cidr-block': (s) => s.cidr || undefined,
      cidr: (s) => s.cidr || undefined,
      cidrBlock: (s) => s.cidr || undefined,
      'availability-zone': (s) => s.az,
      availabilityZone: (s) => s.az,
      'availability-zone-id': (s) => s.azId,
      availabilityZoneId: (s) => s.azId,
      'default-for-az': (s) => s.defaultForAz,
      defaultForAz: (s) => s.defaultForAz,
      'map-public-ip-on-launch': (s) => s.mapPublicIpOnLaunch,
      'assign-ipv6-address-on-creation': (s) => s.assignIpv6AddressOnCreation,
      'ipv6-native': (s) => s.ipv6Native ?? false,
      'enable-dns64': (s) => s.enableDns64 ?? false,
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

  /** One attribute per call, as AWS requires (Terraform makes one call per attribute and waits on DescribeSubnets). */
  ModifySubnetAttribute(ctx: Ctx, input: ModifySubnetAttributeRequest): Record<string, never> {
    const subnet = getSubnet(ctx, input.SubnetId);
    if (input.EnableLniAtDeviceIndex !== undefined || input.DisableLniAtDeviceIndex?.Value !== undefined) {
      throw err.combination('Local network interfaces (Outposts) are not supported by Palisade.');
    }
    if (input.MapCustomerOwnedIpOnLaunch?.Value || input.CustomerOwnedIpv4Pool) {
      throw err.combination('Customer-owned IP pools (Outposts) are not supported by Palisade.');
    }
    const given = (
      [
        ['mapPublicIpOnLaunch', input.MapPublicIpOnLaunch?.Value],
        ['assignIpv6AddressOnCreation', input.AssignIpv6AddressOnCreation?.Value],
        ['enableDns64', input.EnableDns64?.Value],
        ['privateDnsHostnameTypeOnLaunch', input.PrivateDnsHostnameTypeOnLaunch],
        ['enableResourceNameDnsARecordOnLaunch', input.EnableResourceNameDnsARecordOnLaunch?.Value],
        ['enableResourceNameDnsAAAARecordOnLaunch', input.EnableResourceNameDnsAAAARecordOnLaunch?.Value],
      ] as const
    ).filter(([, v]) => v !== undefined);
    if (given.length > 1) throw err.combination(`Fields for multiple attribute types specified: ${given.map(([k]) => k).join(', ')}`);
    if (!given.length && input.MapCustomerOwnedIpOnLaunch?.Value === false) return {};
    const [only] = given;
    if (!only) throw err.invalidParam('Exactly one attribute of the subnet must be specified');
    const s = ctx.tx.edit<SubnetDoc>(KIND.subnet, ctx.scope, subnet.id)!;
    switch (only[0]) {
      case 'mapPublicIpOnLaunch':
        s.mapPublicIpOnLaunch = only[1] as boolean;
        break;
      case 'assignIpv6AddressOnCreation':
        if (only[1] && s.ipv6.length === 0) {
          // AWS's words (quoted in terraform-aws-modules/terraform-aws-vpc#735).
          throw err.invalidValue(
            `Invalid value 'true' for assign-ipv6-address-on-creation. Cannot set assign-ipv6-address-on-creation to true unless the subnet (${s.id}) has an IPv6 CIDR block associated with it.`,
          );
        }
        s.assignIpv6AddressOnCreation = only[1] as boolean;
        break;
      case 'enableDns64':
        s.enableDns64 = only[1] as boolean;
        break;
      case 'privateDnsHostnameTypeOnLaunch':
        if (only[1] !== 'ip-name' && only[1] !== 'resource-name') {
          throw err.invalidValue(`Value (${String(only[1])}) for parameter privateDnsHostnameTypeOnLaunch is invalid.`);
        }
        if (only[1] === 'ip-name' && s.ipv6Native) {
          throw err.invalidValue(
            `Invalid value 'ip-name' for private-dns-hostname-type-on-launch. An IPv6-only subnet (${s.id}) names instances by resource name.`,
          );
        }
        s.hostnameType = only[1];
        break;
      case 'enableResourceNameDnsARecordOnLaunch':
        s.enableResourceNameDnsARecord = only[1] as boolean;
        break;
      case 'enableResourceNameDnsAAAARecordOnLaunch':
        s.enableResourceNameDnsAAAARecord = only[1] as boolean;
        break;
    }
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
      Ipv6CidrBlockAssociation: {
        AssociationId: a.associationId,
        Ipv6CidrBlock: cidr,
        Ipv6CidrBlockState: { State: 'associating' },
        Ipv6AddressAttribute: 'public',
        IpSource: 'amazon',
      },
    };
  },

  /** The subnet's IPv6 block goes (not while interfaces hold addresses of it, nor an IPv6-only subnet's only block). */
  DisassociateSubnetCidrBlock(ctx: Ctx, input: DisassociateSubnetCidrBlockRequest): DisassociateSubnetCidrBlockResult {
    if (!input.AssociationId) throw err.missing('AssociationId');
    const subnet = ctx.tx.all<SubnetDoc>(KIND.subnet, ctx.scope).find((x) => x.ipv6.some((a) => a.associationId === input.AssociationId));
    if (!subnet) {
      throw new ApiError(
        'InvalidSubnetCidrBlockAssociationID.NotFound',
        `The subnet CIDR block with association ID '${input.AssociationId}' does not exist`,
      );
    }
    const assoc = subnet.ipv6.find((a) => a.associationId === input.AssociationId)!;
    if (subnet.ipv6Native) {
      throw err.invalidValue(
        `The IPv6 CIDR block ${assoc.cidr} is the only block of the IPv6-only subnet ${subnet.id} and cannot be disassociated.`,
      );
    }
    const block = parseCidr(assoc.cidr)!;
    const inUse = enisOf(ctx).some(
      (e) =>
        e.subnetId === subnet.id &&
        e.ipv6.some((ip) => {
          const a = addressToBigInt(ip);
          return !!a && containsAddress(block, 6, a.value);
        }),
    );
    if (inUse)
      throw new ApiError('InvalidCidrBlock.InUse', `The subnet ${subnet.id} has IPv6 addresses in use in CIDR block ${assoc.cidr}.`);
    const s = ctx.tx.edit<SubnetDoc>(KIND.subnet, ctx.scope, subnet.id)!;
    s.ipv6 = s.ipv6.filter((a) => a.associationId !== assoc.associationId);
    // Without an IPv6 block nothing can be assigned on creation.
    if (!s.ipv6.length) s.assignIpv6AddressOnCreation = false;
    return {
      SubnetId: s.id,
      Ipv6CidrBlockAssociation: {
        AssociationId: assoc.associationId,
        Ipv6CidrBlock: assoc.cidr,
        Ipv6CidrBlockState: { State: 'disassociating' },
        Ipv6AddressAttribute: 'public',
        IpSource: 'amazon',
      },
    };
  },
};
