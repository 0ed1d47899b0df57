// VPC peering connections, within an account and across accounts and regions of this Palisade.
// A request is `pending-acceptance` (Create answers `initiating-request`) until the accepter's
// account accepts it in the accepter's region (`active`) or rejects it; overlapping CIDR blocks
// or a peer VPC that does not exist make it `failed`. Across accounts or regions the connection
// is one document kept in both scopes (each account's copy with its own tags), written together.
import type {
  AcceptVpcPeeringConnectionRequest,
  AcceptVpcPeeringConnectionResult,
  CreateVpcPeeringConnectionRequest,
  CreateVpcPeeringConnectionResult,
  DeleteVpcPeeringConnectionRequest,
  DeleteVpcPeeringConnectionResult,
  DescribeVpcPeeringConnectionsRequest,
  DescribeVpcPeeringConnectionsResult,
  ModifyVpcPeeringConnectionOptionsRequest,
  ModifyVpcPeeringConnectionOptionsResult,
  PeeringConnectionOptions,
  PeeringConnectionOptionsRequest,
  RejectVpcPeeringConnectionRequest,
  RejectVpcPeeringConnectionResult,
  VpcPeeringConnection,
  VpcPeeringConnectionVpcInfo,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { overlaps, parseCidr } from '../../core/cidr.ts';
import { isKnownRegion } from '../../core/regions.ts';
import { regional, type Scope } from '../../store/store.ts';
import { ID_PATTERN, newId } from './ids.ts';
import { KIND, type PeeringDoc, type PeeringSideDoc, type VpcDoc } from '../../core/documents/ec2.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { getPeering, getVpc, peeringsOf } from './lookups.ts';

/** An unanswered request expires after a week. */
const EXPIRES_AFTER_MS = 7 * 24 * 60 * 60 * 1000;
const FAILED_MESSAGE = 'Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range';

const scopeOf = (side: PeeringSideDoc): Scope => regional(side.ownerId, side.region);
const isCaller = (ctx: Ctx, side: PeeringSideDoc) => side.ownerId === ctx.account && side.region === ctx.region;

function sideOf(vpc: VpcDoc | undefined, vpcId: string, ownerId: string, region: string): PeeringSideDoc {
  return {
    vpcId,
    ownerId,
    region,
    cidrs: vpc ? vpc.cidrAssociations.filter((a) => a.state === 'associated').map((a) => a.cidr) : [],
    ipv6Cidrs: vpc ? vpc.ipv6.filter((a) => a.state === 'associated').map((a) => a.cidr) : [],
    allowDnsResolutionFromRemoteVpc: false,
  };
}

/** The status as it is now: an unanswered request past its week is `expired`. */
function statusOf(ctx: Ctx, p: PeeringDoc): { code: PeeringDoc['status']; message: string } {
  if (p.status === 'pending-acceptance' && ctx.clock.now() > p.created + EXPIRES_AFTER_MS) return { code: 'expired', message: 'Expired' };
  return { code: p.status, message: p.statusMessage };
}

/** Writes the connection to every scope that holds it (each copy keeps its own tags). */
function save(ctx: Ctx, p: PeeringDoc, opts: { newAccepterCopy?: boolean } = {}): void {
  const scopes = [...new Set([scopeOf(p.requester), scopeOf(p.accepter)])];
  for (const scope of scopes) {
    const existing = ctx.tx.get<PeeringDoc>(KIND.peering, scope, p.id);
    if (!existing && scope !== scopeOf(p.requester) && !opts.newAccepterCopy) continue;
    const copy = structuredClone({ ...p, seq: existing?.seq, tags: existing?.tags ?? (scope === ctx.scope ? p.tags : []) });
    if (copy.seq === undefined) delete copy.seq;
    ctx.tx.put(KIND.peering, scope, copy);
  }
}

// ---------------------------------------------------------------------------------------------
// Wire form

function toOptions(side: PeeringSideDoc): PeeringConnectionOptions {
  return {
    AllowDnsResolutionFromRemoteVpc: side.allowDnsResolutionFromRemoteVpc,
    AllowEgressFromLocalClassicLinkToRemoteVpc: false,
    AllowEgressFromLocalVpcToRemoteClassicLink: false,
  };
}

function toVpcInfo(side: PeeringSideDoc, detailed: boolean): VpcPeeringConnectionVpcInfo {
  const base = { VpcId: side.vpcId, OwnerId: side.ownerId, Region: side.region };
  if (!detailed) return base;
  return {
    ...base,
    ...(side.cidrs[0] ? { CidrBlock: side.cidrs[0] } : {}),
    CidrBlockSet: side.cidrs.map((c) => ({ CidrBlock: c })),
    ...(side.ipv6Cidrs.length ? { Ipv6CidrBlockSet: side.ipv6Cidrs.map((c) => ({ Ipv6CidrBlock: c })) } : {}),
    PeeringOptions: toOptions(side),
  };
}

function toPeering(ctx: Ctx, p: PeeringDoc, status = statusOf(ctx, p)): VpcPeeringConnection {
  const active = status.code === 'active';
  return {
    VpcPeeringConnectionId: p.id,
    Status: { Code: status.code as never, Message: status.message },
    RequesterVpcInfo: toVpcInfo(p.requester, status.code !== 'failed'),
    AccepterVpcInfo: toVpcInfo(p.accepter, active),
    ...(status.code === 'pending-acceptance' || status.code === 'initiating-request'
      ? { ExpirationTime: new Date(p.created + EXPIRES_AFTER_MS) }
      : {}),
    Tags: tagList(ctx.tx.get<PeeringDoc>(KIND.peering, ctx.scope, p.id)?.tags ?? p.tags),
  };
}

// ---------------------------------------------------------------------------------------------
// Permission checks

function checkAccepter(ctx: Ctx, p: PeeringDoc, operation: 'accept' | 'reject'): void {
  if (p.accepter.ownerId !== ctx.account) {
    throw new ApiError('OperationNotPermitted', `User (${ctx.account}) cannot ${operation} peering ${p.id}`);
  }
  if (p.accepter.region !== ctx.region) {
    throw new ApiError(
      'OperationNotPermitted',
      `Incorrect region (${ctx.region}) specified for this request. VPC peering connection ${p.id} must be ${operation === 'accept' ? 'accepted' : 'accepted or rejected'} in region ${p.accepter.region}`,
    );
  }
}

function checkPending(ctx: Ctx, p: PeeringDoc): void {
  if (statusOf(ctx, p).code !== 'pending-acceptance') {
    throw new ApiError(
      'InvalidStateTransition',
      `Invalid state transition for ${p.id}, attempted to transition from ${statusOf(ctx, p).code}`,
    );
  }
}

function applyOptions(ctx: Ctx, p: PeeringDoc, side: PeeringSideDoc, req: PeeringConnectionOptionsRequest | undefined): boolean {
  if (!req) return false;
  if (!isCaller(ctx, side)) {
    const which = side === p.requester ? 'requester' : 'accepter';
    throw new ApiError('OperationNotPermitted', `User (${ctx.account}) cannot modify ${which} options for peering ${p.id}`);
  }
  if (req.AllowDnsResolutionFromRemoteVpc !== undefined) {
    if (req.AllowDnsResolutionFromRemoteVpc) {
      const vpcs = [p.requester, p.accepter].map((s) =>
        ctx.tx.get<VpcDoc & { enableDnsHostnames?: boolean }>(KIND.vpc, scopeOf(s), s.vpcId),
      );
      if (vpcs.some((v) => v && (v.enableDnsHostnames ?? v.isDefault) === false)) {
        throw new ApiError(
          'InvalidVpcPeeringConnectionState.DnsHostnamesDisabled',
          'To enable DNS hostname resolution for the VPC peering connection, DNS hostname support must be enabled for the VPCs.',
        );
      }
    }
    side.allowDnsResolutionFromRemoteVpc = req.AllowDnsResolutionFromRemoteVpc;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Handlers

export const peeringHandlers = {
  CreateVpcPeeringConnection(ctx: Ctx, input: CreateVpcPeeringConnectionRequest): CreateVpcPeeringConnectionResult {
    const vpc = getVpc(ctx, input.VpcId);
    if (!input.PeerVpcId) throw err.missing('PeerVpcId');
    if (!ID_PATTERN('vpc').test(input.PeerVpcId)) {
      throw new ApiError('InvalidVpcID.Malformed', `Invalid id: "${input.PeerVpcId}" (expecting "vpc-...")`);
    }
    const peerOwner = input.PeerOwnerId ? input.PeerOwnerId.replace(/-/g, '') : ctx.account;
    if (!/^\d{12}$/.test(peerOwner)) throw err.invalidValue(`Value (${input.PeerOwnerId}) for parameter peerOwnerId is invalid.`);
    const peerRegion = input.PeerRegion ?? ctx.region;
    if (!isKnownRegion(peerRegion)) throw err.invalidValue(`Value (${peerRegion}) for parameter peerRegion is invalid.`);
    const peerScope = regional(peerOwner, peerRegion);
    // Within the scope the peer VPC must exist; across accounts or regions the request is made and fails.
    const peerVpc = peerScope === ctx.scope ? getVpc(ctx, input.PeerVpcId) : ctx.tx.get<VpcDoc>(KIND.vpc, peerScope, input.PeerVpcId);
    const tags = tagsFromSpecs(input.TagSpecifications, 'vpc-peering-connection');
    const requester = sideOf(vpc, vpc.id, ctx.account, ctx.region);
    const accepter = sideOf(peerVpc, input.PeerVpcId, peerOwner, peerRegion);
    const overlap = requester.cidrs.some((a) => accepter.cidrs.some((b) => overlaps(parseCidr(a)!, parseCidr(b)!)));
    const ok = peerVpc !== undefined && !overlap;
    const now = ctx.clock.now();
    const p: PeeringDoc = {
      id: newId('pcx'),
      requester,
      accepter,
      status: ok ? 'pending-acceptance' : 'failed',
      statusMessage: ok ? `Pending Acceptance by ${peerOwner}` : FAILED_MESSAGE,
      created: now,
      ...(ok ? {} : { ended: now }),
      tags,
    };
    save(ctx, p, { newAccepterCopy: ok });
    const answer = ok ? { code: 'initiating-request' as const, message: `Initiating Request to ${peerOwner}` } : statusOf(ctx, p);
    return { VpcPeeringConnection: toPeering(ctx, p, answer) };
  },

  AcceptVpcPeeringConnection(ctx: Ctx, input: AcceptVpcPeeringConnectionRequest): AcceptVpcPeeringConnectionResult {
    const p = structuredClone(getPeering(ctx, input.VpcPeeringConnectionId));
    checkAccepter(ctx, p, 'accept');
    checkPending(ctx, p);
    const vpc = ctx.tx.get<VpcDoc>(KIND.vpc, ctx.scope, p.accepter.vpcId);
    p.accepter = { ...sideOf(vpc, p.accepter.vpcId, p.accepter.ownerId, p.accepter.region), allowDnsResolutionFromRemoteVpc: false };
    p.status = 'active';
    p.statusMessage = 'Active';
    save(ctx, p);
    return { VpcPeeringConnection: toPeering(ctx, p) };
  },

  RejectVpcPeeringConnection(ctx: Ctx, input: RejectVpcPeeringConnectionRequest): RejectVpcPeeringConnectionResult {
    const p = structuredClone(getPeering(ctx, input.VpcPeeringConnectionId));
    checkAccepter(ctx, p, 'reject');
    checkPending(ctx, p);
    p.status = 'rejected';
    p.statusMessage = `Rejected by ${ctx.account}`;
    p.ended = ctx.clock.now();
    save(ctx, p);
    return { Return: true };
  },

  DeleteVpcPeeringConnection(ctx: Ctx, input: DeleteVpcPeeringConnectionRequest): DeleteVpcPeeringConnectionResult {
    const p = structuredClone(getPeering(ctx, input.VpcPeeringConnectionId));
    const code = statusOf(ctx, p).code;
    if (code === 'deleted' || code === 'rejected') {
      throw new ApiError('InvalidStateTransition', `Invalid state transition for ${p.id}, attempted to transition from ${code} to deleted`);
    }
    if (code === 'pending-acceptance' && !isCaller(ctx, p.requester)) {
      throw new ApiError(
        'OperationNotPermitted',
        `User (${ctx.account}) cannot delete peering ${p.id}: a pending request is deleted by its requester or rejected by its accepter`,
      );
    }
    p.status = 'deleted';
    p.statusMessage = `Deleted by ${ctx.account}`;
    p.ended = ctx.clock.now();
    save(ctx, p);
    return { Return: true };
  },

  DescribeVpcPeeringConnections(ctx: Ctx, input: DescribeVpcPeeringConnectionsRequest): DescribeVpcPeeringConnectionsResult {
    let list = peeringsOf(ctx);
    if (input.VpcPeeringConnectionIds?.length) {
      for (const id of input.VpcPeeringConnectionIds) getPeering(ctx, id);
      list = list.filter((p) => input.VpcPeeringConnectionIds!.includes(p.id));
    }
    const views = list.map((p) => ({ id: p.id, seq: p.seq, tags: p.tags, doc: p, out: toPeering(ctx, p) }));
    type View = (typeof views)[number];
    const info = (v: View, side: 'RequesterVpcInfo' | 'AccepterVpcInfo') => v.out[side] ?? {};
    const match = compileFilters<View>(input.Filters, {
      'vpc-peering-connection-id': (v) => v.id,
      'status-code': (v) => v.out.Status?.Code,
      'status-message': (v) => v.out.Status?.Message,
      'expiration-time': (v) => v.out.ExpirationTime?.toISOString(),
      'requester-vpc-info.vpc-id': (v) => info(v, 'RequesterVpcInfo').VpcId,
      'requester-vpc-info.owner-id': (v) => info(v, 'RequesterVpcInfo').OwnerId,
      'requester-vpc-info.cidr-block': (v) => (info(v, 'RequesterVpcInfo').CidrBlockSet ?? []).map((c) => c.CidrBlock),
      'accepter-vpc-info.vpc-id': (v) => info(v, 'AccepterVpcInfo').VpcId,
      'accepter-vpc-info.owner-id': (v) => info(v, 'AccepterVpcInfo').OwnerId,
      'accepter-vpc-info.cidr-block': (v) => (info(v, 'AccepterVpcInfo').CidrBlockSet ?? []).map((c) => c.CidrBlock),
    });
    const { page, nextToken } = paginate(views.filter(match), input.MaxResults, input.NextToken);
    return { VpcPeeringConnections: page.map((v) => v.out), NextToken: nextToken };
  },

  ModifyVpcPeeringConnectionOptions(ctx: Ctx, input: ModifyVpcPeeringConnectionOptionsRequest): ModifyVpcPeeringConnectionOptionsResult {
    const p = structuredClone(getPeering(ctx, input.VpcPeeringConnectionId));
    if (statusOf(ctx, p).code !== 'active') {
      throw new ApiError('OperationNotPermitted', `Peering ${p.id} is not active. Peering options can be added only to active peerings.`);
    }
    const changedRequester = applyOptions(ctx, p, p.requester, input.RequesterPeeringConnectionOptions);
    const changedAccepter = applyOptions(ctx, p, p.accepter, input.AccepterPeeringConnectionOptions);
    if (!changedRequester && !changedAccepter) throw err.missing('AccepterPeeringConnectionOptions or RequesterPeeringConnectionOptions');
    save(ctx, p);
    return {
      ...(changedRequester ? { RequesterPeeringConnectionOptions: toOptions(p.requester) } : {}),
      ...(changedAccepter ? { AccepterPeeringConnectionOptions: toOptions(p.accepter) } : {}),
    };
  },
};
