// Finding IAM entities by name (case-insensitively: the document id is the lower-cased name) or,
// for managed policies, by ARN — with IAM's validation and NoSuchEntity messages.
import type { Ctx } from '../../core/context.ts';
import { awsManagedPolicy } from './aws-managed.ts';
import { invalidInput, noSuchPolicy, noSuchProfile, noSuchRole, noSuchUser, validationError } from './errors.ts';
import { IAM_KIND, type InstanceProfileDoc, type ManagedPolicyDoc, type RoleDoc, type UserDoc } from '../../core/documents/iam.ts';
import { POLICY_ARN } from './ids.ts';
import { Checks, checkName } from './validate.ts';

export const ROLE_NAME_MAX = 64;
export const USER_NAME_MAX = 64;
export const PROFILE_NAME_MAX = 128;
export const POLICY_NAME_MAX = 128;

export const idOf = (name: string) => name.toLowerCase();

export function findRole(ctx: Ctx, name: string): RoleDoc | undefined {
  return ctx.tx.get<RoleDoc>(IAM_KIND.role, ctx.scope, idOf(name));
}

export function getRole(ctx: Ctx, name: string | undefined, field = 'roleName'): RoleDoc {
  const n = checkName(name, field, ROLE_NAME_MAX);
  const r = findRole(ctx, n);
  if (!r) throw noSuchRole(n);
  return r;
}

export function getUser(ctx: Ctx, name: string | undefined, field = 'userName'): UserDoc {
  const n = checkName(name, field, USER_NAME_MAX);
  const u = ctx.tx.get<UserDoc>(IAM_KIND.user, ctx.scope, idOf(n));
  if (!u) throw noSuchUser(n);
  return u;
}

export function getProfile(ctx: Ctx, name: string | undefined, field = 'instanceProfileName'): InstanceProfileDoc {
  const n = checkName(name, field, PROFILE_NAME_MAX);
  const p = ctx.tx.get<InstanceProfileDoc>(IAM_KIND.instanceProfile, ctx.scope, idOf(n));
  if (!p) throw noSuchProfile(n);
  return p;
}

/** Validates a policy ARN member (length, then shape: InvalidInput "ARN X is not valid."). */
export function checkPolicyArn(arn: string | undefined, field = 'policyArn'): string {
  const c = new Checks();
  if (c.required(arn, field)) c.length(arn, field, 20, 2048);
  c.done();
  if (!POLICY_ARN.test(arn!)) throw invalidInput(`ARN ${arn} is not valid.`);
  return arn!;
}

/** Text IAM can parse as an ARN: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE. */
const ARN_SHAPE = /^arn:[^:]*:[^:]*:[^:]*:[^:]*:./;

/**
 * The PolicyArn of AttachRolePolicy/AttachUserPolicy: text that is no ARN at all (a policy name,
 * say) is a ValidationError "Invalid ARN:  Could not be parsed!" (two spaces: recorded from IAM,
 * localstack tests/aws/services/iam/test_iam.snapshot.json, test_role_attach_policy and
 * test_user_attach_policy); an ARN that is not a policy's is InvalidInput "ARN … is not valid.".
 */
export function checkAttachArn(arn: string | undefined): string {
  const c = new Checks();
  if (c.required(arn, 'policyArn')) c.length(arn, 'policyArn', 20, 2048);
  c.done();
  if (!ARN_SHAPE.test(arn!)) throw validationError('Invalid ARN:  Could not be parsed!');
  return checkPolicyArn(arn);
}

/** A customer managed policy of this account, or an AWS managed policy, by ARN. */
export function getPolicy(ctx: Ctx, arn: string | undefined, field = 'policyArn'): ManagedPolicyDoc {
  const a = checkPolicyArn(arn, field);
  const p = ctx.tx.get<ManagedPolicyDoc>(IAM_KIND.policy, ctx.scope, a) ?? awsManagedPolicy(ctx.partition, a);
  if (!p) throw noSuchPolicy(a);
  return p;
}

/** The account's own (customer managed) policy for an ARN; undefined for AWS managed ones. */
export function localPolicy(ctx: Ctx, arn: string): ManagedPolicyDoc | undefined {
  return ctx.tx.get<ManagedPolicyDoc>(IAM_KIND.policy, ctx.scope, arn);
}

export function rolesOf(ctx: Ctx): RoleDoc[] {
  return ctx.tx.all<RoleDoc>(IAM_KIND.role, ctx.scope);
}

export function usersOf(ctx: Ctx): UserDoc[] {
  return ctx.tx.all<UserDoc>(IAM_KIND.user, ctx.scope);
}

export function profilesOf(ctx: Ctx): InstanceProfileDoc[] {
  return ctx.tx.all<InstanceProfileDoc>(IAM_KIND.instanceProfile, ctx.scope);
}

/** How many roles and users of the account have the policy attached. */
export function attachmentCount(ctx: Ctx, arn: string): number {
  return (
    rolesOf(ctx).filter((r) => r.attachedPolicies.includes(arn)).length +
    usersOf(ctx).filter((u) => u.attachedPolicies.includes(arn)).length
  );
}

/** How many roles and users of the account use the policy as their permissions boundary. */
export function boundaryCount(ctx: Ctx, arn: string): number {
  return (
    rolesOf(ctx).filter((r) => r.permissionsBoundary === arn).length + usersOf(ctx).filter((u) => u.permissionsBoundary === arn).length
  );
}

/** The instance profiles that contain the role. */
export function profilesWithRole(ctx: Ctx, role: RoleDoc): InstanceProfileDoc[] {
  return profilesOf(ctx).filter((p) => p.roles.some((n) => idOf(n) === role.id));
}
