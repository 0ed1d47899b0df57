// Elastic IPs. Addresses come from 198.18.0.0/15 (RFC 2544's benchmarking range: never a host
// on the real internet), unique on the server across accounts and regions. An association maps
// the address to a private address of an interface (an instance's only interface); mapped to the
// interface's primary address it is the interface's public IPv4 (EniDoc.publicIp, which the data
// plane and the analyses read), replacing an auto-assigned one, which comes back when it goes.
import type {
  Address,
  AllocateAddressRequest,
  AllocateAddressResult,
  AssociateAddressRequest,
  AssociateAddressResult,
  DescribeAddressesAttributeRequest,
  DescribeAddressesAttributeResult,
  DescribeAddressesRequest,
  DescribeAddressesResult,
  DisassociateAddressRequest,
  ReleaseAddressRequest,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { addressToBigInt, bigIntToAddress } from '../../core/cidr.ts';
import { crypto } from '../../core/lazy.ts';
import { KIND, type ElasticIpDoc, type EniDoc, type InstanceDoc, type VpcDoc } from '../../core/documents/ec2.ts';
import { ID_PATTERN, newId } from './ids.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { allocatePublicIp } from './network-interfaces.ts';
import {
  elasticIpOf,
  elasticIpsOf,
  getElasticIp,
  getEni,
  getInstance,
  interfacesOf,
  internetGatewayOf,
  liveAssociation,
} from './lookups.ts';

/** The quota AWS starts every account and region with (DescribeAccountAttributes' vpc-max-elastic-ips). */
const MAX_ADDRESSES = 5;
/** 198.18.0.0/15 */
const POOL_BASE = 0xc6120000n;
const POOL_SIZE = 1n << 17n;

const inPool = (ip: string) => {
  const a = addressToBigInt(ip);
  return a?.family === 4 && a.value >= POOL_BASE && a.value < POOL_BASE + POOL_SIZE;
};

/** Every Elastic IP of the server, whatever its account and region (addresses are unique). */
function addressesInUse(ctx: Ctx): Set<string> {
  const used = new Set<string>();
  for (const scope of ctx.store.scopes(KIND.elasticIp)) {
    for (const e of ctx.store.table(KIND.elasticIp, scope).values()) used.add((e as ElasticIpDoc).publicIp);
  }
  for (const e of elasticIpsOf(ctx)) used.add(e.publicIp);
  return used;
}

function newAddress(ctx: Ctx): string {
  const used = addressesInUse(ctx);
  for (;;) {
    const n = BigInt(crypto().randomBytes(3).readUIntBE(0, 3)) % POOL_SIZE;
    const ip = bigIntToAddress(4, POOL_BASE + n);
    // Neither the .0 nor the .255 of a /24, which look like network and broadcast addresses.
    if (!ip.endsWith('.0') && !ip.endsWith('.255') && !used.has(ip)) return ip;
  }
}

const noPermission = () => new ApiError('AuthFailure', 'You do not have permission to access the specified resource.');

function toAddress(ctx: Ctx, e: ElasticIpDoc): Address {
  const a = liveAssociation(ctx, e);
  const eni = a && ctx.tx.get<EniDoc>(KIND.eni, ctx.scope, a.networkInterfaceId);
  return {
    AllocationId: e.id,
    PublicIp: e.publicIp,
    Domain: 'vpc',
    PublicIpv4Pool: 'amazon',
    NetworkBorderGroup: e.networkBorderGroup,
    ...(a && eni
      ? {
          AssociationId: a.id,
          NetworkInterfaceId: eni.id,
          NetworkInterfaceOwnerId: ctx.account,
          PrivateIpAddress: a.privateIp,
          ...(eni.attachment ? { InstanceId: eni.attachment.instanceId } : {}),
        }
      : {}),
    Tags: tagList(e.tags),
  };
}

/**
 * Whether an interface gets a new auto-assigned public IPv4 when the Elastic IP that replaced
 * its own goes: the only interface of a running instance (AWS's rule: "it will not receive a new
 * one if there is more than one network interface attached to your instance").
 */
function autoIpComesBack(ctx: Ctx, eni: EniDoc): boolean {
  if (!eni.attachment) return false;
  const inst = ctx.tx.get<InstanceDoc>(KIND.instance, ctx.scope, eni.attachment.instanceId);
  return !!inst && (inst.state === 'running' || inst.state === 'pending') && interfacesOf(ctx, inst.id).length === 1;
}

/** Ends the Elastic IP's association; the interface's public IPv4 follows. */
function disassociate(ctx: Ctx, eip: ElasticIpDoc, opts: { restoreAutoIp: boolean }): void {
  const w = ctx.tx.edit<ElasticIpDoc>(KIND.elasticIp, ctx.scope, eip.id)!;
  const a = w.association;
  delete w.association;
  if (!a) return;
  const eni = ctx.tx.get<EniDoc>(KIND.eni, ctx.scope, a.networkInterfaceId);
  if (!eni || eni.privateIps[0] !== a.privateIp || eni.publicIp !== eip.publicIp) return;
  const e = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, eni.id)!;
  if (opts.restoreAutoIp && a.replacedAutoIp && autoIpComesBack(ctx, eni)) e.publicIp = allocatePublicIp(ctx);
  else delete e.publicIp;
}

