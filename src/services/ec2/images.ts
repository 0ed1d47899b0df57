// Images: DescribeImages and DescribeImageAttribute over the region's catalogue of public images
// (image-catalogue.ts). Palisade makes no images of its own (no CreateImage), so `Owners=self`
// and explicit launch permissions find none.
import type {
  BlockDeviceMapping,
  DescribeImageAttributeRequest,
  DescribeImagesRequest,
  DescribeImagesResult,
  Image,
  ImageAttribute,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import type { CatalogueImage } from './image-catalogue.ts';
import { compileFilters } from './filters.ts';
import { paginate } from './paging.ts';
import { checkImageId, getImage, imageNotFound, imagesOf } from './lookups.ts';

/** The root device as DescribeImages shows it (gp3: its baseline 3,000 IOPS and 125 MiB/s). */
export function imageBlockDevices(i: CatalogueImage): BlockDeviceMapping[] {
  return [
    {
      DeviceName: i.rootDeviceName,
      Ebs: {
        DeleteOnTermination: true,
        SnapshotId: i.snapshotId,
        VolumeSize: i.volumeSize,
        VolumeType: i.volumeType,
        Encrypted: false,
        ...(i.volumeType === 'gp3' ? { Iops: 3000, Throughput: 125 } : {}),
      },
    },
  ];
}

function toImage(i: CatalogueImage): Image {
  return {
    ImageId: i.id,
    ImageLocation: i.location,
    State: 'available',
    OwnerId: i.ownerId,
    CreationDate: i.creationDate,
    Public: true,
    Architecture: i.architecture,
    ImageType: 'machine',
    ...(i.ownerAlias ? { ImageOwnerAlias: i.ownerAlias } : {}),
    Name: i.name,
    Description: i.description,
    RootDeviceType: 'ebs',
    RootDeviceName: i.rootDeviceName,
    BlockDeviceMappings: imageBlockDevices(i),
    VirtualizationType: 'hvm',
    Hypervisor: 'xen',
    EnaSupport: true,
    SriovNetSupport: 'simple',
    // AWS answers `windows` (the SDK's enum spells it `Windows`).
    ...(i.platform ? { Platform: i.platform as never } : {}),
    PlatformDetails: i.platformDetails,
    UsageOperation: i.usageOperation,
    ...(i.bootMode ? { BootMode: i.bootMode } : {}),
    ...(i.imdsSupport ? { ImdsSupport: i.imdsSupport } : {}),
    DeregistrationProtection: 'disabled',
    FreeTierEligible: true,
    Tags: i.tags,
  };
}

const ACCOUNT = /^\d{12}$/;

/** Owners: `self`, `amazon`, `aws-marketplace`, `aws-backup-vault` or account ids. */
function ownerTest(ctx: Ctx, owners: string[]): (i: CatalogueImage) => boolean {
  for (const o of owners) {
    if (!['self', 'amazon', 'aws-marketplace', 'aws-backup-vault'].includes(o) && !ACCOUNT.test(o))
      throw new ApiError('InvalidUserID.Malformed', `Invalid user id: "${o}"`);
  }
  return (i) => owners.some((o) => (o === 'self' ? i.ownerId === ctx.account : ACCOUNT.test(o) ? i.ownerId === o : i.ownerAlias === o));
}

/** ExecutableUsers: `all` is every public image; `self` and account ids are explicit launch permissions, which public images have none of. */
function executableTest(users: string[]): (i: CatalogueImage) => boolean {
  for (const u of users) {
    if (u !== 'all' && u !== 'self' && !ACCOUNT.test(u)) throw new ApiError('InvalidUserID.Malformed', `Invalid user id: "${u}"`);
  }
  return () => users.includes('all');
}

export const imageHandlers = {
  DescribeImages(ctx: Ctx, input: DescribeImagesRequest): DescribeImagesResult {
    let list = imagesOf(ctx);
    if (input.ImageIds?.length) {
      for (const id of input.ImageIds) checkImageId(id);
      const missing = input.ImageIds.filter((id) => !list.some((i) => i.id === id));
      if (missing.length) throw imageNotFound(missing);
      list = list.filter((i) => input.ImageIds!.includes(i.id));
    }
    if (input.Owners?.length) list = list.filter(ownerTest(ctx, input.Owners));
    if (input.ExecutableUsers?.length) list = list.filter(executableTest(input.ExecutableUsers));
    const root = (i: CatalogueImage) => imageBlockDevices(i)[0]!;
    const match = compileFilters<CatalogueImage>(input.Filters, {
      architecture: (i) => i.architecture,
      'block-device-mapping.delete-on-termination': () => true,
      'block-device-mapping.device-name': (i) => i.rootDeviceName,
      'block-device-mapping.snapshot-id': (i) => i.snapshotId,
      'block-device-mapping.volume-size': (i) => i.volumeSize,
      'block-device-mapping.volume-type': (i) => i.volumeType,
      'block-device-mapping.encrypted': (i) => root(i).Ebs!.Encrypted,
      'boot-mode': (i) => i.bootMode,
      'creation-date': (i) => i.creationDate,
      description: (i) => i.description,
      'ena-support': () => true,
      'free-tier-eligible': () => true,
      hypervisor: () => 'xen',
      'image-id': (i) => i.id,
      'image-type': () => 'machine',
      'imds-support': (i) => i.imdsSupport,
      'is-public': () => true,
      'kernel-id': () => undefined,
      'manifest-location': (i) => i.location,
      name: (i) => i.name,
      'owner-alias': (i) => i.ownerAlias,
      'owner-id': (i) => i.ownerId,
      platform: (i) => i.platform,
      'platform-details': (i) => i.platformDetails,
      'product-code': () => undefined,
      'ramdisk-id': () => undefined,
      'root-device-name': (i) => i.rootDeviceName,
      'root-device-type': () => 'ebs',
      'sriov-net-support': () => 'simple',
      state: () => 'available',
      'usage-operation': (i) => i.usageOperation,
      'virtualization-type': () => 'hvm',
    });
    const { page, nextToken } = paginate(list.filter(match), input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    return { Images: page.map(toImage), NextToken: nextToken };
  },

  DescribeImageAttribute(ctx: Ctx, input: DescribeImageAttributeRequest): ImageAttribute {
    const i = getImage(ctx, input.ImageId);
    const base = { ImageId: i.id };
    switch (input.Attribute) {
      case 'description':
        return { ...base, Description: { Value: i.description } };
      case 'kernel':
        return { ...base, KernelId: {} };
      case 'ramdisk':
        return { ...base, RamdiskId: {} };
      case 'launchPermission':
        return { ...base, LaunchPermissions: [{ Group: 'all' }] };
      case 'productCodes':
        return { ...base, ProductCodes: [] };
      case 'blockDeviceMapping':
        return { ...base, BlockDeviceMappings: imageBlockDevices(i) };
      case 'sriovNetSupport':
        return { ...base, SriovNetSupport: { Value: 'simple' } };
      case 'bootMode':
        return { ...base, BootMode: i.bootMode ? { Value: i.bootMode } : {} };
      case 'imdsSupport':
        return { ...base, ImdsSupport: i.imdsSupport ? { Value: i.imdsSupport } : {} };
      case 'tpmSupport':
        return { ...base, TpmSupport: {} };
      case 'uefiData':
        return { ...base, UefiData: {} };
      case 'lastLaunchedTime':
        return { ...base, LastLaunchedTime: {} };
      case 'deregistrationProtection':
        return { ...base, DeregistrationProtection: { Value: 'disabled' } };
      case undefined:
        throw err.missing('Attribute');
      default:
        throw err.invalidValue(`Value (${input.Attribute}) for parameter attribute is invalid. Unknown attribute.`);
    }
  },
};
