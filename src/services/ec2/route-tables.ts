// Route tables: the main table of every VPC, custom tables, routes and associations. A route's
// state is not stored: it is `active` while its target can carry traffic and `blackhole` once the
// target is gone (a detached internet gateway, a deleted NAT gateway or interface, a stopped
// instance, a peering connection that is not active).
import type {
  AssociateRouteTableRequest,
  AssociateRouteTableResult,
  CreateRouteRequest,
  CreateRouteResult,
  CreateRouteTableRequest,
  CreateRouteTableResult,
  DeleteRouteRequest,
  DeleteRouteTableRequest,
  DescribeRouteTablesRequest,
  DescribeRouteTablesResult,
  DisassociateRouteTableRequest,
  ReplaceRouteRequest,
  ReplaceRouteTableAssociationRequest,
  ReplaceRouteTableAssociationResult,
  Route,
  RouteTable,
  RouteTableAssociation,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { formatCidr, parseCidr } from '../../core/cidr.ts';
import type { Doc } from '../../store/store.ts';
import { ID_PATTERN, newId } from './ids.ts';
import {
  KIND,
  type EniDoc,
  type InstanceDoc,
  type RouteDoc,
  type RouteTableAssociationDoc,
  type RouteTableDoc,
  type SubnetDoc,
  type VpcDoc,
  type VpcEndpointDoc,
} from '../../core/documents/ec2.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import {
  findPrefixList,
  getEni,
  getInstance,
  getPeering,
  getRouteTable,
  getSubnet,
  getVpc,
  getVpcEndpoint,
  interfacesOf,
  localRoutes,
  peeringNotFound,
  routeTablesOf,
} from './lookups.ts';
import { ensureRouting, newRouteTable } from './vpc-routing.ts';

// ---------------------------------------------------------------------------------------------
// Targets owned by other handler files, read defensively (only their VPC and state matter here)

interface GatewayLike extends Doc {
  vpcId?: string;
  subnetId?: string;
  state?: string;
  attachments?: { vpcId: string; state?: string }[];
}

/** The VPC an internet or egress-only gateway is attached to, if any. */
function attachedVpc(g: GatewayLike | undefined): string | undefined {
  if (!g) return undefined;
  if (g.attachments) return g.attachments.find((a) => !a.state || a.state === 'available' || a.state === 'attached')?.vpcId;
  return g.vpcId;
}

const GONE = new Set(['deleting', 'deleted', 'failed']);

function natVpc(ctx: Ctx, nat: GatewayLike): string | undefined {
  if (nat.vpcId) return nat.vpcId;
  return nat.subnetId ? ctx.tx.get<SubnetDoc>(KIND.subnet, ctx.scope, nat.subnetId)?.vpcId : undefined;
}

// ---------------------------------------------------------------------------------------------
// Route states and wire forms

function routeState(ctx: Ctx, t: RouteTableDoc, r: RouteDoc): 'active' | 'blackhole' {
  const ok = (() => {
    if (r.gatewayId === 'local') return true;
    if (r.gatewayId?.startsWith('igw-'))
      return attachedVpc(ctx.tx.get<GatewayLike>(KIND.internetGateway, ctx.scope, r.gatewayId)) === t.vpcId;
    if (r.gatewayId?.startsWith('vpce-')) return !!ctx.tx.get(KIND.vpcEndpoint, ctx.scope, r.gatewayId);
    if (r.gatewayId) return false;
    if (r.egressOnlyGatewayId)
      return attachedVpc(ctx.tx.get<GatewayLike>(KIND.egressOnlyInternetGateway, ctx.scope, r.egressOnlyGatewayId)) === t.vpcId;
    if (r.natGatewayId) {
      const nat = ctx.tx.get<GatewayLike>(KIND.natGateway, ctx.scope, r.natGatewayId);
      return !!nat && !GONE.has(nat.state ?? '');
    }
    if (r.instanceId) return ctx.tx.get<InstanceDoc>(KIND.instance, ctx.scope, r.instanceId)?.state === 'running';
    if (r.networkInterfaceId) {
      const eni = ctx.tx.get<EniDoc>(KIND.eni, ctx.scope, r.networkInterfaceId);
      if (!eni?.attachment) return false;
      return ctx.tx.get<InstanceDoc>(KIND.instance, ctx.scope, eni.attachment.instanceId)?.state === 'running';
    }
    if (r.peeringId) return ctx.tx.get<{ status: string } & Doc>(KIND.peering, ctx.scope, r.peeringId)?.status === 'active';
    return false;
  })();
  return ok ? 'active' : 'blackhole';
}