/** Associates the Elastic IP with a private address of an interface (NAT gateways use it too). */
export function associateElasticIp(ctx: Ctx, eip: ElasticIpDoc, eni: EniDoc, privateIp: string, natGatewayId?: string): string {
  const replacing = elasticIpOf(ctx, eni, privateIp);
  let replacedAutoIp = false;
  if (replacing && replacing.id !== eip.id) {
    replacedAutoIp = !!replacing.association?.replacedAutoIp;
    disassociate(ctx, replacing, { restoreAutoIp: false });
  } else if (privateIp === eni.privateIps[0] && eni.publicIp) {
    replacedAutoIp = true;
  }
  const w = ctx.tx.edit<ElasticIpDoc>(KIND.elasticIp, ctx.scope, eip.id)!;
  w.association = {
    id: newId('eipassoc'),
    networkInterfaceId: eni.id,
    privateIp,
    ...(natGatewayId ? { natGatewayId } : {}),
    ...(replacedAutoIp ? { replacedAutoIp } : {}),
  };
  if (privateIp === eni.privateIps[0]) ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, eni.id)!.publicIp = eip.publicIp;
  return w.association.id;
}

/** A NAT gateway going away lets its Elastic IP go. */
export function releaseFromNatGateway(ctx: Ctx, allocationId: string): void {
  const eip = ctx.tx.get<ElasticIpDoc>(KIND.elasticIp, ctx.scope, allocationId);
  if (eip?.association) disassociate(ctx, eip, { restoreAutoIp: false });
}

/** The interface an AssociateAddress call names: the instance's only interface, or the interface itself. */
function targetInterface(ctx: Ctx, input: AssociateAddressRequest): EniDoc {
  if (input.InstanceId && input.NetworkInterfaceId) {
    throw err.combination('You can specify either the instance ID or the network interface ID, but not both.');
  }
  if (input.NetworkInterfaceId) return getEni(ctx, input.NetworkInterfaceId);
  if (!input.InstanceId) throw err.missing('InstanceId');
  const inst = getInstance(ctx, input.InstanceId);
  const enis = interfacesOf(ctx, inst.id);
  if (inst.state === 'terminated' || inst.state === 'shutting-down' || !enis[0]) {
    throw new ApiError('IncorrectInstanceState', `The instance '${inst.id}' is not in a valid state for this operation.`);
  }
  if (enis.length > 1) {
    throw new ApiError(
      'InvalidInstanceID',
      `There are multiple interfaces attached to instance '${inst.id}'. Please specify an interface ID for the operation instead.`,
    );
  }
  return enis[0];
}

function byPublicIp(ctx: Ctx, ip: string): ElasticIpDoc {
  const e = elasticIpsOf(ctx).find((x) => x.publicIp === ip);
  if (!e) throw new ApiError('InvalidAddress.NotFound', `Address '${ip}' not found.`);
  return e;
}

