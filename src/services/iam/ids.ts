// IAM identifiers: unique ids (AROA… roles, AIDA… users, AIPA… instance profiles, ANPA…
// managed policies: prefix + 17 characters, 21 in all), long-term access keys (AKIA + 16) with
// their 40-character secrets, and ARNs (arn:PARTITION:iam::ACCOUNT:TYPE/PATH/NAME).
import { crypto } from '../../core/lazy.ts';
import type { Ctx } from '../../core/context.ts';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(n: number): string {
  const b = crypto().randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += BASE32[b[i]! & 31];
  return s;
}

type UniqueIdPrefix = 'AROA' | 'AIDA' | 'AIPA' | 'ANPA';

export function uniqueId(prefix: UniqueIdPrefix): string {
  return prefix + base32(17);
}

export function newAccessKeyId(): string {
  return 'AKIA' + base32(16);
}

export function newSecretAccessKey(): string {
  return crypto().randomBytes(30).toString('base64');
}

type ArnType = 'role' | 'user' | 'instance-profile' | 'policy';

export function iamArn(ctx: Ctx, type: ArnType, path: string, name: string): string {
  return `arn:${ctx.partition}:iam::${ctx.account}:${type}${path}${name}`;
}

/** The shape of any policy ARN (customer- or AWS-managed). */
export const POLICY_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}|aws):policy(\/(?:[\u0021-\u007E]*\/)?)([\w+=,.@-]{1,128})$/;