function toRoute(ctx: Ctx, t: RouteTableDoc, r: RouteDoc): Route {
  return {
    ...(r.cidr4 ? { DestinationCidrBlock: r.cidr4 } : {}),
    ...(r.cidr6 ? { DestinationIpv6CidrBlock: r.cidr6 } : {}),
    ...(r.prefixListId ? { DestinationPrefixListId: r.prefixListId } : {}),
    ...(r.gatewayId ? { GatewayId: r.gatewayId } : {}),
    ...(r.egressOnlyGatewayId ? { EgressOnlyInternetGatewayId: r.egressOnlyGatewayId } : {}),
    ...(r.natGatewayId ? { NatGatewayId: r.natGatewayId } : {}),
    ...(r.instanceId ? { InstanceId: r.instanceId, InstanceOwnerId: ctx.account } : {}),
    ...(r.networkInterfaceId ? { NetworkInterfaceId: r.networkInterfaceId } : {}),
    ...(r.peeringId ? { VpcPeeringConnectionId: r.peeringId } : {}),
    Origin: r.origin,
    State: routeState(ctx, t, r),
  };
}

/** Every route of the table: the VPC's `local` routes first, then the table's own. */
function routesOf(ctx: Ctx, t: RouteTableDoc): RouteDoc[] {
  const vpc = ctx.tx.get<VpcDoc>(KIND.vpc, ctx.scope, t.vpcId);
  return [...(vpc ? localRoutes(vpc) : []), ...t.routes];
}

function toAssociation(t: RouteTableDoc, a: RouteTableAssociationDoc): RouteTableAssociation {
  return {
    Main: a.main === true,
    RouteTableAssociationId: a.id,
    RouteTableId: t.id,
    ...(a.subnetId ? { SubnetId: a.subnetId } : {}),
    ...(a.gatewayId ? { GatewayId: a.gatewayId } : {}),
    AssociationState: { State: 'associated' },
  };
}

function toRouteTable(ctx: Ctx, t: RouteTableDoc): RouteTable {
  return {
    RouteTableId: t.id,
    VpcId: t.vpcId,
    OwnerId: t.ownerId,
    Routes: routesOf(ctx, t).map((r) => toRoute(ctx, t, r)),
    Associations: t.associations.map((a) => toAssociation(t, a)),
    PropagatingVgws: t.propagatingVgws.map((id) => ({ GatewayId: id })),
    Tags: tagList(t.tags),
  };
}

// ---------------------------------------------------------------------------------------------
// Destinations and targets

type Destination = Pick<RouteDoc, 'cidr4' | 'cidr6' | 'prefixListId'>;

