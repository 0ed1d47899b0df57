// VPCs, the default VPC of every account and region, availability zones and account attributes.
import type {
  AssociateVpcCidrBlockRequest,
  AssociateVpcCidrBlockResult,
  CreateVpcRequest,
  CreateVpcResult,
  DeleteVpcRequest,
  DescribeVpcAttributeRequest,
  DescribeVpcAttributeResult,
  DescribeAccountAttributesRequest,
  DescribeAccountAttributesResult,
  DescribeAvailabilityZonesRequest,
  DescribeAvailabilityZonesResult,
  DescribeVpcsRequest,
  DescribeVpcsResult,
  DisassociateVpcCidrBlockRequest,
  DisassociateVpcCidrBlockResult,
  ModifyVpcAttributeRequest,
  Vpc,
  CreateDefaultVpcRequest,
  CreateDefaultVpcResult,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { canonicalCidr, formatCidr, overlaps, parseCidr } from '../../core/cidr.ts';
import { newId, ID_PATTERN } from './ids.ts';
import { KIND, type SecurityGroupDoc, type SubnetDoc, type VpcDoc } from '../../core/documents/ec2.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { zonesOf } from '../../core/regions.ts';
import { createDefaultGroup, addIpv6EgressToDefaultGroup } from './security-groups.ts';
import { createSubnetDoc } from './subnets.ts';
import { addDefaultInternetRoute, createVpcRouting, deleteVpcRouting, vpcIpv6Associated } from './vpc-routing.ts';
import { defaultDhcpOptions, defaultVpc, dhcpOptionsOf, getVpc, internetGatewayOf, vpcHasDependents, vpcHasGateways } from './lookups.ts';
import { adoptDhcpOptions, createDefaultDhcpOptions } from './dhcp-options.ts';
import { newInternetGateway } from './internet-gateways.ts';

/** A random /56 from Amazon's pool, as AmazonProvidedIpv6CidrBlock assigns. */
function amazonIpv6Block(): string {
  const a = Math.floor(Math.random() * 0x10000).toString(16);
  const b = (Math.floor(Math.random() * 0x100) << 8).toString(16);
  return canonicalCidr(`2600:1f18:${a}:${b}::/56`)!;
}

/** An IPv6 block's network border group: the region's own (Local Zone groups are not modelled). */
function networkBorderGroup(ctx: Ctx, given: string | undefined): string {
  if (given !== undefined && given !== ctx.region) {
    throw err.invalidValue(
      `Value (${given}) for parameter ipv6CidrBlockNetworkBorderGroup is invalid. It must be the region's network border group.`,
    );
  }
  return ctx.region;
}

function vpcDoc(
  ctx: Ctx,
  cidr: string,
  opts: { isDefault: boolean; tenancy?: string; ipv6?: boolean; networkBorderGroup?: string; tags?: VpcDoc['tags'] },
): VpcDoc {
  const vpc: VpcDoc = {
    id: newId('vpc'),
    cidr,
    cidrAssociations: [{ associationId: newId('vpc-cidr-assoc'), cidr, state: 'associated' }],
    ipv6: opts.ipv6
      ? [
          {
            associationId: newId('vpc-cidr-assoc'),
            cidr: amazonIpv6Block(),
            state: 'associated',
            pool: 'Amazon',
            networkBorderGroup: opts.networkBorderGroup ?? ctx.region,
          },
        ]
      : [],
    isDefault: opts.isDefault,
    tenancy: opts.tenancy ?? 'default',
    dhcpOptionsId: defaultDhcpOptions(ctx)?.id ?? 'default',
    defaultGroupId: '',
    tags: opts.tags ?? [],
  };
  const sg = createDefaultGroup(ctx, vpc);
  vpc.defaultGroupId = sg.id;
  ctx.tx.put(KIND.vpc, ctx.scope, vpc);
  createVpcRouting(ctx, vpc);
  return vpc;
}

/** The default VPC: a /16, an internet gateway, one default /20 subnet per zone (public addresses on launch). */
function createDefaultVpc(ctx: Ctx): VpcDoc {
  const vpc = vpcDoc(ctx, '172.31.0.0/16', { isDefault: true });
  newInternetGateway(ctx, vpc.id);
  addDefaultInternetRoute(ctx, vpc.id);
  zonesOf(ctx.region).forEach((zone, i) => {
    createSubnetDoc(ctx, vpc, `172.31.${i * 16}.0/20`, zone, { defaultForAz: true, mapPublicIpOnLaunch: true });
  });
  return vpc;
}

/** Marks a scope that has what surrounds its VPCs (made with it, or completed later). */
const SURROUNDINGS = 'vpc-surroundings';

/**
 * Every account+region starts with the region's default DHCP options set and a default VPC
 * using it; created on first use, once. State written before Palisade kept DHCP options is
 * completed the same way, once.
 */
export function ensureRegion(ctx: Ctx): void {
  const init = ctx.store.table(KIND.init, ctx.scope);
  if (init.has(SURROUNDINGS) || ctx.tx.get(KIND.init, ctx.scope, SURROUNDINGS)) return;
  ctx.tx.put(KIND.init, ctx.scope, { id: SURROUNDINGS });
  if (init.has('default') || ctx.tx.get(KIND.init, ctx.scope, 'default')) return completeSurroundings(ctx);
  ctx.tx.put(KIND.init, ctx.scope, { id: 'default' });
  createDefaultDhcpOptions(ctx);
  createDefaultVpc(ctx);
}

/** State written before: the region's default DHCP options set, which its VPCs adopt, and the default VPC's internet gateway. */
function completeSurroundings(ctx: Ctx): void {
  if (!dhcpOptionsOf(ctx).length) adoptDhcpOptions(ctx, createDefaultDhcpOptions(ctx));
  const def = defaultVpc(ctx);
  if (def && !internetGatewayOf(ctx, def.id)) {
    newInternetGateway(ctx, def.id);
    addDefaultInternetRoute(ctx, def.id);
  }
}

function toVpc(ctx: Ctx, v: VpcDoc): Vpc {
  return {
    VpcId: v.id,
    CidrBlock: v.cidr,
    State: 'available',
    DhcpOptionsId: v.dhcpOptionsId,
    InstanceTenancy: v.tenancy as never,
    IsDefault: v.isDefault,
    OwnerId: ctx.account,
    CidrBlockAssociationSet: v.cidrAssociations.map((a) => ({
      AssociationId: a.associationId,
      CidrBlock: a.cidr,
      CidrBlockState: { State: a.state as never },
    })),
    Ipv6CidrBlockAssociationSet: v.ipv6.map((a) => ({
      AssociationId: a.associationId,
      Ipv6CidrBlock: a.cidr,
      Ipv6CidrBlockState: { State: a.state as never },
      NetworkBorderGroup: a.networkBorderGroup,
      Ipv6Pool: a.pool,
      Ipv6AddressAttribute: 'public',
      IpSource: 'amazon',
    })),
    Tags: tagList(v.tags),
  };
}

// The DNS attributes (DescribeVpcAttribute): AWS's defaults where a VPC never had them set.
const dnsSupport = (v: VpcDoc) => v.enableDnsSupport ?? true;
const dnsHostnames = (v: VpcDoc) => v.enableDnsHostnames ?? v.isDefault;
const addressUsageMetrics = (v: VpcDoc) => v.enableNetworkAddressUsageMetrics ?? false;

function checkVpcCidr(text: string | undefined, param = 'cidrBlock'): string {
  if (!text) throw err.missing('CidrBlock');
  const c = parseCidr(text, 4);
  if (!c) throw err.invalidValue(`Value (${text}) for parameter ${param} is invalid. This is not a valid CIDR block.`);
  if (c.prefix < 16 || c.prefix > 28) throw new ApiError('InvalidVpc.Range', `The CIDR '${text}' is invalid.`);
  return formatCidr(c);
}

// An Availability Zone's group: `us-east-1-zg-1`, its long name the region's description and the
// group number (API_AvailabilityZone: "GroupName — The name of the zone group. For example:
// Availability Zones - us-east-1-zg-1"; descriptions from the AWS SDK's partition table).
const REGION_DESCRIPTION: Record<string, string> = {
  'af-south-1': 'Africa (Cape Town)',
  'ap-east-1': 'Asia Pacific (Hong Kong)',
  'ap-east-2': 'Asia Pacific (Taipei)',
  'ap-northeast-1': 'Asia Pacific (Tokyo)',
  'ap-northeast-2': 'Asia Pacific (Seoul)',
  'ap-northeast-3': 'Asia Pacific (Osaka)',
  'ap-south-1': 'Asia Pacific (Mumbai)',
  'ap-south-2': 'Asia Pacific (Hyderabad)',
  'ap-southeast-1': 'Asia Pacific (Singapore)',
  'ap-southeast-2': 'Asia Pacific (Sydney)',
  'ap-southeast-3': 'Asia Pacific (Jakarta)',
  'ap-southeast-4': 'Asia Pacific (Melbourne)',
  'ap-southeast-5': 'Asia Pacific (Malaysia)',
  'ap-southeast-6': 'Asia Pacific (New Zealand)',
  'ap-southeast-7': 'Asia Pacific (Thailand)',
  'ca-central-1': 'Canada (Central)',
  'ca-west-1': 'Canada West (Calgary)',
  'eu-central-1': 'Europe (Frankfurt)',
  'eu-central-2': 'Europe (Zurich)',
  'eu-north-1': 'Europe (Stockholm)',
  'eu-south-1': 'Europe (Milan)',
  'eu-south-2': 'Europe (Spain)',
  'eu-west-1': 'Europe (Ireland)',
  'eu-west-2': 'Europe (London)',
  'eu-west-3': 'Europe (Paris)',
  'il-central-1': 'Israel (Tel Aviv)',
  'me-central-1': 'Middle East (UAE)',
  'me-south-1': 'Middle East (Bahrain)',
  'me-west-1': 'Middle East (Saudi Arabia)',
  'mx-central-1': 'Mexico (Central)',
  'sa-east-1': 'South America (Sao Paulo)',
  'sa-west-1': 'South America (Chile)',
  'us-east-1': 'US East (N. Virginia)',
  'us-east-2': 'US East (Ohio)',
  'us-west-1': 'US West (N. California)',
  'us-west-2': 'US West (Oregon)',
  'cn-north-1': 'China (Beijing)',
  'cn-northwest-1': 'China (Ningxia)',
  'us-gov-east-1': 'AWS GovCloud (US-East)',
  'us-gov-west-1': 'AWS GovCloud (US-West)',
};
const zoneGroup = (region: string) => ({
  GroupName: `${region}-zg-1`,
  GroupLongName: `${REGION_DESCRIPTION[region] ?? region} 1`,
});

/** AWS names the VPC without quotes here (recorded AWS response; moto quotes it). */
const cidrLimitExceeded = (vpcId: string) =>
  new ApiError('CidrLimitExceeded', `This network ${vpcId} has met its maximum number of allowed CIDRs: 5`);

export const vpcHandlers = {
  CreateVpc(ctx: Ctx, input: CreateVpcRequest): CreateVpcResult {
    if (input.Ipv4IpamPoolId || input.Ipv6IpamPoolId || input.Ipv6Pool) {
      throw new ApiError(
        'InvalidParameterCombination',
        'IPAM pools and BYOIP IPv6 pools are not supported by Palisade; use CidrBlock and AmazonProvidedIpv6CidrBlock.',
      );
    }
    const cidr = checkVpcCidr(input.CidrBlock);
    if (input.InstanceTenancy && !['default', 'dedicated', 'host'].includes(input.InstanceTenancy)) {
      throw err.invalidValue(`Value (${input.InstanceTenancy}) for parameter instanceTenancy is invalid.`);
    }
    const nbg = input.AmazonProvidedIpv6CidrBlock ? networkBorderGroup(ctx, input.Ipv6CidrBlockNetworkBorderGroup) : undefined;
    const tags = tagsFromSpecs(input.TagSpecifications, 'vpc');
    const vpc = vpcDoc(ctx, cidr, {
      isDefault: false,
      tenancy: input.InstanceTenancy,
      ipv6: input.AmazonProvidedIpv6CidrBlock,
      networkBorderGroup: nbg,
      tags,
    });
    // As AWS answers: the VPC pending, its Amazon IPv6 block associating (Describe shows both done).
    const answer = toVpc(ctx, vpc);
    return {
      Vpc: {
        ...answer,
        State: 'pending',
        Ipv6CidrBlockAssociationSet: answer.Ipv6CidrBlockAssociationSet!.map((a) => ({
          ...a,
          Ipv6CidrBlockState: { State: 'associating' },
        })),
      },
    };
  },

  CreateDefaultVpc(ctx: Ctx, _input: CreateDefaultVpcRequest): CreateDefaultVpcResult {
    if (defaultVpc(ctx)) throw new ApiError('DefaultVpcAlreadyExists', 'A Default VPC already exists for this account in this region.');
    return { Vpc: toVpc(ctx, createDefaultVpc(ctx)) };
  },

  DescribeVpcs(ctx: Ctx, input: DescribeVpcsRequest): DescribeVpcsResult {
    let vpcs = ctx.tx.all<VpcDoc>(KIND.vpc, ctx.scope);
    if (input.VpcIds?.length) {
      const missing = input.VpcIds.filter((id) => !vpcs.some((v) => v.id === id));
      for (const id of missing)
        if (!ID_PATTERN('vpc').test(id)) throw new ApiError('InvalidVpcID.Malformed', `Invalid id: "${id}" (expecting "vpc-...")`);
      if (missing.length)
        throw new ApiError(
          'InvalidVpcID.NotFound',
          missing.length === 1 ? `The vpc ID '${missing[0]}' does not exist` : `The vpc IDs '${missing.join(', ')}' do not exist`,
        );
      vpcs = vpcs.filter((v) => input.VpcIds!.includes(v.id));
    }
    const match = compileFilters<VpcDoc>(input.Filters, {
      'vpc-id': (v) => v.id,
      cidr: (v) => v.cidr,
      'cidr-block': (v) => v.cidr,
      cidrBlock: (v) => v.cidr,
      'cidr-block-association.cidr-block': (v) => v.cidrAssociations.map((a) => a.cidr),
      'cidr-block-association.association-id': (v) => v.cidrAssociations.map((a) => a.associationId),
      'cidr-block-association.state': (v) => v.cidrAssociations.map((a) => a.state),
      'ipv6-cidr-block-association.ipv6-cidr-block': (v) => v.ipv6.map((a) => a.cidr),
      'ipv6-cidr-block-association.association-id': (v) => v.ipv6.map((a) => a.associationId),
      'ipv6-cidr-block-association.state': (v) => v.ipv6.map((a) => a.state),
      'ipv6-cidr-block-association.ipv6-pool': (v) => v.ipv6.map((a) => a.pool),
      'dhcp-options-id': (v) => v.dhcpOptionsId,
      'is-default': (v) => v.isDefault,
      isDefault: (v) => v.isDefault,
      'owner-id': () => ctx.account,
      state: () => 'available',
    });
    const { page, nextToken } = paginate(vpcs.filter(match), input.MaxResults, input.NextToken);
    return { Vpcs: page.map((v) => toVpc(ctx, v)), NextToken: nextToken };
  },

  DeleteVpc(ctx: Ctx, input: DeleteVpcRequest): Record<string, never> {
    const vpc = getVpc(ctx, input.VpcId);
    const subnets = ctx.tx.all<SubnetDoc>(KIND.subnet, ctx.scope).filter((s) => s.vpcId === vpc.id);
    const groups = ctx.tx.all<SecurityGroupDoc>(KIND.sg, ctx.scope).filter((g) => g.vpcId === vpc.id);
    if (subnets.length || groups.some((g) => g.id !== vpc.defaultGroupId) || vpcHasDependents(ctx, vpc.id) || vpcHasGateways(ctx, vpc.id)) {
      throw new ApiError('DependencyViolation', `The vpc '${vpc.id}' has dependencies and cannot be deleted.`);
    }
    for (const g of groups) ctx.tx.delete(KIND.sg, ctx.scope, g.id);
    deleteVpcRouting(ctx, vpc.id);
    ctx.tx.delete(KIND.vpc, ctx.scope, vpc.id);
    return {};
  },

  DescribeVpcAttribute(ctx: Ctx, input: DescribeVpcAttributeRequest): DescribeVpcAttributeResult {
    if (!input.Attribute) throw err.missing('Attribute');
    const vpc = getVpc(ctx, input.VpcId);
    switch (input.Attribute) {
      case 'enableDnsSupport':
        return { VpcId: vpc.id, EnableDnsSupport: { Value: dnsSupport(vpc) } };
      case 'enableDnsHostnames':
        return { VpcId: vpc.id, EnableDnsHostnames: { Value: dnsHostnames(vpc) } };
      case 'enableNetworkAddressUsageMetrics':
        return { VpcId: vpc.id, EnableNetworkAddressUsageMetrics: { Value: addressUsageMetrics(vpc) } };
      default:
        throw err.invalidValue(`Value (${String(input.Attribute)}) for parameter attribute is invalid. Unknown attribute.`);
    }
  },

  /** One attribute per call, as AWS requires. */
  ModifyVpcAttribute(ctx: Ctx, input: ModifyVpcAttributeRequest): Record<string, never> {
    const vpc = getVpc(ctx, input.VpcId);
    const given = (
      [
        ['enableDnsSupport', input.EnableDnsSupport?.Value],
        ['enableDnsHostnames', input.EnableDnsHostnames?.Value],
        ['enableNetworkAddressUsageMetrics', input.EnableNetworkAddressUsageMetrics?.Value],
      ] as const
    ).filter(([, v]) => v !== undefined);
    if (given.length > 1) {
      throw err.combination(`Fields for multiple attribute types specified: ${given.map(([k]) => k).join(', ')}`);
    }
    const [only] = given;
    if (!only) throw err.missing('EnableDnsSupport, EnableDnsHostnames or EnableNetworkAddressUsageMetrics');
    const w = ctx.tx.edit<VpcDoc>(KIND.vpc, ctx.scope, vpc.id)!;
    w[only[0]] = only[1];
    return {};
  },

  AssociateVpcCidrBlock(ctx: Ctx, input: AssociateVpcCidrBlockRequest): AssociateVpcCidrBlockResult {
    const vpc = ctx.tx.edit<VpcDoc>(KIND.vpc, ctx.scope, getVpc(ctx, input.VpcId).id)!;
    if (input.Ipv6Pool || input.Ipv6CidrBlock || input.Ipv6IpamPoolId || input.Ipv4IpamPoolId) {
      throw err.combination('IPAM pools and BYOIP IPv6 pools are not supported by Palisade; use CidrBlock or AmazonProvidedIpv6CidrBlock.');
    }
    if (input.AmazonProvidedIpv6CidrBlock) {
      if (input.CidrBlock) throw err.combination('The parameter cidrBlock cannot be used with the parameter amazonProvidedIpv6CidrBlock');
      if (vpc.ipv6.length >= 5) throw cidrLimitExceeded(vpc.id);
      const assoc = {
        associationId: newId('vpc-cidr-assoc'),
        cidr: amazonIpv6Block(),
        state: 'associated',
        pool: 'Amazon',
        networkBorderGroup: networkBorderGroup(ctx, input.Ipv6CidrBlockNetworkBorderGroup),
      };
      vpc.ipv6.push(assoc);
      if (vpc.ipv6.length === 1) addIpv6EgressToDefaultGroup(ctx, vpc);
      if (vpc.ipv6.length === 1) vpcIpv6Associated(ctx, vpc);
      return {
        VpcId: vpc.id,
        Ipv6CidrBlockAssociation: {
          AssociationId: assoc.associationId,
          Ipv6CidrBlock: assoc.cidr,
          Ipv6CidrBlockState: { State: 'associating' },
          NetworkBorderGroup: assoc.networkBorderGroup,
          Ipv6Pool: 'Amazon',
          Ipv6AddressAttribute: 'public',
          IpSource: 'amazon',
        },
      };
    }
    if (input.CidrBlock) {
      const cidr = checkVpcCidr(input.CidrBlock);
      const c = parseCidr(cidr)!;
      for (const a of vpc.cidrAssociations) {
        if (overlaps(parseCidr(a.cidr)!, c)) throw new ApiError('InvalidVpc.Range', `The CIDR '${input.CidrBlock}' is invalid.`);
      }
      if (vpc.cidrAssociations.length >= 5) throw cidrLimitExceeded(vpc.id);
      const assoc = { associationId: newId('vpc-cidr-assoc'), cidr, state: 'associated' };
      vpc.cidrAssociations.push(assoc);
      return {
        VpcId: vpc.id,
        CidrBlockAssociation: { AssociationId: assoc.associationId, CidrBlock: cidr, CidrBlockState: { State: 'associating' } },
      };
    }
    throw err.missing('CidrBlock');
  },

  DisassociateVpcCidrBlock(ctx: Ctx, input: DisassociateVpcCidrBlockRequest): DisassociateVpcCidrBlockResult {
    const id = input.AssociationId;
    if (!id) throw err.missing('AssociationId');
    for (const v of ctx.tx.all<VpcDoc>(KIND.vpc, ctx.scope)) {
      const i4 = v.cidrAssociations.findIndex((a) => a.associationId === id);
      const i6 = v.ipv6.findIndex((a) => a.associationId === id);
      if (i4 < 0 && i6 < 0) continue;
      const vpc = ctx.tx.edit<VpcDoc>(KIND.vpc, ctx.scope, v.id)!;
      const subnets = ctx.tx.all<SubnetDoc>(KIND.subnet, ctx.scope).filter((s) => s.vpcId === v.id);
      if (i4 >= 0) {
        if (i4 === 0) throw new ApiError('InvalidCidrBlock.InUse', `The vpc ${v.id} primary cidr block ${v.cidr} cannot be disassociated.`);
        const c = parseCidr(vpc.cidrAssociations[i4]!.cidr)!;
        if (subnets.some((s) => s.cidr && overlaps(parseCidr(s.cidr)!, c)))
          throw new ApiError(
            'InvalidCidrBlock.InUse',
            `The vpc ${v.id} currently has a subnet within CIDR block ${vpc.cidrAssociations[i4]!.cidr}.`,
          );
        const [a] = vpc.cidrAssociations.splice(i4, 1);
        return {
          VpcId: v.id,
          CidrBlockAssociation: { AssociationId: a!.associationId, CidrBlock: a!.cidr, CidrBlockState: { State: 'disassociating' } },
        };
      }
      const c6 = parseCidr(vpc.ipv6[i6]!.cidr)!;
      if (subnets.some((s) => s.ipv6.some((x) => overlaps(parseCidr(x.cidr)!, c6)))) {
        throw new ApiError('InvalidCidrBlock.InUse', `The vpc ${v.id} currently has a subnet within CIDR block ${vpc.ipv6[i6]!.cidr}.`);
      }
      const [a] = vpc.ipv6.splice(i6, 1);
      return {
        VpcId: v.id,
        Ipv6CidrBlockAssociation: {
          AssociationId: a!.associationId,
          Ipv6CidrBlock: a!.cidr,
          Ipv6CidrBlockState: { State: 'disassociating' },
          NetworkBorderGroup: a!.networkBorderGroup,
          Ipv6Pool: a!.pool,
          Ipv6AddressAttribute: 'public',
          IpSource: 'amazon',
        },
      };
    }
    throw new ApiError('InvalidVpcCidrBlockAssociationID.NotFound', `The vpc CIDR block association ID '${id}' does not exist`);
  },

  DescribeAvailabilityZones(ctx: Ctx, input: DescribeAvailabilityZonesRequest): DescribeAvailabilityZonesResult {
    type Z = { name: string; id: string; tags: [] };
    const zones: Z[] = zonesOf(ctx.region).map((z) => ({ ...z, tags: [] }));
    for (const n of input.ZoneNames ?? []) {
      if (!zones.some((z) => z.name === n)) throw err.invalidParam(`The zone '${n}' does not exist.`);
    }
    for (const n of input.ZoneIds ?? []) {
      if (!zones.some((z) => z.id === n)) throw err.invalidParam(`The zone '${n}' does not exist.`);
    }
    const match = compileFilters<Z>(input.Filters, {
      'zone-name': (z) => z.name,
      'zone-id': (z) => z.id,
      'region-name': () => ctx.region,
      state: () => 'available',
      'zone-type': () => 'availability-zone',
      'opt-in-status': () => 'opt-in-not-required',
      'group-name': () => zoneGroup(ctx.region).GroupName,
      'network-border-group': () => ctx.region,
    });
    return {
      AvailabilityZones: zones
        .filter(
          (z) => (!input.ZoneNames?.length || input.ZoneNames.includes(z.name)) && (!input.ZoneIds?.length || input.ZoneIds.includes(z.id)),
        )
        .filter(match)
        .map((z) => ({
          ZoneName: z.name,
          ZoneId: z.id,
          State: 'available',
          RegionName: ctx.region,
          ZoneType: 'availability-zone',
          OptInStatus: 'opt-in-not-required',
          ...zoneGroup(ctx.region),
          NetworkBorderGroup: ctx.region,
          Messages: [],
        })),
    };
  },

  DescribeAccountAttributes(ctx: Ctx, input: DescribeAccountAttributesRequest): DescribeAccountAttributesResult {
    const def = defaultVpc(ctx);
    const all: Record<string, string[]> = {
      'supported-platforms': ['VPC'],
      'default-vpc': [def?.id ?? 'none'],
      'max-instances': ['20'],
      'vpc-max-security-groups-per-interface': ['5'],
      'max-elastic-ips': ['5'],
      'vpc-max-elastic-ips': ['5'],
    };
    const names = input.AttributeNames?.length ? input.AttributeNames : Object.keys(all);
    return {
      AccountAttributes: names.map((n) => {
        if (!Object.hasOwn(all, n)) throw err.invalidParam(`Value (${n}) for parameter attributeName is invalid.`);
        return { AttributeName: n, AttributeValues: all[n]!.map((v) => ({ AttributeValue: v })) };
      }),
    };
  },
};
