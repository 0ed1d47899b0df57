// NAT gateways: public (an Elastic IP, in a VPC with an internet gateway) or private. Each has an
// interface of type nat_gateway in its subnet holding its private address (and, public, the
// Elastic IP). AWS creates them `pending` and they become `available` (or `failed`) later;
// Palisade reports `pending` in CreateNatGateway's answer and the final state from then on, so
// waiters (Terraform's among them) find it at once. Deleted and failed gateways stay visible for
// an hour, as in AWS.
import type {
  CreateNatGatewayRequest,
  CreateNatGatewayResult,
  DeleteNatGatewayRequest,
  DeleteNatGatewayResult,
  DescribeNatGatewaysRequest,
  DescribeNatGatewaysResult,
  NatGateway,
  NatGatewayAddress,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { KIND, type EniDoc, type NatGatewayDoc } from '../../core/documents/ec2.ts';
import { newId } from './ids.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { createEni } from './network-interfaces.ts';
import { associateElasticIp, releaseFromNatGateway } from './elastic-ips.ts';
import { getElasticIp, getNatGateway, getSubnet, internetGatewayOf, liveAssociation, natGatewaysOf } from './lookups.ts';

/** How long an ended (deleted or failed) gateway is kept once nobody can see it any more. */
const ENDED_KEPT_MS = 60 * 60 * 1000;

function addresses(n: NatGatewayDoc): NatGatewayAddress[] {
  if (n.state === 'failed') {
    return n.allocationId ? [{ AllocationId: n.allocationId, IsPrimary: true, Status: 'failed', FailureMessage: n.failure?.message }] : [];
  }
  return [
    {
      ...(n.allocationId ? { AllocationId: n.allocationId, PublicIp: n.publicIp, AssociationId: n.associationId } : {}),
      NetworkInterfaceId: n.networkInterfaceId,
      PrivateIp: n.privateIp,
      IsPrimary: true,
      Status: 'succeeded',
    },
  ];
}

function toNatGateway(n: NatGatewayDoc): NatGateway {
  return {
    NatGatewayId: n.id,
    SubnetId: n.subnetId,
    VpcId: n.vpcId,
    State: n.state,
    ConnectivityType: n.connectivityType,
    CreateTime: new Date(n.created),
    ...(n.state === 'deleted' && n.endedAt !== undefined ? { DeleteTime: new Date(n.endedAt) } : {}),
    ...(n.failure ? { FailureCode: n.failure.code, FailureMessage: n.failure.message } : {}),
    NatGatewayAddresses: addresses(n),
    Tags: tagList(n.tags),
  };
}

/** Ended gateways nobody sees any more are dropped. */
function purge(ctx: Ctx): void {
  const now = ctx.clock.now();
  for (const n of ctx.tx.all<NatGatewayDoc>(KIND.natGateway, ctx.scope)) {
    if (n.endedAt !== undefined && n.endedAt + ENDED_KEPT_MS <= now) ctx.tx.delete(KIND.natGateway, ctx.scope, n.id);
  }
}

export const natGatewayHandlers = {
  CreateNatGateway(ctx: Ctx, input: CreateNatGatewayRequest): CreateNatGatewayResult {
    if (input.ClientToken) {
      const same = natGatewaysOf(ctx).find((n) => n.clientToken === input.ClientToken);
      if (same) {
        if (same.subnetId !== input.SubnetId) throw new ApiError('IdempotentParameterMismatch', 'Client token already used before.');
        return { ClientToken: input.ClientToken, NatGateway: toNatGateway(same) };
      }
    }
    if (input.AvailabilityMode === 'regional' || input.AvailabilityZoneAddresses?.length || input.VpcId) {
      throw err.combination('Regional NAT gateways are not supported by Palisade; create a zonal NAT gateway in a subnet.');
    }
    if (input.SecondaryAllocationIds?.length || input.SecondaryPrivateIpAddresses?.length || input.SecondaryPrivateIpAddressCount) {
      throw err.combination('Secondary addresses of NAT gateways are not supported by Palisade.');
    }
    const subnet = getSubnet(ctx, input.SubnetId);
    const connectivityType = input.ConnectivityType ?? 'public';
    if (connectivityType !== 'public' && connectivityType !== 'private') {
      throw err.invalidValue(`Value (${String(connectivityType)}) for parameter connectivityType is invalid.`);
    }
    if (connectivityType === 'private' && input.AllocationId) {
      throw err.combination('AllocationId cannot be specified for a private NAT gateway.');
    }
    if (connectivityType === 'public' && !input.AllocationId) throw err.missing('AllocationId');
    if (!subnet.cidr) throw err.invalidValue(`The subnet ${subnet.id} has no IPv4 CIDR block: a NAT gateway needs one.`);
    const eip = input.AllocationId ? getElasticIp(ctx, input.AllocationId) : undefined;
    const tags = tagsFromSpecs(input.TagSpecifications, 'natgateway');
    purge(ctx);
    const now = ctx.clock.now();
    const n: NatGatewayDoc = {
      id: newId('nat'),
      vpcId: subnet.vpcId,
      subnetId: subnet.id,
      connectivityType,
      state: 'pending',
      ...(eip ? { allocationId: eip.id } : {}),
      created: new Date(now).toISOString(),
      ...(input.ClientToken ? { clientToken: input.ClientToken } : {}),
      tags,
    };
    // What makes AWS's gateway fail (it is created, then reaches `failed` with these codes).
    let failure: NatGatewayDoc['failure'];
    if (eip && !internetGatewayOf(ctx, subnet.vpcId)) {
      failure = { code: 'Gateway.NotAttached', message: `Network ${subnet.vpcId} has no Internet gateway attached` };
    } else if (eip && liveAssociation(ctx, eip)) {
      failure = { code: 'Resource.AlreadyAssociated', message: `Elastic IP address [${eip.id}] is already associated` };
    }
    let eni: EniDoc | undefined;
    if (!failure) {
      try {
        eni = createEni(ctx, {
          subnet,
          groups: [],
          description: `Interface for NAT Gateway ${n.id}`,
          privateIp: input.PrivateIpAddress,
          interfaceType: 'nat_gateway',
        });
      } catch (e) {
        if (!(e instanceof ApiError) || e.code !== 'InsufficientFreeAddressesInSubnet' || input.PrivateIpAddress) throw e;
        failure = {
          code: 'InsufficientFreeAddressesInSubnet',
          message: 'Subnet has insufficient free addresses to create this NAT gateway',
        };
      }
    }
    if (failure || !eni) {
      Object.assign(n, { state: 'failed', failure, endedAt: now });
    } else {
      const w = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, eni.id)!;
      w.requesterManaged = true;
      Object.assign(n, { state: 'available', networkInterfaceId: eni.id, privateIp: eni.privateIps[0] });
      if (eip) {
        n.associationId = associateElasticIp(ctx, eip, w, eni.privateIps[0]!, n.id);
        n.publicIp = eip.publicIp;
      }
    }
    ctx.tx.put(KIND.natGateway, ctx.scope, n);
    const answer = toNatGateway(n);
    return {
      ClientToken: input.ClientToken,
      NatGateway: {
        ...answer,
        State: 'pending',
        FailureCode: undefined,
        FailureMessage: undefined,
        NatGatewayAddresses: eip ? [{ AllocationId: eip.id, IsPrimary: true, Status: 'associating' }] : [],
      },
    };
  },

  DescribeNatGateways(ctx: Ctx, input: DescribeNatGatewaysRequest): DescribeNatGatewaysResult {
    let list = natGatewaysOf(ctx);
    if (input.NatGatewayIds?.length) {
      for (const id of input.NatGatewayIds) getNatGateway(ctx, id);
      list = list.filter((n) => input.NatGatewayIds!.includes(n.id));
    }
    const match = compileFilters<NatGatewayDoc>(input.Filter, {
      'nat-gateway-id': (n) => n.id,
      state: (n) => n.state,
      'subnet-id': (n) => n.subnetId,
      'vpc-id': (n) => n.vpcId,
    });
    const { page, nextToken } = paginate(list.filter(match), input.MaxResults, input.NextToken);
    return { NatGateways: page.map(toNatGateway), NextToken: nextToken };
  },

  /** Its Elastic IP is let go and its interface deleted; the gateway stays visible as `deleted` for an hour. */
  DeleteNatGateway(ctx: Ctx, input: DeleteNatGatewayRequest): DeleteNatGatewayResult {
    const n = getNatGateway(ctx, input.NatGatewayId);
    if (n.state === 'deleted') throw new ApiError('NatGatewayNotFound', `The Nat Gateway ${n.id} was not found`);
    if (n.allocationId && n.state !== 'failed') releaseFromNatGateway(ctx, n.allocationId);
    if (n.networkInterfaceId) ctx.tx.delete(KIND.eni, ctx.scope, n.networkInterfaceId);
    const w = ctx.tx.edit<NatGatewayDoc>(KIND.natGateway, ctx.scope, n.id)!;
    w.state = 'deleted';
    w.endedAt = ctx.clock.now();
    purge(ctx);
    return { NatGatewayId: n.id };
  },
};
