// Instance types: DescribeInstanceTypes and DescribeInstanceTypeOfferings over the catalogue
// (instance-type-catalogue.ts). Every type is offered in every zone of every region.
import type {
  DescribeInstanceTypeOfferingsRequest,
  DescribeInstanceTypeOfferingsResult,
  DescribeInstanceTypesRequest,
  DescribeInstanceTypesResult,
  InstanceTypeInfo,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { zonesOf } from '../../core/regions.ts';
import { instanceTypeCatalogue, type InstanceTypeFacts } from './instance-type-catalogue.ts';
import { compileFilters } from './filters.ts';
import { paginate } from './paging.ts';

export function toInstanceTypeInfo(t: InstanceTypeFacts): InstanceTypeInfo {
  const nitro = t.hypervisor === 'nitro';
  return {
    InstanceType: t.name as never,
    CurrentGeneration: t.currentGeneration,
    FreeTierEligible: t.freeTier,
    SupportedUsageClasses: ['on-demand', 'spot'],
    SupportedRootDeviceTypes: t.storageGB > 0 && !nitro ? ['ebs', 'instance-store'] : ['ebs'],
    SupportedVirtualizationTypes: t.hypervisor === 'xen' && t.name.startsWith('m1.') ? ['hvm', 'paravirtual'] : ['hvm'],
    BareMetal: false,
    ...(t.hypervisor ? { Hypervisor: t.hypervisor } : {}),
    // SustainedClockSpeedInGhz is left out: the wire model Palisade extracts from the SDK knows
    // it only as a number without saying it is a double, and would report 2.5 as malformed.
    ProcessorInfo: { SupportedArchitectures: t.architectures as never, Manufacturer: t.manufacturer },
    VCpuInfo: {
      DefaultVCpus: t.vcpus,
      DefaultCores: t.cores,
      DefaultThreadsPerCore: t.threadsPerCore,
      ...(nitro ? { ValidCores: validCores(t), ValidThreadsPerCore: t.threadsPerCore === 2 ? [1, 2] : [1] } : {}),
    },
    MemoryInfo: { SizeInMiB: t.memoryMiB },
    InstanceStorageSupported: t.storageGB > 0,
    ...(t.storageGB > 0 ? { InstanceStorageInfo: { TotalSizeInGB: t.storageGB } } : {}),
    EbsInfo: {
      EbsOptimizedSupport: t.ebsOptimized,
      EncryptionSupport: 'supported',
      NvmeSupport: nitro ? 'required' : 'unsupported',
    },
    NetworkInfo: {
      NetworkPerformance: t.networkPerformance,
      MaximumNetworkInterfaces: t.maxInterfaces,
      MaximumNetworkCards: 1,
      DefaultNetworkCardIndex: 0,
      NetworkCards: [{ NetworkCardIndex: 0, NetworkPerformance: t.networkPerformance, MaximumNetworkInterfaces: t.maxInterfaces }],
      Ipv4AddressesPerInterface: t.ipv4PerInterface,
      Ipv6AddressesPerInterface: t.ipv6PerInterface,
      Ipv6Supported: t.ipv6Supported,
      EnaSupport: t.enaSupport,
      EfaSupported: false,
      EncryptionInTransitSupported: false,
      EnaSrdSupported: false,
    },
    PlacementGroupInfo: { SupportedStrategies: ['cluster', 'partition', 'spread'] },
    HibernationSupported: t.currentGeneration,
    BurstablePerformanceSupported: t.burstable,
    DedicatedHostsSupported: t.currentGeneration && !t.burstable,
    AutoRecoverySupported: t.currentGeneration,
    SupportedBootModes: t.architectures.includes('arm64') ? ['uefi'] : nitro ? ['legacy-bios', 'uefi'] : ['legacy-bios'],
    NitroEnclavesSupport: 'unsupported',
    NitroTpmSupport: nitro ? 'supported' : 'unsupported',
    PhcSupport: 'unsupported',
  };
}

/** The core counts a Nitro type can run with (1 up to its default). */
function validCores(t: InstanceTypeFacts): number[] {
  return Array.from({ length: t.cores }, (_, i) => i + 1);
}

const bool = (b: boolean) => String(b);

export const instanceTypeHandlers = {
  DescribeInstanceTypes(ctx: Ctx, input: DescribeInstanceTypesRequest): DescribeInstanceTypesResult {
    const catalogue = instanceTypeCatalogue();
    let list = [...catalogue.values()];
    if (input.InstanceTypes?.length) {
      const missing = input.InstanceTypes.filter((n) => !catalogue.has(n));
      if (missing.length)
        throw new ApiError('InvalidInstanceType', `The following supplied instance types do not exist: [${missing.join(', ')}]`);
      list = list.filter((t) => input.InstanceTypes!.includes(t.name as never));
    }
    const match = compileFilters<InstanceTypeFacts & { tags?: never }>(input.Filters, {
      'instance-type': (t) => t.name,
      'current-generation': (t) => bool(t.currentGeneration),
      'free-tier-eligible': (t) => bool(t.freeTier),
      'bare-metal': () => 'false',
      'burstable-performance-supported': (t) => bool(t.burstable),
      'auto-recovery-supported': (t) => bool(t.currentGeneration),
      'hibernation-supported': (t) => bool(t.currentGeneration),
      'dedicated-hosts-supported': (t) => bool(t.currentGeneration && !t.burstable),
      hypervisor: (t) => t.hypervisor,
      'instance-storage-supported': (t) => bool(t.storageGB > 0),
      'instance-storage-info.total-size-in-gb': (t) => (t.storageGB > 0 ? t.storageGB : undefined),
      'memory-info.size-in-mib': (t) => t.memoryMiB,
      'ebs-info.ebs-optimized-support': (t) => t.ebsOptimized,
      'ebs-info.encryption-support': () => 'supported',
      'network-info.ena-support': (t) => t.enaSupport,
      'network-info.efa-supported': () => 'false',
      'network-info.ipv4-addresses-per-interface': (t) => t.ipv4PerInterface,
      'network-info.ipv6-addresses-per-interface': (t) => t.ipv6PerInterface,
      'network-info.ipv6-supported': (t) => bool(t.ipv6Supported),
      'network-info.maximum-network-interfaces': (t) => t.maxInterfaces,
      'network-info.maximum-network-cards': () => 1,
      'network-info.network-performance': (t) => t.networkPerformance,
      'processor-info.supported-architecture': (t) => t.architectures,
      'processor-info.sustained-clock-speed-in-ghz': (t) => t.clockGhz || undefined,
      'processor-info.manufacturer': (t) => t.manufacturer,
      'supported-usage-class': () => ['on-demand', 'spot'],
      'supported-root-device-type': (t) => (t.storageGB > 0 && t.hypervisor !== 'nitro' ? ['ebs', 'instance-store'] : ['ebs']),
      'supported-virtualization-type': (t) => (t.name.startsWith('m1.') ? ['hvm', 'paravirtual'] : ['hvm']),
      'supported-boot-mode': (t) =>
        t.architectures.includes('arm64') ? ['uefi'] : t.hypervisor === 'nitro' ? ['legacy-bios', 'uefi'] : ['legacy-bios'],
      'vcpu-info.default-cores': (t) => t.cores,
      'vcpu-info.default-threads-per-core': (t) => t.threadsPerCore,
      'vcpu-info.default-vcpus': (t) => t.vcpus,
      'nitro-enclaves-support': () => 'unsupported',
      'nitro-tpm-support': (t) => (t.hypervisor === 'nitro' ? 'supported' : 'unsupported'),
    });
    const { page, nextToken } = paginate(list.filter(match), input.MaxResults, input.NextToken, { min: 5, max: 100 });
    return { InstanceTypes: page.map(toInstanceTypeInfo), NextToken: nextToken };
  },

  DescribeInstanceTypeOfferings(ctx: Ctx, input: DescribeInstanceTypeOfferingsRequest): DescribeInstanceTypeOfferingsResult {
    const locationType = input.LocationType ?? 'region';
    const zones = zonesOf(ctx.region);
    let locations: string[];
    if (locationType === 'region') locations = [ctx.region];
    else if (locationType === 'availability-zone') locations = zones.map((z) => z.name);
    else if (locationType === 'availability-zone-id') locations = zones.map((z) => z.id);
    else
      throw err.invalidValue(
        `Value (${locationType}) for parameter locationType is invalid. Valid values: region, availability-zone, availability-zone-id.`,
      );
    type Offer = { id: string; seq: number; type: string; location: string; tags?: never };
    const offers: Offer[] = [];
    let seq = 0;
    for (const location of locations)
      for (const t of instanceTypeCatalogue().values()) offers.push({ id: `${t.name}/${location}`, seq: ++seq, type: t.name, location });
    const match = compileFilters<Offer>(input.Filters, { 'instance-type': (o) => o.type, location: (o) => o.location });
    const { page, nextToken } = paginate(offers.filter(match), input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    return {
      InstanceTypeOfferings: page.map((o) => ({ InstanceType: o.type as never, LocationType: locationType, Location: o.location })),
      NextToken: nextToken,
    };
  },
};