function destinationOf(
  ctx: Ctx,
  input: { DestinationCidrBlock?: string; DestinationIpv6CidrBlock?: string; DestinationPrefixListId?: string },
): {
  dest: Destination;
  text: string;
} {
  const given = [input.DestinationCidrBlock, input.DestinationIpv6CidrBlock, input.DestinationPrefixListId].filter(
    (v) => v !== undefined && v !== '',
  );
  if (given.length === 0) throw err.missing('destinationCidrBlock or destinationIpv6CidrBlock');
  if (given.length > 1) {
    throw err.combination(
      'The request must contain exactly one of destinationCidrBlock, destinationIpv6CidrBlock or destinationPrefixListId',
    );
  }
  if (input.DestinationCidrBlock) {
    const c = parseCidr(input.DestinationCidrBlock.trim(), 4);
    if (!c)
      throw err.invalidValue(
        `Value (${input.DestinationCidrBlock}) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.`,
      );
    const cidr = formatCidr(c);
    return { dest: { cidr4: cidr }, text: cidr };
  }
  if (input.DestinationIpv6CidrBlock) {
    const c = parseCidr(input.DestinationIpv6CidrBlock.trim(), 6);
    if (!c) {
      throw err.invalidValue(
        `Value (${input.DestinationIpv6CidrBlock}) for parameter destinationIpv6CidrBlock is invalid. This is not a valid IPv6 CIDR block.`,
      );
    }
    const cidr = formatCidr(c);
    return { dest: { cidr6: cidr }, text: cidr };
  }
  const pl = input.DestinationPrefixListId!;
  if (!ID_PATTERN('pl').test(pl)) throw new ApiError('InvalidPrefixListId.Malformed', `Invalid id: "${pl}" (expecting "pl-...")`);
  if (!findPrefixList(ctx, pl)) throw new ApiError('InvalidPrefixListID.NotFound', `The prefix list ID '${pl}' does not exist.`);
  return { dest: { prefixListId: pl }, text: pl };
}

const sameDestination = (r: RouteDoc, d: Destination) =>
  (d.cidr4 !== undefined && r.cidr4 === d.cidr4) ||
  (d.cidr6 !== undefined && r.cidr6 === d.cidr6) ||
  (d.prefixListId !== undefined && r.prefixListId === d.prefixListId);

type TargetInput = Pick<
  CreateRouteRequest,
  | 'GatewayId'
  | 'EgressOnlyInternetGatewayId'
  | 'NatGatewayId'
  | 'NetworkInterfaceId'
  | 'InstanceId'
  | 'VpcPeeringConnectionId'
  | 'VpcEndpointId'
  | 'TransitGatewayId'
  | 'LocalGatewayId'
  | 'CarrierGatewayId'
  | 'CoreNetworkArn'
  | 'OdbNetworkArn'
>;
type Target = Omit<RouteDoc, 'cidr4' | 'cidr6' | 'prefixListId' | 'origin'>;

const TARGETS =
  'gatewayId, natGatewayId, networkInterfaceId, vpcPeeringConnectionId, egressOnlyInternetGatewayId, transitGatewayId, localGatewayId, carrierGatewayId, vpcEndpointId, coreNetworkArn or instanceId';

const differentNetworks = (t: RouteTableDoc, what: string, id: string) =>
  err.invalidValue(`route table ${t.id} and ${what} ${id} belong to different networks`);

