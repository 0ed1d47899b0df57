// Instance profiles: the containers EC2 launches with (one role each — a quota AWS does not
// raise), with their tags. GetInstanceProfile returns the contained role in full.
import type {
  AddRoleToInstanceProfileRequest,
  CreateInstanceProfileRequest,
  CreateInstanceProfileResponse,
  DeleteInstanceProfileRequest,
  GetInstanceProfileRequest,
  GetInstanceProfileResponse,
  InstanceProfile,
  ListInstanceProfileTagsRequest,
  ListInstanceProfileTagsResponse,
  ListInstanceProfilesForRoleRequest,
  ListInstanceProfilesForRoleResponse,
  ListInstanceProfilesRequest,
  ListInstanceProfilesResponse,
  RemoveRoleFromInstanceProfileRequest,
  TagInstanceProfileRequest,
  UntagInstanceProfileRequest,
} from '@aws-sdk/client-iam';
import type { Ctx } from '../../core/context.ts';
import { alreadyExists, deleteConflict, limitExceeded, noSuchEntity } from './errors.ts';
import { iamArn, uniqueId } from './ids.ts';
import { findRole, getProfile, getRole, idOf, PROFILE_NAME_MAX, profilesOf, profilesWithRole } from './lookups.ts';
import { IAM_KIND, type InstanceProfileDoc, type RoleDoc } from '../../core/documents/iam.ts';
import { truncation, type Empty } from './output.ts';
import { page } from './paging.ts';
import { roleOut } from './roles.ts';
import { checkTags, listTags, tagDoc, tagsOut, untagDoc } from './tags.ts';
import { Checks, checkPath, checkPathPrefix } from './validate.ts';

const ROLES_PER_PROFILE = 1;

/**
 * An instance profile as IAM returns it (recorded: localstack test_iam_instance_profiles.snapshot.json):
 * `get` (GetInstanceProfile) always has Tags, `[]` when there are none; `create` has them only when
 * the request gave some; lists (ListInstanceProfiles, ListInstanceProfilesForRole) never. Its Roles
 * are in their embedded shape (no MaxSessionDuration).
 */
export function profileOut(ctx: Ctx, p: InstanceProfileDoc, shape: 'create' | 'get' | 'list'): InstanceProfile {
  const roles = p.roles.map((n) => findRole(ctx, n)).filter((r): r is RoleDoc => r !== undefined);
  const out: InstanceProfile = {
    Path: p.path,
    InstanceProfileName: p.name,
    InstanceProfileId: p.profileId,
    Arn: p.arn,
    CreateDate: new Date(p.createDate),
    Roles: roles.map((r) => roleOut(r, 'embedded')),
  };
  if (shape === 'get') out.Tags = tagsOut(p.tags) ?? [];
  else if (shape === 'create' && p.tags.length) out.Tags = tagsOut(p.tags);
  return out;
}

function editProfile(ctx: Ctx, name: string | undefined): InstanceProfileDoc {
  return ctx.tx.edit<InstanceProfileDoc>(IAM_KIND.instanceProfile, ctx.scope, getProfile(ctx, name).id)!;
}

export const instanceProfileHandlers = {
  CreateInstanceProfile(ctx: Ctx, i: CreateInstanceProfileRequest): CreateInstanceProfileResponse {
    new Checks().name(i.InstanceProfileName, 'instanceProfileName', PROFILE_NAME_MAX).done();
    const name = i.InstanceProfileName!;
    const path = checkPath(i.Path);
    const tags = checkTags(i.Tags);
    if (ctx.tx.get(IAM_KIND.instanceProfile, ctx.scope, idOf(name))) throw alreadyExists(`Instance Profile ${name} already exists.`);
    const p: InstanceProfileDoc = {
      id: idOf(name),
      name,
      profileId: uniqueId('AIPA'),
      path,
      arn: iamArn(ctx, 'instance-profile', path, name),
      createDate: new Date(ctx.clock.now()).toISOString(),
      roles: [],
      tags,
    };
    ctx.tx.put(IAM_KIND.instanceProfile, ctx.scope, p);
    return { InstanceProfile: profileOut(ctx, p, 'create') };
  },

  GetInstanceProfile(ctx: Ctx, i: GetInstanceProfileRequest): GetInstanceProfileResponse {
    return { InstanceProfile: profileOut(ctx, getProfile(ctx, i.InstanceProfileName), 'get') };
  },

  DeleteInstanceProfile(ctx: Ctx, i: DeleteInstanceProfileRequest): Empty {
    const p = getProfile(ctx, i.InstanceProfileName);
    if (p.roles.length) throw deleteConflict('Cannot delete entity, must remove roles from instance profile first.');
    ctx.tx.delete(IAM_KIND.instanceProfile, ctx.scope, p.id);
    return {};
  },

  ListInstanceProfiles(ctx: Ctx, i: ListInstanceProfilesRequest): ListInstanceProfilesResponse {
    const prefix = checkPathPrefix(i.PathPrefix);
    const p = page(
      profilesOf(ctx).filter((x) => x.path.startsWith(prefix)),
      (x) => x.id,
      i.Marker,
      i.MaxItems,
    );
    return { InstanceProfiles: p.items.map((x) => profileOut(ctx, x, 'list')), ...truncation(p) };
  },

  AddRoleToInstanceProfile(ctx: Ctx, i: AddRoleToInstanceProfileRequest): Empty {
    const p = editProfile(ctx, i.InstanceProfileName);
    const role = getRole(ctx, i.RoleName);
    if (p.roles.length >= ROLES_PER_PROFILE)
      throw limitExceeded(`Cannot exceed quota for InstanceSessionsPerInstanceProfile: ${ROLES_PER_PROFILE}`);
    p.roles.push(role.name);
    return {};
  },

  RemoveRoleFromInstanceProfile(ctx: Ctx, i: RemoveRoleFromInstanceProfileRequest): Empty {
    const p = editProfile(ctx, i.InstanceProfileName);
    const role = getRole(ctx, i.RoleName);
    if (!p.roles.some((n) => idOf(n) === role.id)) throw noSuchEntity(`Role ${role.name} in Instance Profile ${p.name} cannot be found.`);
    p.roles = p.roles.filter((n) => idOf(n) !== role.id);
    return {};
  },

  ListInstanceProfilesForRole(ctx: Ctx, i: ListInstanceProfilesForRoleRequest): ListInstanceProfilesForRoleResponse {
    const role = getRole(ctx, i.RoleName);
    const p = page(profilesWithRole(ctx, role), (x) => x.id, i.Marker, i.MaxItems);
    return { InstanceProfiles: p.items.map((x) => profileOut(ctx, x, 'list')), ...truncation(p) };
  },

  TagInstanceProfile(ctx: Ctx, i: TagInstanceProfileRequest): Empty {
    tagDoc(ctx, IAM_KIND.instanceProfile, () => getProfile(ctx, i.InstanceProfileName).id, i.Tags);
    return {};
  },

  UntagInstanceProfile(ctx: Ctx, i: UntagInstanceProfileRequest): Empty {
    untagDoc(ctx, IAM_KIND.instanceProfile, () => getProfile(ctx, i.InstanceProfileName).id, i.TagKeys);
    return {};
  },

  ListInstanceProfileTags(ctx: Ctx, i: ListInstanceProfileTagsRequest): ListInstanceProfileTagsResponse {
    const p = listTags(getProfile(ctx, i.InstanceProfileName).tags, i.Marker, i.MaxItems);
    return { Tags: p.items, ...truncation(p) };
  },
};
