// Instances: launch into a subnet with interfaces and groups (from an image of the catalogue, an
// instance type whose limits govern its interfaces, a key pair, a launch template, root and other
// EBS volumes), state transitions, attributes, metadata options, CPU credits and IAM instance
// profile associations.
import type {
  AssociateIamInstanceProfileRequest,
  AssociateIamInstanceProfileResult,
  DescribeIamInstanceProfileAssociationsRequest,
  DescribeIamInstanceProfileAssociationsResult,
  DescribeInstanceAttributeRequest,
  InstanceAttribute as DescribeInstanceAttributeResult,
  DescribeInstancesRequest,
  DescribeInstancesResult,
  DisassociateIamInstanceProfileRequest,
  DisassociateIamInstanceProfileResult,
  IamInstanceProfileAssociation,
  IamInstanceProfileSpecification,
  Instance,
  InstanceMetadataOptionsResponse,
  ModifyInstanceAttributeRequest,
  ModifyInstanceMetadataOptionsRequest,
  ModifyInstanceMetadataOptionsResult,
  ReplaceIamInstanceProfileAssociationRequest,
  ReplaceIamInstanceProfileAssociationResult,
  Reservation,
  RunInstancesRequest,
  StartInstancesRequest,
  StartInstancesResult,
  StopInstancesRequest,
  StopInstancesResult,
  TerminateInstancesRequest,
  TerminateInstancesResult,
  InstanceStateChange,
  DescribeInstanceStatusRequest,
  DescribeInstanceStatusResult,
  DescribeInstanceCreditSpecificationsRequest,
  DescribeInstanceCreditSpecificationsResult,
  InstanceBlockDeviceMapping,
  ModifyInstanceCreditSpecificationRequest,
  ModifyInstanceCreditSpecificationResult,
  ModifyInstanceMaintenanceOptionsRequest,
  ModifyInstanceMaintenanceOptionsResult,
  TagSpecification,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { newId } from './ids.ts';
import {
  KIND,
  type EniDoc,
  type InstanceDoc,
  type MetadataOptions,
  type SecurityGroupDoc,
  type SubnetDoc,
  type TagPair,
  type VolumeDoc,
  type VpcDoc,
} from '../../core/documents/ec2.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { mergeTags, tagsFromSpecs } from './tags.ts';
import {
  allocatePublicIp,
  checkConnTrack,
  checkInterfaceGroups,
  createEni,
  groupIdentifiers,
  insufficient,
  toNetworkInterface,
  GROUPS_PER_INTERFACE,
  interfaceCountExceeded,
  ipv6Exceeded,
  privateIpsExceeded,
} from './network-interfaces.ts';
import { checkVolumeSpec, putVolume, releaseVolumes } from './volumes.ts';
import { launchTemplateFor } from './launch-templates.ts';
import type { CatalogueImage } from './image-catalogue.ts';
import type { InstanceTypeFacts } from './instance-type-catalogue.ts';
import { IAM_KIND, type InstanceProfileDoc } from '../../core/documents/iam.ts';
import { privateDns, publicDns } from '../../core/regions.ts';
import {
  attachmentsChanged,
  defaultVpc,
  elasticIpOf,
  getEni,
  getGroupByName,
  getImage,
  getInstance,
  getInstances,
  getInstanceType,
  getKeyPair,
  getSubnet,
  imagesOf,
  instancesOf,
  instanceTypeOf,
  interfacesOf,
  primaryInterface,
  volumesChanged,
  volumesOfInstance,
} from './lookups.ts';

const STATE_CODE: Record<InstanceDoc['state'], number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

// ---------------------------------------------------------------------------------------------
// Instance profiles (IAM, global per account)

function findProfile(ctx: Ctx, spec: IamInstanceProfileSpecification): InstanceProfileDoc {
  const profiles = ctx.tx.all<InstanceProfileDoc>(IAM_KIND.instanceProfile, ctx.account);
  if (spec.Arn) {
    const p = profiles.find((x) => x.arn === spec.Arn);
    if (!p) throw err.invalidValue(`Value (${spec.Arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN`);
    if (spec.Name && spec.Name !== p.name)
      throw err.combination('The parameter iamInstanceProfile.name cannot be used with the parameter iamInstanceProfile.arn');
    return p;
  }
  if (spec.Name) {
    const p = profiles.find((x) => x.name.toLowerCase() === spec.Name!.toLowerCase());
    if (!p)
      throw err.invalidValue(`Value (${spec.Name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`);
    return p;
  }
  throw err.missing('IamInstanceProfile.Arn or IamInstanceProfile.Name');
}

function association(i: InstanceDoc, now: number): IamInstanceProfileAssociation | undefined {
  if (!i.profile) return undefined;
  return {
    AssociationId: i.profile.associationId,
    InstanceId: i.id,
    State: i.profile.state,
    IamInstanceProfile: { Arn: i.profile.arn, Id: i.profile.profileId },
    Timestamp: new Date(now),
  };
}

function newAssociation(p: InstanceProfileDoc): NonNullable<InstanceDoc['profile']> {
  return { associationId: newId('iip-assoc'), arn: p.arn, profileId: p.profileId, name: p.name, state: 'associated' };
}

// ---------------------------------------------------------------------------------------------
// Wire form

function metadataOptions(m: MetadataOptions, state: 'pending' | 'applied' = 'applied'): InstanceMetadataOptionsResponse {
  return {
    State: state,
    HttpTokens: m.httpTokens,
    HttpPutResponseHopLimit: m.hopLimit,
    HttpEndpoint: m.httpEndpoint,
    HttpProtocolIpv6: m.httpProtocolIpv6,
    InstanceMetadataTags: m.instanceMetadataTags,
  };
}

const stateOf = (s: InstanceDoc['state']) => ({ Code: STATE_CODE[s], Name: s });

function toInstance(ctx: Ctx, i: InstanceDoc, shownState: InstanceDoc['state'] = i.state): Instance {
  const enis = interfacesOf(ctx, i.id);
  const primary = enis.find((e) => e.attachment!.deviceIndex === 0);
  const groups = primary ? groupIdentifiers(ctx, primary.groups) : [];
  const publicIp = primary?.publicIp;
  const type = instanceTypeOf(i.instanceType);
  const windows = i.platform === 'windows';
  const boot = bootMode(ctx, i);
  return {
    InstanceId: i.id,
    ImageId: i.imageId,
    InstanceType: i.instanceType as never,
    State: stateOf(shownState),
    PrivateDnsName: primary ? privateDns(ctx.region, primary.privateIps[0]!) : '',
    PublicDnsName: publicIp ? publicDns(ctx.region, publicIp) : '',
    StateTransitionReason: i.stateTransitionReason,
    AmiLaunchIndex: i.amiLaunchIndex,
    ProductCodes: [],
    LaunchTime: new Date(i.launchTime),
    Placement: { AvailabilityZone: i.az, GroupName: '', Tenancy: 'default' },
    Monitoring: { State: i.monitoring ? 'enabled' : 'disabled' },
    SubnetId: i.state === 'terminated' ? undefined : i.subnetId,
    VpcId: i.state === 'terminated' ? undefined : i.vpcId,
    PrivateIpAddress: primary?.privateIps[0],
    PublicIpAddress: publicIp,
    Architecture: i.architecture ?? 'x86_64',
    ...(windows ? { Platform: 'windows' as never } : {}),
    RootDeviceType: 'ebs',
    RootDeviceName: rootDeviceOf(i),
    BlockDeviceMappings: blockDevicesOf(ctx, i),
    ClientToken: i.clientToken ?? '',
    EbsOptimized: i.ebsOptimized,
    EnaSupport: true,
    Hypervisor: 'xen',
    VirtualizationType: 'hvm',
    SourceDestCheck: primary?.sourceDestCheck ?? true,
    SecurityGroups: groups,
    KeyName: i.keyName,
    NetworkInterfaces: enis.map((e) => {
      const n = toNetworkInterface(ctx, e);
      return {
        NetworkInterfaceId: n.NetworkInterfaceId,
        SubnetId: n.SubnetId,
        VpcId: n.VpcId,
        Description: n.Description,
        OwnerId: n.OwnerId,
        Status: n.Status,
        MacAddress: n.MacAddress,
        PrivateIpAddress: n.PrivateIpAddress,
        PrivateDnsName: n.PrivateDnsName,
        SourceDestCheck: n.SourceDestCheck,
        Groups: n.Groups,
        InterfaceType: n.InterfaceType,
        Ipv6Addresses: n.Ipv6Addresses,
        ConnectionTrackingConfiguration: n.ConnectionTrackingConfiguration,
        Association: n.Association && { PublicIp: n.Association.PublicIp, PublicDnsName: n.Association.PublicDnsName, IpOwnerId: 'amazon' },
        PrivateIpAddresses: n.PrivateIpAddresses?.map((p) => ({
          PrivateIpAddress: p.PrivateIpAddress,
          Primary: p.Primary,
          PrivateDnsName: p.PrivateDnsName,
        })),
        Attachment: n.Attachment && {
          AttachmentId: n.Attachment.AttachmentId,
          DeviceIndex: n.Attachment.DeviceIndex,
          Status: 'attached',
          AttachTime: n.Attachment.AttachTime,
          DeleteOnTermination: n.Attachment.DeleteOnTermination,
          NetworkCardIndex: 0,
        },
      };
    }),
    IamInstanceProfile: i.profile && i.profile.state === 'associated' ? { Arn: i.profile.arn, Id: i.profile.profileId } : undefined,
    MetadataOptions: metadataOptions(i.metadata),
    Tags: i.tags.length ? tagList(i.tags) : undefined,
    CpuOptions: { CoreCount: type?.cores ?? 1, ThreadsPerCore: type?.threadsPerCore ?? 1 },
    CapacityReservationSpecification: { CapacityReservationPreference: 'open' },
    HibernationOptions: { Configured: false },
    EnclaveOptions: { Enabled: false },
    ...(boot ? { BootMode: boot } : {}),
    PlatformDetails: windows ? 'Windows' : 'Linux/UNIX',
    UsageOperation: windows ? 'RunInstances:0002' : 'RunInstances',
    UsageOperationUpdateTime: new Date(i.launchTime),
    PrivateDnsNameOptions: { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: false },
    MaintenanceOptions: { AutoRecovery: i.autoRecovery ?? 'default' },
    CurrentInstanceBootMode:
      i.architecture === 'arm64' || (boot?.startsWith('uefi') && type?.hypervisor === 'nitro') ? 'uefi' : 'legacy-bios',
    ...(i.state === 'stopped' || i.state === 'terminated'
      ? { StateReason: { Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' } }
      : {}),
  };
}

const rootDeviceOf = (i: InstanceDoc) => i.rootDeviceName ?? '/dev/xvda';

/** The boot mode of the instance's image, if it names one. */
function bootMode(ctx: Ctx, i: InstanceDoc): CatalogueImage['bootMode'] {
  return imagesOf(ctx).find((x) => x.id === i.imageId)?.bootMode;
}

/** The instance's EBS devices, root first. */
function blockDevicesOf(ctx: Ctx, i: InstanceDoc): InstanceBlockDeviceMapping[] {
  const root = rootDeviceOf(i);
  return [...volumesOfInstance(ctx, i.id)]
    .sort((a, b) => Number(b.attachment!.device === root) - Number(a.attachment!.device === root) || (a.seq ?? 0) - (b.seq ?? 0))
    .map((v) => ({
      DeviceName: v.attachment!.device,
      Ebs: {
        AttachTime: new Date(v.attachment!.attachTime),
        DeleteOnTermination: v.attachment!.deleteOnTermination,
        Status: 'attached',
        VolumeId: v.id,
      },
    }));
}

function reservationsOf(ctx: Ctx, instances: InstanceDoc[]): Reservation[] {
  const byRes = new Map<string, InstanceDoc[]>();
  for (const i of instances) {
    const list = byRes.get(i.reservationId) ?? [];
    list.push(i);
    byRes.set(i.reservationId, list);
  }
  return [...byRes.entries()].map(([rid, list]) => ({
    ReservationId: rid,
    OwnerId: ctx.account,
    Groups: [],
    Instances: list.map((i) => toInstance(ctx, i)),
  }));
}

// ---------------------------------------------------------------------------------------------
// RunInstances

function checkMetadataOptions(m: RunInstancesRequest['MetadataOptions'], base?: MetadataOptions): MetadataOptions {
  const out: MetadataOptions = base
    ? { ...base }
    : { httpTokens: 'optional', hopLimit: 1, httpEndpoint: 'enabled', httpProtocolIpv6: 'disabled', instanceMetadataTags: 'disabled' };
  if (!m) return out;
  const pick = <T extends string>(v: string | undefined, allowed: T[], name: string): T | undefined => {
    if (v === undefined) return undefined;
    if (!allowed.includes(v as T)) throw err.invalidValue(`Invalid value '${v}' for ${name}. Valid values: ${allowed.join(', ')}.`);
    return v as T;
  };
  out.httpTokens = pick(m.HttpTokens, ['optional', 'required'], 'HttpTokens') ?? out.httpTokens;
  out.httpEndpoint = pick(m.HttpEndpoint, ['enabled', 'disabled'], 'HttpEndpoint') ?? out.httpEndpoint;
  out.httpProtocolIpv6 = pick(m.HttpProtocolIpv6, ['enabled', 'disabled'], 'HttpProtocolIpv6') ?? out.httpProtocolIpv6;
  out.instanceMetadataTags = pick(m.InstanceMetadataTags, ['enabled', 'disabled'], 'InstanceMetadataTags') ?? out.instanceMetadataTags;
  if (m.HttpPutResponseHopLimit !== undefined && m.HttpPutResponseHopLimit !== -1) {
    if (m.HttpPutResponseHopLimit < 1 || m.HttpPutResponseHopLimit > 64)
      throw err.invalidValue(`Invalid value '${m.HttpPutResponseHopLimit}' for HttpPutResponseHopLimit. Valid values: 1 to 64.`);
    out.hopLimit = m.HttpPutResponseHopLimit;
  }
  return out;
}

/** Resolves instance-level groups (ids, or names in the default VPC) for a subnet. */
function instanceGroups(ctx: Ctx, input: RunInstancesRequest, subnet: SubnetDoc, vpc: VpcDoc): string[] {
  const ids: string[] = [];
  for (const id of input.SecurityGroupIds ?? []) {
    if (!id.startsWith('sg-') && vpc.isDefault) {
      ids.push(getGroupByName(ctx, id).id); // default VPC also takes names here
      continue;
    }
    const g = ctx.tx.get<SecurityGroupDoc>(KIND.sg, ctx.scope, id);
    if (!g) throw new ApiError('InvalidGroup.NotFound', `The security group '${id}' does not exist in VPC '${vpc.id}'`);
    if (g.vpcId !== subnet.vpcId) throw err.invalidParam(`Security group ${id} and subnet ${subnet.id} belong to different networks.`);
    ids.push(g.id);
  }
  for (const name of input.SecurityGroups ?? []) ids.push(getGroupByName(ctx, name).id);
  const unique = [...new Set(ids)];
  if (unique.length > GROUPS_PER_INTERFACE)
    throw new ApiError('SecurityGroupsPerInterfaceLimitExceeded', 'The maximum number of security groups per interface has been reached.');
  return unique.length ? unique : [vpc.defaultGroupId];
}

/** A launch template's data beneath the call's parameters: what the call gives wins; tags merge (the call's value of a key wins). */
function withLaunchTemplate(
  ctx: Ctx,
  raw: RunInstancesRequest,
): { input: RunInstancesRequest; template?: { id: string; version: number } } {
  if (!raw.LaunchTemplate) return { input: raw };
  const { template, version, data } = launchTemplateFor(ctx, raw.LaunchTemplate);
  const merged: Record<string, unknown> = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  for (const [k, v] of Object.entries(raw)) if (v !== undefined && k !== 'TagSpecifications') merged[k] = v;
  const byType = new Map<string, TagPair[]>();
  for (const spec of [...(data.TagSpecifications ?? []), ...(raw.TagSpecifications ?? [])] as TagSpecification[]) {
    if (!spec.ResourceType) throw err.missing('TagSpecification.ResourceType');
    const tags = (spec.Tags ?? []).map((t) => ({ Key: t.Key!, Value: t.Value ?? '' }));
    byType.set(spec.ResourceType, mergeTags(byType.get(spec.ResourceType) ?? [], tags));
  }
  merged.TagSpecifications = [...byType].map(([ResourceType, Tags]) => ({ ResourceType, Tags }));
  return { input: merged as unknown as RunInstancesRequest, template: { id: template.id, version: version.number } };
}

/** The instance type and the image must share an architecture (m1.small and T2 also run i386). */
function checkArchitecture(type: InstanceTypeFacts, image: CatalogueImage): void {
  if (type.architectures.includes(image.architecture)) return;
  const typeArch = type.architectures.find((a) => a !== 'i386') ?? type.architectures[0];
  throw err.invalidValue(
    `The architecture '${typeArch}' of the specified instance type does not match the architecture '${image.architecture}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.`,
  );
}

/** The type's limits on the interfaces a launch asks for: how many, and addresses per interface. */
function checkInterfaceLimits(ctx: Ctx, type: InstanceTypeFacts, input: RunInstancesRequest): void {
  const specs = input.NetworkInterfaces ?? [];
  const count = Math.max(specs.length, 1, ...specs.map((s) => (s.DeviceIndex ?? 0) + 1));
  if (count > type.maxInterfaces) throw interfaceCountExceeded(count, type.name);
  const check = (v4: number, v6: number) => {
    if (v4 > type.ipv4PerInterface) throw privateIpsExceeded();
    if (v6 > type.ipv6PerInterface) throw ipv6Exceeded();
  };
  if (!specs.length) check(1, input.Ipv6AddressCount ?? input.Ipv6Addresses?.length ?? 0);
  for (const s of specs) {
    if (s.NetworkInterfaceId) {
      const e = getEni(ctx, s.NetworkInterfaceId);
      check(e.privateIps.length, e.ipv6.length);
      continue;
    }
    const secondary = (s.PrivateIpAddresses ?? []).filter((p) => !p.Primary).length + (s.SecondaryPrivateIpAddressCount ?? 0);
    check(1 + secondary, s.Ipv6AddressCount ?? s.Ipv6Addresses?.length ?? 0);
  }
}

interface PlannedVolume {
  device: string;
  spec: ReturnType<typeof checkVolumeSpec>;
  snapshotId: string;
  deleteOnTermination: boolean;
}

/** The EBS volumes each instance gets: the image's root device, as the call's mappings change it, and the call's other EBS devices. */
function planVolumes(ctx: Ctx, image: CatalogueImage, mappings: RunInstancesRequest['BlockDeviceMappings']): PlannedVolume[] {
  const root = image.rootDeviceName;
  const plan = new Map<string, PlannedVolume>([
    [
      root,
      {
        device: root,
        spec: checkVolumeSpec({ volumeType: image.volumeType, size: image.volumeSize }),
        snapshotId: image.snapshotId,
        deleteOnTermination: true,
      },
    ],
  ]);
  const seen = new Set<string>();
  for (const m of mappings ?? []) {
    const device = m.DeviceName;
    if (!device) throw err.missing('BlockDeviceMapping.DeviceName');
    if (seen.has(device))
      throw new ApiError('InvalidBlockDeviceMapping', `The device '${device}' is used in more than one block-device mapping`);
    seen.add(device);
    if (m.NoDevice !== undefined) {
      if (device === root) throw new ApiError('InvalidBlockDeviceMapping', `The root device '${device}' cannot be suppressed`);
      plan.delete(device);
      continue;
    }
    if (m.VirtualName !== undefined || !m.Ebs) continue; // instance store: not modelled
    const ebs = m.Ebs;
    let snapshotId = '';
    let minSize = 0;
    let baseType: string | undefined;
    if (device === root) {
      if (ebs.SnapshotId !== undefined && ebs.SnapshotId !== image.snapshotId)
        throw new ApiError('InvalidBlockDeviceMapping', `snapshotId can only be modified on EBS devices`);
      snapshotId = image.snapshotId;
      minSize = image.volumeSize;
      baseType = image.volumeType;
    } else if (ebs.SnapshotId !== undefined) {
      const from = imagesOf(ctx).find((i) => i.snapshotId === ebs.SnapshotId);
      if (!from) throw new ApiError('InvalidSnapshot.NotFound', `The snapshot '${ebs.SnapshotId}' does not exist.`);
      snapshotId = from.snapshotId;
      minSize = from.volumeSize;
    } else if (ebs.VolumeSize === undefined)
      throw new ApiError('InvalidBlockDeviceMapping', `Either snapshot ID or volume size must be provided for: ${device}`);
    const size = ebs.VolumeSize ?? minSize;
    if (snapshotId && size < minSize)
      throw new ApiError(
        'InvalidBlockDeviceMapping',
        `Volume of size ${size}GB is smaller than  snapshot '${snapshotId}', expect size >= ${minSize}GB`,
      );
    plan.set(device, {
      device,
      spec: checkVolumeSpec({
        volumeType: ebs.VolumeType ?? baseType,
        size,
        iops: ebs.Iops,
        throughput: ebs.Throughput,
        encrypted: ebs.Encrypted,
        kmsKeyId: ebs.KmsKeyId,
      }),
      snapshotId,
      deleteOnTermination: ebs.DeleteOnTermination ?? true,
    });
  }
  return [...plan.values()];
}

/** T instances earn CPU credits: T2 launches `standard`, later families `unlimited`, unless the call says. */
function cpuCreditsFor(type: InstanceTypeFacts, spec: RunInstancesRequest['CreditSpecification']): InstanceDoc['cpuCredits'] {
  if (!type.burstable) {
    if (spec?.CpuCredits !== undefined)
      throw new ApiError('InstanceCreditSpecification.NotSupported', `The ${type.name} instance type does not support T2 Unlimited.`);
    return undefined;
  }
  const v = spec?.CpuCredits?.toLowerCase();
  if (v !== undefined && v !== 'standard' && v !== 'unlimited')
    throw err.invalidValue(`Value (${spec!.CpuCredits}) for parameter cpuCredits is invalid. Valid values: standard, unlimited.`);
  return (v as InstanceDoc['cpuCredits']) ?? (type.name.startsWith('t2.') ? 'standard' : 'unlimited');
}

const LAUNCH_TAGGABLE = ['instance', 'network-interface', 'volume', 'spot-instances-request'];

function runInstances(ctx: Ctx, raw: RunInstancesRequest): Reservation {
  const min = raw.MinCount!;
  const max = raw.MaxCount!;
  if (min < 1) throw err.invalidParam(`Invalid value '${min}' for minCount. Must be at least 1.`);
  if (max < min) throw err.invalidParam(`Invalid value '${max}' for maxCount. Must be greater than or equal to minCount.`);
  if (max > 1000)
    throw new ApiError(
      'InstanceLimitExceeded',
      `You have requested more instances (${max}) than your current instance limit allows for the specified instance type.`,
    );
  if (raw.ClientToken) {
    const prior = ctx.tx.all<InstanceDoc>(KIND.instance, ctx.scope).filter((i) => i.clientToken === raw.ClientToken);
    if (prior.length) return reservationsOf(ctx, prior)[0]!;
  }
  const { input, template } = withLaunchTemplate(ctx, raw);
  const image = getImage(ctx, input.ImageId);
  const type = getInstanceType(input.InstanceType ?? 'm1.small');
  checkArchitecture(type, image);
  const key = input.KeyName !== undefined ? getKeyPair(ctx, input.KeyName) : undefined;
  const specs = input.NetworkInterfaces ?? [];
  if (specs.length && (input.SecurityGroupIds?.length || input.SecurityGroups?.length || input.SubnetId)) {
    throw err.combination(
      input.SubnetId
        ? 'Network interfaces and an instance-level subnet ID may not be specified on the same request'
        : 'Network interfaces and an instance-level security groups may not be specified on the same request',
    );
  }
  if (input.SecurityGroups?.length && input.SubnetId)
    throw err.combination('The parameter groupName cannot be used with the parameter subnet');
  if (input.PrivateIpAddress && max > 1)
    throw err.combination('Cannot specify a private IP address when launching more than one instance.');

  // Where the primary interface goes.
  const primarySpec = specs.find((s) => (s.DeviceIndex ?? 0) === 0);
  if (specs.length && !primarySpec) throw err.invalidParam('When specifying network interfaces, you must include a device at index 0.');
  const indexes = specs.map((s) => s.DeviceIndex ?? 0);
  if (new Set(indexes).size !== indexes.length) throw err.invalidParam('Each network interface requires a unique device index.');
  if (primarySpec?.NetworkInterfaceId && max > 1)
    throw err.combination('Cannot specify an existing network interface when launching more than one instance.');
  checkInterfaceLimits(ctx, type, input);
  let subnet: SubnetDoc;
  if (primarySpec?.NetworkInterfaceId) subnet = getSubnet(ctx, getEni(ctx, primarySpec.NetworkInterfaceId).subnetId);
  else if (primarySpec?.SubnetId ?? input.SubnetId) subnet = getSubnet(ctx, primarySpec?.SubnetId ?? input.SubnetId);
  else {
    const vpc = defaultVpc(ctx);
    if (!vpc) throw new ApiError('VPCIdNotSpecified', 'No default VPC for this user');
    const subnets = ctx.tx.all<SubnetDoc>(KIND.subnet, ctx.scope).filter((s) => s.vpcId === vpc.id && s.defaultForAz);
    const az = input.Placement?.AvailabilityZone;
    const pick = az ? subnets.find((s) => s.az === az) : subnets[0];
    if (!pick) throw new ApiError('MissingInput', 'No subnets found for the default VPC. Please specify a subnet.');
    subnet = pick;
  }
  const vpc = ctx.tx.get<VpcDoc>(KIND.vpc, ctx.scope, subnet.vpcId)!;
  if (input.Placement?.AvailabilityZone && input.Placement.AvailabilityZone !== subnet.az) {
    throw err.invalidParam(
      `The specified Availability Zone '${input.Placement.AvailabilityZone}' does not match the subnet's Availability Zone '${subnet.az}'.`,
    );
  }
  const groups = specs.length ? [] : instanceGroups(ctx, input, subnet, vpc);
  const profile =
    input.IamInstanceProfile && (input.IamInstanceProfile.Arn || input.IamInstanceProfile.Name)
      ? findProfile(ctx, input.IamInstanceProfile)
      : undefined;
  const metadata = checkMetadataOptions(input.MetadataOptions);
  const behavior = input.InstanceInitiatedShutdownBehavior;
  if (behavior !== undefined && behavior !== 'stop' && behavior !== 'terminate')
    throw err.invalidValue(`Invalid value '${behavior}' for InstanceInitiatedShutdownBehavior. Valid values: stop, terminate.`);
  const autoRecovery = input.MaintenanceOptions?.AutoRecovery;
  if (autoRecovery !== undefined && autoRecovery !== 'default' && autoRecovery !== 'disabled')
    throw err.invalidValue(`Invalid value '${autoRecovery}' for AutoRecovery. Valid values: default, disabled.`);
  const cpuCredits = cpuCreditsFor(type, input.CreditSpecification);
  const volumes = planVolumes(ctx, image, input.BlockDeviceMappings);
  const instanceTags = [
    ...tagsFromSpecs(input.TagSpecifications, 'instance', LAUNCH_TAGGABLE),
    // AWS marks an instance launched from a template (Terraform reads these back).
    ...(template
      ? [
          { Key: 'aws:ec2launchtemplate:id', Value: template.id },
          { Key: 'aws:ec2launchtemplate:version', Value: String(template.version) },
        ]
      : []),
  ];
  const eniTags = tagsFromSpecs(input.TagSpecifications, 'network-interface', LAUNCH_TAGGABLE);
  const volumeTags = tagsFromSpecs(input.TagSpecifications, 'volume', LAUNCH_TAGGABLE);

  // Launch as many as addresses allow, at least MinCount.
  const reservationId = newId('r');
  const now = new Date(ctx.clock.now()).toISOString();
  const launched: InstanceDoc[] = [];
  for (let n = 0; n < max; n++) {
    let enis: EniDoc[];
    try {
      enis = launchInterfaces(ctx, input, specs, subnet, groups, eniTags, n);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'InsufficientFreeAddressesInSubnet' && n >= min) break;
      if (e instanceof ApiError && e.code === 'InsufficientFreeAddressesInSubnet') throw insufficient(subnet);
      throw e;
    }
    const inst: InstanceDoc = {
      id: newId('i'),
      imageId: image.id,
      instanceType: type.name,
      state: 'running',
      stateTransitionReason: '',
      subnetId: subnet.id,
      vpcId: subnet.vpcId,
      az: subnet.az,
      architecture: image.architecture,
      ...(image.platform ? { platform: image.platform } : {}),
      rootDeviceName: image.rootDeviceName,
      ...(cpuCredits ? { cpuCredits } : {}),
      ...(autoRecovery ? { autoRecovery } : {}),
      ...(input.Monitoring?.Enabled ? { monitoring: true } : {}),
      launchTime: now,
      reservationId,
      amiLaunchIndex: n,
      metadata,
      disableApiTermination: input.DisableApiTermination ?? false,
      disableApiStop: input.DisableApiStop ?? false,
      shutdownBehavior: behavior ?? 'stop',
      ebsOptimized: input.EbsOptimized ?? false,
      ...(key ? { keyName: key.name, publicKey: key.publicKey } : {}),
      ...(input.UserData ? { userData: input.UserData } : {}),
      ...(raw.ClientToken ? { clientToken: raw.ClientToken } : {}),
      ...(profile ? { profile: newAssociation(profile) } : {}),
      tags: instanceTags.map((t) => ({ ...t })),
    };
    ctx.tx.put(KIND.instance, ctx.scope, inst);
    for (const e of enis) {
      const w = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, e.id)!;
      w.attachment!.instanceId = inst.id;
    }
    attachmentsChanged(ctx);
    for (const v of volumes) {
      putVolume(ctx, {
        ...v.spec,
        az: subnet.az,
        snapshotId: v.snapshotId,
        attachment: { instanceId: inst.id, device: v.device, deleteOnTermination: v.deleteOnTermination, attachTime: now },
        tags: volumeTags.map((t) => ({ ...t })),
      });
    }
    launched.push(inst);
  }
  const res = reservationsOf(ctx, launched)[0]!;
  res.Instances = launched.map((i) => toInstance(ctx, i, 'pending'));
  return res;
}

function launchInterfaces(
  ctx: Ctx,
  input: RunInstancesRequest,
  specs: NonNullable<RunInstancesRequest['NetworkInterfaces']>,
  subnet: SubnetDoc,
  groups: string[],
  tags: EniDoc['tags'],
  n: number,
): EniDoc[] {
  const attachTime = new Date(ctx.clock.now()).toISOString();
  const attach = (e: EniDoc, index: number, dot: boolean) => {
    const w = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, e.id) ?? e;
    w.attachment = { attachmentId: newId('eni-attach'), instanceId: 'pending', deviceIndex: index, deleteOnTermination: dot, attachTime };
    attachmentsChanged(ctx);
    return w;
  };
  if (!specs.length) {
    const publicIp = input.NetworkInterfaces === undefined && subnet.mapPublicIpOnLaunch;
    const e = createEni(ctx, {
      subnet,
      groups,
      privateIp: n === 0 ? input.PrivateIpAddress : undefined,
      publicIp,
      ipv6Count: input.Ipv6AddressCount,
      ipv6: input.Ipv6Addresses?.map((a) => a.Ipv6Address!),
      tags: tags.map((t) => ({ ...t })),
    });
    return [attach(e, 0, true)];
  }
  const out: EniDoc[] = [];
  for (const s of [...specs].sort((a, b) => (a.DeviceIndex ?? 0) - (b.DeviceIndex ?? 0))) {
    const index = s.DeviceIndex ?? 0;
    if (s.NetworkInterfaceId) {
      const e = getEni(ctx, s.NetworkInterfaceId);
      if (e.attachment) throw new ApiError('InvalidNetworkInterface.InUse', `Interface: [${e.id}] in use.`);
      if (s.Groups?.length || s.SubnetId || s.PrivateIpAddress)
        throw err.combination('The parameters groups, subnetId and privateIpAddress cannot be used with an existing network interface.');
      out.push(attach(e, index, s.DeleteOnTermination ?? false));
      continue;
    }
    const sn = s.SubnetId ? getSubnet(ctx, s.SubnetId) : subnet;
    if (sn.az !== subnet.az) throw err.invalidParam('All network interfaces of an instance must be in the same Availability Zone.');
    const vpc = ctx.tx.get<VpcDoc>(KIND.vpc, ctx.scope, sn.vpcId)!;
    const g = s.Groups?.length ? checkInterfaceGroups(ctx, s.Groups, sn.vpcId) : [vpc.defaultGroupId];
    if (s.AssociatePublicIpAddress && specs.length > 1) {
      throw err.invalidParam('The associatePublicIPAddress parameter cannot be specified when launching with multiple network interfaces.');
    }
    const e = createEni(ctx, {
      subnet: sn,
      groups: g,
      description: s.Description,
      privateIp: n === 0 ? s.PrivateIpAddress : undefined,
      secondaryIps: (s.PrivateIpAddresses ?? [])
        .filter((p) => !p.Primary)
        .map((p) => p.PrivateIpAddress!)
        .filter(Boolean),
      secondaryCount: s.SecondaryPrivateIpAddressCount,
      ipv6Count: s.Ipv6AddressCount,
      ipv6: s.Ipv6Addresses?.map((a) => a.Ipv6Address!),
      connTrack: checkConnTrack(s.ConnectionTrackingSpecification),
      publicIp: index === 0 && (s.AssociatePublicIpAddress ?? sn.mapPublicIpOnLaunch),
      tags: tags.map((t) => ({ ...t })),
      interfaceType: s.InterfaceType,
    });
    out.push(attach(e, index, s.DeleteOnTermination ?? true));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// State changes

function change(ctx: Ctx, i: InstanceDoc, shown: InstanceDoc['state'], stored: InstanceDoc['state']): InstanceStateChange {
  const previous = i.state;
  const w = ctx.tx.edit<InstanceDoc>(KIND.instance, ctx.scope, i.id)!;
  w.state = stored;
  return {
    InstanceId: i.id,
    CurrentState: stateOf(previous === stored && previous !== 'running' ? stored : shown),
    PreviousState: stateOf(previous),
  };
}

function terminate(ctx: Ctx, i: InstanceDoc): InstanceStateChange {
  if (i.state === 'terminated') return { InstanceId: i.id, CurrentState: stateOf('terminated'), PreviousState: stateOf('terminated') };
  const c = change(ctx, i, 'shutting-down', 'terminated');
  const w = ctx.tx.edit<InstanceDoc>(KIND.instance, ctx.scope, i.id)!;
  w.terminatedAt = ctx.clock.now();
  w.stateTransitionReason = `User initiated (${new Date(ctx.clock.now()).toISOString().replace('T', ' ').slice(0, 19)} GMT)`;
  if (w.profile?.state === 'associated') Object.assign(w.profile, { state: 'disassociated', endedAt: ctx.clock.now() });
  for (const e of interfacesOf(ctx, i.id)) {
    if (e.attachment!.deleteOnTermination) ctx.tx.delete(KIND.eni, ctx.scope, e.id);
    else {
      const x = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, e.id)!;
      delete x.attachment;
    }
  }
  attachmentsChanged(ctx);
  releaseVolumes(ctx, i.id);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Handlers

const ATTRIBUTES = [
  'instanceType',
  'kernel',
  'ramdisk',
  'userData',
  'disableApiTermination',
  'instanceInitiatedShutdownBehavior',
  'rootDeviceName',
  'blockDeviceMapping',
  'productCodes',
  'sourceDestCheck',
  'groupSet',
  'ebsOptimized',
  'sriovNetSupport',
  'enaSupport',
  'enclaveOptions',
  'disableApiStop',
];

export const instanceHandlers = {
  RunInstances(ctx: Ctx, input: RunInstancesRequest): Reservation {
    return runInstances(ctx, input);
  },

  DescribeInstances(ctx: Ctx, input: DescribeInstancesRequest): DescribeInstancesResult {
    let list = instancesOf(ctx);
    if (input.InstanceIds?.length) {
      if (input.MaxResults !== undefined) throw err.combination('The parameter instancesSet cannot be used with the parameter maxResults');
      list = getInstances(ctx, input.InstanceIds);
    }
    const groupsOf = (i: InstanceDoc) => interfacesOf(ctx, i.id).flatMap((e) => e.groups);
    const gname = (id: string) => ctx.tx.get<SecurityGroupDoc>(KIND.sg, ctx.scope, id)?.name;
    const prim = (i: InstanceDoc) => primaryInterface(ctx, i.id);
    const match = compileFilters<InstanceDoc>(input.Filters, {
      'instance-id': (i) => i.id,
      'image-id': (i) => i.imageId,
      'instance-type': (i) => i.instanceType,
      'instance-state-name': (i) => i.state,
      'instance-state-code': (i) => STATE_CODE[i.state],
      'availability-zone': (i) => i.az,
      'vpc-id': (i) => i.vpcId,
      'subnet-id': (i) => i.subnetId,
      'reservation-id': (i) => i.reservationId,
      'key-name': (i) => i.keyName,
      'launch-index': (i) => i.amiLaunchIndex,
      'private-ip-address': (i) => prim(i)?.privateIps[0],
      'ip-address': (i) => prim(i)?.publicIp,
      'private-dns-name': (i) => {
        const p = prim(i);
        return p && privateDns(ctx.region, p.privateIps[0]!);
      },
      'dns-name': (i) => {
        const p = prim(i)?.publicIp;
        return p && publicDns(ctx.region, p);
      },
      'instance.group-id': groupsOf,
      'instance.group-name': (i) => groupsOf(i).map(gname),
      'group-id': groupsOf,
      'group-name': (i) => groupsOf(i).map(gname),
      'network-interface.network-interface-id': (i) => interfacesOf(ctx, i.id).map((e) => e.id),
      'network-interface.addresses.private-ip-address': (i) => interfacesOf(ctx, i.id).flatMap((e) => e.privateIps),
      'network-interface.subnet-id': (i) => interfacesOf(ctx, i.id).map((e) => e.subnetId),
      'network-interface.vpc-id': (i) => interfacesOf(ctx, i.id).map((e) => e.vpcId),
      'network-interface.group-id': groupsOf,
      'iam-instance-profile.arn': (i) => (i.profile?.state === 'associated' ? i.profile.arn : undefined),
      'iam-instance-profile.id': (i) => (i.profile?.state === 'associated' ? i.profile.profileId : undefined),
      'metadata-options.http-tokens': (i) => i.metadata.httpTokens,
      'metadata-options.http-endpoint': (i) => i.metadata.httpEndpoint,
      'metadata-options.http-put-response-hop-limit': (i) => i.metadata.hopLimit,
      'owner-id': () => ctx.account,
      architecture: (i) => i.architecture ?? 'x86_64',
      platform: (i) => i.platform,
      'platform-details': (i) => (i.platform === 'windows' ? 'Windows' : 'Linux/UNIX'),
      'root-device-name': (i) => rootDeviceOf(i),
      'root-device-type': () => 'ebs',
      'block-device-mapping.device-name': (i) => volumesOfInstance(ctx, i.id).map((v) => v.attachment!.device),
      'block-device-mapping.volume-id': (i) => volumesOfInstance(ctx, i.id).map((v) => v.id),
      'block-device-mapping.delete-on-termination': (i) => volumesOfInstance(ctx, i.id).map((v) => v.attachment!.deleteOnTermination),
      'block-device-mapping.status': (i) => volumesOfInstance(ctx, i.id).map(() => 'attached'),
      'block-device-mapping.attach-time': (i) => volumesOfInstance(ctx, i.id).map((v) => v.attachment!.attachTime),
      'monitoring-state': (i) => (i.monitoring ? 'enabled' : 'disabled'),
      hypervisor: () => 'xen',
      'virtualization-type': () => 'hvm',
      tenancy: () => 'default',
      'source-dest-check': (i) => prim(i)?.sourceDestCheck,
    });
    const { page, nextToken } = paginate(list.filter(match), input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    return { Reservations: reservationsOf(ctx, page), NextToken: nextToken };
  },

  DescribeInstanceStatus(ctx: Ctx, input: DescribeInstanceStatusRequest): DescribeInstanceStatusResult {
    let list = instancesOf(ctx);
    if (input.InstanceIds?.length) list = getInstances(ctx, input.InstanceIds);
    if (!input.IncludeAllInstances) list = list.filter((i) => i.state === 'running');
    const match = compileFilters<InstanceDoc>(input.Filters, {
      'availability-zone': (i) => i.az,
      'instance-state-name': (i) => i.state,
      'instance-state-code': (i) => STATE_CODE[i.state],
    });
    const { page, nextToken } = paginate(list.filter(match), input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    const ok = (i: InstanceDoc) => (i.state === 'running' ? 'ok' : 'not-applicable');
    return {
      InstanceStatuses: page.map((i) => ({
        InstanceId: i.id,
        AvailabilityZone: i.az,
        InstanceState: stateOf(i.state),
        InstanceStatus: { Status: ok(i) as never, Details: [{ Name: 'reachability', Status: 'passed' }] },
        SystemStatus: { Status: ok(i) as never, Details: [{ Name: 'reachability', Status: 'passed' }] },
      })),
      NextToken: nextToken,
    };
  },

  StartInstances(ctx: Ctx, input: StartInstancesRequest): StartInstancesResult {
    const list = getInstances(ctx, input.InstanceIds);
    for (const i of list) {
      if (i.state === 'terminated' || i.state === 'shutting-down')
        throw new ApiError('IncorrectInstanceState', `The instance '${i.id}' is not in a state from which it can be started.`);
    }
    return {
      StartingInstances: list.map((i) => {
        if (i.state === 'running') return { InstanceId: i.id, CurrentState: stateOf('running'), PreviousState: stateOf('running') };
        const c = change(ctx, i, 'pending', 'running');
        const p = primaryInterface(ctx, i.id);
        const subnet = ctx.tx.get<SubnetDoc>(KIND.subnet, ctx.scope, i.subnetId);
        if (p && subnet?.mapPublicIpOnLaunch && i.hadPublicIp && !elasticIpOf(ctx, p)) {
          ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, p.id)!.publicIp = allocatePublicIp(ctx);
        }
        return c;
      }),
    };
  },

  StopInstances(ctx: Ctx, input: StopInstancesRequest): StopInstancesResult {
    const list = getInstances(ctx, input.InstanceIds);
    for (const i of list) {
      if (i.state === 'terminated' || i.state === 'shutting-down')
        throw new ApiError('IncorrectInstanceState', `This instance '${i.id}' is not in a state from which it can be stopped.`);
      if (i.disableApiStop)
        throw new ApiError(
          'OperationNotPermitted',
          `The instance '${i.id}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.`,
        );
    }
    return {
      StoppingInstances: list.map((i) => {
        if (i.state === 'stopped') return { InstanceId: i.id, CurrentState: stateOf('stopped'), PreviousState: stateOf('stopped') };
        const c = change(ctx, i, 'stopping', 'stopped');
        // The public IPv4 address is released on stop and a new one given on start; an Elastic IP stays.
        const p = primaryInterface(ctx, i.id);
        if (p?.publicIp && !elasticIpOf(ctx, p)) {
          delete ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, p.id)!.publicIp;
          ctx.tx.edit<InstanceDoc>(KIND.instance, ctx.scope, i.id)!.hadPublicIp = true;
        }
        return c;
      }),
    };
  },

  TerminateInstances(ctx: Ctx, input: TerminateInstancesRequest): TerminateInstancesResult {
    const ids = input.InstanceIds ?? [];
    if (ids.length > 1000) throw err.invalidParam('You can terminate at most 1000 instances in one request.');
    const list = getInstances(ctx, ids);
    for (const i of list) {
      if (i.disableApiTermination && i.state !== 'terminated') {
        throw new ApiError(
          'OperationNotPermitted',
          `The instance '${i.id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`,
        );
      }
    }
    return { TerminatingInstances: list.map((i) => terminate(ctx, i)) };
  },

  ModifyInstanceAttribute(ctx: Ctx, input: ModifyInstanceAttributeRequest): Record<string, never> {
    const i = getInstance(ctx, input.InstanceId);
    if (i.state === 'terminated')
      throw new ApiError('IncorrectInstanceState', `The instance '${i.id}' is not in a valid state for this operation.`);
    const w = ctx.tx.edit<InstanceDoc>(KIND.instance, ctx.scope, i.id)!;
    let n = 0;
    if (input.Groups?.length) {
      n++;
      const enis = interfacesOf(ctx, i.id);
      if (enis.length > 1) {
        throw new ApiError(
          'InvalidInstanceID',
          `There are multiple interfaces attached to instance '${i.id}'. Please specify an interface ID for the operation instead.`,
        );
      }
      const e = ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, enis[0]!.id)!;
      e.groups = checkInterfaceGroups(ctx, input.Groups, e.vpcId);
    }
    if (input.SourceDestCheck?.Value !== undefined) {
      n++;
      for (const e of interfacesOf(ctx, i.id))
        ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, e.id)!.sourceDestCheck = input.SourceDestCheck.Value;
    }
    if (input.DisableApiTermination?.Value !== undefined) {
      n++;
      w.disableApiTermination = input.DisableApiTermination.Value;
    }
    if (input.DisableApiStop?.Value !== undefined) {
      n++;
      w.disableApiStop = input.DisableApiStop.Value;
    }
    if (input.InstanceInitiatedShutdownBehavior?.Value !== undefined) {
      n++;
      const v = input.InstanceInitiatedShutdownBehavior.Value;
      if (v !== 'stop' && v !== 'terminate') throw err.invalidParam(`Invalid value '${v}' for InstanceInitiatedShutdownBehavior`);
      w.shutdownBehavior = v;
    }
    if (input.InstanceType?.Value !== undefined) {
      n++;
      changeType(ctx, i, w, input.InstanceType.Value);
    }
    if (input.UserData?.Value !== undefined) {
      n++;
      if (i.state !== 'stopped') throw new ApiError('IncorrectInstanceState', `The instance '${i.id}' is not in the 'stopped' state.`);
      // A blob: base64 text on the wire (kept as is), bytes when called directly.
      const v = input.UserData.Value as unknown;
      w.userData = typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('base64');
      if (!w.userData) delete w.userData;
    }
    if (input.BlockDeviceMappings?.length) {
      n++;
      for (const m of input.BlockDeviceMappings) {
        const v = volumesOfInstance(ctx, i.id).find((x) => x.attachment!.device === m.DeviceName);
        if (!v || (m.Ebs?.VolumeId !== undefined && m.Ebs.VolumeId !== v.id))
          throw err.invalidValue(`The device '${m.DeviceName}' is not attached to instance '${i.id}'.`);
        if (m.Ebs?.DeleteOnTermination !== undefined)
          ctx.tx.edit<VolumeDoc>(KIND.volume, ctx.scope, v.id)!.attachment!.deleteOnTermination = m.Ebs.DeleteOnTermination;
      }
      volumesChanged(ctx);
    }
    for (const name of ['Kernel', 'Ramdisk', 'SriovNetSupport', 'EnaSupport'] as const) {
      if (input[name] !== undefined) {
        if (i.state !== 'stopped') throw new ApiError('IncorrectInstanceState', `The instance '${i.id}' is not in the 'stopped' state.`);
        throw err.invalidValue(
          `Value (${name}) for parameter attribute is invalid. Palisade's images use HVM with ENA; ${name} cannot be changed.`,
        );
      }
    }
    if (input.EbsOptimized?.Value !== undefined) {
      n++;
      w.ebsOptimized = input.EbsOptimized.Value;
    }
    if (input.Attribute !== undefined) {
      n++;
      applyNamedAttribute(ctx, i, w, input.Attribute, input.Value);
    }
    if (n === 0) throw err.missing('Attribute');
    if (n > 1) throw err.combination('Only one attribute can be modified at a time.');
    return {};
  },

  DescribeInstanceAttribute(ctx: Ctx, input: DescribeInstanceAttributeRequest): DescribeInstanceAttributeResult {
    const i = getInstance(ctx, input.InstanceId);
    const a = input.Attribute;
    if (a === undefined) throw err.missing('Attribute');
    if (!ATTRIBUTES.includes(a)) throw err.invalidValue(`Value (${a}) for parameter attribute is invalid. Unknown attribute.`);
    const p = primaryInterface(ctx, i.id);
    const base = { InstanceId: i.id };
    switch (a) {
      case 'groupSet':
        return { ...base, Groups: p ? groupIdentifiers(ctx, p.groups) : [] };
      case 'instanceType':
        return { ...base, InstanceType: { Value: i.instanceType } };
      case 'userData':
        return { ...base, UserData: i.userData ? { Value: i.userData } : {} };
      case 'disableApiTermination':
        return { ...base, DisableApiTermination: { Value: i.disableApiTermination } };
      case 'disableApiStop':
        return { ...base, DisableApiStop: { Value: i.disableApiStop } };
      case 'instanceInitiatedShutdownBehavior':
        return { ...base, InstanceInitiatedShutdownBehavior: { Value: i.shutdownBehavior } };
      case 'sourceDestCheck':
        return { ...base, SourceDestCheck: { Value: p?.sourceDestCheck ?? true } };
      case 'rootDeviceName':
        return { ...base, RootDeviceName: { Value: rootDeviceOf(i) } };
      case 'blockDeviceMapping':
        return { ...base, BlockDeviceMappings: blockDevicesOf(ctx, i) };
      case 'productCodes':
        return { ...base, ProductCodes: [] };
      case 'ebsOptimized':
        return { ...base, EbsOptimized: { Value: i.ebsOptimized } };
      case 'enaSupport':
        return { ...base, EnaSupport: { Value: true } };
      case 'sriovNetSupport':
        return { ...base, SriovNetSupport: { Value: 'simple' } };
      case 'enclaveOptions':
        return { ...base, EnclaveOptions: { Enabled: false } };
      default:
        return { ...base, [a === 'kernel' ? 'KernelId' : 'RamdiskId']: {} };
    }
  },

  /** Named instances report their option (`standard` for types without credits); otherwise the instances running unlimited. */
  DescribeInstanceCreditSpecifications(
    ctx: Ctx,
    input: DescribeInstanceCreditSpecificationsRequest,
  ): DescribeInstanceCreditSpecificationsResult {
    let list: InstanceDoc[];
    if (input.InstanceIds?.length) {
      if (input.MaxResults !== undefined) throw err.combination('The parameter instancesSet cannot be used with the parameter maxResults');
      list = getInstances(ctx, input.InstanceIds);
    } else list = instancesOf(ctx).filter((i) => i.cpuCredits === 'unlimited' && i.state !== 'terminated');
    const match = compileFilters<InstanceDoc>(input.Filters, { 'instance-id': (i) => i.id });
    const { page, nextToken } = paginate(list.filter(match), input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    return {
      InstanceCreditSpecifications: page.map((i) => ({ InstanceId: i.id, CpuCredits: i.cpuCredits ?? 'standard' })),
      NextToken: nextToken,
    };
  },

  ModifyInstanceCreditSpecification(ctx: Ctx, input: ModifyInstanceCreditSpecificationRequest): ModifyInstanceCreditSpecificationResult {
    const specs = input.InstanceCreditSpecifications ?? [];
    if (!specs.length) throw err.missing('InstanceCreditSpecification');
    const ok: { InstanceId: string }[] = [];
    const failed: { InstanceId: string; Error: { Code: never; Message: string } }[] = [];
    for (const spec of specs) {
      const id = spec.InstanceId ?? '';
      const fail = (code: string, message: string) => failed.push({ InstanceId: id, Error: { Code: code as never, Message: message } });
      const credits = spec.CpuCredits?.toLowerCase();
      if (credits !== 'standard' && credits !== 'unlimited') {
        fail('InvalidParameterValue', `Value (${spec.CpuCredits}) for parameter cpuCredits is invalid. Valid values: standard, unlimited.`);
        continue;
      }
      const i = instancesOf(ctx).find((x) => x.id === id);
      if (!i || i.state === 'terminated') {
        fail('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
        continue;
      }
      if (!instanceTypeOf(i.instanceType)?.burstable) {
        fail('InstanceCreditSpecification.NotSupported', `The ${i.instanceType} instance type does not support T2 Unlimited.`);
        continue;
      }
      ctx.tx.edit<InstanceDoc>(KIND.instance, ctx.scope, i.id)!.cpuCredits = credits;
      ok.push({ InstanceId: i.id });
    }
    return { SuccessfulInstanceCreditSpecifications: ok, UnsuccessfulInstanceCreditSpecifications: failed };
  },

  ModifyInstanceMaintenanceOptions(ctx: Ctx, input: ModifyInstanceMaintenanceOptionsRequest): ModifyInstanceMaintenanceOptionsResult {
    const i = getInstance(ctx, input.InstanceId);
    if (i.state === 'terminated' || i.state === 'shutting-down')
      throw new ApiError('IncorrectInstanceState', `The instance '${i.id}' is not in a valid state for this operation.`);
    const w = ctx.tx.edit<InstanceDoc>(KIND.instance, ctx.scope, i.id)!;
    if (input.AutoRecovery !== undefined) {
      if (input.AutoRecovery !== 'default' && input.AutoRecovery !== 'disabled')
        throw err.invalidValue(`Invalid value '${input.AutoRecovery}' for AutoRecovery. Valid values: default, disabled.`);
      w.autoRecovery = input.AutoRecovery;
    }
    return { InstanceId: i.id, AutoRecovery: w.autoRecovery ?? 'default' };
  },

  ModifyInstanceMetadataOptions(ctx: Ctx, input: ModifyInstanceMetadataOptionsRequest): ModifyInstanceMetadataOptionsResult {
    const i = getInstance(ctx, input.InstanceId);
    if (i.state === 'terminated' || i.state === 'shutting-down')
      throw new ApiError('IncorrectInstanceState', `The instance '${i.id}' is not in a valid state for this operation.`);
    const w = ctx.tx.edit<InstanceDoc>(KIND.instance, ctx.scope, i.id)!;
    w.metadata = checkMetadataOptions(input, i.metadata);
    return { InstanceId: i.id, InstanceMetadataOptions: metadataOptions(w.metadata, 'pending') };
  },

  AssociateIamInstanceProfile(ctx: Ctx, input: AssociateIamInstanceProfileRequest): AssociateIamInstanceProfileResult {
    const i = getInstance(ctx, input.InstanceId);
    if (i.state !== 'running' && i.state !== 'stopped')
      throw new ApiError('IncorrectState', `The instance '${i.id}' is not in a valid state for this operation.`);
    if (i.profile?.state === 'associated') throw new ApiError('IncorrectState', `There is an existing association for instance ${i.id}`);
    const p = findProfile(ctx, input.IamInstanceProfile ?? {});
    const w = ctx.tx.edit<InstanceDoc>(KIND.instance, ctx.scope, i.id)!;
    w.profile = newAssociation(p);
    return { IamInstanceProfileAssociation: { ...association(w, ctx.clock.now()), State: 'associating' } };
  },

  ReplaceIamInstanceProfileAssociation(
    ctx: Ctx,
    input: ReplaceIamInstanceProfileAssociationRequest,
  ): ReplaceIamInstanceProfileAssociationResult {
    const i = findAssociation(ctx, input.AssociationId);
    if (i.profile!.state !== 'associated' || i.state !== 'running') {
      throw new ApiError('IncorrectState', `The association ${input.AssociationId} is not the active association`);
    }
    const p = findProfile(ctx, input.IamInstanceProfile ?? {});
    const w = ctx.tx.edit<InstanceDoc>(KIND.instance, ctx.scope, i.id)!;
    w.profile = newAssociation(p);
    return { IamInstanceProfileAssociation: { ...association(w, ctx.clock.now()), State: 'associating' } };
  },

  DisassociateIamInstanceProfile(ctx: Ctx, input: DisassociateIamInstanceProfileRequest): DisassociateIamInstanceProfileResult {
    const i = findAssociation(ctx, input.AssociationId);
    if (i.profile!.state !== 'associated')
      throw new ApiError('IncorrectState', `The association ${input.AssociationId} is not the active association`);
    const w = ctx.tx.edit<InstanceDoc>(KIND.instance, ctx.scope, i.id)!;
    Object.assign(w.profile!, { state: 'disassociated', endedAt: ctx.clock.now() });
    return { IamInstanceProfileAssociation: { ...association(w, ctx.clock.now()), State: 'disassociating' } };
  },

  DescribeIamInstanceProfileAssociations(
    ctx: Ctx,
    input: DescribeIamInstanceProfileAssociationsRequest,
  ): DescribeIamInstanceProfileAssociationsResult {
    // A disassociated association is listed only a while (AWS documents no figure; its `state`
    // filter names only associating | associated | disassociating — API_DescribeIamInstanceProfileAssociations).
    const now = ctx.clock.now();
    const listed = (p: InstanceDoc['profile']) => !!p && (p.state !== 'disassociated' || (p.endedAt ?? 0) + DISASSOCIATED_VISIBLE_MS > now);
    let list = instancesOf(ctx).filter((i) => listed(i.profile));
    if (input.AssociationIds?.length) {
      for (const id of input.AssociationIds) findAssociation(ctx, id);
      list = list.filter((i) => input.AssociationIds!.includes(i.profile!.associationId));
    }
    const match = compileFilters<InstanceDoc>(input.Filters, {
      'instance-id': (i) => i.id,
      state: (i) => i.profile!.state,
    });
    const { page, nextToken } = paginate(list.filter(match), input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    return { IamInstanceProfileAssociations: page.map((i) => association(i, ctx.clock.now())!), NextToken: nextToken };
  },
};

/** How long a disassociated IAM instance profile association is still listed. */
const DISASSOCIATED_VISIBLE_MS = 60 * 60 * 1000;

function findAssociation(ctx: Ctx, id: string | undefined): InstanceDoc {
  if (!id) throw err.missing('AssociationId');
  const i = ctx.tx.all<InstanceDoc>(KIND.instance, ctx.scope).find((x) => x.profile?.associationId === id);
  if (!i) throw new ApiError('InvalidAssociationID.NotFound', `An invalid association-id of '${id}' was given`);
  return i;
}

/** A stopped instance may change type, to one of the catalogue that runs its image's architecture. */
function changeType(ctx: Ctx, i: InstanceDoc, w: InstanceDoc, name: string): void {
  if (i.state !== 'stopped') throw new ApiError('IncorrectInstanceState', `The instance '${i.id}' is not in the 'stopped' state.`);
  const type = getInstanceType(name);
  const arch = i.architecture ?? 'x86_64';
  if (!type.architectures.includes(arch))
    throw err.invalidValue(
      `The instance type '${name}' does not support the architecture '${arch}' of the instance's AMI. Choose a type that supports '${arch}'.`,
    );
  w.instanceType = type.name;
  // The credit option stays with the instance (a T3 moved to an M5 still reports unlimited); a first T type gets its default.
  if (type.burstable && !w.cpuCredits) w.cpuCredits = cpuCreditsFor(type, undefined);
}

function applyNamedAttribute(ctx: Ctx, i: InstanceDoc, w: InstanceDoc, attribute: string, value: string | undefined): void {
  if (value === undefined) throw err.missing('Value');
  const bool = () => {
    if (value !== 'true' && value !== 'false') throw err.invalidParam(`Invalid value '${value}' for ${attribute}`);
    return value === 'true';
  };
  switch (attribute) {
    case 'disableApiTermination':
      w.disableApiTermination = bool();
      return;
    case 'disableApiStop':
      w.disableApiStop = bool();
      return;
    case 'sourceDestCheck':
      for (const e of interfacesOf(ctx, i.id)) ctx.tx.edit<EniDoc>(KIND.eni, ctx.scope, e.id)!.sourceDestCheck = bool();
      return;
    case 'instanceInitiatedShutdownBehavior':
      if (value !== 'stop' && value !== 'terminate')
        throw err.invalidParam(`Invalid value '${value}' for instanceInitiatedShutdownBehavior`);
      w.shutdownBehavior = value;
      return;
    case 'instanceType':
      changeType(ctx, i, w, value);
      return;
    case 'ebsOptimized':
      w.ebsOptimized = bool();
      return;
    case 'userData':
      if (i.state !== 'stopped') throw new ApiError('IncorrectInstanceState', `The instance '${i.id}' is not in the 'stopped' state.`);
      w.userData = value;
      return;
    default:
      throw err.invalidValue(
        `Value (${attribute}) for parameter attribute is invalid. Palisade can modify groupSet, sourceDestCheck, disableApiTermination, disableApiStop, instanceInitiatedShutdownBehavior, instanceType, userData and ebsOptimized.`,
      );
  }
}