/** The route's target, checked as AWS checks it: it exists and it is in (or attached to) the table's VPC. */
function targetOf(ctx: Ctx, t: RouteTableDoc, input: TargetInput, dest: Destination): Target {
  const given = (
    [
      'GatewayId',
      'EgressOnlyInternetGatewayId',
      'NatGatewayId',
      'NetworkInterfaceId',
      'InstanceId',
      'VpcPeeringConnectionId',
      'VpcEndpointId',
      'TransitGatewayId',
      'LocalGatewayId',
      'CarrierGatewayId',
      'CoreNetworkArn',
      'OdbNetworkArn',
    ] as const
  ).filter((k) => input[k] !== undefined && input[k] !== '');
  if (given.length === 0) throw new ApiError('MissingParameter', `The request must contain exactly one of ${TARGETS}`);
  if (given.length > 1) throw err.combination(`The request must contain exactly one of ${TARGETS}`);
  const key = given[0]!;
  const id = String(input[key]);
  switch (key) {
    case 'GatewayId':
    case 'VpcEndpointId': {
      if (id === 'local')
        throw err.invalidValue(`The route identified by ${dest.cidr4 ?? dest.cidr6 ?? dest.prefixListId} cannot target local`);
      if (id.startsWith('vpce-')) return { gatewayId: endpointTarget(ctx, t, id, dest) };
      if (key === 'VpcEndpointId') throw new ApiError('InvalidVpcEndpointId.Malformed', `Invalid id: "${id}" (expecting "vpce-...")`);
      const igw = id.startsWith('igw-') ? ctx.tx.get<GatewayLike>(KIND.internetGateway, ctx.scope, id) : undefined;
      if (!igw) throw new ApiError('InvalidGatewayID.NotFound', `The gateway ID '${id}' does not exist`);
      if (attachedVpc(igw) !== t.vpcId) throw differentNetworks(t, 'network gateway', id);
      return { gatewayId: id };
    }
    case 'EgressOnlyInternetGatewayId': {
      const g = ID_PATTERN('eigw').test(id) ? ctx.tx.get<GatewayLike>(KIND.egressOnlyInternetGateway, ctx.scope, id) : undefined;
      if (!g) throw new ApiError('InvalidGatewayID.NotFound', `The eigw ID '${id}' does not exist`);
      if (attachedVpc(g) !== t.vpcId) throw differentNetworks(t, 'network gateway', id);
      return { egressOnlyGatewayId: id };
    }
    case 'NatGatewayId': {
      const nat = ID_PATTERN('nat').test(id) ? ctx.tx.get<GatewayLike>(KIND.natGateway, ctx.scope, id) : undefined;
      if (!nat || GONE.has(nat.state ?? '')) throw new ApiError('InvalidNatGatewayID.NotFound', `The natGateway ID '${id}' does not exist`);
      if (natVpc(ctx, nat) !== t.vpcId) throw differentNetworks(t, 'nat gateway', id);
      return { natGatewayId: id };
    }
    case 'NetworkInterfaceId': {
      const eni = getEni(ctx, id);
      if (eni.vpcId !== t.vpcId) throw differentNetworks(t, 'interface', id);
      return { networkInterfaceId: id };
    }
    case 'InstanceId': {
      const instance = getInstance(ctx, id);
      if (instance.state === 'terminated')
        throw new ApiError('IncorrectInstanceState', `The instance '${id}' is not in a state from which it can be used.`);
      const enis = interfacesOf(ctx, id);
      if (enis.length > 1) {
        throw new ApiError(
          'InvalidInstanceID',
          `There are multiple interfaces attached to instance '${id}'. Please specify an interface ID for the operation instead.`,
        );
      }
      if (instance.vpcId !== t.vpcId) throw differentNetworks(t, 'instance', id);
      return { instanceId: id, ...(enis[0] ? { networkInterfaceId: enis[0].id } : {}) };
    }
    case 'VpcPeeringConnectionId': {
      const p = getPeering(ctx, id);
      if (!['pending-acceptance', 'active'].includes(p.status)) throw peeringNotFound(id);
      const mine = (s: typeof p.requester) => s.vpcId === t.vpcId && s.ownerId === ctx.account && s.region === ctx.region;
      if (!mine(p.requester) && !mine(p.accepter)) throw differentNetworks(t, 'peering connection', id);
      return { peeringId: id };
    }
    case 'TransitGatewayId':
      throw new ApiError('InvalidTransitGatewayID.NotFound', `The transitGateway ID '${id}' does not exist.`);
    case 'LocalGatewayId':
      throw new ApiError('InvalidLocalGatewayID.NotFound', `The localGateway ID '${id}' does not exist.`);
    case 'CarrierGatewayId':
      throw new ApiError('InvalidCarrierGatewayID.NotFound', `The carrierGateway ID '${id}' does not exist.`);
    default:
      throw err.invalidValue(`Value (${id}) for parameter ${key[0]!.toLowerCase()}${key.slice(1)} is invalid.`);
  }
}

/** A gateway endpoint: only as the target of its service's prefix list, in a table of its VPC. */
function endpointTarget(ctx: Ctx, t: RouteTableDoc, id: string, dest: Destination): string {
  const e = getVpcEndpoint(ctx, id);
  if (e.vpcId !== t.vpcId) throw differentNetworks(t, 'vpc endpoint', id);
  const service = findPrefixList(ctx, dest.prefixListId ?? '');
  if (e.type !== 'Gateway' || !service || service.name !== e.serviceName) {
    throw err.invalidValue(`The gateway endpoint ${id} can only be the target of the prefix list of its service (${e.serviceName}).`);
  }
  return id;
}

