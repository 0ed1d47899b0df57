// VPC endpoints: gateway endpoints (S3, DynamoDB) put a route to the service's AWS-managed prefix
// list in each of their route tables; interface endpoints put one requester-managed interface
// (type `vpc_endpoint`) in each of their subnets, one subnet per availability zone, carrying the
// endpoint's security groups. Endpoints are `available` at once (no acceptance for AWS services).
import type {
  CreateVpcEndpointRequest,
  CreateVpcEndpointResult,
  DeleteVpcEndpointsRequest,
  DeleteVpcEndpointsResult,
  DescribeVpcEndpointServicesRequest,
  DescribeVpcEndpointServicesResult,
  DescribeVpcEndpointsRequest,
  DescribeVpcEndpointsResult,
  ModifyVpcEndpointRequest,
  ModifyVpcEndpointResult,
  ServiceDetail,
  UnsuccessfulItem,
  VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { zonesOf } from '../../core/regions.ts';
import { ID_PATTERN, newId } from './ids.ts';
import { KIND, type EniDoc, type RouteTableDoc, type SubnetDoc, type VpcDoc, type VpcEndpointDoc } from '../../core/documents/ec2.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { createEni, groupIdentifiers } from './network-interfaces.ts';
import { awsLists, getGroup, getRouteTable, getSubnet, getVpc, getVpcEndpoint, vpcEndpointNotFound, vpcEndpointsOf } from './lookups.ts';

// ---------------------------------------------------------------------------------------------
// The AWS services an endpoint can reach

/** Services with a gateway endpoint (and an AWS-managed prefix list). */
const GATEWAY_SERVICES = ['s3', 'dynamodb'];
/** Services with interface endpoints (PrivateLink), the usual ones. */
const INTERFACE_SERVICES = [
  'autoscaling',
  'dynamodb',
  'ec2',
  'ec2messages',
  'ecr.api',
  'ecr.dkr',
  'ecs',
  'elasticloadbalancing',
  'events',
  'execute-api',
  'kms',
  'lambda',
  'logs',
  'monitoring',
  's3',
  'secretsmanager',
  'sns',
  'sqs',
  'ssm',
  'ssmmessages',
  'sts',
];

const serviceName = (region: string, short: string) => `com.amazonaws.${region}.${short}`;

interface Service {
  name: string;
  short: string;
  type: 'Gateway' | 'Interface';
}

function servicesOf(region: string): Service[] {
  const out: Service[] = [];
  for (const short of [...new Set([...GATEWAY_SERVICES, ...INTERFACE_SERVICES])].sort()) {
    if (GATEWAY_SERVICES.includes(short)) out.push({ name: serviceName(region, short), short, type: 'Gateway' });
    if (INTERFACE_SERVICES.includes(short)) out.push({ name: serviceName(region, short), short, type: 'Interface' });
  }
  return out;
}

const DEFAULT_POLICY = JSON.stringify({
  Version: '2008-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
});

function policyOf(text: string | undefined): string {
  if (text === undefined || text === '') return DEFAULT_POLICY;
  try {
    const doc = JSON.parse(text) as unknown;
    if (doc && typeof doc === 'object' && !Array.isArray(doc)) return text;
  } catch {
    /* below */
  }
  throw new ApiError('InvalidPolicyDocument', 'The specified policy document is not a valid JSON policy document.');
}

/** The AWS-managed prefix list of a gateway endpoint's service. */
function servicePrefixList(ctx: Ctx, name: string): string {
  const list = awsLists(ctx).find((l) => l.name === name);
  if (!list) throw new ApiError('InvalidServiceName', `The Vpc Endpoint Service '${name}' does not exist`);
  return list.id;
}

// ---------------------------------------------------------------------------------------------
// Routes and interfaces

function addRoutes(ctx: Ctx, e: VpcEndpointDoc, tableIds: string[]): void {
  const pl = servicePrefixList(ctx, e.serviceName);
  for (const id of new Set(tableIds)) {
    const t = getRouteTable(ctx, id);
    if (t.vpcId !== e.vpcId) throw err.invalidParam(`Route table ${t.id} does not belong to VPC ${e.vpcId}`);
    if (e.routeTableIds.includes(t.id)) continue;
    if (t.routes.some((r) => r.prefixListId === pl)) {
      throw new ApiError('RouteAlreadyExists', `route table ${t.id} already has a route with destination-prefix-list-id ${pl}`);
    }
    ctx.tx.edit<RouteTableDoc>(KIND.routeTable, ctx.scope, t.id)!.routes.push({ prefixListId: pl, gatewayId: e.id, origin: 'CreateRoute' });
    e.routeTableIds.push(t.id);
  }
}

function removeRoutes(ctx: Ctx, e: VpcEndpointDoc, tableIds: string[]): void {
  for (const id of new Set(tableIds)) {
    const t = ctx.tx.edit<RouteTableDoc>(KIND.routeTable, ctx.scope, getRouteTable(ctx, id).id)!;
    t.routes = t.routes.filter((r) => r.gatewayId !== e.id);
    e.routeTableIds = e.routeTableIds.filter((x) => x !== id);
  }
}

function addInterfaces(ctx: Ctx, e: VpcEndpointDoc, subnetIds: string[]): void {
  const subnets = [...new Set(subnetIds)].map((id) => getSubnet(ctx, id));
  const zones = new Set(e.subnetIds.map((id) => ctx.tx.get<SubnetDoc>(KIND.subnet, ctx.scope, id)?.az));
  for (const s of subnets) {
    if (s.vpcId !== e.vpcId) throw err.invalidParam(`The subnet ID '${s.id}' does not belong to VPC '${e.vpcId}'`);
    if (e.subnetIds.includes(s.id)) continue;
    if (zones.has(s.az)) {
      throw new ApiError(
        'DuplicateSubnetsInSameZone',
        `Found another VPC endpoint subnet in the availability zone of ${s.id}. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service.`,
      );
    }
    zones.add(s.az);
    const eni = createEni(ctx, {
      subnet: s,
      groups: e.groups,
      description: `VPC Endpoint Interface ${e.id}`,
      interfaceType: 'vpc_endpoint',
    });
    eni.requesterManaged = true;
    e.subnetIds.push(s.id);
    e.networkInterfaceIds.push(eni.id);
  }
}

function removeInterfaces(ctx: Ctx, e: VpcEndpointDoc, subnetIds: string[]): void {
  for (const id of new Set(subnetIds)) {
    getSubnet(ctx, id);
    const eni = e.networkInterfaceIds.map((x) => ctx.tx.get<EniDoc>(KIND.eni, ctx.scope, x)).find((x) => x?.subnetId === id);
    if (eni) ctx.tx.delete(KIND.eni, ctx.scope, eni.id);
    e.subnetIds = e.subnetIds.filter((x) => x !== id);
    e.networkInterfaceIds = e.networkInterfaceIds.filter((x) => x !== eni?.id);
  }
}

function checkGroups(ctx: Ctx, vpcId: string, ids: string[]): string[] {
  for (const id of ids) {
    if (getGroup(ctx, id).vpcId !== vpcId) {
      throw new ApiError('InvalidGroup.NotFound', 'You have specified two resources that belong to different networks.');
    }
  }
  return [...new Set(ids)];
}

/** The endpoint's groups on each of its interfaces. */
function syncInterfaceGroups(ctx: Ctx, e: VpcEndpointDoc): void {
  for (const id of e.networkInterfaceIds) {
    const eni = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, id);
    if (eni) eni.groups = [...e.groups];
  }
}

