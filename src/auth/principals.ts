// Who is calling: resolved from the SigV4 access key id. A 12-digit key id is that account's
// root; IAM users' keys and STS session keys are looked up; anything else is the root of the
// default account (the convenience of local emulators: any key works in `open` mode).
import type { Store } from '../store/store.ts';
import { GLOBAL, IAM_KIND, type AccessKeyDoc, type UserDoc } from '../core/documents/iam.ts';
import type { Doc } from '../store/store.ts';

export type PrincipalType = 'Root' | 'IAMUser' | 'AssumedRole' | 'FederatedUser' | 'Anonymous';

export interface Principal {
  type: PrincipalType;
  account: string;
  /** arn:aws:iam::ACCT:root | user/NAME | arn:aws:sts::ACCT:assumed-role/ROLE/SESSION */
  arn: string;
  /** aws:userid — AIDA… for users, AROA…:session for roles, the account for root */
  userId: string;
  accessKeyId: string;
  userName?: string;
  /** for assumed roles */
  role?: { name: string; arn: string; roleId: string; path: string; sessionName: string };
  sessionToken?: string;
  secret?: string;
  expiration?: number; // epoch ms
  /** IMDS-delivered role credentials: '1.0' (IMDSv1) or '2.0' (IMDSv2) */
  ec2RoleDelivery?: string;
  sourceInstanceArn?: string;
  issuedAt?: number;
}

/** An STS session: kind 'sts-session', scope GLOBAL, id = the temporary access key id. */
export interface SessionDoc extends Doc {
  account: string;
  secret: string;
  token: string;
  expiration: number; // epoch ms
  issuedAt: number;
  type: 'AssumedRole' | 'IAMUser' | 'Root' | 'FederatedUser';
  arn: string;
  userId: string;
  userName?: string;
  role?: Principal['role'];
  ec2RoleDelivery?: string;
  sourceInstanceArn?: string;
  /** AssumeRole's inline session policy (JSON), intersected with the role's in `enforce` */
  sessionPolicy?: string;
  /** managed session policies (PolicyArns), with the inline one the session's limit */
  sessionPolicyArns?: string[];
  sourceIdentity?: string;
  tags?: Record<string, string>;
  /** the tags passed on to sessions this one starts by role chaining */
  transitiveTagKeys?: string[];
  /**
   * GetFederationToken's sessions: whose long-term credentials made it — an IAM user (its
   * permissions ∩ the session policies apply) or the account's root (the session policies alone).
   */
  federatedBy?: { userName: string } | { root: true };
}
export const SESSION_KIND = 'sts-session';

export function rootPrincipal(account: string, accessKeyId: string, partition = 'aws'): Principal {
  return { type: 'Root', account, arn: `arn:${partition}:iam::${account}:root`, userId: account, accessKeyId };
}

export function resolvePrincipal(store: Store, accessKeyId: string, defaultAccount: string, partition: string): Principal {
  if (/^\d{12}$/.test(accessKeyId)) return rootPrincipal(accessKeyId, accessKeyId, partition);
  if (accessKeyId.startsWith('ASIA')) {
    const s = store.table(SESSION_KIND, GLOBAL).get(accessKeyId) as SessionDoc | undefined;
    if (s) {
      return {
        type: s.type,
        account: s.account,
        arn: s.arn,
        userId: s.userId,
        accessKeyId,
        userName: s.userName,
        role: s.role,
        sessionToken: s.token,
        secret: s.secret,
        expiration: s.expiration,
        ec2RoleDelivery: s.ec2RoleDelivery,
        sourceInstanceArn: s.sourceInstanceArn,
        issuedAt: s.issuedAt,
      };
    }
  }
  if (accessKeyId.startsWith('AKIA')) {
    const k = store.table(IAM_KIND.accessKey, GLOBAL).get(accessKeyId) as AccessKeyDoc | undefined;
    if (k) {
      const u = store.table(IAM_KIND.user, k.account).get(k.userName.toLowerCase()) as UserDoc | undefined;
      if (u) return { type: 'IAMUser', account: k.account, arn: u.arn, userId: u.userId, accessKeyId, userName: u.name, secret: k.secret };
    }
  }
  return rootPrincipal(defaultAccount, accessKeyId, partition);
}
