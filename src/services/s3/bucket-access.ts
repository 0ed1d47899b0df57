// Who may reach a bucket: its policy (Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus), its ACL
// (Put/GetBucketAcl), S3 Object Ownership (Put/Get/DeleteBucketOwnershipControls) and Block
// Public Access (Put/Get/DeletePublicAccessBlock) — with the defaults every new bucket has had
// since April 2023: ACLs disabled (BucketOwnerEnforced) and all four Block Public Access settings
// on ("Amazon S3 now automatically enables S3 Block Public Access and disables ACLs for all new
// buckets", AWS What's New, 2023-04-27). The settings act as S3's do: a public policy is refused
// while BlockPublicPolicy is on, a public ACL while BlockPublicAcls is on, and any ACL but the
// owner's full control while ACLs are disabled.
import type {
  DeleteBucketOwnershipControlsRequest,
  DeleteBucketPolicyRequest,
  DeletePublicAccessBlockRequest,
  GetBucketAclOutput,
  GetBucketAclRequest,
  GetBucketOwnershipControlsOutput,
  GetBucketOwnershipControlsRequest,
  GetBucketPolicyOutput,
  GetBucketPolicyRequest,
  GetBucketPolicyStatusOutput,
  GetBucketPolicyStatusRequest,
  GetPublicAccessBlockOutput,
  GetPublicAccessBlockRequest,
  Grant,
  PublicAccessBlockConfiguration,
  PutBucketAclRequest,
  PutBucketOwnershipControlsRequest,
  PutBucketPolicyRequest,
  PutPublicAccessBlockRequest,
} from '@aws-sdk/client-s3';
import type { Ctx } from '../../core/context.ts';
import { S3Error, s3Errors } from './errors.ts';
import { configuredBucket } from './buckets.ts';
import {
  aclOf,
  cannedGrants,
  GROUP,
  groupGrant,
  isOwnersOnly,
  objectOwnership,
  OWNERSHIPS,
  ownerOf,
  PERMISSIONS,
  PUBLIC_GROUPS,
  publicAccessBlock,
  type AclDoc,
  type OwnershipDoc,
} from './acl.ts';
import { checkBucketPolicy, isPublicPolicy } from './bucket-policy.ts';
import { parsePolicy } from '../../auth/iam-policy.ts';
import type { S3Storage } from './storage.ts';

/** The grants of the x-amz-grant-* headers: `id="…"`, `uri="…"` (emailAddress grants resolve to no account here). */
function headerGrants(input: PutBucketAclRequest): Grant[] {
  const out: Grant[] = [];
  const headers: [string | undefined, Grant['Permission'], string][] = [
    [input.GrantFullControl, 'FULL_CONTROL', 'x-amz-grant-full-control'],
    [input.GrantRead, 'READ', 'x-amz-grant-read'],
    [input.GrantReadACP, 'READ_ACP', 'x-amz-grant-read-acp'],
    [input.GrantWrite, 'WRITE', 'x-amz-grant-write'],
    [input.GrantWriteACP, 'WRITE_ACP', 'x-amz-grant-write-acp'],
  ];
  for (const [value, permission, header] of headers) {
    if (value === undefined) continue;
    for (const part of value.split(',')) {
      const m = /^\s*(id|uri|emailAddress)\s*=\s*"?([^"]*)"?\s*$/i.exec(part);
      if (!m) throw s3Errors.invalidArgument('Invalid id', header, value);
      const kind = m[1]!.toLowerCase();
      if (kind === 'emailaddress') throw unresolvableEmail(m[2]!);
      if (kind === 'uri') {
        if (!Object.values(GROUP).includes(m[2] as never)) throw s3Errors.invalidArgument('Invalid group uri', 'uri', m[2]!);
        out.push(groupGrant(m[2]!, permission));
      } else {
        if (!/^[0-9a-f]{64}$/.test(m[2]!)) throw s3Errors.invalidArgument('Invalid id', 'id', m[2]!);
        out.push({ Grantee: { Type: 'CanonicalUser', ID: m[2]! }, Permission: permission });
      }
    }
  }
  return out;
}

