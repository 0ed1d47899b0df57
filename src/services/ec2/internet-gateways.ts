// Internet gateways (one per VPC; the default VPC has one) and egress-only internet gateways
// (IPv6 outbound only, made for one VPC).
import type {
  AttachInternetGatewayRequest,
  CreateEgressOnlyInternetGatewayRequest,
  CreateEgressOnlyInternetGatewayResult,
  CreateInternetGatewayRequest,
  CreateInternetGatewayResult,
  DeleteEgressOnlyInternetGatewayRequest,
  DeleteEgressOnlyInternetGatewayResult,
  DeleteInternetGatewayRequest,
  DescribeEgressOnlyInternetGatewaysRequest,
  DescribeEgressOnlyInternetGatewaysResult,
  DescribeInternetGatewaysRequest,
  DescribeInternetGatewaysResult,
  DetachInternetGatewayRequest,
  EgressOnlyInternetGateway,
  InternetGateway,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { KIND, type EgressOnlyInternetGatewayDoc, type InternetGatewayDoc, type TagPair } from '../../core/documents/ec2.ts';
import { newId } from './ids.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import {
  egressOnlyInternetGatewaysOf,
  elasticIpsOf,
  enisOf,
  getEgressOnlyInternetGateway,
  getInternetGateway,
  getVpc,
  internetGatewayOf,
  internetGatewaysOf,
  liveAssociation,
} from './lookups.ts';

/** A new internet gateway, attached to the VPC when one is given (the default VPC's). */
export function newInternetGateway(ctx: Ctx, vpcId?: string, tags: TagPair[] = []): InternetGatewayDoc {
  return ctx.tx.put<InternetGatewayDoc>(KIND.internetGateway, ctx.scope, {
    id: newId('igw'),
    ownerId: ctx.account,
    attachments: vpcId ? [{ vpcId, state: 'available' }] : [],
    tags,
  });
}

function toInternetGateway(g: InternetGatewayDoc): InternetGateway {
  return {
    InternetGatewayId: g.id,
    OwnerId: g.ownerId,
    // AWS reports an attached internet gateway as `available` (not a value of the SDK's enum).
    Attachments: g.attachments.map((a) => ({ VpcId: a.vpcId, State: a.state as never })),
    Tags: tagList(g.tags),
  };
}

function toEgressOnly(g: EgressOnlyInternetGatewayDoc): EgressOnlyInternetGateway {
  return {
    EgressOnlyInternetGatewayId: g.id,
    Attachments: g.attachments.map((a) => ({ VpcId: a.vpcId, State: a.state })),
    Tags: tagList(g.tags),
  };
}

/** Public IPv4 addresses mapped in the VPC (auto-assigned or Elastic): they keep its gateway attached. */
function hasMappedPublicAddresses(ctx: Ctx, vpcId: string): boolean {
  if (enisOf(ctx).some((e) => e.vpcId === vpcId && e.publicIp)) return true;
  return elasticIpsOf(ctx).some((eip) => {
    const a = liveAssociation(ctx, eip);
    return a !== undefined && enisOf(ctx).some((e) => e.id === a.networkInterfaceId && e.vpcId === vpcId);
  });
}