// ---------------------------------------------------------------------------------------------
// Wire form

function toEndpoint(ctx: Ctx, e: VpcEndpointDoc): VpcEndpoint {
  const short = e.serviceName.slice(`com.amazonaws.${ctx.region}.`.length);
  const dns =
    e.type === 'Interface'
      ? [
          { DnsName: `${e.id}-${e.id.slice(5, 13)}.${short}.${ctx.region}.vpce.amazonaws.com`, HostedZoneId: 'Z7HUB22UULQXV' },
          ...e.subnetIds.map((id) => ({
            DnsName: `${e.id}-${e.id.slice(5, 13)}-${ctx.tx.get<SubnetDoc>(KIND.subnet, ctx.scope, id)?.az ?? ctx.region}.${short}.${ctx.region}.vpce.amazonaws.com`,
            HostedZoneId: 'Z7HUB22UULQXV',
          })),
        ]
      : [];
  return {
    VpcEndpointId: e.id,
    VpcEndpointType: e.type,
    VpcId: e.vpcId,
    ServiceName: e.serviceName,
    State: e.state as never,
    PolicyDocument: e.policy,
    RouteTableIds: [...e.routeTableIds],
    SubnetIds: [...e.subnetIds],
    Groups: e.type === 'Interface' ? groupIdentifiers(ctx, e.groups) : [],
    IpAddressType: 'ipv4',
    ...(e.type === 'Interface' ? { DnsOptions: { DnsRecordIpType: 'ipv4' } } : {}),
    PrivateDnsEnabled: e.privateDnsEnabled,
    RequesterManaged: false,
    NetworkInterfaceIds: [...e.networkInterfaceIds],
    DnsEntries: dns,
    CreationTimestamp: new Date(e.created),
    Tags: tagList(e.tags),
    OwnerId: e.ownerId,
  };
}

