// A bucket's configuration subresources, stored and echoed as S3 does, with S3's answers where a
// bucket has none — the "not configured" errors Terraform's aws_s3_bucket reads past
// (internal/service/s3/bucket.go and errors.go of the AWS provider): tagging (NoSuchTagSet),
// versioning (an empty configuration until set), default encryption (SSE-S3 AES256 for every
// bucket since January 2023, reset to it by DeleteBucketEncryption), CORS
// (NoSuchCORSConfiguration), website (NoSuchWebsiteConfiguration), server access logging (an empty
// BucketLoggingStatus), lifecycle (NoSuchLifecycleConfiguration), transfer acceleration (empty),
// request payment (BucketOwner), replication (ReplicationConfigurationNotFoundError) and Object
// Lock (ObjectLockConfigurationNotFoundError). Replication and Object Lock are not emulated: their
// Put operations answer NotImplemented (no handler).
import type {
  CORSRule,
  DeleteBucketCorsRequest,
  DeleteBucketEncryptionRequest,
  DeleteBucketLifecycleRequest,
  DeleteBucketReplicationRequest,
  DeleteBucketTaggingRequest,
  DeleteBucketWebsiteRequest,
  GetBucketAccelerateConfigurationOutput,
  GetBucketAccelerateConfigurationRequest,
  GetBucketCorsOutput,
  GetBucketCorsRequest,
  GetBucketEncryptionOutput,
  GetBucketEncryptionRequest,
  GetBucketLifecycleConfigurationOutput,
  GetBucketLifecycleConfigurationRequest,
  GetBucketLoggingOutput,
  GetBucketLoggingRequest,
  GetBucketReplicationOutput,
  GetBucketReplicationRequest,
  GetBucketRequestPaymentOutput,
  GetBucketRequestPaymentRequest,
  GetBucketTaggingOutput,
  GetBucketTaggingRequest,
  GetBucketVersioningOutput,
  GetBucketVersioningRequest,
  GetBucketWebsiteOutput,
  GetBucketWebsiteRequest,
  GetObjectLockConfigurationOutput,
  GetObjectLockConfigurationRequest,
  LifecycleRule,
  LoggingEnabled,
  PutBucketAccelerateConfigurationRequest,
  PutBucketCorsRequest,
  PutBucketEncryptionRequest,
  PutBucketLifecycleConfigurationOutput,
  PutBucketLifecycleConfigurationRequest,
  PutBucketLoggingRequest,
  PutBucketRequestPaymentRequest,
  PutBucketTaggingRequest,
  PutBucketVersioningRequest,
  PutBucketWebsiteRequest,
  ServerSideEncryptionConfiguration,
  Tag,
  WebsiteConfiguration,
} from '@aws-sdk/client-s3';
import type { Ctx } from '../../core/context.ts';
import { S3Error, s3Errors } from './errors.ts';
import { configuredBucket } from './buckets.ts';
import type { S3Storage } from './storage.ts';

/** A bucket's tags: at most 50, keys 1–128 and values 0–256 characters (S3 User Guide, "Using cost allocation S3 bucket tags"). */
const MAX_BUCKET_TAGS = 50;
const invalidTag = (message: string) => new S3Error('InvalidTag', message, 400);

/** The default encryption every bucket has had since 2023-01-05: SSE-S3, no bucket key. */
const DEFAULT_ENCRYPTION: ServerSideEncryptionConfiguration = {
  Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }],
};
const SSE_ALGORITHMS = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);
const CORS_METHODS = new Set(['GET', 'PUT', 'HEAD', 'POST', 'DELETE']);
/** The default of PutBucketLifecycleConfiguration's x-amz-transition-default-minimum-object-size since September 2024. */
const DEFAULT_TRANSITION_MINIMUM = 'all_storage_classes_128K';

interface LifecycleDoc {
  rules: LifecycleRule[];
  transitionDefaultMinimumObjectSize: string;
}