export const elasticIpHandlers = {
  AllocateAddress(ctx: Ctx, input: AllocateAddressRequest): AllocateAddressResult {
    if (input.Domain !== undefined && input.Domain !== 'vpc') {
      throw err.invalidValue(`Value (${input.Domain}) for parameter domain is invalid.`);
    }
    if (input.IpamPoolId || input.CustomerOwnedIpv4Pool) {
      throw err.combination('IPAM and customer-owned address pools are not supported by Palisade; allocate from the amazon pool.');
    }
    if (input.PublicIpv4Pool !== undefined && input.PublicIpv4Pool !== 'amazon') {
      throw new ApiError('InvalidPublicIpv4PoolID.NotFound', `The public IPv4 pool ID '${input.PublicIpv4Pool}' does not exist`);
    }
    if (input.NetworkBorderGroup !== undefined && input.NetworkBorderGroup !== ctx.region) {
      throw err.invalidValue(`Value (${input.NetworkBorderGroup}) for parameter networkBorderGroup is invalid.`);
    }
    let ip: string;
    if (input.Address !== undefined) {
      // Recovering an address: only one of the pool that nobody holds.
      if (!inPool(input.Address) || addressesInUse(ctx).has(input.Address)) {
        throw new ApiError('InvalidAddressID.NotFound', 'The requested IP address does not exist or is unavailable');
      }
      ip = input.Address;
    } else ip = newAddress(ctx);
    if (elasticIpsOf(ctx).length >= MAX_ADDRESSES) {
      throw new ApiError('AddressLimitExceeded', 'The maximum number of addresses has been reached.');
    }
    const e = ctx.tx.put<ElasticIpDoc>(KIND.elasticIp, ctx.scope, {
      id: newId('eipalloc'),
      publicIp: ip,
      networkBorderGroup: ctx.region,
      tags: tagsFromSpecs(input.TagSpecifications, 'elastic-ip'),
    });
    return { AllocationId: e.id, PublicIp: e.publicIp, Domain: 'vpc', PublicIpv4Pool: 'amazon', NetworkBorderGroup: e.networkBorderGroup };
  },

  DescribeAddresses(ctx: Ctx, input: DescribeAddressesRequest): DescribeAddressesResult {
    let list = elasticIpsOf(ctx);
    if (input.AllocationIds?.length) {
      for (const id of input.AllocationIds) getElasticIp(ctx, id);
      list = list.filter((e) => input.AllocationIds!.includes(e.id));
    }
    if (input.PublicIps?.length) {
      for (const ip of input.PublicIps) byPublicIp(ctx, ip);
      list = list.filter((e) => input.PublicIps!.includes(e.publicIp));
    }
    const addresses = list.map((e) => ({ doc: e, a: toAddress(ctx, e) }));
    const match = compileFilters<{ a: Address; tags: ElasticIpDoc['tags'] }>(input.Filters, {
      'allocation-id': (x) => x.a.AllocationId,
      'association-id': (x) => x.a.AssociationId,
      domain: (x) => x.a.Domain,
      'instance-id': (x) => x.a.InstanceId,
      'network-border-group': (x) => x.a.NetworkBorderGroup,
      'network-interface-id': (x) => x.a.NetworkInterfaceId,
      'network-interface-owner-id': (x) => x.a.NetworkInterfaceOwnerId,
      'private-ip-address': (x) => x.a.PrivateIpAddress,
      'public-ip': (x) => x.a.PublicIp,
      'public-ipv4-pool': (x) => x.a.PublicIpv4Pool,
    });
    return { Addresses: addresses.filter((x) => match({ a: x.a, tags: x.doc.tags })).map((x) => x.a) };
  },

  /** `domain-name`: the reverse DNS (PTR) record; Palisade sets none, so the addresses come without one. */
  DescribeAddressesAttribute(ctx: Ctx, input: DescribeAddressesAttributeRequest): DescribeAddressesAttributeResult {
    if (input.Attribute !== undefined && input.Attribute !== 'domain-name') {
      throw err.invalidValue(`Value (${String(input.Attribute)}) for parameter attribute is invalid.`);
    }
    let list = elasticIpsOf(ctx);
    if (input.AllocationIds?.length) {
      for (const id of input.AllocationIds) getElasticIp(ctx, id);
      list = list.filter((e) => input.AllocationIds!.includes(e.id));
    }
    const { page, nextToken } = paginate(list, input.MaxResults, input.NextToken, { min: 1, max: 1000 });
    return { Addresses: page.map((e) => ({ AllocationId: e.id, PublicIp: e.publicIp })), NextToken: nextToken };
  },

  AssociateAddress(ctx: Ctx, input: AssociateAddressRequest): AssociateAddressResult {
    const eip = input.AllocationId
      ? getElasticIp(ctx, input.AllocationId)
      : input.PublicIp
        ? byPublicIp(ctx, input.PublicIp)
        : (() => {
            throw err.missing('AllocationId');
          })();
    const eni = targetInterface(ctx, input);
    // Interfaces AWS manages (a NAT gateway's) and addresses a NAT gateway holds are not the caller's to map.
    if (eni.requesterManaged || eni.interfaceType === 'nat_gateway' || liveAssociation(ctx, eip)?.natGatewayId) throw noPermission();
    const privateIp = input.PrivateIpAddress ?? eni.privateIps[0]!;
    if (!eni.privateIps.includes(privateIp)) {
      throw err.invalidValue(`Address ${privateIp} does not belong to the network interface ${eni.id}`);
    }
    if (!internetGatewayOf(ctx, eni.vpcId)) {
      throw new ApiError('Gateway.NotAttached', `Network ${eni.vpcId} is not attached to any internet gateway`);
    }
    const current = liveAssociation(ctx, eip);
    if (current?.networkInterfaceId === eni.id && current.privateIp === privateIp) return { AssociationId: current.id };
    // Reassociation is automatic; AllowReassociation=false makes it fail instead.
    const other = elasticIpOf(ctx, eni, privateIp);
    if (input.AllowReassociation === false) {
      if (current)
        throw new ApiError('Resource.AlreadyAssociated', `resource ${eip.id} is already associated with associate-id ${current.id}`);
      if (other) {
        throw new ApiError(
          'Resource.AlreadyAssociated',
          `resource ${eni.id} and ${privateIp} is already associated with public address ${other.publicIp}`,
        );
      }
    }
    if (current) disassociate(ctx, eip, { restoreAutoIp: true });
    const associationId = associateElasticIp(
      ctx,
      ctx.tx.get<ElasticIpDoc>(KIND.elasticIp, ctx.scope, eip.id)!,
      ctx.tx.get<EniDoc>(KIND.eni, ctx.scope, eni.id)!,
      privateIp,
    );
    return { AssociationId: associationId };
  },

  DisassociateAddress(ctx: Ctx, input: DisassociateAddressRequest): Record<string, never> {
    let eip: ElasticIpDoc | undefined;
    if (input.AssociationId) {
      if (!ID_PATTERN('eipassoc').test(input.AssociationId)) {
        throw new ApiError('InvalidAssociationID.Malformed', `Invalid id: "${input.AssociationId}" (expecting "eipassoc-...")`);
      }
      eip = elasticIpsOf(ctx).find((e) => liveAssociation(ctx, e)?.id === input.AssociationId);
      if (!eip) throw new ApiError('InvalidAssociationID.NotFound', `The association ID '${input.AssociationId}' does not exist`);
    } else if (input.PublicIp) {
      eip = byPublicIp(ctx, input.PublicIp);
      if (!liveAssociation(ctx, eip)) return {};
    } else throw err.missing('AssociationId');
    if (liveAssociation(ctx, eip)?.natGatewayId) throw noPermission();
    disassociate(ctx, eip, { restoreAutoIp: true });
    return {};
  },

  /** In a default VPC releasing disassociates; elsewhere an associated address is InvalidIPAddress.InUse. */
  ReleaseAddress(ctx: Ctx, input: ReleaseAddressRequest): Record<string, never> {
    if (!input.AllocationId) {
      if (input.PublicIp) throw err.invalidValue('You must specify an allocation id when releasing a VPC elastic IP address');
      throw err.missing('AllocationId');
    }
    const eip = getElasticIp(ctx, input.AllocationId);
    if (input.NetworkBorderGroup !== undefined && input.NetworkBorderGroup !== eip.networkBorderGroup) {
      throw new ApiError('InvalidAddress.NotFound', `Address '${eip.publicIp}' not found.`);
    }
    const a = liveAssociation(ctx, eip);
    if (a) {
      const eni = ctx.tx.get<EniDoc>(KIND.eni, ctx.scope, a.networkInterfaceId);
      const inDefaultVpc = !!eni && !!ctx.tx.get<VpcDoc>(KIND.vpc, ctx.scope, eni.vpcId)?.isDefault;
      if (a.natGatewayId || !inDefaultVpc) throw new ApiError('InvalidIPAddress.InUse', `Address ${eip.publicIp} is in use.`);
      disassociate(ctx, eip, { restoreAutoIp: true });
    }
    ctx.tx.delete(KIND.elasticIp, ctx.scope, eip.id);
    return {};
  },
};