function toServiceDetail(ctx: Ctx, s: Service): ServiceDetail {
  return {
    ServiceName: s.name,
    ServiceId: `vpce-svc-${Buffer.from(`${s.type}/${s.short}`).toString('hex').padEnd(17, '0').slice(0, 17)}`,
    ServiceType: [{ ServiceType: s.type }],
    ServiceRegion: ctx.region,
    AvailabilityZones: zonesOf(ctx.region).map((z) => z.name),
    Owner: 'amazon',
    BaseEndpointDnsNames: [`${s.short}.${ctx.region}.${s.type === 'Interface' ? 'vpce.' : ''}amazonaws.com`],
    ...(s.type === 'Interface' ? { PrivateDnsName: `${s.short}.${ctx.region}.amazonaws.com` } : {}),
    VpcEndpointPolicySupported: true,
    AcceptanceRequired: false,
    ManagesVpcEndpoints: false,
    Tags: [],
    SupportedIpAddressTypes: ['ipv4'],
  };
}

// ---------------------------------------------------------------------------------------------
// Handlers

export const vpcEndpointHandlers = {
  CreateVpcEndpoint(ctx: Ctx, input: CreateVpcEndpointRequest): CreateVpcEndpointResult {
    const vpc: VpcDoc = getVpc(ctx, input.VpcId);
    if (input.ClientToken) {
      const prior = vpcEndpointsOf(ctx).find((e) => e.clientToken === input.ClientToken);
      if (prior) return { VpcEndpoint: toEndpoint(ctx, prior), ClientToken: input.ClientToken };
    }
    const type = input.VpcEndpointType ?? 'Gateway';
    if (!['Gateway', 'Interface', 'GatewayLoadBalancer', 'Resource', 'ServiceNetwork'].includes(type)) {
      throw new ApiError('InvalidVpcEndpointType', `The VPC endpoint type '${type}' is not valid.`);
    }
    if (!input.ServiceName) throw err.missing('ServiceName');
    const service = servicesOf(ctx.region).find((s) => s.name === input.ServiceName && s.type === type);
    if (!service) throw new ApiError('InvalidServiceName', `The Vpc Endpoint Service '${input.ServiceName}' does not exist`);
    const gateway = type === 'Gateway';
    if (gateway && (input.SubnetIds?.length || input.SecurityGroupIds?.length)) {
      throw err.invalidParam('Subnets and security groups can only be specified for an endpoint of type Interface.');
    }
    if (!gateway && input.RouteTableIds?.length)
      throw err.invalidParam('Route tables can only be specified for an endpoint of type Gateway.');
    const e: VpcEndpointDoc = {
      id: newId('vpce'),
      vpcId: vpc.id,
      ownerId: ctx.account,
      type: service.type,
      serviceName: service.name,
      state: 'available',
      policy: policyOf(input.PolicyDocument),
      routeTableIds: [],
      subnetIds: [],
      networkInterfaceIds: [],
      groups: gateway ? [] : checkGroups(ctx, vpc.id, input.SecurityGroupIds?.length ? input.SecurityGroupIds : [vpc.defaultGroupId]),
      privateDnsEnabled: gateway ? false : (input.PrivateDnsEnabled ?? true),
      created: new Date(ctx.clock.now()).toISOString(),
      ...(input.ClientToken ? { clientToken: input.ClientToken } : {}),
      tags: tagsFromSpecs(input.TagSpecifications, 'vpc-endpoint'),
    };
    if (gateway) addRoutes(ctx, e, input.RouteTableIds ?? []);
    else addInterfaces(ctx, e, input.SubnetIds ?? []);
    ctx.tx.put(KIND.vpcEndpoint, ctx.scope, e);
    return { VpcEndpoint: toEndpoint(ctx, e), ClientToken: input.ClientToken };
  },

  DescribeVpcEndpoints(ctx: Ctx, input: DescribeVpcEndpointsRequest): DescribeVpcEndpointsResult {
    let list = vpcEndpointsOf(ctx);
    if (input.VpcEndpointIds?.length) {
      for (const id of input.VpcEndpointIds) getVpcEndpoint(ctx, id);
      list = list.filter((e) => input.VpcEndpointIds!.includes(e.id));
    }
    const match = compileFilters<VpcEndpointDoc>(input.Filters, {
      'vpc-endpoint-id': (e) => e.id,
      'vpc-id': (e) => e.vpcId,
      'service-name': (e) => e.serviceName,
      'vpc-endpoint-state': (e) => e.state,
      'vpc-endpoint-type': (e) => e.type,
      'ip-address-type': () => 'ipv4',
      'owner-id': (e) => e.ownerId,
    });
    const { page, nextToken } = paginate(list.filter(match), input.MaxResults, input.NextToken, { min: 1, max: 1000 });
    return { VpcEndpoints: page.map((e) => toEndpoint(ctx, e)), NextToken: nextToken };
  },

  ModifyVpcEndpoint(ctx: Ctx, input: ModifyVpcEndpointRequest): ModifyVpcEndpointResult {
    const e = ctx.tx.edit<VpcEndpointDoc>(KIND.vpcEndpoint, ctx.scope, getVpcEndpoint(ctx, input.VpcEndpointId).id)!;
    const gateway = e.type === 'Gateway';
    if (gateway && (input.AddSubnetIds?.length || input.AddSecurityGroupIds?.length)) {
      throw err.invalidParam('Subnets and security groups can only be specified for an endpoint of type Interface.');
    }
    if (!gateway && input.AddRouteTableIds?.length)
      throw err.invalidParam('Route tables can only be specified for an endpoint of type Gateway.');
    if (input.ResetPolicy && input.PolicyDocument)
      throw err.combination('The parameter PolicyDocument cannot be used with the parameter ResetPolicy');
    if (input.ResetPolicy) e.policy = DEFAULT_POLICY;
    else if (input.PolicyDocument !== undefined) e.policy = policyOf(input.PolicyDocument);
    if (input.RemoveRouteTableIds?.length) removeRoutes(ctx, e, input.RemoveRouteTableIds);
    if (input.AddRouteTableIds?.length) addRoutes(ctx, e, input.AddRouteTableIds);
    if (input.RemoveSubnetIds?.length) removeInterfaces(ctx, e, input.RemoveSubnetIds);
    if (input.AddSubnetIds?.length) addInterfaces(ctx, e, input.AddSubnetIds);
    if (input.AddSecurityGroupIds?.length || input.RemoveSecurityGroupIds?.length) {
      const add = checkGroups(ctx, e.vpcId, input.AddSecurityGroupIds ?? []);
      const remove = new Set(input.RemoveSecurityGroupIds ?? []);
      e.groups = [...new Set([...e.groups.filter((g) => !remove.has(g)), ...add])];
      syncInterfaceGroups(ctx, e);
    }
    if (input.PrivateDnsEnabled !== undefined && !gateway) e.privateDnsEnabled = input.PrivateDnsEnabled;
    return { Return: true };
  },

  DeleteVpcEndpoints(ctx: Ctx, input: DeleteVpcEndpointsRequest): DeleteVpcEndpointsResult {
    if (!input.VpcEndpointIds?.length) throw err.missing('VpcEndpointId');
    const unsuccessful: UnsuccessfulItem[] = [];
    for (const id of input.VpcEndpointIds) {
      if (!ID_PATTERN('vpce').test(id)) {
        unsuccessful.push({
          ResourceId: id,
          Error: { Code: 'InvalidVpcEndpointId.Malformed', Message: `Invalid id: "${id}" (expecting "vpce-...")` },
        });
        continue;
      }
      const doc = ctx.tx.get<VpcEndpointDoc>(KIND.vpcEndpoint, ctx.scope, id);
      if (!doc) {
        unsuccessful.push({ ResourceId: id, Error: { Code: 'InvalidVpcEndpoint.NotFound', Message: vpcEndpointNotFound(id).message } });
        continue;
      }
      const e = structuredClone(doc);
      removeRoutes(
        ctx,
        e,
        e.routeTableIds.filter((t) => ctx.tx.get(KIND.routeTable, ctx.scope, t)),
      );
      for (const eni of e.networkInterfaceIds) ctx.tx.delete(KIND.eni, ctx.scope, eni);
      ctx.tx.delete(KIND.vpcEndpoint, ctx.scope, e.id);
    }
    return { Unsuccessful: unsuccessful };
  },

  DescribeVpcEndpointServices(ctx: Ctx, input: DescribeVpcEndpointServicesRequest): DescribeVpcEndpointServicesResult {
    let services = servicesOf(ctx.region);
    if (input.ServiceNames?.length) {
      for (const name of input.ServiceNames) {
        if (!services.some((s) => s.name === name)) {
          throw new ApiError('InvalidServiceName', `The Vpc Endpoint Service '${name}' does not exist`);
        }
      }
      services = services.filter((s) => input.ServiceNames!.includes(s.name));
    }
    type View = { id: string; seq: number; tags: []; service: Service };
    const views: View[] = services.map((s, i) => ({ id: `${s.type}/${s.name}`, seq: i + 1, tags: [], service: s }));
    const match = compileFilters<View>(input.Filters, {
      'service-name': (v) => v.service.name,
      'service-type': (v) => v.service.type,
      owner: () => 'amazon',
      'service-region': () => ctx.region,
      'supported-ip-address-types': () => 'ipv4',
    });
    const { page, nextToken } = paginate(views.filter(match), input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    return {
      ServiceNames: [...new Set(page.map((v) => v.service.name))],
      ServiceDetails: page.map((v) => toServiceDetail(ctx, v.service)),
      NextToken: nextToken,
    };
  },
};