/** Keeps a gateway endpoint's RouteTableIds in step with the routes that target it. */
function linkEndpoint(ctx: Ctx, endpointId: string | undefined, tableId: string, linked: boolean): void {
  if (!endpointId?.startsWith('vpce-')) return;
  const e = ctx.tx.edit<VpcEndpointDoc>(KIND.vpcEndpoint, ctx.scope, endpointId);
  if (!e) return;
  e.routeTableIds = e.routeTableIds.filter((x) => x !== tableId);
  if (linked) e.routeTableIds.push(tableId);
}

function findRoute(ctx: Ctx, t: RouteTableDoc, dest: Destination, text: string): number {
  const i = t.routes.findIndex((r) => sameDestination(r, dest));
  if (i < 0) {
    const vpc = ctx.tx.get<VpcDoc>(KIND.vpc, ctx.scope, t.vpcId);
    if (vpc && localRoutes(vpc).some((r) => sameDestination(r, dest))) {
      throw err.invalidValue(`cannot remove local route ${text} in route table ${t.id}`);
    }
    const kind = dest.cidr4 ? 'destination-cidr-block' : dest.cidr6 ? 'destination-ipv6-cidr-block' : 'destination-prefix-list-id';
    throw new ApiError('InvalidRoute.NotFound', `no route with ${kind} ${text} in route table ${t.id}`);
  }
  return i;
}

// ---------------------------------------------------------------------------------------------
// Associations

function findAssociation(ctx: Ctx, id: string | undefined): { table: RouteTableDoc; association: RouteTableAssociationDoc } {
  if (!id) throw err.missing('AssociationId');
  for (const table of routeTablesOf(ctx)) {
    const association = table.associations.find((a) => a.id === id);
    if (association) return { table, association };
  }
  throw new ApiError('InvalidAssociationID.NotFound', `The association ID '${id}' does not exist`);
}

const alreadyAssociated = (t: RouteTableDoc) =>
  new ApiError('Resource.AlreadyAssociated', `the specified association for route table ${t.id} conflicts with an existing association`);

function moveAssociation(ctx: Ctx, from: RouteTableDoc, association: RouteTableAssociationDoc, to: RouteTableDoc): string {
  const src = ctx.tx.edit<RouteTableDoc>(KIND.routeTable, ctx.scope, from.id)!;
  src.associations = src.associations.filter((a) => a.id !== association.id);
  const dst = ctx.tx.edit<RouteTableDoc>(KIND.routeTable, ctx.scope, to.id)!;
  const moved: RouteTableAssociationDoc = { ...association, id: newId('rtbassoc') };
  dst.associations.push(moved);
  return moved.id;
}

// ---------------------------------------------------------------------------------------------
// Handlers

