// S3 buckets: ListBuckets, CreateBucket, HeadBucket, GetBucketLocation, DeleteBucket. Bucket
// names are one namespace for every account, as in AWS; a bucket belongs to the account that
// created it, and another account's bucket is AccessDenied.
import type {
  CreateBucketOutput,
  CreateBucketRequest,
  DeleteBucketRequest,
  GetBucketLocationOutput,
  GetBucketLocationRequest,
  HeadBucketOutput,
  HeadBucketRequest,
  ListBucketsOutput,
  ListBucketsRequest,
} from '@aws-sdk/client-s3';
import type { Ctx } from '../../core/context.ts';
import { S3Error, s3Errors } from './errors.ts';
import type { BucketRow, S3Storage } from './storage.ts';
import { cannedGrants, isOwnersOnly, ownerOf } from './acl.ts';

export function validBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !name.startsWith('xn--') &&
    !name.endsWith('-s3alias') &&
    !name.includes('.-') &&
    !name.includes('-.')
  );
}

export { canonicalUserId, ownerOf } from './acl.ts';

/** The caller's own bucket, or NoSuchBucket / AccessDenied. */
export function ownBucket(storage: S3Storage, ctx: Ctx, name: string): BucketRow {
  const b = storage.bucket(name);
  if (!b) throw s3Errors.noSuchBucket(name);
  if (b.account !== ctx.account) throw s3Errors.accessDenied();
  return b;
}

/**
 * The bucket a configuration call names: the caller's own, owned by the account the request
 * expects when it says so (x-amz-expected-bucket-owner: AccessDenied otherwise, as S3 answers).
 */
export function configuredBucket(storage: S3Storage, ctx: Ctx, input: { Bucket?: string; ExpectedBucketOwner?: string }): BucketRow {
  const b = ownBucket(storage, ctx, input.Bucket!);
  if (input.ExpectedBucketOwner !== undefined && input.ExpectedBucketOwner !== b.account) throw s3Errors.accessDenied();
  return b;
}

/**
 * Regions a LocationConstraint may name: the values of BucketLocationConstraint in S3's API model
 * (@aws-sdk/client-s3 3.1175), 'EU' being the legacy name of eu-west-1. us-east-1 is not one: it
 * is the absent constraint.
 */
const LOCATION_CONSTRAINTS = new Set([
  'EU',
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'cn-north-1',
  'cn-northwest-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-2',
  'us-gov-east-1',
  'us-gov-west-1',
  'us-west-1',
  'us-west-2',
]);

/**
 * The region of a new bucket, from the request's CreateBucketConfiguration (or none): its
 * LocationConstraint must be a region S3 knows other than us-east-1, which is the absent
 * constraint (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucketConfiguration.html;
 * S3 answers InvalidLocationConstraint to an explicit us-east-1, as boto/boto3#125 and
 * minio/minio-py#166 record), and the region the request was signed for unless that is
 * us-east-1, whose endpoint creates buckets in any region.
 */
function bucketRegion(ctx: Ctx, constraint: string | undefined): string {
  const lc = constraint?.trim() ?? '';
  const region = lc === 'EU' ? 'eu-west-1' : lc || 'us-east-1';
  if (lc && (lc === 'us-east-1' || !LOCATION_CONSTRAINTS.has(lc))) {
    throw new S3Error('InvalidLocationConstraint', 'The specified location-constraint is not valid', 400, { LocationConstraint: lc });
  }
  if (ctx.region !== 'us-east-1' && region !== ctx.region) {
    throw new S3Error(
      'IllegalLocationConstraintException',
      lc
        ? `The ${lc} location constraint is incompatible for the region specific endpoint this request was sent to.`
        : 'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.',
      400,
    );
  }
  return region;
}

export function bucketHandlers(storage: S3Storage) {
  return {
    ListBuckets(ctx: Ctx, _input: ListBucketsRequest): ListBucketsOutput {
      return {
        Owner: ownerOf(ctx.account),
        Buckets: storage.buckets(ctx.account).map((b) => ({ Name: b.name, CreationDate: new Date(b.created), BucketRegion: b.region })),
      };
    },

    CreateBucket(ctx: Ctx, input: CreateBucketRequest): CreateBucketOutput {
      const name = input.Bucket!;
      if (!validBucketName(name)) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', 400, { BucketName: name });
      const region = bucketRegion(ctx, input.CreateBucketConfiguration?.LocationConstraint);
      const existing = storage.bucket(name);
      if (existing) {
        if (existing.account !== ctx.account) {
          throw new S3Error(
            'BucketAlreadyExists',
            'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
            409,
            { BucketName: name },
          );
        }
        // Legacy behaviour of us-east-1: re-creating your own bucket there succeeds.
        if (!(existing.region === 'us-east-1' && region === 'us-east-1')) {
          throw new S3Error(
            'BucketAlreadyOwnedByYou',
            'Your previous request to create the named bucket succeeded and you already own it.',
            409,
            { BucketName: name },
          );
        }
      } else {
        // Object Lock is not emulated: a bucket created with it would claim a protection it lacks.
        if (input.ObjectLockEnabledForBucket) throw s3Errors.notImplemented();
        const ownership = input.ObjectOwnership;
        if (ownership !== undefined && !['BucketOwnerPreferred', 'ObjectWriter', 'BucketOwnerEnforced'].includes(ownership))
          throw s3Errors.invalidArgument('Invalid x-amz-object-ownership header', 'x-amz-object-ownership', ownership);
        const grants = input.ACL !== undefined ? cannedGrants(ctx.account, input.ACL) : undefined;
        if (input.ACL !== undefined && !grants) throw s3Errors.invalidArgument('', 'x-amz-acl', input.ACL);
        // New buckets disable ACLs (BucketOwnerEnforced) unless the request says otherwise.
        if (grants && (ownership ?? 'BucketOwnerEnforced') === 'BucketOwnerEnforced' && !isOwnersOnly(ctx.account, grants))
          throw new S3Error(
            'InvalidBucketAclWithObjectOwnership',
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            400,
          );
        storage.createBucket({ name, account: ctx.account, region, created: ctx.clock.now() });
        if (ownership !== undefined) storage.setConfig(name, 'ownership', { objectOwnership: ownership });
        if (grants && !isOwnersOnly(ctx.account, grants)) storage.setConfig(name, 'acl', { grants });
      }
      return { Location: `/${name}` };
    },

    HeadBucket(ctx: Ctx, input: HeadBucketRequest): HeadBucketOutput {
      const b = ownBucket(storage, ctx, input.Bucket!);
      return { BucketRegion: b.region, AccessPointAlias: false };
    },

    GetBucketLocation(ctx: Ctx, input: GetBucketLocationRequest): GetBucketLocationOutput {
      const b = ownBucket(storage, ctx, input.Bucket!);
      // us-east-1 is the absent constraint (an empty element).
      return b.region === 'us-east-1' ? {} : { LocationConstraint: b.region as GetBucketLocationOutput['LocationConstraint'] };
    },

    DeleteBucket(ctx: Ctx, input: DeleteBucketRequest): void {
      const b = ownBucket(storage, ctx, input.Bucket!);
      if (!storage.isEmpty(b.name))
        throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, { BucketName: b.name });
      storage.deleteBucket(b);
    },
  };
}
