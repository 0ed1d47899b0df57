// Bucket ACLs and the settings that govern them, shared by the bucket calls: the owner S3 names
// for an account, the grants of canned ACLs, and a bucket's ACL, Object Ownership and Block Public
// Access as stored (or S3's defaults for a new bucket).
import type { Grant, ObjectOwnership, Owner, PublicAccessBlockConfiguration } from '@aws-sdk/client-s3';
import { crypto } from '../../core/lazy.ts';
import type { BucketRow, S3Storage } from './storage.ts';

export const canonicalUserId = (account: string) => crypto().createHash('sha256').update(`palisade:${account}`).digest('hex');

/** The owner S3 names for an account's buckets and objects. */
export const ownerOf = (account: string): Owner => ({ ID: canonicalUserId(account), DisplayName: account });

export const GROUP = {
  allUsers: 'http://acs.amazonaws.com/groups/global/AllUsers',
  authenticatedUsers: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers',
  logDelivery: 'http://acs.amazonaws.com/groups/s3/LogDelivery',
} as const;
export const PUBLIC_GROUPS = new Set<string>([GROUP.allUsers, GROUP.authenticatedUsers]);
export const PERMISSIONS = new Set(['FULL_CONTROL', 'WRITE', 'WRITE_ACP', 'READ', 'READ_ACP']);
export const OWNERSHIPS = new Set<string>(['BucketOwnerPreferred', 'ObjectWriter', 'BucketOwnerEnforced']);

/** What a bucket's ACL holds (kind 'acl'); never set: the owner's full control. */
export interface AclDoc {
  grants: Grant[];
}
/** Kind 'ownership': the rule's ObjectOwnership; null once deleted. */
export interface OwnershipDoc {
  objectOwnership: ObjectOwnership;
}

const ownerGrant = (account: string): Grant => ({
  Grantee: { Type: 'CanonicalUser', ...ownerOf(account) },
  Permission: 'FULL_CONTROL',
});
export const groupGrant = (uri: string, permission: Grant['Permission']): Grant => ({
  Grantee: { Type: 'Group', URI: uri },
  Permission: permission,
});

/** The grants of a canned ACL on a bucket (S3 User Guide, "Canned ACL"); undefined for a name S3 does not have. */
export function cannedGrants(account: string, acl: string): Grant[] | undefined {
  const owner = ownerGrant(account);
  switch (acl) {
    case 'private':
    case 'bucket-owner-read': // object ACLs: on a bucket, the owner's full control
    case 'bucket-owner-full-control':
    case 'aws-exec-read':
      return [owner];
    case 'public-read':
      return [owner, groupGrant(GROUP.allUsers, 'READ')];
    case 'public-read-write':
      return [owner, groupGrant(GROUP.allUsers, 'READ'), groupGrant(GROUP.allUsers, 'WRITE')];
    case 'authenticated-read':
      return [owner, groupGrant(GROUP.authenticatedUsers, 'READ')];
    case 'log-delivery-write':
      return [owner, groupGrant(GROUP.logDelivery, 'WRITE'), groupGrant(GROUP.logDelivery, 'READ_ACP')];
    default:
      return undefined;
  }
}

export const isOwnersOnly = (account: string, grants: Grant[]) =>
  grants.every((g) => g.Grantee?.Type === 'CanonicalUser' && g.Grantee.ID === ownerOf(account).ID && g.Permission === 'FULL_CONTROL');

/** A bucket's ACL grants (the owner's full control when never set), display names filled in. */
export function aclOf(storage: S3Storage, b: BucketRow): Grant[] {
  const doc = storage.config<AclDoc>(b.name, 'acl');
  const owner = ownerOf(b.account);
  return (doc?.grants ?? [ownerGrant(b.account)]).map((g) =>
    g.Grantee?.Type === 'CanonicalUser' && g.Grantee.ID === owner.ID
      ? { ...g, Grantee: { ...g.Grantee, DisplayName: owner.DisplayName } }
      : g,
  );
}

/** The bucket's object ownership: BucketOwnerEnforced unless set otherwise; undefined once its controls were deleted. */
export function objectOwnership(storage: S3Storage, b: BucketRow): ObjectOwnership | undefined {
  const doc = storage.config<OwnershipDoc>(b.name, 'ownership');
  if (doc === null) return undefined;
  return doc?.objectOwnership ?? 'BucketOwnerEnforced';
}

/** The bucket's Block Public Access settings: all on unless set otherwise; undefined once deleted. */
export function publicAccessBlock(storage: S3Storage, b: BucketRow): Required<PublicAccessBlockConfiguration> | undefined {
  const doc = storage.config<Required<PublicAccessBlockConfiguration>>(b.name, 'publicAccessBlock');
  if (doc === null) return undefined;
  return doc ?? { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
}
