// Roles: create/read/update/delete, trust policy, session duration, description, tags and
// permissions boundary. Names are unique case-insensitively (document id = lower-cased name) and
// returned as given; the trust policy is validated as one and returned URL-encoded.
import type {
  CreateRoleRequest,
  CreateRoleResponse,
  DeleteRolePermissionsBoundaryRequest,
  DeleteRoleRequest,
  GetRoleRequest,
  GetRoleResponse,
  ListRoleTagsRequest,
  ListRoleTagsResponse,
  ListRolesRequest,
  ListRolesResponse,
  PutRolePermissionsBoundaryRequest,
  Role,
  RoleLastUsed,
  TagRoleRequest,
  UntagRoleRequest,
  UpdateAssumeRolePolicyRequest,
  UpdateRoleDescriptionRequest,
  UpdateRoleDescriptionResponse,
  UpdateRoleRequest,
  UpdateRoleResponse,
} from '@aws-sdk/client-iam';
import type { Ctx } from '../../core/context.ts';
import { alreadyExists, deleteConflict, noSuchEntity } from './errors.ts';
import { iamArn, uniqueId } from './ids.ts';
import { checkPolicyArn, findRole, getPolicy, getRole, idOf, profilesWithRole, rolesOf, ROLE_NAME_MAX } from './lookups.ts';
import { IAM_KIND, type RoleDoc } from '../../core/documents/iam.ts';
import { page } from './paging.ts';
import { truncation, type Empty } from './output.ts';
import { checkPolicyDocument, checkTrustSize, encodePolicyDocument } from './policy-grammar.ts';
import { checkTags, listTags, tagDoc, tagsOut, untagDoc } from './tags.ts';
import { Checks, checkName, checkPath, checkPathPrefix } from './validate.ts';

const SESSION_DURATION = { min: 3600, max: 43200, default: 3600 } as const;

/**
 * The shapes in which IAM returns a role (recorded from IAM: localstack
 * tests/aws/services/iam/test_iam_roles.snapshot.json and test_iam_instance_profiles.snapshot.json):
 *  - `create` (CreateRole): the role's identity and trust policy, the boundary and tags if any,
 *    MaxSessionDuration only if the request set it — never the Description, even one just given;
 *  - `get` (GetRole; GetAccountAuthorizationDetails): also Description (if any) and
 *    MaxSessionDuration (RoleLastUsed is added by the caller);
 *  - `list` (ListRoles): Description (if any) and MaxSessionDuration, no boundary, tags or last use;
 *  - `embedded` (the Roles of an instance profile): Description if any, no MaxSessionDuration;
 *  - `description` (UpdateRoleDescription): the new Description, boundary and tags if any, no
 *    MaxSessionDuration.
 */
export type RoleShape = 'create' | 'get' | 'list' | 'embedded' | 'description';

export function roleOut(r: RoleDoc, shape: RoleShape, opts: { maxSessionDurationSet?: boolean } = {}): Role {
  const out: Role = {
    Path: r.path,
    RoleName: r.name,
    RoleId: r.roleId,
    Arn: r.arn,
    CreateDate: new Date(r.createDate),
    AssumeRolePolicyDocument: encodePolicyDocument(r.assumeRolePolicy),
  };
  if (shape !== 'create' && r.description) out.Description = r.description;
  if (shape === 'get' || shape === 'list' || (shape === 'create' && opts.maxSessionDurationSet))
    out.MaxSessionDuration = r.maxSessionDuration;
  if (shape === 'create' || shape === 'get' || shape === 'description') {
    if (r.permissionsBoundary) out.PermissionsBoundary = boundaryOut(r.permissionsBoundary);
    const tags = tagsOut(r.tags);
    if (tags) out.Tags = tags;
  }
  return out;
}

/**
 * A permissions boundary as IAM writes it: PermissionsBoundaryType "Policy". (The API model's
 * enum and the API reference say "PermissionsBoundaryPolicy"; IAM answers "Policy": recorded in
 * localstack's test_iam_roles.snapshot.json and in aws/aws-cli#7641's get-role output.)
 */
export const boundaryOut = (arn: string) =>
  ({ PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: arn }) as unknown as NonNullable<Role['PermissionsBoundary']>;

/** RoleLastUsed as GetRole and GetAccountAuthorizationDetails give it (empty when never used). */
export const lastUsedOut = (r: RoleDoc): RoleLastUsed => (r.lastUsed ? { LastUsedDate: new Date(r.lastUsed) } : {});

function checkDescription(c: Checks, description: string | undefined): void {
  c.description(description, 'description', 1000);
}

/** A permissions boundary must be an existing managed policy ("Scope ARN … not attachable"). */
function checkBoundary(ctx: Ctx, arn: string | undefined): string | undefined {
  if (arn === undefined) return undefined;
  const a = checkPolicyArn(arn, 'permissionsBoundary');
  try {
    return getPolicy(ctx, a, 'permissionsBoundary').arn;
  } catch {
    throw noSuchEntity(`Scope ARN: ${a} does not exist or is not attachable.`);
  }
}

function editRole(ctx: Ctx, name: string | undefined): RoleDoc {
  return ctx.tx.edit<RoleDoc>(IAM_KIND.role, ctx.scope, getRole(ctx, name).id)!;
}

