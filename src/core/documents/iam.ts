// IAM documents. IAM is global: every document lives in the account's scope (the account id).
import type { Doc } from '../../store/store.ts';

export interface IamTag {
  Key: string;
  Value: string;
}

export interface RoleDoc extends Doc {
  /** the role name; doc id is the lower-cased name (IAM names are case-insensitive unique) */
  name: string;
  roleId: string; // AROA…
  path: string;
  arn: string;
  createDate: string; // ISO
  assumeRolePolicy: string; // JSON text as given
  description?: string;
  maxSessionDuration: number;
  permissionsBoundary?: string;
  inlinePolicies: Record<string, string>; // name → JSON text
  attachedPolicies: string[]; // policy ARNs
  tags: IamTag[];
  lastUsed?: string;
}

export interface UserDoc extends Doc {
  name: string;
  userId: string; // AIDA…
  path: string;
  arn: string;
  createDate: string;
  inlinePolicies: Record<string, string>;
  attachedPolicies: string[];
  tags: IamTag[];
  permissionsBoundary?: string;
}

export interface PolicyVersion {
  versionId: string;
  document: string;
  createDate: string;
}
export interface ManagedPolicyDoc extends Doc {
  name: string;
  policyId: string; // ANPA…
  path: string;
  arn: string;
  description?: string;
  createDate: string;
  updateDate: string;
  defaultVersionId: string;
  versions: PolicyVersion[];
  nextVersion: number;
  tags: IamTag[];
}

export interface InstanceProfileDoc extends Doc {
  name: string;
  profileId: string; // AIPA…
  path: string;
  arn: string;
  createDate: string;
  roles: string[]; // role names (at most one)
  tags: IamTag[];
}

/** Global index of long-term keys: kind ACCESS_KEY in scope GLOBAL, id = access key id. */
export interface AccessKeyDoc extends Doc {
  account: string;
  userName: string;
  secret: string;
  status: 'Active' | 'Inactive';
  createDate: string;
}

export const IAM_KIND = {
  role: 'iam-role',
  user: 'iam-user',
  policy: 'iam-policy',
  instanceProfile: 'iam-instance-profile',
  accessKey: 'iam-access-key',
} as const;

/** Scope for cross-account indexes (access keys, STS sessions). */
export const GLOBAL = '_global';