export const internetGatewayHandlers = {
  CreateInternetGateway(ctx: Ctx, input: CreateInternetGatewayRequest): CreateInternetGatewayResult {
    const tags = tagsFromSpecs(input.TagSpecifications, 'internet-gateway');
    return { InternetGateway: toInternetGateway(newInternetGateway(ctx, undefined, tags)) };
  },

  DescribeInternetGateways(ctx: Ctx, input: DescribeInternetGatewaysRequest): DescribeInternetGatewaysResult {
    let gateways = internetGatewaysOf(ctx);
    if (input.InternetGatewayIds?.length) {
      for (const id of input.InternetGatewayIds) getInternetGateway(ctx, id);
      gateways = gateways.filter((g) => input.InternetGatewayIds!.includes(g.id));
    }
    const match = compileFilters<InternetGatewayDoc>(input.Filters, {
      'attachment.state': (g) => g.attachments.map((a) => a.state),
      'attachment.vpc-id': (g) => g.attachments.map((a) => a.vpcId),
      'internet-gateway-id': (g) => g.id,
      'owner-id': (g) => g.ownerId,
    });
    const { page, nextToken } = paginate(gateways.filter(match), input.MaxResults, input.NextToken);
    return { InternetGateways: page.map(toInternetGateway), NextToken: nextToken };
  },

  DeleteInternetGateway(ctx: Ctx, input: DeleteInternetGatewayRequest): Record<string, never> {
    const g = getInternetGateway(ctx, input.InternetGatewayId);
    if (g.attachments.length) {
      throw new ApiError('DependencyViolation', `The internetGateway '${g.id}' has dependencies and cannot be deleted.`);
    }
    ctx.tx.delete(KIND.internetGateway, ctx.scope, g.id);
    return {};
  },

  /** One VPC per gateway and one gateway per VPC. */
  AttachInternetGateway(ctx: Ctx, input: AttachInternetGatewayRequest): Record<string, never> {
    const g = getInternetGateway(ctx, input.InternetGatewayId);
    const vpc = getVpc(ctx, input.VpcId);
    const attached = g.attachments[0];
    if (attached) {
      throw new ApiError('Resource.AlreadyAssociated', `resource ${g.id} is already attached to network ${attached.vpcId}`);
    }
    if (internetGatewayOf(ctx, vpc.id)) {
      throw err.invalidValue(`Network ${vpc.id} already has an internet gateway attached`);
    }
    ctx.tx.edit<InternetGatewayDoc>(KIND.internetGateway, ctx.scope, g.id)!.attachments = [{ vpcId: vpc.id, state: 'available' }];
    return {};
  },

  /** Refused while public addresses are mapped in the VPC, as AWS does. */
  DetachInternetGateway(ctx: Ctx, input: DetachInternetGatewayRequest): Record<string, never> {
    const g = getInternetGateway(ctx, input.InternetGatewayId);
    const vpc = getVpc(ctx, input.VpcId);
    if (!g.attachments.some((a) => a.vpcId === vpc.id)) {
      throw new ApiError('Gateway.NotAttached', `resource ${g.id} is not attached to network ${vpc.id}`);
    }
    if (hasMappedPublicAddresses(ctx, vpc.id)) {
      throw new ApiError(
        'DependencyViolation',
        `Network ${vpc.id} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.`,
      );
    }
    ctx.tx.edit<InternetGatewayDoc>(KIND.internetGateway, ctx.scope, g.id)!.attachments = [];
    return {};
  },

  CreateEgressOnlyInternetGateway(ctx: Ctx, input: CreateEgressOnlyInternetGatewayRequest): CreateEgressOnlyInternetGatewayResult {
    const vpc = getVpc(ctx, input.VpcId);
    if (input.ClientToken) {
      const same = egressOnlyInternetGatewaysOf(ctx).find((g) => g.clientToken === input.ClientToken);
      if (same) {
        if (same.attachments[0]?.vpcId !== vpc.id) throw new ApiError('IdempotentParameterMismatch', 'Client token already used before.');
        return { ClientToken: input.ClientToken, EgressOnlyInternetGateway: toEgressOnly(same) };
      }
    }
    const tags = tagsFromSpecs(input.TagSpecifications, 'egress-only-internet-gateway');
    const g = ctx.tx.put<EgressOnlyInternetGatewayDoc>(KIND.egressOnlyInternetGateway, ctx.scope, {
      id: newId('eigw'),
      attachments: [{ vpcId: vpc.id, state: 'attached' }],
      ...(input.ClientToken ? { clientToken: input.ClientToken } : {}),
      tags,
    });
    return { ClientToken: input.ClientToken, EgressOnlyInternetGateway: toEgressOnly(g) };
  },

  /** Ids that name no gateway are left out of the answer, not refused (as AWS answers; Terraform relies on it). */
  DescribeEgressOnlyInternetGateways(ctx: Ctx, input: DescribeEgressOnlyInternetGatewaysRequest): DescribeEgressOnlyInternetGatewaysResult {
    let gateways = egressOnlyInternetGatewaysOf(ctx);
    if (input.EgressOnlyInternetGatewayIds?.length) {
      for (const id of input.EgressOnlyInternetGatewayIds) {
        if (!/^eigw-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id)) {
          throw new ApiError('InvalidEgressOnlyInternetGatewayId.Malformed', `Invalid id: "${id}" (expecting "eigw-...")`);
        }
      }
      gateways = gateways.filter((g) => input.EgressOnlyInternetGatewayIds!.includes(g.id));
    }
    const match = compileFilters<EgressOnlyInternetGatewayDoc>(input.Filters, {
      'egress-only-internet-gateway-id': (g) => g.id,
      'attachment.vpc-id': (g) => g.attachments.map((a) => a.vpcId),
      'attachment.state': (g) => g.attachments.map((a) => a.state),
    });
    const { page, nextToken } = paginate(gateways.filter(match), input.MaxResults, input.NextToken, { min: 5, max: 255 });
    return { EgressOnlyInternetGateways: page.map(toEgressOnly), NextToken: nextToken };
  },

  DeleteEgressOnlyInternetGateway(ctx: Ctx, input: DeleteEgressOnlyInternetGatewayRequest): DeleteEgressOnlyInternetGatewayResult {
    const g = getEgressOnlyInternetGateway(ctx, input.EgressOnlyInternetGatewayId);
    ctx.tx.delete(KIND.egressOnlyInternetGateway, ctx.scope, g.id);
    return { ReturnCode: true };
  },
};