export const routeTableHandlers = {
  CreateRouteTable(ctx: Ctx, input: CreateRouteTableRequest): CreateRouteTableResult {
    ensureRouting(ctx);
    const vpc = getVpc(ctx, input.VpcId);
    const tags = tagsFromSpecs(input.TagSpecifications, 'route-table');
    const t = newRouteTable(ctx, vpc.id, false, tags);
    return { RouteTable: toRouteTable(ctx, t), ClientToken: input.ClientToken };
  },

  DeleteRouteTable(ctx: Ctx, input: DeleteRouteTableRequest): Record<string, never> {
    ensureRouting(ctx);
    const t = getRouteTable(ctx, input.RouteTableId);
    if (t.associations.length) {
      throw new ApiError('DependencyViolation', `The routeTable '${t.id}' has dependencies and cannot be deleted.`);
    }
    for (const r of t.routes) linkEndpoint(ctx, r.gatewayId, t.id, false);
    ctx.tx.delete(KIND.routeTable, ctx.scope, t.id);
    return {};
  },

  DescribeRouteTables(ctx: Ctx, input: DescribeRouteTablesRequest): DescribeRouteTablesResult {
    ensureRouting(ctx);
    let tables = routeTablesOf(ctx);
    if (input.RouteTableIds?.length) {
      for (const id of input.RouteTableIds) getRouteTable(ctx, id);
      tables = tables.filter((t) => input.RouteTableIds!.includes(t.id));
    }
    type View = { id: string; seq?: number; tags: RouteTableDoc['tags']; doc: RouteTableDoc; out: RouteTable };
    const views: View[] = tables.map((t) => ({ id: t.id, seq: t.seq, tags: t.tags, doc: t, out: toRouteTable(ctx, t) }));
    const routes = (v: View) => v.out.Routes ?? [];
    const assocs = (v: View) => v.out.Associations ?? [];
    const match = compileFilters<View>(input.Filters, {
      'route-table-id': (v) => v.id,
      'vpc-id': (v) => v.doc.vpcId,
      'owner-id': (v) => v.doc.ownerId,
      'association.main': (v) => assocs(v).map((a) => a.Main),
      'association.route-table-association-id': (v) => assocs(v).map((a) => a.RouteTableAssociationId),
      'association.route-table-id': (v) => assocs(v).map((a) => a.RouteTableId),
      'association.subnet-id': (v) => assocs(v).map((a) => a.SubnetId),
      'association.gateway-id': (v) => assocs(v).map((a) => a.GatewayId),
      'route.destination-cidr-block': (v) => routes(v).map((r) => r.DestinationCidrBlock),
      'route.destination-ipv6-cidr-block': (v) => routes(v).map((r) => r.DestinationIpv6CidrBlock),
      'route.destination-prefix-list-id': (v) => routes(v).map((r) => r.DestinationPrefixListId),
      'route.egress-only-internet-gateway-id': (v) => routes(v).map((r) => r.EgressOnlyInternetGatewayId),
      'route.gateway-id': (v) => routes(v).map((r) => r.GatewayId),
      'route.instance-id': (v) => routes(v).map((r) => r.InstanceId),
      'route.nat-gateway-id': (v) => routes(v).map((r) => r.NatGatewayId),
      'route.network-interface-id': (v) => routes(v).map((r) => r.NetworkInterfaceId),
      'route.transit-gateway-id': (v) => routes(v).map((r) => r.TransitGatewayId),
      'route.vpc-peering-connection-id': (v) => routes(v).map((r) => r.VpcPeeringConnectionId),
      'route.origin': (v) => routes(v).map((r) => r.Origin),
      'route.state': (v) => routes(v).map((r) => r.State),
    });
    const { page, nextToken } = paginate(views.filter(match), input.MaxResults, input.NextToken, { min: 5, max: 100 });
    return { RouteTables: page.map((v) => v.out), NextToken: nextToken };
  },

  CreateRoute(ctx: Ctx, input: CreateRouteRequest): CreateRouteResult {
    ensureRouting(ctx);
    const t = getRouteTable(ctx, input.RouteTableId);
    const { dest, text } = destinationOf(ctx, input);
    const target = targetOf(ctx, t, input, dest);
    if (routesOf(ctx, t).some((r) => sameDestination(r, dest))) {
      throw new ApiError('RouteAlreadyExists', `The route identified by ${text} already exists.`);
    }
    ctx.tx.edit<RouteTableDoc>(KIND.routeTable, ctx.scope, t.id)!.routes.push({ ...dest, ...target, origin: 'CreateRoute' });
    linkEndpoint(ctx, target.gatewayId, t.id, true);
    return { Return: true };
  },

  ReplaceRoute(ctx: Ctx, input: ReplaceRouteRequest): Record<string, never> {
    ensureRouting(ctx);
    const t = getRouteTable(ctx, input.RouteTableId);
    const { dest, text } = destinationOf(ctx, input);
    if (input.LocalTarget) throw err.invalidValue(`The route identified by ${text} is not a local route and cannot be restored to local`);
    const i = findRoute(ctx, t, dest, text);
    const target = targetOf(ctx, t, input, dest);
    const edit = ctx.tx.edit<RouteTableDoc>(KIND.routeTable, ctx.scope, t.id)!;
    linkEndpoint(ctx, edit.routes[i]!.gatewayId, t.id, false);
    edit.routes[i] = { ...dest, ...target, origin: 'CreateRoute' };
    linkEndpoint(ctx, target.gatewayId, t.id, true);
    return {};
  },

  DeleteRoute(ctx: Ctx, input: DeleteRouteRequest): Record<string, never> {
    ensureRouting(ctx);
    const t = getRouteTable(ctx, input.RouteTableId);
    const { dest, text } = destinationOf(ctx, input);
    const i = findRoute(ctx, t, dest, text);
    const edit = ctx.tx.edit<RouteTableDoc>(KIND.routeTable, ctx.scope, t.id)!;
    const [gone] = edit.routes.splice(i, 1);
    linkEndpoint(ctx, gone!.gatewayId, t.id, false);
    return {};
  },

  AssociateRouteTable(ctx: Ctx, input: AssociateRouteTableRequest): AssociateRouteTableResult {
    ensureRouting(ctx);
    const t = getRouteTable(ctx, input.RouteTableId);
    if (input.SubnetId && input.GatewayId) throw err.combination('The parameter subnetId cannot be used with the parameter gatewayId');
    const association: RouteTableAssociationDoc = { id: newId('rtbassoc') };
    if (input.SubnetId) {
      const subnet = getSubnet(ctx, input.SubnetId);
      if (subnet.vpcId !== t.vpcId) throw err.invalidValue(`Route table ${t.id} and subnet ${subnet.id} belong to different networks`);
      if (routeTablesOf(ctx).some((x) => x.associations.some((a) => a.subnetId === subnet.id))) throw alreadyAssociated(t);
      association.subnetId = subnet.id;
    } else if (input.GatewayId) {
      const id = input.GatewayId;
      const g = id.startsWith('igw-') ? ctx.tx.get<GatewayLike>(KIND.internetGateway, ctx.scope, id) : undefined;
      if (!g) throw new ApiError('InvalidGatewayID.NotFound', `The gateway ID '${id}' does not exist`);
      if (attachedVpc(g) !== t.vpcId) throw differentNetworks(t, 'network gateway', id);
      if (routeTablesOf(ctx).some((x) => x.associations.some((a) => a.gatewayId === id))) throw alreadyAssociated(t);
      association.gatewayId = id;
    } else {
      throw err.missing('subnetId or gatewayId');
    }
    ctx.tx.edit<RouteTableDoc>(KIND.routeTable, ctx.scope, t.id)!.associations.push(association);
    return { AssociationId: association.id, AssociationState: { State: 'associated' } };
  },

  DisassociateRouteTable(ctx: Ctx, input: DisassociateRouteTableRequest): Record<string, never> {
    ensureRouting(ctx);
    const { table, association } = findAssociation(ctx, input.AssociationId);
    if (association.main) throw err.invalidValue(`cannot disassociate the main route table association ${association.id}`);
    const edit = ctx.tx.edit<RouteTableDoc>(KIND.routeTable, ctx.scope, table.id)!;
    edit.associations = edit.associations.filter((a) => a.id !== association.id);
    return {};
  },

  ReplaceRouteTableAssociation(ctx: Ctx, input: ReplaceRouteTableAssociationRequest): ReplaceRouteTableAssociationResult {
    ensureRouting(ctx);
    const { table, association } = findAssociation(ctx, input.AssociationId);
    const to = getRouteTable(ctx, input.RouteTableId);
    if (to.vpcId !== table.vpcId) {
      throw err.invalidValue(`Route table ${to.id} and association ${association.id} belong to different networks`);
    }
    const id = moveAssociation(ctx, table, association, to);
    return { NewAssociationId: id, AssociationState: { State: 'associated' } };
  },
};