/** An enumeration member the schema allows, or MalformedXML (S3's answer to a value outside it). */
function oneOf<T extends string>(value: string | undefined, allowed: readonly T[]): T {
  if (value === undefined || !(allowed as readonly string[]).includes(value)) throw s3Errors.malformedXml();
  return value as T;
}

function checkTags(tags: Tag[]): Tag[] {
  if (tags.length > MAX_BUCKET_TAGS) throw invalidTag(`Bucket tag count cannot be greater than ${MAX_BUCKET_TAGS}`);
  const seen = new Set<string>();
  for (const t of tags) {
    const key = t.Key ?? '';
    const value = t.Value ?? '';
    if (key.length < 1) throw invalidTag('The TagKey you have provided is invalid');
    if (key.length > 128) throw invalidTag('The TagKey you have provided is too long, max 128');
    if (value.length > 256) throw invalidTag('The TagValue you have provided is too long, max 256');
    if (key.toLowerCase().startsWith('aws:')) throw invalidTag('System tags cannot be added/updated by requester');
    if (seen.has(key)) throw invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(key);
  }
  return tags.map((t) => ({ Key: t.Key!, Value: t.Value ?? '' }));
}

function checkEncryption(c: ServerSideEncryptionConfiguration | undefined): ServerSideEncryptionConfiguration {
  const rules = c?.Rules ?? [];
  if (rules.length !== 1) throw s3Errors.malformedXml();
  const rule = rules[0]!;
  const d = rule.ApplyServerSideEncryptionByDefault;
  if (d) {
    if (!d.SSEAlgorithm || !SSE_ALGORITHMS.has(d.SSEAlgorithm)) throw s3Errors.malformedXml();
    if (d.KMSMasterKeyID !== undefined && d.SSEAlgorithm === 'AES256')
      throw s3Errors.invalidArgument(
        'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse',
        'ApplyServerSideEncryptionByDefault',
      );
  }
  return {
    Rules: [
      {
        ...(d
          ? {
              ApplyServerSideEncryptionByDefault: {
                SSEAlgorithm: d.SSEAlgorithm,
                ...(d.KMSMasterKeyID ? { KMSMasterKeyID: d.KMSMasterKeyID } : {}),
              },
            }
          : {}),
        BucketKeyEnabled: rule.BucketKeyEnabled ?? false,
      },
    ],
  };
}