export const roleHandlers = {
  CreateRole(ctx: Ctx, i: CreateRoleRequest): CreateRoleResponse {
    const c = new Checks().name(i.RoleName, 'roleName', ROLE_NAME_MAX);
    checkDescription(c, i.Description);
    c.range(i.MaxSessionDuration, 'maxSessionDuration', SESSION_DURATION.min, SESSION_DURATION.max);
    c.done();
    const name = i.RoleName!;
    const path = checkPath(i.Path);
    const trust = checkPolicyDocument(i.AssumeRolePolicyDocument, 'trust', 'assumeRolePolicyDocument');
    checkTrustSize(trust);
    const tags = checkTags(i.Tags);
    const boundary = checkBoundary(ctx, i.PermissionsBoundary);
    if (findRole(ctx, name)) throw alreadyExists(`Role with name ${name} already exists.`);
    const r: RoleDoc = {
      id: idOf(name),
      name,
      roleId: uniqueId('AROA'),
      path,
      arn: iamArn(ctx, 'role', path, name),
      createDate: new Date(ctx.clock.now()).toISOString(),
      assumeRolePolicy: trust,
      maxSessionDuration: i.MaxSessionDuration ?? SESSION_DURATION.default,
      inlinePolicies: {},
      attachedPolicies: [],
      tags,
      ...(i.Description ? { description: i.Description } : {}),
      ...(boundary ? { permissionsBoundary: boundary } : {}),
    };
    ctx.tx.put(IAM_KIND.role, ctx.scope, r);
    return { Role: roleOut(r, 'create', { maxSessionDurationSet: i.MaxSessionDuration !== undefined }) };
  },

  GetRole(ctx: Ctx, i: GetRoleRequest): GetRoleResponse {
    const r = getRole(ctx, i.RoleName);
    return { Role: { ...roleOut(r, 'get'), RoleLastUsed: lastUsedOut(r) } };
  },

  DeleteRole(ctx: Ctx, i: DeleteRoleRequest): Empty {
    const r = getRole(ctx, i.RoleName);
    if (profilesWithRole(ctx, r).length) throw deleteConflict('Cannot delete entity, must remove roles from instance profile first.');
    if (Object.keys(r.inlinePolicies).length) throw deleteConflict('Cannot delete entity, must delete policies first.');
    if (r.attachedPolicies.length) throw deleteConflict('Cannot delete entity, must detach all policies first.');
    ctx.tx.delete(IAM_KIND.role, ctx.scope, r.id);
    return {};
  },

  ListRoles(ctx: Ctx, i: ListRolesRequest): ListRolesResponse {
    const prefix = checkPathPrefix(i.PathPrefix);
    const p = page(
      rolesOf(ctx).filter((r) => r.path.startsWith(prefix)),
      (r) => r.id,
      i.Marker,
      i.MaxItems,
    );
    return { Roles: p.items.map((r) => roleOut(r, 'list')), ...truncation(p) };
  },

  UpdateRole(ctx: Ctx, i: UpdateRoleRequest): UpdateRoleResponse {
    const c = new Checks().name(i.RoleName, 'roleName', ROLE_NAME_MAX);
    checkDescription(c, i.Description);
    c.range(i.MaxSessionDuration, 'maxSessionDuration', SESSION_DURATION.min, SESSION_DURATION.max);
    c.done();
    const r = editRole(ctx, i.RoleName);
    if (i.Description !== undefined) setDescription(r, i.Description);
    if (i.MaxSessionDuration !== undefined) r.maxSessionDuration = i.MaxSessionDuration;
    return {};
  },

  UpdateRoleDescription(ctx: Ctx, i: UpdateRoleDescriptionRequest): UpdateRoleDescriptionResponse {
    const c = new Checks().name(i.RoleName, 'roleName', ROLE_NAME_MAX);
    if (c.required(i.Description, 'description')) checkDescription(c, i.Description);
    c.done();
    const r = editRole(ctx, i.RoleName);
    setDescription(r, i.Description!);
    return { Role: roleOut(r, 'description') };
  },

  UpdateAssumeRolePolicy(ctx: Ctx, i: UpdateAssumeRolePolicyRequest): Empty {
    const name = checkName(i.RoleName, 'roleName', ROLE_NAME_MAX);
    const trust = checkPolicyDocument(i.PolicyDocument, 'trust', 'policyDocument');
    checkTrustSize(trust);
    const r = editRole(ctx, name);
    r.assumeRolePolicy = trust;
    return {};
  },

  PutRolePermissionsBoundary(ctx: Ctx, i: PutRolePermissionsBoundaryRequest): Empty {
    const role = getRole(ctx, i.RoleName);
    const c = new Checks();
    c.required(i.PermissionsBoundary, 'permissionsBoundary');
    c.done();
    const boundary = checkBoundary(ctx, i.PermissionsBoundary)!;
    ctx.tx.edit<RoleDoc>(IAM_KIND.role, ctx.scope, role.id)!.permissionsBoundary = boundary;
    return {};
  },

  DeleteRolePermissionsBoundary(ctx: Ctx, i: DeleteRolePermissionsBoundaryRequest): Empty {
    const r = editRole(ctx, i.RoleName);
    if (!r.permissionsBoundary) throw noSuchEntity(`The role with name ${r.name} does not have a permissions boundary.`);
    delete r.permissionsBoundary;
    return {};
  },

  TagRole(ctx: Ctx, i: TagRoleRequest): Empty {
    tagDoc(ctx, IAM_KIND.role, () => getRole(ctx, i.RoleName).id, i.Tags);
    return {};
  },

  UntagRole(ctx: Ctx, i: UntagRoleRequest): Empty {
    untagDoc(ctx, IAM_KIND.role, () => getRole(ctx, i.RoleName).id, i.TagKeys);
    return {};
  },

  ListRoleTags(ctx: Ctx, i: ListRoleTagsRequest): ListRoleTagsResponse {
    const p = listTags(getRole(ctx, i.RoleName).tags, i.Marker, i.MaxItems);
    return { Tags: p.items, ...truncation(p) };
  },
};

function setDescription(r: RoleDoc, description: string): void {
  if (description === '') delete r.description;
  else r.description = description;
}
