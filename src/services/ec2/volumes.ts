// EBS volumes: the root (and other) devices instances launch with, and volumes made on their own.
// DescribeVolumes, CreateVolume, DeleteVolume, AttachVolume, DetachVolume; the checks of a
// volume's type, size, IOPS and throughput that RunInstances' block device mappings share.
// A volume is available (or in use) as soon as it is made; nothing is stored in it.
import type {
  AttachVolumeRequest,
  CreateVolumeRequest,
  DeleteVolumeRequest,
  DescribeVolumesRequest,
  DescribeVolumesResult,
  DetachVolumeRequest,
  Volume,
  VolumeAttachment,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { zonesOf } from '../../core/regions.ts';
import { KIND, type InstanceDoc, type VolumeDoc } from '../../core/documents/ec2.ts';
import { newId } from './ids.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { getInstance, getVolume, volumesChanged, volumesOf, volumesOfInstance } from './lookups.ts';

// ---------------------------------------------------------------------------------------------
// Volume types and their limits (EBS User Guide, "Amazon EBS volume types")

type VolumeType = VolumeDoc['volumeType'];
const LIMITS: Record<VolumeType, { size: [number, number]; iops?: [number, number]; throughput?: [number, number] }> = {
  gp2: { size: [1, 16384] },
  gp3: { size: [1, 16384], iops: [3000, 16000], throughput: [125, 1000] },
  io1: { size: [4, 16384], iops: [100, 64000] },
  io2: { size: [4, 65536], iops: [100, 256000] },
  st1: { size: [125, 16384] },
  sc1: { size: [125, 16384] },
  standard: { size: [1, 1024] },
};

export interface VolumeSpec {
  volumeType?: string;
  size?: number;
  iops?: number;
  throughput?: number;
  encrypted?: boolean;
  kmsKeyId?: string;
}

/** A volume's settings checked as EBS checks them; `minSize` is its snapshot's size. */
export function checkVolumeSpec(
  spec: VolumeSpec,
  minSize = 0,
  what = 'Volume',
): Omit<VolumeDoc, 'id' | 'az' | 'created' | 'state' | 'snapshotId' | 'multiAttachEnabled' | 'tags'> {
  const volumeType = (spec.volumeType ?? 'gp2') as VolumeType;
  const limits = Object.hasOwn(LIMITS, volumeType) ? LIMITS[volumeType] : undefined;
  if (!limits)
    throw err.invalidValue(
      `Value (${spec.volumeType}) for parameter volumeType is invalid. Valid values: standard, io1, io2, gp2, sc1, st1, gp3.`,
    );
  const size = spec.size ?? minSize;
  if (!Number.isInteger(size) || size < limits.size[0])
    throw err.invalidValue(`${what} of ${size}GiB is too small; minimum is ${limits.size[0]}GiB.`);
  if (size > limits.size[1]) throw err.invalidValue(`${what} of ${size}GiB is too large; maximum is ${limits.size[1]}GiB.`);
  let iops: number | undefined;
  if (spec.iops !== undefined) {
    if (!limits.iops) throw err.combination(`The parameter iops is not supported for ${volumeType} volumes.`);
    if (spec.iops < limits.iops[0] || spec.iops > limits.iops[1])
      throw err.invalidValue(
        `Volume iops of ${spec.iops} is out of range for ${volumeType}; it must be between ${limits.iops[0]} and ${limits.iops[1]}.`,
      );
    iops = spec.iops;
  } else if (volumeType === 'io1' || volumeType === 'io2') throw err.missing('iops');
  else if (volumeType === 'gp3') iops = 3000;
  else if (volumeType === 'gp2') iops = Math.min(16000, Math.max(100, 3 * size));
  let throughput: number | undefined;
  if (spec.throughput !== undefined) {
    if (!limits.throughput) throw err.combination(`The parameter throughput is not supported for ${volumeType} volumes.`);
    if (spec.throughput < limits.throughput[0] || spec.throughput > limits.throughput[1])
      throw err.invalidValue(
        `Volume throughput of ${spec.throughput} is out of range; it must be between ${limits.throughput[0]} and ${limits.throughput[1]} MiB/s.`,
      );
    throughput = spec.throughput;
  } else if (volumeType === 'gp3') throughput = 125;
  if (spec.kmsKeyId !== undefined && spec.encrypted === false)
    throw err.combination('The parameter KmsKeyId requires the parameter Encrypted to be set.');
  return {
    size,
    volumeType,
    ...(iops !== undefined ? { iops } : {}),
    ...(throughput !== undefined ? { throughput } : {}),
    encrypted: spec.encrypted === true || spec.kmsKeyId !== undefined,
    ...(spec.kmsKeyId !== undefined ? { kmsKeyId: spec.kmsKeyId } : {}),
  };
}

/** Stores a new volume (attached when `attachment` is given). */
export function putVolume(
  ctx: Ctx,
  v: ReturnType<typeof checkVolumeSpec> & {
    az: string;
    snapshotId?: string;
    attachment?: VolumeDoc['attachment'];
    tags?: VolumeDoc['tags'];
  },
): VolumeDoc {
  const doc: VolumeDoc = {
    id: newId('vol'),
    size: v.size,
    volumeType: v.volumeType,
    ...(v.iops !== undefined ? { iops: v.iops } : {}),
    ...(v.throughput !== undefined ? { throughput: v.throughput } : {}),
    encrypted: v.encrypted,
    ...(v.kmsKeyId !== undefined ? { kmsKeyId: v.kmsKeyId } : {}),
    snapshotId: v.snapshotId ?? '',
    az: v.az,
    created: new Date(ctx.clock.now()).toISOString(),
    state: v.attachment ? 'in-use' : 'available',
    ...(v.attachment ? { attachment: v.attachment } : {}),
    multiAttachEnabled: false,
    tags: v.tags ?? [],
  };
  ctx.tx.put(KIND.volume, ctx.scope, doc);
  volumesChanged(ctx);
  return doc;
}

/** What happens to an instance's volumes when it terminates: deleted, or detached and available. */
export function releaseVolumes(ctx: Ctx, instanceId: string): void {
  for (const v of volumesOfInstance(ctx, instanceId)) {
    if (v.attachment!.deleteOnTermination) ctx.tx.delete(KIND.volume, ctx.scope, v.id);
    else {
      const w = ctx.tx.edit<VolumeDoc>(KIND.volume, ctx.scope, v.id)!;
      delete w.attachment;
      w.state = 'available';
    }
  }
  volumesChanged(ctx);
}

// ---------------------------------------------------------------------------------------------
// Wire form

function attachmentOf(v: VolumeDoc, state: VolumeAttachment['State'] = 'attached'): VolumeAttachment | undefined {
  if (!v.attachment) return undefined;
  return {
    VolumeId: v.id,
    InstanceId: v.attachment.instanceId,
    Device: v.attachment.device,
    State: state,
    AttachTime: new Date(v.attachment.attachTime),
    DeleteOnTermination: v.attachment.deleteOnTermination,
  };
}

function toVolume(ctx: Ctx, v: VolumeDoc): Volume {
  const a = attachmentOf(v);
  return {
    VolumeId: v.id,
    Size: v.size,
    SnapshotId: v.snapshotId,
    AvailabilityZone: v.az,
    AvailabilityZoneId: zonesOf(ctx.region).find((z) => z.name === v.az)?.id,
    State: v.state,
    CreateTime: new Date(v.created),
    Attachments: a ? [a] : [],
    VolumeType: v.volumeType,
    ...(v.iops !== undefined ? { Iops: v.iops } : {}),
    ...(v.throughput !== undefined ? { Throughput: v.throughput } : {}),
    Encrypted: v.encrypted,
    ...(v.kmsKeyId !== undefined ? { KmsKeyId: v.kmsKeyId } : {}),
    MultiAttachEnabled: v.multiAttachEnabled,
    FastRestored: false,
    Tags: v.tags.length ? tagList(v.tags) : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Handlers

const DEVICE = /^\/dev\/(sd[a-z]{1,2}\d{0,2}|xvd[a-z]{1,2}\d{0,2})$|^xvd[a-z]{1,2}$/;

export const volumeHandlers = {
  DescribeVolumes(ctx: Ctx, input: DescribeVolumesRequest): DescribeVolumesResult {
    let list = volumesOf(ctx);
    if (input.VolumeIds?.length) {
      if (input.MaxResults !== undefined) throw err.combination('The parameter volumeSet cannot be used with the parameter maxResults');
      list = input.VolumeIds.map((id) => getVolume(ctx, id));
    }
    const match = compileFilters<VolumeDoc>(input.Filters, {
      'attachment.attach-time': (v) => v.attachment?.attachTime,
      'attachment.delete-on-termination': (v) => v.attachment?.deleteOnTermination,
      'attachment.device': (v) => v.attachment?.device,
      'attachment.instance-id': (v) => v.attachment?.instanceId,
      'attachment.status': (v) => (v.attachment ? 'attached' : undefined),
      'availability-zone': (v) => v.az,
      'create-time': (v) => v.created,
      encrypted: (v) => v.encrypted,
      'fast-restored': () => false,
      'multi-attach-enabled': (v) => v.multiAttachEnabled,
      size: (v) => v.size,
      'snapshot-id': (v) => v.snapshotId,
      status: (v) => v.state,
      'volume-id': (v) => v.id,
      'volume-type': (v) => v.volumeType,
    });
    const { page, nextToken } = paginate(list.filter(match), input.MaxResults, input.NextToken, { min: 5, max: 500 });
    return { Volumes: page.map((v) => toVolume(ctx, v)), NextToken: nextToken };
  },

  CreateVolume(ctx: Ctx, input: CreateVolumeRequest): Volume {
    if (input.ClientToken) {
      const prior = volumesOf(ctx).find((v) => v.clientToken === input.ClientToken);
      if (prior) return toVolume(ctx, prior);
    }
    const az = input.AvailabilityZone;
    if (!az) throw err.missing('AvailabilityZone');
    if (!zonesOf(ctx.region).some((z) => z.name === az)) throw err.invalidValue(`Invalid availability zone: [${az}]`);
    if (input.SnapshotId !== undefined)
      throw new ApiError('InvalidSnapshot.NotFound', `The snapshot '${input.SnapshotId}' does not exist.`);
    if (input.Size === undefined) throw err.missing('size');
    const spec = checkVolumeSpec({
      volumeType: input.VolumeType,
      size: input.Size,
      iops: input.Iops,
      throughput: input.Throughput,
      encrypted: input.Encrypted,
      kmsKeyId: input.KmsKeyId,
    });
    const doc = putVolume(ctx, { ...spec, az, tags: tagsFromSpecs(input.TagSpecifications, 'volume') });
    if (input.ClientToken) doc.clientToken = input.ClientToken;
    return { ...toVolume(ctx, doc), State: 'creating' };
  },

  DeleteVolume(ctx: Ctx, input: DeleteVolumeRequest): Record<string, never> {
    const v = getVolume(ctx, input.VolumeId);
    if (v.attachment) throw new ApiError('VolumeInUse', `Volume ${v.id} is currently attached to ${v.attachment.instanceId}`);
    ctx.tx.delete(KIND.volume, ctx.scope, v.id);
    volumesChanged(ctx);
    return {};
  },

  AttachVolume(ctx: Ctx, input: AttachVolumeRequest): VolumeAttachment {
    const v = getVolume(ctx, input.VolumeId);
    const i = getInstance(ctx, input.InstanceId);
    const device = input.Device;
    if (!device) throw err.missing('Device');
    if (i.state !== 'running' && i.state !== 'stopped')
      throw new ApiError('IncorrectState', `Instance '${i.id}' is not 'running' or 'stopped'.`);
    if (v.attachment) throw new ApiError('VolumeInUse', `${v.id} is already attached to an instance`);
    if (v.az !== i.az)
      throw new ApiError('InvalidVolume.ZoneMismatch', `The volume '${v.id}' is not in the same availability zone as instance '${i.id}'`);
    if (!DEVICE.test(device))
      throw err.invalidValue(`Value (${device}) for parameter device is invalid. ${device} is not a valid EBS device name.`);
    if (volumesOfInstance(ctx, i.id).some((x) => x.attachment!.device === device))
      throw err.invalidValue(`Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`);
    const w = ctx.tx.edit<VolumeDoc>(KIND.volume, ctx.scope, v.id)!;
    w.attachment = { instanceId: i.id, device, deleteOnTermination: false, attachTime: new Date(ctx.clock.now()).toISOString() };
    w.state = 'in-use';
    volumesChanged(ctx);
    return attachmentOf(w, 'attaching')!;
  },

  DetachVolume(ctx: Ctx, input: DetachVolumeRequest): VolumeAttachment {
    const v = getVolume(ctx, input.VolumeId);
    if (!v.attachment) throw new ApiError('IncorrectState', `Volume '${v.id}' is in the 'available' state.`);
    if (input.InstanceId !== undefined && input.InstanceId !== v.attachment.instanceId)
      throw new ApiError('InvalidAttachment.NotFound', `The volume '${v.id}' is not attached to instance '${input.InstanceId}'.`);
    const i = ctx.tx.get<InstanceDoc>(KIND.instance, ctx.scope, v.attachment.instanceId);
    if (i && i.state !== 'stopped' && v.attachment.device === (i.rootDeviceName ?? '/dev/xvda'))
      throw new ApiError('IncorrectState', `Unable to detach root volume '${v.id}' from instance '${i.id}'`);
    const shown = attachmentOf(v, 'detaching')!;
    const w = ctx.tx.edit<VolumeDoc>(KIND.volume, ctx.scope, v.id)!;
    delete w.attachment;
    w.state = 'available';
    volumesChanged(ctx);
    return shown;
  },
};