const unresolvableEmail = (email: string) =>
  new S3Error('UnresolvableGrantByEmailAddress', 'The e-mail address you provided does not match any account on record.', 400, {
    EmailAddressProvided: email,
  });

/** The grants of an AccessControlPolicy body, checked as S3 does (MalformedACLError for what its schema does not allow). */
function bodyGrants(grants: Grant[]): Grant[] {
  const bad = () =>
    new S3Error('MalformedACLError', 'The XML you provided was not well-formed or did not validate against our published schema', 400);
  return grants.map((g) => {
    const e = g.Grantee;
    if (!e || !g.Permission || !PERMISSIONS.has(g.Permission)) throw bad();
    if (e.Type === 'CanonicalUser') {
      if (!e.ID || !/^[0-9a-f]{64}$/.test(e.ID)) throw s3Errors.invalidArgument('Invalid id', 'CanonicalUser/ID', e.ID ?? '');
      return { Grantee: { Type: 'CanonicalUser', ID: e.ID }, Permission: g.Permission };
    }
    if (e.Type === 'Group') {
      if (!e.URI || !Object.values(GROUP).includes(e.URI as never))
        throw s3Errors.invalidArgument('Invalid group uri', 'Group/URI', e.URI ?? '');
      return groupGrant(e.URI, g.Permission);
    }
    if (e.Type === 'AmazonCustomerByEmail') throw unresolvableEmail(e.EmailAddress ?? '');
    throw bad();
  });
}

const noSuchPolicy = (bucket: string) => new S3Error('NoSuchBucketPolicy', 'The bucket policy does not exist', 404, { BucketName: bucket });

