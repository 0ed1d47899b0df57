// Elastic network interfaces: where security groups live. Addresses come from the subnet
// (AWS reserves the first four and the last address); at most 5 groups per interface. An
// interface attached to an instance is held to its instance type's limits: how many interfaces,
// and how many IPv4 and IPv6 addresses each.
import { crypto } from '../../core/lazy.ts';
import type {
  AssignIpv6AddressesRequest,
  AssignIpv6AddressesResult,
  AssignPrivateIpAddressesRequest,
  AssignPrivateIpAddressesResult,
  AttachNetworkInterfaceRequest,
  AttachNetworkInterfaceResult,
  ConnectionTrackingSpecificationRequest,
  CreateNetworkInterfaceRequest,
  CreateNetworkInterfaceResult,
  DeleteNetworkInterfaceRequest,
  DescribeNetworkInterfaceAttributeRequest,
  DescribeNetworkInterfaceAttributeResult,
  DescribeNetworkInterfacesRequest,
  DescribeNetworkInterfacesResult,
  DetachNetworkInterfaceRequest,
  ModifyNetworkInterfaceAttributeRequest,
  NetworkInterface,
  UnassignIpv6AddressesRequest,
  UnassignIpv6AddressesResult,
  UnassignPrivateIpAddressesRequest,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { addressToBigInt, bigIntToAddress, containsAddress, last, parseCidr } from '../../core/cidr.ts';
import { newId } from './ids.ts';
import { KIND, type ConnTrack, type EniDoc, type InstanceDoc, type SecurityGroupDoc, type SubnetDoc } from '../../core/documents/ec2.ts';
import { compileFilters, tagList } from './filters.ts';
import { privateDns, publicDns } from '../../core/regions.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { elasticIpOf } from './lookups.ts';
import { attachedInstanceType, attachmentsChanged, enisOf, getEni, getGroup, getSubnet, instanceTypeOf } from './lookups.ts';

export const GROUPS_PER_INTERFACE = 5;

// The instance type's limits (AWS's words: "Interface count 4 exceeds the limit for t3.medium",
// "Number of private addresses will exceed limit.").
export const interfaceCountExceeded = (count: number, type: string) =>
  new ApiError('AttachmentLimitExceeded', `Interface count ${count} exceeds the limit for ${type}`);
export const privateIpsExceeded = () => new ApiError('PrivateIpAddressLimitExceeded', 'Number of private addresses will exceed limit.');
export const ipv6Exceeded = () => new ApiError('PrivateIpAddressLimitExceeded', 'Number of IPv6 addresses will exceed limit.');

// ---------------------------------------------------------------------------------------------
// Addresses

function usedAddresses(ctx: Ctx, subnetId: string): Set<string> {
  const used = new Set<string>();
  for (const e of enisOf(ctx)) if (e.subnetId === subnetId) for (const ip of e.privateIps) used.add(ip);
  return used;
}

export function insufficient(subnet: SubnetDoc): ApiError {
  return new ApiError(
    'InsufficientFreeAddressesInSubnet',
    `There are not enough free addresses in subnet '${subnet.id}' to satisfy the requested number of instances.`,
  );
}

/** Allocates `count` free private IPv4 addresses of the subnet, lowest first. */
function allocatePrivateIps(ctx: Ctx, subnet: SubnetDoc, count: number, taken: Set<string> = usedAddresses(ctx, subnet.id)): string[] {
  const c = parseCidr(subnet.cidr)!;
  const out: string[] = [];
  for (let v = c.base + 4n; v < last(c) && out.length < count; v++) {
    const ip = bigIntToAddress(4, v);
    if (!taken.has(ip)) {
      out.push(ip);
      taken.add(ip);
    }
  }
  if (out.length < count) throw insufficient(subnet);
  return out;
}

/** Checks a requested private IPv4 address: inside the subnet, not reserved, free. */
function claimPrivateIp(ctx: Ctx, subnet: SubnetDoc, ip: string, taken: Set<string> = usedAddresses(ctx, subnet.id)): string {
  const a = addressToBigInt(ip);
  const c = parseCidr(subnet.cidr)!;
  if (!a || a.family !== 4) throw err.invalidValue(`Invalid value '${ip}' for PrivateIpAddress`);
  if (!containsAddress(c, 4, a.value)) throw err.invalidValue(`Address ${ip} does not fall within the subnet's address range`);
  if (a.value < c.base + 4n || a.value === last(c)) throw err.invalidValue(`Address ${ip} is in subnet's reserved address range`);
  if (taken.has(ip)) throw new ApiError('InvalidIPAddress.InUse', `Address ${ip} is in use.`);
  taken.add(ip);
  return ip;
}

function allocateIpv6(ctx: Ctx, subnet: SubnetDoc, count: number): string[] {
  if (!subnet.ipv6.length) throw err.invalidParam(`You specified IPv6 addresses but the subnet ${subnet.id} has no IPv6 CIDR block.`);
  const c = parseCidr(subnet.ipv6[0]!.cidr)!;
  const used = new Set(enisOf(ctx).flatMap((e) => e.ipv6));
  const out: string[] = [];
  while (out.length < count) {
    const host = BigInt('0x' + crypto().randomBytes(8).toString('hex')) & ((1n << 64n) - 1n);
    const ip = bigIntToAddress(6, c.base + (host === 0n ? 1n : host));
    if (!used.has(ip)) {
      out.push(ip);
      used.add(ip);
    }
  }
  return out;
}

export function allocatePublicIp(ctx: Ctx): string {
  const used = new Set(
    enisOf(ctx)
      .map((e) => e.publicIp)
      .filter(Boolean),
  );
  for (;;) {
    const b = crypto().randomBytes(3);
    const ip = `54.${160 + (b[0]! % 32)}.${b[1]}.${1 + (b[2]! % 254)}`;
    if (!used.has(ip)) return ip;
  }
}

const newMac = () => `0e:${[...crypto().randomBytes(5)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;

// ---------------------------------------------------------------------------------------------
// Groups and connection tracking

/** Validates a set of group ids for an interface in `vpcId`. */
export function checkInterfaceGroups(ctx: Ctx, ids: string[], vpcId: string): string[] {
  const unique = [...new Set(ids)];
  if (unique.length > GROUPS_PER_INTERFACE) {
    throw new ApiError('SecurityGroupsPerInterfaceLimitExceeded', 'The maximum number of security groups per interface has been reached.');
  }
  for (const id of unique) {
    const g = getGroup(ctx, id);
    if (g.vpcId !== vpcId)
      throw new ApiError('InvalidGroup.NotFound', `You have specified two resources that belong to different networks.`);
  }
  return unique;
}

export function checkConnTrack(spec: ConnectionTrackingSpecificationRequest | undefined, base: ConnTrack = {}): ConnTrack | undefined {
  if (!spec) return Object.keys(base).length ? base : undefined;
  const out: ConnTrack = { ...base };
  const range = (v: number | undefined, min: number, max: number, name: string) => {
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || v < min || v > max)
      throw err.invalidParam(`Invalid value '${v}' for ${name}. The value must be between ${min} and ${max}.`);
    return v;
  };
  const t = range(spec.TcpEstablishedTimeout, 60, 432000, 'TcpEstablishedTimeout');
  const us = range(spec.UdpStreamTimeout, 60, 180, 'UdpStreamTimeout');
  const u = range(spec.UdpTimeout, 30, 60, 'UdpTimeout');
  if (t !== undefined) out.tcpEstablished = t;
  if (us !== undefined) out.udpStream = us;
  if (u !== undefined) out.udp = u;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Creation (also used by RunInstances)

interface NewEni {
  subnet: SubnetDoc;
  groups: string[];
  description?: string;
  privateIp?: string;
  secondaryIps?: string[];
  secondaryCount?: number;
  ipv6?: string[];
  ipv6Count?: number;
  connTrack?: ConnTrack;
  publicIp?: boolean;
  tags?: EniDoc['tags'];
  interfaceType?: string;
  taken?: Set<string>;
}

export function createEni(ctx: Ctx, spec: NewEni): EniDoc {
  // An interface's primary private IPv4 address is what everything here keys on.
  if (!spec.subnet.cidr) {
    throw err.combination(
      `Interfaces without a private IPv4 address are not supported by Palisade: the subnet ${spec.subnet.id} is IPv6-only.`,
    );
  }
  const taken = spec.taken ?? usedAddresses(ctx, spec.subnet.id);
  const primary = spec.privateIp
    ? claimPrivateIp(ctx, spec.subnet, spec.privateIp, taken)
    : allocatePrivateIps(ctx, spec.subnet, 1, taken)[0]!;
  const secondary = (spec.secondaryIps ?? []).map((ip) => claimPrivateIp(ctx, spec.subnet, ip, taken));
  if (spec.secondaryCount) secondary.push(...allocatePrivateIps(ctx, spec.subnet, spec.secondaryCount, taken));
  const ipv6 = [...(spec.ipv6 ?? [])];
  if (spec.ipv6Count) ipv6.push(...allocateIpv6(ctx, spec.subnet, spec.ipv6Count));
  if (!ipv6.length && spec.subnet.assignIpv6AddressOnCreation) ipv6.push(...allocateIpv6(ctx, spec.subnet, 1));
  const eni: EniDoc = {
    id: newId('eni'),
    subnetId: spec.subnet.id,
    vpcId: spec.subnet.vpcId,
    az: spec.subnet.az,
    azId: spec.subnet.azId,
    description: spec.description ?? '',
    groups: spec.groups,
    privateIps: [primary, ...secondary],
    ipv6,
    mac: newMac(),
    sourceDestCheck: true,
    interfaceType: spec.interfaceType ?? 'interface',
    ...(spec.publicIp ? { publicIp: allocatePublicIp(ctx) } : {}),
    ...(spec.connTrack ? { connTrack: spec.connTrack } : {}),
    requesterManaged: false,
    tags: spec.tags ?? [],
  };
  return ctx.tx.put(KIND.eni, ctx.scope, eni);
}

// ---------------------------------------------------------------------------------------------
// Wire form

export function groupIdentifiers(ctx: Ctx, ids: string[]) {
  return ids.map((id) => ({ GroupId: id, GroupName: ctx.tx.get<SecurityGroupDoc>(KIND.sg, ctx.scope, id)?.name ?? '' }));
}

function eniStatus(e: EniDoc): string {
  return e.attachment ? 'in-use' : 'available';
}

export function toNetworkInterface(ctx: Ctx, e: EniDoc): NetworkInterface {
  // An Elastic IP is the account's (with its allocation and association ids); an auto-assigned address is Amazon's.
  const eip = e.publicIp ? elasticIpOf(ctx, e) : undefined;
  const association = e.publicIp
    ? {
        PublicIp: e.publicIp,
        PublicDnsName: publicDns(ctx.region, e.publicIp),
        IpOwnerId: eip ? ctx.account : 'amazon',
        ...(eip ? { AllocationId: eip.id, AssociationId: eip.association!.id } : {}),
      }
    : undefined;
  const ct = e.connTrack;
  return {
    NetworkInterfaceId: e.id,
    SubnetId: e.subnetId,
    VpcId: e.vpcId,
    AvailabilityZone: e.az,
    AvailabilityZoneId: e.azId,
    Description: e.description,
    Groups: groupIdentifiers(ctx, e.groups),
    InterfaceType: e.interfaceType as never,
    MacAddress: e.mac,
    OwnerId: ctx.account,
    PrivateIpAddress: e.privateIps[0],
    PrivateDnsName: privateDns(ctx.region, e.privateIps[0]!),
    PrivateIpAddresses: e.privateIps.map((ip, i) => ({
      PrivateIpAddress: ip,
      Primary: i === 0,
      PrivateDnsName: privateDns(ctx.region, ip),
      ...(i === 0 && association ? { Association: association } : {}),
    })),
    Ipv6Addresses: e.ipv6.map((ip) => ({ Ipv6Address: ip })),
    ...(association ? { Association: association } : {}),
    ...(e.attachment
      ? {
          Attachment: {
            AttachmentId: e.attachment.attachmentId,
            InstanceId: e.attachment.instanceId,
            InstanceOwnerId: ctx.account,
            DeviceIndex: e.attachment.deviceIndex,
            NetworkCardIndex: 0,
            Status: 'attached',
            DeleteOnTermination: e.attachment.deleteOnTermination,
            AttachTime: new Date(e.attachment.attachTime),
          },
        }
      : {}),
    ...(ct
      ? {
          ConnectionTrackingConfiguration: { TcpEstablishedTimeout: ct.tcpEstablished, UdpStreamTimeout: ct.udpStream, UdpTimeout: ct.udp },
        }
      : {}),
    RequesterManaged: e.requesterManaged,
    SourceDestCheck: e.sourceDestCheck,
    Status: eniStatus(e) as never,
    TagSet: tagList(e.tags),
  };
}

// ---------------------------------------------------------------------------------------------
// Handlers

export const networkInterfaceHandlers = {
  CreateNetworkInterface(ctx: Ctx, input: CreateNetworkInterfaceRequest): CreateNetworkInterfaceResult {
    const subnet = getSubnet(ctx, input.SubnetId);
    if (input.ClientToken) {
      const prior = enisOf(ctx).find((e) => e.clientToken === input.ClientToken);
      if (prior) return { NetworkInterface: toNetworkInterface(ctx, prior), ClientToken: input.ClientToken };
    }
    if (input.InterfaceType && !['efa', 'efa-only', 'trunk', 'interface'].includes(input.InterfaceType)) {
      throw err.invalidParam(`Invalid value '${input.InterfaceType}' for InterfaceType`);
    }
    const vpcDefault = ctx.tx.get<{ id: string; defaultGroupId: string }>(KIND.vpc, ctx.scope, subnet.vpcId)!.defaultGroupId;
    const groups = checkInterfaceGroups(ctx, input.Groups?.length ? input.Groups : [vpcDefault], subnet.vpcId);
    const listed = (input.PrivateIpAddresses ?? []).filter((p) => p.PrivateIpAddress);
    const flagged = listed.find((p) => p.Primary)?.PrivateIpAddress;
    if (input.PrivateIpAddress && flagged && flagged !== input.PrivateIpAddress) {
      throw err.combination('The primary private IP address was specified twice with different values.');
    }
    // With no address flagged Primary (and no PrivateIpAddress), one of the listed addresses is the
    // primary; AWS allocates no extra one (recorded AWS response).
    const primaryFromList = flagged ?? (input.PrivateIpAddress ? undefined : listed[0]?.PrivateIpAddress);
    const primary = input.PrivateIpAddress ?? primaryFromList;
    const secondaryIps = listed.map((p) => p.PrivateIpAddress!).filter((ip) => ip !== primary);
    if (input.Ipv6Addresses?.length && input.Ipv6AddressCount)
      throw err.combination('The parameters Ipv6Addresses and Ipv6AddressCount cannot be used together.');
    const eni = createEni(ctx, {
      subnet,
      groups,
      description: input.Description,
      privateIp: primary,
      secondaryIps,
      secondaryCount: input.SecondaryPrivateIpAddressCount,
      ipv6: input.Ipv6Addresses?.map((a) => a.Ipv6Address!),
      ipv6Count: input.Ipv6AddressCount,
      connTrack: checkConnTrack(input.ConnectionTrackingSpecification),
      tags: tagsFromSpecs(input.TagSpecifications, 'network-interface'),
      interfaceType: input.InterfaceType,
    });
    if (input.ClientToken) eni.clientToken = input.ClientToken;
    return { NetworkInterface: { ...toNetworkInterface(ctx, eni), Status: 'pending' as never }, ClientToken: input.ClientToken };
  },

  DeleteNetworkInterface(ctx: Ctx, input: DeleteNetworkInterfaceRequest): Record<string, never> {
    const e = getEni(ctx, input.NetworkInterfaceId);
    if (e.attachment) throw new ApiError('InvalidNetworkInterface.InUse', `The network interface '${e.id}' is currently in use.`);
    ctx.tx.delete(KIND.eni, ctx.scope, e.id);
    return {};
  },

  DescribeNetworkInterfaces(ctx: Ctx, input: DescribeNetworkInterfacesRequest): DescribeNetworkInterfacesResult {
    let enis = enisOf(ctx);
    if (input.NetworkInterfaceIds?.length) {
      for (const id of input.NetworkInterfaceIds) getEni(ctx, id);
      enis = enis.filter((e) => input.NetworkInterfaceIds!.includes(e.id));
    }
    const groupName = (id: string) => ctx.tx.get<SecurityGroupDoc>(KIND.sg, ctx.scope, id)?.name;
    const match = compileFilters<EniDoc>(input.Filters, {
      'network-interface-id': (e) => e.id,
      'subnet-id': (e) => e.subnetId,
      'vpc-id': (e) => e.vpcId,
      'availability-zone': (e) => e.az,
      description: (e) => e.description,
      'mac-address': (e) => e.mac,
      'group-id': (e) => e.groups,
      'group-name': (e) => e.groups.map(groupName),
      'private-ip-address': (e) => e.privateIps,
      'addresses.private-ip-address': (e) => e.privateIps,
      'addresses.primary': (e) => e.privateIps.map((_, i) => i === 0),
      'ipv6-addresses.ipv6-address': (e) => e.ipv6,
      'association.public-ip': (e) => e.publicIp,
      'association.ip-owner-id': (e) => (e.publicIp ? (elasticIpOf(ctx, e) ? ctx.account : 'amazon') : undefined),
      'association.allocation-id': (e) => (e.publicIp ? elasticIpOf(ctx, e)?.id : undefined),
      'association.association-id': (e) => (e.publicIp ? elasticIpOf(ctx, e)?.association?.id : undefined),
      'attachment.instance-id': (e) => e.attachment?.instanceId,
      'attachment.attachment-id': (e) => e.attachment?.attachmentId,
      'attachment.device-index': (e) => e.attachment?.deviceIndex,
      'attachment.status': (e) => (e.attachment ? 'attached' : undefined),
      'attachment.delete-on-termination': (e) => e.attachment?.deleteOnTermination,
      'attachment.instance-owner-id': (e) => (e.attachment ? ctx.account : undefined),
      status: (e) => eniStatus(e),
      'source-dest-check': (e) => e.sourceDestCheck,
      'interface-type': (e) => e.interfaceType,
      'owner-id': () => ctx.account,
      'requester-managed': (e) => e.requesterManaged,
      'private-dns-name': (e) => privateDns(ctx.region, e.privateIps[0]!),
    });
    const { page, nextToken } = paginate(enis.filter(match), input.MaxResults, input.NextToken);
    return { NetworkInterfaces: page.map((e) => toNetworkInterface(ctx, e)), NextToken: nextToken };
  },

  AttachNetworkInterface(ctx: Ctx, input: AttachNetworkInterfaceRequest): AttachNetworkInterfaceResult {
    const e = getEni(ctx, input.NetworkInterfaceId);
    const inst = ctx.tx.get<InstanceDoc>(KIND.instance, ctx.scope, input.InstanceId!);
    if (!inst || inst.state === 'terminated')
      throw new ApiError('InvalidInstanceID.NotFound', `The instance ID '${input.InstanceId}' does not exist`);
    if (inst.state !== 'running' && inst.state !== 'stopped')
      throw new ApiError('IncorrectInstanceState', `The instance '${inst.id}' is not in a valid state for this operation.`);
    if (e.attachment) throw new ApiError('InvalidNetworkInterface.InUse', `Interface: [${e.id}] in use.`);
    if (e.az !== inst.az)
      throw err.invalidParam(`Network interface '${e.id}' is in a different availability zone than instance '${inst.id}'.`);
    if (e.vpcId !== inst.vpcId) throw err.invalidParam(`The network interface and instance '${inst.id}' must be in the same VPC.`);
    const index = input.DeviceIndex!;
    if (index < 0 || index > 31) throw err.invalidParam(`Invalid value '${index}' for DeviceIndex`);
    const attached = enisOf(ctx).filter((x) => x.attachment?.instanceId === inst.id);
    if (attached.some((x) => x.attachment!.deviceIndex === index)) {
      throw err.invalidParam(`Instance '${inst.id}' already has an interface attached at device index '${index}'.`);
    }
    const type = instanceTypeOf(inst.instanceType);
    if (type && (attached.length + 1 > type.maxInterfaces || index >= type.maxInterfaces))
      throw interfaceCountExceeded(Math.max(attached.length + 1, index + 1), type.name);
    if (type && (e.privateIps.length > type.ipv4PerInterface || e.ipv6.length > type.ipv6PerInterface)) throw privateIpsExceeded();
    const w = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, e.id)!;
    w.attachment = {
      attachmentId: newId('eni-attach'),
      instanceId: inst.id,
      deviceIndex: index,
      deleteOnTermination: false,
      attachTime: new Date(ctx.clock.now()).toISOString(),
    };
    attachmentsChanged(ctx);
    return { AttachmentId: w.attachment.attachmentId, NetworkCardIndex: 0 };
  },

  DetachNetworkInterface(ctx: Ctx, input: DetachNetworkInterfaceRequest): Record<string, never> {
    const e = enisOf(ctx).find((x) => x.attachment?.attachmentId === input.AttachmentId);
    if (!e) throw new ApiError('InvalidAttachmentID.NotFound', `Interface attachment '${input.AttachmentId}' does not exist`);
    if (e.attachment!.deviceIndex === 0)
      throw new ApiError('OperationNotPermitted', 'The network interface at device index 0 cannot be detached.');
    const w = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, e.id)!;
    delete w.attachment;
    attachmentsChanged(ctx);
    return {};
  },

  ModifyNetworkInterfaceAttribute(ctx: Ctx, input: ModifyNetworkInterfaceAttributeRequest): Record<string, never> {
    const e = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, getEni(ctx, input.NetworkInterfaceId).id)!;
    const given = [
      input.Groups?.length ? 1 : 0,
      input.Description ? 1 : 0,
      input.SourceDestCheck ? 1 : 0,
      input.Attachment ? 1 : 0,
      input.ConnectionTrackingSpecification ? 1 : 0,
      input.AssociatePublicIpAddress !== undefined ? 1 : 0,
    ].reduce((a, b) => a + b, 0);
    if (given === 0) throw err.missing('Groups, Description, SourceDestCheck, Attachment or ConnectionTrackingSpecification');
    if (given > 1) throw err.combination('Only one attribute can be modified at a time.');
    if (input.Groups?.length) e.groups = checkInterfaceGroups(ctx, input.Groups, e.vpcId);
    if (input.Description) e.description = input.Description.Value ?? '';
    if (input.SourceDestCheck) e.sourceDestCheck = input.SourceDestCheck.Value ?? true;
    if (input.Attachment) {
      if (!e.attachment || e.attachment.attachmentId !== input.Attachment.AttachmentId) {
        throw new ApiError('InvalidAttachmentID.NotFound', `Interface attachment '${input.Attachment.AttachmentId}' does not exist`);
      }
      if (input.Attachment.DeleteOnTermination !== undefined) e.attachment.deleteOnTermination = input.Attachment.DeleteOnTermination;
    }
    if (input.ConnectionTrackingSpecification) e.connTrack = checkConnTrack(input.ConnectionTrackingSpecification, e.connTrack);
    if (input.AssociatePublicIpAddress !== undefined) {
      if (input.AssociatePublicIpAddress && !e.publicIp) e.publicIp = allocatePublicIp(ctx);
      if (!input.AssociatePublicIpAddress) delete e.publicIp;
    }
    return {};
  },

  DescribeNetworkInterfaceAttribute(ctx: Ctx, input: DescribeNetworkInterfaceAttributeRequest): DescribeNetworkInterfaceAttributeResult {
    const e = getEni(ctx, input.NetworkInterfaceId);
    const base = { NetworkInterfaceId: e.id };
    switch (input.Attribute) {
      case 'description':
        return { ...base, Description: { Value: e.description } };
      case 'groupSet':
        return { ...base, Groups: groupIdentifiers(ctx, e.groups) };
      case 'sourceDestCheck':
        return { ...base, SourceDestCheck: { Value: e.sourceDestCheck } };
      case 'attachment':
        return { ...base, ...(e.attachment ? { Attachment: toNetworkInterface(ctx, e).Attachment } : {}) };
      case 'associatePublicIpAddress':
        return { ...base, AssociatePublicIpAddress: !!e.publicIp };
      case undefined:
        throw err.missing('Attribute');
      default:
        // InvalidParameterValue, as DescribeInstanceAttribute answers (GH:aws/aws-cli#4273).
        throw err.invalidValue(`Value (${input.Attribute}) for parameter attribute is invalid. Unknown attribute.`);
    }
  },

  AssignPrivateIpAddresses(ctx: Ctx, input: AssignPrivateIpAddressesRequest): AssignPrivateIpAddressesResult {
    const e = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, getEni(ctx, input.NetworkInterfaceId).id)!;
    const subnet = getSubnet(ctx, e.subnetId);
    if (!input.PrivateIpAddresses?.length && !input.SecondaryPrivateIpAddressCount)
      throw err.missing('PrivateIpAddress or SecondaryPrivateIpAddressCount');
    if (input.PrivateIpAddresses?.length && input.SecondaryPrivateIpAddressCount)
      throw err.combination('The parameters PrivateIpAddress and SecondaryPrivateIpAddressCount cannot be used together.');
    const taken = usedAddresses(ctx, subnet.id);
    const added: string[] = [];
    for (const ip of input.PrivateIpAddresses ?? []) {
      if (taken.has(ip) && input.AllowReassignment) {
        const owner = enisOf(ctx).find((x) => x.id !== e.id && x.privateIps.slice(1).includes(ip));
        if (owner) {
          const o = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, owner.id)!;
          o.privateIps = o.privateIps.filter((x) => x !== ip);
          taken.delete(ip);
        }
      }
      added.push(claimPrivateIp(ctx, subnet, ip, taken));
    }
    if (input.SecondaryPrivateIpAddressCount) added.push(...allocatePrivateIps(ctx, subnet, input.SecondaryPrivateIpAddressCount, taken));
    const type = attachedInstanceType(ctx, e);
    if (type && e.privateIps.length + added.length > type.ipv4PerInterface) throw privateIpsExceeded();
    e.privateIps.push(...added);
    return { NetworkInterfaceId: e.id, AssignedPrivateIpAddresses: added.map((ip) => ({ PrivateIpAddress: ip })) };
  },

  UnassignPrivateIpAddresses(ctx: Ctx, input: UnassignPrivateIpAddressesRequest): Record<string, never> {
    const e = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, getEni(ctx, input.NetworkInterfaceId).id)!;
    for (const ip of input.PrivateIpAddresses ?? []) {
      const i = e.privateIps.indexOf(ip);
      if (i < 0) throw new ApiError('InvalidParameterValue', `Some of the specified addresses are not assigned to interface ${e.id}`);
      if (i === 0) throw err.invalidParam(`The primary private IP address ${ip} cannot be unassigned.`);
      e.privateIps.splice(i, 1);
    }
    return {};
  },

  AssignIpv6Addresses(ctx: Ctx, input: AssignIpv6AddressesRequest): AssignIpv6AddressesResult {
    const e = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, getEni(ctx, input.NetworkInterfaceId).id)!;
    const subnet = getSubnet(ctx, e.subnetId);
    const added = input.Ipv6Addresses?.length ? input.Ipv6Addresses : allocateIpv6(ctx, subnet, input.Ipv6AddressCount ?? 0);
    if (!added.length) throw err.missing('Ipv6Addresses or Ipv6AddressCount');
    if (input.Ipv6Addresses?.length) {
      const c = subnet.ipv6[0] && parseCidr(subnet.ipv6[0].cidr);
      for (const ip of input.Ipv6Addresses) {
        const a = addressToBigInt(ip);
        if (!c || !a || !containsAddress(c, 6, a.value))
          throw err.invalidParam(`Address ${ip} does not fall within the subnet's IPv6 range`);
      }
    }
    const type = attachedInstanceType(ctx, e);
    if (type && e.ipv6.length + added.length > type.ipv6PerInterface) throw ipv6Exceeded();
    e.ipv6.push(...added);
    return { NetworkInterfaceId: e.id, AssignedIpv6Addresses: added };
  },

  UnassignIpv6Addresses(ctx: Ctx, input: UnassignIpv6AddressesRequest): UnassignIpv6AddressesResult {
    const e = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, getEni(ctx, input.NetworkInterfaceId).id)!;
    for (const ip of input.Ipv6Addresses ?? []) {
      if (!e.ipv6.includes(ip)) throw err.invalidParam(`Some of the specified addresses are not assigned to interface ${e.id}`);
    }
    e.ipv6 = e.ipv6.filter((ip) => !input.Ipv6Addresses?.includes(ip));
    return { NetworkInterfaceId: e.id, UnassignedIpv6Addresses: input.Ipv6Addresses };
  },
};