function checkCors(rules: CORSRule[]): CORSRule[] {
  if (rules.length < 1 || rules.length > 100) throw s3Errors.malformedXml();
  for (const r of rules) {
    if (!r.AllowedMethods?.length || !r.AllowedOrigins?.length) throw s3Errors.malformedXml();
    for (const m of r.AllowedMethods) {
      if (!CORS_METHODS.has(m)) throw s3Errors.invalidRequest(`Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    }
    if (r.ID !== undefined && r.ID.length > 255)
      throw s3Errors.invalidArgument('ID length should not exceed allowed limit of 255', 'ID', r.ID);
  }
  return rules;
}

function checkWebsite(w: WebsiteConfiguration | undefined): WebsiteConfiguration {
  if (!w) throw s3Errors.malformedXml();
  if (w.RedirectAllRequestsTo) {
    if (w.IndexDocument || w.ErrorDocument || w.RoutingRules)
      throw s3Errors.invalidArgument(
        'RedirectAllRequestsTo cannot be provided in conjunction with other Routing/Redirect configurations.',
        'RedirectAllRequestsTo',
      );
    if (!w.RedirectAllRequestsTo.HostName) throw s3Errors.malformedXml();
    return w;
  }
  const suffix = w.IndexDocument?.Suffix;
  if (suffix === undefined)
    throw s3Errors.invalidArgument('A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty', 'IndexDocument');
  if (suffix === '' || suffix.includes('/'))
    throw s3Errors.invalidArgument('The IndexDocument Suffix is not well formed', 'IndexDocument', suffix);
  return w;
}

function checkLifecycle(rules: LifecycleRule[]): LifecycleRule[] {
  if (rules.length < 1 || rules.length > 1000) throw s3Errors.malformedXml();
  const ids = new Set<string>();
  for (const r of rules) {
    oneOf(r.Status, ['Enabled', 'Disabled'] as const);
    if (r.ID !== undefined) {
      if (r.ID.length > 255) throw s3Errors.invalidArgument('ID length should not exceed allowed limit of 255', 'ID', r.ID);
      if (ids.has(r.ID)) throw s3Errors.invalidArgument('Rule ID must be unique. Found same ID for more than one rule', 'ID', r.ID);
      ids.add(r.ID);
    }
    const acts =
      r.Expiration ??
      r.Transitions?.[0] ??
      r.NoncurrentVersionExpiration ??
      r.NoncurrentVersionTransitions?.[0] ??
      r.AbortIncompleteMultipartUpload;
    if (!acts) throw s3Errors.invalidRequest('At least one action needs to be specified in a rule');
  }
  return rules;
}

export function bucketConfigHandlers(storage: S3Storage) {
  return {
    // ---- tagging ----

    GetBucketTagging(ctx: Ctx, input: GetBucketTaggingRequest): GetBucketTaggingOutput {
      const b = configuredBucket(storage, ctx, input);
      const tags = storage.config<Tag[]>(b.name, 'tagging');
      if (!tags?.length) throw new S3Error('NoSuchTagSet', 'The TagSet does not exist', 404, { BucketName: b.name });
      return { TagSet: tags };
    },

    PutBucketTagging(ctx: Ctx, input: PutBucketTaggingRequest): void {
      const b = configuredBucket(storage, ctx, input);
      const tags = checkTags(input.Tagging?.TagSet ?? []);
      if (tags.length) storage.setConfig(b.name, 'tagging', tags);
      else storage.clearConfig(b.name, 'tagging');
    },

    DeleteBucketTagging(ctx: Ctx, input: DeleteBucketTaggingRequest): void {
      const b = configuredBucket(storage, ctx, input);
      storage.clearConfig(b.name, 'tagging');
    },

    // ---- versioning ----

    GetBucketVersioning(ctx: Ctx, input: GetBucketVersioningRequest): GetBucketVersioningOutput {
      const b = configuredBucket(storage, ctx, input);
      return storage.config<GetBucketVersioningOutput>(b.name, 'versioning') ?? {};
    },

    PutBucketVersioning(ctx: Ctx, input: PutBucketVersioningRequest): void {
      const b = configuredBucket(storage, ctx, input);
      const c = input.VersioningConfiguration;
      const status = oneOf(c?.Status, ['Enabled', 'Suspended'] as const);
      const mfa = c?.MFADelete === undefined ? undefined : oneOf(c.MFADelete, ['Enabled', 'Disabled'] as const);
      const old = storage.config<GetBucketVersioningOutput>(b.name, 'versioning');
      const mfaDelete = mfa ?? old?.MFADelete;
      storage.setConfig(b.name, 'versioning', {
        Status: status,
        ...(mfaDelete ? { MFADelete: mfaDelete } : {}),
      } satisfies GetBucketVersioningOutput);
    },

    // ---- default encryption ----

    GetBucketEncryption(ctx: Ctx, input: GetBucketEncryptionRequest): GetBucketEncryptionOutput {
      const b = configuredBucket(storage, ctx, input);
      return {
        ServerSideEncryptionConfiguration: storage.config<ServerSideEncryptionConfiguration>(b.name, 'encryption') ?? DEFAULT_ENCRYPTION,
      };
    },

    PutBucketEncryption(ctx: Ctx, input: PutBucketEncryptionRequest): void {
      const b = configuredBucket(storage, ctx, input);
      storage.setConfig(b.name, 'encryption', checkEncryption(input.ServerSideEncryptionConfiguration));
    },

    /** "resets the default encryption for the bucket as server-side encryption with Amazon S3 managed keys (SSE-S3)" (DeleteBucketEncryption). */
    DeleteBucketEncryption(ctx: Ctx, input: DeleteBucketEncryptionRequest): void {
      const b = configuredBucket(storage, ctx, input);
      storage.clearConfig(b.name, 'encryption');
    },

    // ---- CORS ----

    GetBucketCors(ctx: Ctx, input: GetBucketCorsRequest): GetBucketCorsOutput {
      const b = configuredBucket(storage, ctx, input);
      const rules = storage.config<CORSRule[]>(b.name, 'cors');
      if (!rules) throw new S3Error('NoSuchCORSConfiguration', 'The CORS configuration does not exist', 404, { BucketName: b.name });
      return { CORSRules: rules };
    },

    PutBucketCors(ctx: Ctx, input: PutBucketCorsRequest): void {
      const b = configuredBucket(storage, ctx, input);
      storage.setConfig(b.name, 'cors', checkCors(input.CORSConfiguration?.CORSRules ?? []));
    },

    DeleteBucketCors(ctx: Ctx, input: DeleteBucketCorsRequest): void {
      const b = configuredBucket(storage, ctx, input);
      storage.clearConfig(b.name, 'cors');
    },

    // ---- website ----

    GetBucketWebsite(ctx: Ctx, input: GetBucketWebsiteRequest): GetBucketWebsiteOutput {
      const b = configuredBucket(storage, ctx, input);
      const w = storage.config<WebsiteConfiguration>(b.name, 'website');
      if (!w)
        throw new S3Error('NoSuchWebsiteConfiguration', 'The specified bucket does not have a website configuration', 404, {
          BucketName: b.name,
        });
      return w;
    },

    PutBucketWebsite(ctx: Ctx, input: PutBucketWebsiteRequest): void {
      const b = configuredBucket(storage, ctx, input);
      storage.setConfig(b.name, 'website', checkWebsite(input.WebsiteConfiguration));
    },

    DeleteBucketWebsite(ctx: Ctx, input: DeleteBucketWebsiteRequest): void {
      const b = configuredBucket(storage, ctx, input);
      storage.clearConfig(b.name, 'website');
    },

    // ---- server access logging ----

    GetBucketLogging(ctx: Ctx, input: GetBucketLoggingRequest): GetBucketLoggingOutput {
      const b = configuredBucket(storage, ctx, input);
      const l = storage.config<LoggingEnabled>(b.name, 'logging');
      return l ? { LoggingEnabled: l } : {};
    },

    PutBucketLogging(ctx: Ctx, input: PutBucketLoggingRequest): void {
      const b = configuredBucket(storage, ctx, input);
      const l = input.BucketLoggingStatus?.LoggingEnabled;
      if (!l) {
        storage.clearConfig(b.name, 'logging');
        return;
      }
      const target = storage.bucket(l.TargetBucket ?? '');
      if (!target)
        throw new S3Error('InvalidTargetBucketForLogging', 'The target bucket for logging does not exist', 400, {
          TargetBucket: l.TargetBucket ?? '',
        });
      if (target.account !== b.account)
        throw new S3Error(
          'InvalidTargetBucketForLogging',
          'The owner for the bucket to be logged and the target bucket must be the same.',
          400,
          {
            TargetBucket: target.name,
          },
        );
      if (target.region !== b.region)
        throw new S3Error('CrossLocationLoggingProhibitted', 'Cross S3 location logging not allowed.', 403, {
          SourceBucketLocation: b.region,
          TargetBucketLocation: target.region,
        });
      storage.setConfig(b.name, 'logging', { ...l, TargetPrefix: l.TargetPrefix ?? '' } satisfies LoggingEnabled);
    },

    // ---- lifecycle ----

    GetBucketLifecycleConfiguration(ctx: Ctx, input: GetBucketLifecycleConfigurationRequest): GetBucketLifecycleConfigurationOutput {
      const b = configuredBucket(storage, ctx, input);
      const l = storage.config<LifecycleDoc>(b.name, 'lifecycle');
      if (!l) throw new S3Error('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', 404, { BucketName: b.name });
      return { Rules: l.rules, TransitionDefaultMinimumObjectSize: l.transitionDefaultMinimumObjectSize as never };
    },

    PutBucketLifecycleConfiguration(ctx: Ctx, input: PutBucketLifecycleConfigurationRequest): PutBucketLifecycleConfigurationOutput {
      const b = configuredBucket(storage, ctx, input);
      const minimum = input.TransitionDefaultMinimumObjectSize ?? DEFAULT_TRANSITION_MINIMUM;
      oneOf(minimum, ['varies_by_storage_class', 'all_storage_classes_128K'] as const);
      const rules = checkLifecycle(input.LifecycleConfiguration?.Rules ?? []);
      storage.setConfig(b.name, 'lifecycle', { rules, transitionDefaultMinimumObjectSize: minimum } satisfies LifecycleDoc);
      return { TransitionDefaultMinimumObjectSize: minimum as never };
    },

    DeleteBucketLifecycle(ctx: Ctx, input: DeleteBucketLifecycleRequest): void {
      const b = configuredBucket(storage, ctx, input);
      storage.clearConfig(b.name, 'lifecycle');
    },

    // ---- transfer acceleration, request payment ----

    GetBucketAccelerateConfiguration(ctx: Ctx, input: GetBucketAccelerateConfigurationRequest): GetBucketAccelerateConfigurationOutput {
      const b = configuredBucket(storage, ctx, input);
      const status = storage.config<string>(b.name, 'accelerate');
      return status ? { Status: status as never } : {};
    },

    PutBucketAccelerateConfiguration(ctx: Ctx, input: PutBucketAccelerateConfigurationRequest): void {
      const b = configuredBucket(storage, ctx, input);
      const status = oneOf(input.AccelerateConfiguration?.Status, ['Enabled', 'Suspended'] as const);
      if (b.name.includes('.'))
        throw s3Errors.invalidRequest('S3 Transfer Acceleration is not supported for buckets with periods (.) in their names');
      storage.setConfig(b.name, 'accelerate', status);
    },

    GetBucketRequestPayment(ctx: Ctx, input: GetBucketRequestPaymentRequest): GetBucketRequestPaymentOutput {
      const b = configuredBucket(storage, ctx, input);
      return { Payer: (storage.config<string>(b.name, 'requestPayment') ?? 'BucketOwner') as never };
    },

    PutBucketRequestPayment(ctx: Ctx, input: PutBucketRequestPaymentRequest): void {
      const b = configuredBucket(storage, ctx, input);
      const payer = oneOf(input.RequestPaymentConfiguration?.Payer, ['Requester', 'BucketOwner'] as const);
      if (payer === 'BucketOwner') storage.clearConfig(b.name, 'requestPayment');
      else storage.setConfig(b.name, 'requestPayment', payer);
    },

    // ---- replication and Object Lock: never configured here ----

    GetBucketReplication(ctx: Ctx, input: GetBucketReplicationRequest): GetBucketReplicationOutput {
      const b = configuredBucket(storage, ctx, input);
      throw new S3Error('ReplicationConfigurationNotFoundError', 'The replication configuration was not found', 404, {
        BucketName: b.name,
      });
    },

    /** Nothing to delete: S3 answers 204 for a bucket without replication too. */
    DeleteBucketReplication(ctx: Ctx, input: DeleteBucketReplicationRequest): void {
      configuredBucket(storage, ctx, input);
    },

    GetObjectLockConfiguration(ctx: Ctx, input: GetObjectLockConfigurationRequest): GetObjectLockConfigurationOutput {
      const b = configuredBucket(storage, ctx, input);
      throw new S3Error('ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket', 404, {
        BucketName: b.name,
      });
    },
  };
}
