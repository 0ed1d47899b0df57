// Managed policies attached to roles and users (at most 10 each), and who a policy is attached to.
import type {
  AttachRolePolicyRequest,
  AttachUserPolicyRequest,
  AttachedPolicy,
  DetachRolePolicyRequest,
  DetachUserPolicyRequest,
  ListAttachedRolePoliciesRequest,
  ListAttachedRolePoliciesResponse,
  ListAttachedUserPoliciesRequest,
  ListAttachedUserPoliciesResponse,
  ListEntitiesForPolicyRequest,
  ListEntitiesForPolicyResponse,
} from '@aws-sdk/client-iam';
import type { Ctx } from '../../core/context.ts';
import { awsManagedPolicy } from './aws-managed.ts';
import { limitExceeded, noSuchEntity } from './errors.ts';
import { checkAttachArn, checkPolicyArn, getPolicy, getRole, getUser, idOf, localPolicy, rolesOf, usersOf } from './lookups.ts';
import { IAM_KIND, type RoleDoc, type UserDoc } from '../../core/documents/iam.ts';
import { truncation, type Empty } from './output.ts';
import { page } from './paging.ts';
import { Checks, checkPathPrefix } from './validate.ts';

const MAX_ATTACHED = 10;

type OwnerType = 'role' | 'user';
type Owner = RoleDoc | UserDoc;

function lookup(ctx: Ctx, type: OwnerType, name: string | undefined): Owner {
  return type === 'role' ? getRole(ctx, name) : getUser(ctx, name);
}
const kindOf = (type: OwnerType) => (type === 'role' ? IAM_KIND.role : IAM_KIND.user);

function attach(ctx: Ctx, type: OwnerType, ownerName: string | undefined, arn: string | undefined): void {
  const owner = lookup(ctx, type, ownerName);
  const policy = getPolicy(ctx, checkAttachArn(arn));
  if (owner.attachedPolicies.includes(policy.arn)) return;
  if (owner.attachedPolicies.length >= MAX_ATTACHED) {
    throw limitExceeded(`Cannot exceed quota for PoliciesPer${type === 'role' ? 'Role' : 'User'}: ${MAX_ATTACHED}`);
  }
  ctx.tx.edit<Owner>(kindOf(type), ctx.scope, owner.id)!.attachedPolicies.push(policy.arn);
}

function detach(ctx: Ctx, type: OwnerType, ownerName: string | undefined, arn: string | undefined): void {
  const owner = lookup(ctx, type, ownerName);
  const a = checkPolicyArn(arn);
  if (!owner.attachedPolicies.includes(a)) throw noSuchEntity(`Policy ${a} was not found.`);
  const d = ctx.tx.edit<Owner>(kindOf(type), ctx.scope, owner.id)!;
  d.attachedPolicies = d.attachedPolicies.filter((x) => x !== a);
}

function listAttached(
  ctx: Ctx,
  type: OwnerType,
  ownerName: string | undefined,
  pathPrefix: string | undefined,
  marker: string | undefined,
  maxItems: number | undefined,
) {
  const owner = lookup(ctx, type, ownerName);
  const prefix = checkPathPrefix(pathPrefix);
  const attached = owner.attachedPolicies
    .map((arn) => localPolicy(ctx, arn) ?? awsManagedPolicy(ctx.partition, arn))
    .filter((p) => p !== undefined && p.path.startsWith(prefix))
    .map((p): AttachedPolicy => ({ PolicyName: p!.name, PolicyArn: p!.arn }));
  const p = page(attached, (x) => `${idOf(x.PolicyName!)}\u0000${x.PolicyArn}`, marker, maxItems);
  return { AttachedPolicies: p.items, ...truncation(p) };
}

export const attachmentHandlers = {
  AttachRolePolicy(ctx: Ctx, i: AttachRolePolicyRequest): Empty {
    attach(ctx, 'role', i.RoleName, i.PolicyArn);
    return {};
  },
  DetachRolePolicy(ctx: Ctx, i: DetachRolePolicyRequest): Empty {
    detach(ctx, 'role', i.RoleName, i.PolicyArn);
    return {};
  },
  ListAttachedRolePolicies(ctx: Ctx, i: ListAttachedRolePoliciesRequest): ListAttachedRolePoliciesResponse {
    return listAttached(ctx, 'role', i.RoleName, i.PathPrefix, i.Marker, i.MaxItems);
  },

  AttachUserPolicy(ctx: Ctx, i: AttachUserPolicyRequest): Empty {
    attach(ctx, 'user', i.UserName, i.PolicyArn);
    return {};
  },
  DetachUserPolicy(ctx: Ctx, i: DetachUserPolicyRequest): Empty {
    detach(ctx, 'user', i.UserName, i.PolicyArn);
    return {};
  },
  ListAttachedUserPolicies(ctx: Ctx, i: ListAttachedUserPoliciesRequest): ListAttachedUserPoliciesResponse {
    return listAttached(ctx, 'user', i.UserName, i.PathPrefix, i.Marker, i.MaxItems);
  },

  ListEntitiesForPolicy(ctx: Ctx, i: ListEntitiesForPolicyRequest): ListEntitiesForPolicyResponse {
    const policy = getPolicy(ctx, i.PolicyArn);
    const c = new Checks();
    if (i.EntityFilter !== undefined && !['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'].includes(i.EntityFilter)) {
      c.fail(i.EntityFilter, 'entityFilter', 'satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]');
    }
    c.done();
    const prefix = checkPathPrefix(i.PathPrefix);
    const boundary = i.PolicyUsageFilter === 'PermissionsBoundary';
    const uses = (o: Owner) => (boundary ? o.permissionsBoundary === policy.arn : o.attachedPolicies.includes(policy.arn));
    const entities: { type: 'Role' | 'User'; name: string; id: string }[] = [];
    if (i.EntityFilter === undefined || i.EntityFilter === 'Role') {
      for (const r of rolesOf(ctx)) if (uses(r) && r.path.startsWith(prefix)) entities.push({ type: 'Role', name: r.name, id: r.roleId });
    }
    if (i.EntityFilter === undefined || i.EntityFilter === 'User') {
      for (const u of usersOf(ctx)) if (uses(u) && u.path.startsWith(prefix)) entities.push({ type: 'User', name: u.name, id: u.userId });
    }
    const p = page(entities, (e) => `${e.type}\u0000${idOf(e.name)}`, i.Marker, i.MaxItems);
    return {
      PolicyGroups: [],
      PolicyUsers: p.items.filter((e) => e.type === 'User').map((e) => ({ UserName: e.name, UserId: e.id })),
      PolicyRoles: p.items.filter((e) => e.type === 'Role').map((e) => ({ RoleName: e.name, RoleId: e.id })),
      ...truncation(p),
    };
  },
};
