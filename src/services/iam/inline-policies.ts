// Inline (embedded) policies of roles and users: Put/Get/Delete/List. Documents are identity
// policies, stored verbatim and returned URL-encoded; all inline policies of one identity
// together must stay within its quota (roles 10,240, users 2,048 non-white-space characters).
import type {
  DeleteRolePolicyRequest,
  DeleteUserPolicyRequest,
  GetRolePolicyRequest,
  GetRolePolicyResponse,
  GetUserPolicyRequest,
  GetUserPolicyResponse,
  ListRolePoliciesRequest,
  ListRolePoliciesResponse,
  ListUserPoliciesRequest,
  ListUserPoliciesResponse,
  PutRolePolicyRequest,
  PutUserPolicyRequest,
} from '@aws-sdk/client-iam';
import type { Ctx } from '../../core/context.ts';
import { noSuchEntity } from './errors.ts';
import { getRole, getUser, POLICY_NAME_MAX } from './lookups.ts';
import { IAM_KIND, type RoleDoc, type UserDoc } from '../../core/documents/iam.ts';
import { page } from './paging.ts';
import { checkInlineSize, checkPolicyDocument, encodePolicyDocument } from './policy-grammar.ts';
import { checkName } from './validate.ts';
import { truncation, type Empty } from './output.ts';

type Owner = RoleDoc | UserDoc;
type OwnerType = 'role' | 'user';

const noSuchInline = (type: OwnerType, name: string) => noSuchEntity(`The ${type} policy with name ${name} cannot be found.`);

function lookup(ctx: Ctx, type: OwnerType, name: string | undefined): Owner {
  return type === 'role' ? getRole(ctx, name) : getUser(ctx, name);
}

function put(ctx: Ctx, type: OwnerType, ownerName: string | undefined, policyName: string | undefined, document: string | undefined): void {
  const owner = lookup(ctx, type, ownerName);
  const name = checkName(policyName, 'policyName', POLICY_NAME_MAX);
  const text = checkPolicyDocument(document, 'identity', 'policyDocument');
  checkInlineSize({ ...owner.inlinePolicies, [name]: text }, { type, name: owner.name });
  const kind = type === 'role' ? IAM_KIND.role : IAM_KIND.user;
  const edited = ctx.tx.edit<Owner>(kind, ctx.scope, owner.id)!;
  // Defined, not assigned: an assignment to `__proto__` (a valid policy name) would be lost.
  edited.inlinePolicies = { ...edited.inlinePolicies, [name]: text };
}

function get(
  ctx: Ctx,
  type: OwnerType,
  ownerName: string | undefined,
  policyName: string | undefined,
): { owner: Owner; name: string; document: string } {
  const owner = lookup(ctx, type, ownerName);
  const name = checkName(policyName, 'policyName', POLICY_NAME_MAX);
  if (!Object.hasOwn(owner.inlinePolicies, name)) throw noSuchInline(type, name);
  return { owner, name, document: encodePolicyDocument(owner.inlinePolicies[name]!) };
}

function remove(ctx: Ctx, type: OwnerType, ownerName: string | undefined, policyName: string | undefined): void {
  const owner = lookup(ctx, type, ownerName);
  const name = checkName(policyName, 'policyName', POLICY_NAME_MAX);
  if (!Object.hasOwn(owner.inlinePolicies, name)) throw noSuchInline(type, name);
  const kind = type === 'role' ? IAM_KIND.role : IAM_KIND.user;
  delete ctx.tx.edit<Owner>(kind, ctx.scope, owner.id)!.inlinePolicies[name];
}

function list(ctx: Ctx, type: OwnerType, ownerName: string | undefined, marker: string | undefined, maxItems: number | undefined) {
  const owner = lookup(ctx, type, ownerName);
  const p = page(Object.keys(owner.inlinePolicies), (n) => n, marker, maxItems);
  return { PolicyNames: p.items, ...truncation(p) };
}

export const inlinePolicyHandlers = {
  PutRolePolicy(ctx: Ctx, i: PutRolePolicyRequest): Empty {
    put(ctx, 'role', i.RoleName, i.PolicyName, i.PolicyDocument);
    return {};
  },
  GetRolePolicy(ctx: Ctx, i: GetRolePolicyRequest): GetRolePolicyResponse {
    const g = get(ctx, 'role', i.RoleName, i.PolicyName);
    return { RoleName: g.owner.name, PolicyName: g.name, PolicyDocument: g.document };
  },
  DeleteRolePolicy(ctx: Ctx, i: DeleteRolePolicyRequest): Empty {
    remove(ctx, 'role', i.RoleName, i.PolicyName);
    return {};
  },
  ListRolePolicies(ctx: Ctx, i: ListRolePoliciesRequest): ListRolePoliciesResponse {
    return list(ctx, 'role', i.RoleName, i.Marker, i.MaxItems);
  },

  PutUserPolicy(ctx: Ctx, i: PutUserPolicyRequest): Empty {
    put(ctx, 'user', i.UserName, i.PolicyName, i.PolicyDocument);
    return {};
  },
  GetUserPolicy(ctx: Ctx, i: GetUserPolicyRequest): GetUserPolicyResponse {
    const g = get(ctx, 'user', i.UserName, i.PolicyName);
    return { UserName: g.owner.name, PolicyName: g.name, PolicyDocument: g.document };
  },
  DeleteUserPolicy(ctx: Ctx, i: DeleteUserPolicyRequest): Empty {
    remove(ctx, 'user', i.UserName, i.PolicyName);
    return {};
  },
  ListUserPolicies(ctx: Ctx, i: ListUserPoliciesRequest): ListUserPoliciesResponse {
    return list(ctx, 'user', i.UserName, i.Marker, i.MaxItems);
  },
};