export function bucketAccessHandlers(storage: S3Storage) {
  return {
    PutBucketPolicy(ctx: Ctx, input: PutBucketPolicyRequest): void {
      const b = configuredBucket(storage, ctx, input);
      const text = input.Policy ?? '';
      const policy = checkBucketPolicy(text, b.name, ctx.partition);
      if (publicAccessBlock(storage, b)?.BlockPublicPolicy && isPublicPolicy(policy)) throw s3Errors.accessDenied();
      storage.setConfig(b.name, 'policy', text);
    },

    GetBucketPolicy(ctx: Ctx, input: GetBucketPolicyRequest): GetBucketPolicyOutput {
      const b = configuredBucket(storage, ctx, input);
      const text = storage.config<string>(b.name, 'policy');
      if (typeof text !== 'string') throw noSuchPolicy(b.name);
      return { Policy: text };
    },

    DeleteBucketPolicy(ctx: Ctx, input: DeleteBucketPolicyRequest): void {
      const b = configuredBucket(storage, ctx, input);
      storage.clearConfig(b.name, 'policy');
    },

    GetBucketPolicyStatus(ctx: Ctx, input: GetBucketPolicyStatusRequest): GetBucketPolicyStatusOutput {
      const b = configuredBucket(storage, ctx, input);
      const text = storage.config<string>(b.name, 'policy');
      if (typeof text !== 'string') throw noSuchPolicy(b.name);
      let isPublic = false;
      try {
        isPublic = isPublicPolicy(parsePolicy(text));
      } catch {
        // a stored policy always parsed when it was put
      }
      return { PolicyStatus: { IsPublic: isPublic } };
    },

    GetBucketAcl(ctx: Ctx, input: GetBucketAclRequest): GetBucketAclOutput {
      const b = configuredBucket(storage, ctx, input);
      return { Owner: ownerOf(b.account), Grants: aclOf(storage, b) };
    },

    PutBucketAcl(ctx: Ctx, input: PutBucketAclRequest): void {
      const b = configuredBucket(storage, ctx, input);
      const byHeader = [input.GrantFullControl, input.GrantRead, input.GrantReadACP, input.GrantWrite, input.GrantWriteACP].some(
        (v) => v !== undefined,
      );
      if (input.ACL !== undefined && byHeader)
        throw s3Errors.invalidRequest('Specifying both Canned ACLs and Header Grants is not allowed');
      if (input.AccessControlPolicy && (input.ACL !== undefined || byHeader))
        throw new S3Error('UnexpectedContent', 'This request does not support content', 400);
      let grants: Grant[];
      if (input.ACL !== undefined) {
        const canned = cannedGrants(b.account, input.ACL);
        if (!canned) throw s3Errors.invalidArgument('', 'x-amz-acl', input.ACL);
        grants = canned;
      } else if (byHeader) grants = headerGrants(input);
      else if (input.AccessControlPolicy) grants = bodyGrants(input.AccessControlPolicy.Grants ?? []);
      else
        throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header', 400, { MissingHeaderName: 'x-amz-acl' });
      if (objectOwnership(storage, b) === 'BucketOwnerEnforced' && !isOwnersOnly(b.account, grants))
        throw new S3Error('AccessControlListNotSupported', 'The bucket does not allow ACLs', 400);
      if (publicAccessBlock(storage, b)?.BlockPublicAcls && grants.some((g) => PUBLIC_GROUPS.has(g.Grantee?.URI ?? '')))
        throw s3Errors.accessDenied();
      storage.setConfig(b.name, 'acl', { grants } satisfies AclDoc);
    },

    GetBucketOwnershipControls(ctx: Ctx, input: GetBucketOwnershipControlsRequest): GetBucketOwnershipControlsOutput {
      const b = configuredBucket(storage, ctx, input);
      const ownership = objectOwnership(storage, b);
      if (!ownership)
        throw new S3Error('OwnershipControlsNotFoundError', 'The bucket ownership controls were not found', 404, { BucketName: b.name });
      return { OwnershipControls: { Rules: [{ ObjectOwnership: ownership }] } };
    },

    PutBucketOwnershipControls(ctx: Ctx, input: PutBucketOwnershipControlsRequest): void {
      const b = configuredBucket(storage, ctx, input);
      const rules = input.OwnershipControls?.Rules ?? [];
      const value = rules[0]?.ObjectOwnership;
      if (rules.length !== 1 || value === undefined || !OWNERSHIPS.has(value)) throw s3Errors.malformedXml();
      if (value === 'BucketOwnerEnforced' && !isOwnersOnly(b.account, aclOf(storage, b)))
        throw new S3Error(
          'InvalidBucketAclWithObjectOwnership',
          "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
          400,
        );
      storage.setConfig(b.name, 'ownership', { objectOwnership: value } satisfies OwnershipDoc);
    },

    DeleteBucketOwnershipControls(ctx: Ctx, input: DeleteBucketOwnershipControlsRequest): void {
      const b = configuredBucket(storage, ctx, input);
      storage.setConfig(b.name, 'ownership', null);
    },

    GetPublicAccessBlock(ctx: Ctx, input: GetPublicAccessBlockRequest): GetPublicAccessBlockOutput {
      const b = configuredBucket(storage, ctx, input);
      const config = publicAccessBlock(storage, b);
      if (!config)
        throw new S3Error('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', 404, {
          BucketName: b.name,
        });
      return { PublicAccessBlockConfiguration: config };
    },

    PutPublicAccessBlock(ctx: Ctx, input: PutPublicAccessBlockRequest): void {
      const b = configuredBucket(storage, ctx, input);
      const c = input.PublicAccessBlockConfiguration ?? {};
      const config: Required<PublicAccessBlockConfiguration> = {
        BlockPublicAcls: c.BlockPublicAcls ?? false,
        IgnorePublicAcls: c.IgnorePublicAcls ?? false,
        BlockPublicPolicy: c.BlockPublicPolicy ?? false,
        RestrictPublicBuckets: c.RestrictPublicBuckets ?? false,
      };
      storage.setConfig(b.name, 'publicAccessBlock', config);
    },

    DeletePublicAccessBlock(ctx: Ctx, input: DeletePublicAccessBlockRequest): void {
      const b = configuredBucket(storage, ctx, input);
      storage.setConfig(b.name, 'publicAccessBlock', null);
    },
  };
}
