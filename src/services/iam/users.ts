// IAM users: create/read/update/delete, tags and permissions boundary. GetUser without a name
// describes the caller (the key's user, or the account root).
import type {
  CreateUserRequest,
  CreateUserResponse,
  DeleteUserPermissionsBoundaryRequest,
  DeleteUserRequest,
  GetUserRequest,
  GetUserResponse,
  ListUserTagsRequest,
  ListUserTagsResponse,
  ListUsersRequest,
  ListUsersResponse,
  PutUserPermissionsBoundaryRequest,
  TagUserRequest,
  UntagUserRequest,
  UpdateUserRequest,
  User,
} from '@aws-sdk/client-iam';
import type { Ctx } from '../../core/context.ts';
import { alreadyExists, deleteConflict, noSuchEntity, validationError } from './errors.ts';
import { iamArn, uniqueId } from './ids.ts';
import { checkPolicyArn, getPolicy, getUser, idOf, USER_NAME_MAX, usersOf } from './lookups.ts';
import { GLOBAL, IAM_KIND, type AccessKeyDoc, type UserDoc } from '../../core/documents/iam.ts';
import { truncation, type Empty } from './output.ts';
import { page } from './paging.ts';
import { boundaryOut } from './roles.ts';
import { checkTags, listTags, tagDoc, tagsOut, untagDoc } from './tags.ts';
import { Checks, checkName, checkPath, checkPathPrefix } from './validate.ts';

/** When the root "user" of an account was created (no record of it exists in Palisade). */
const ROOT_CREATED = new Date('2020-01-01T00:00:00Z');

export const nonUserCaller = () => validationError('Must specify userName when calling with non-User credentials');

export function userOut(u: UserDoc, detail: 'full' | 'list' = 'full'): User {
  return {
    Path: u.path,
    UserName: u.name,
    UserId: u.userId,
    Arn: u.arn,
    CreateDate: new Date(u.createDate),
    ...(detail === 'full' && u.permissionsBoundary ? { PermissionsBoundary: boundaryOut(u.permissionsBoundary) } : {}),
    ...(detail === 'full' ? { Tags: tagsOut(u.tags) } : {}),
  };
}

/** The access keys of a user (kept in the GLOBAL scope so callers can be resolved from them). */
export function keysOf(ctx: Ctx, u: UserDoc): AccessKeyDoc[] {
  return ctx.tx.all<AccessKeyDoc>(IAM_KIND.accessKey, GLOBAL).filter((k) => k.account === ctx.account && idOf(k.userName) === u.id);
}

function boundary(ctx: Ctx, arn: string | undefined): string | undefined {
  if (arn === undefined) return undefined;
  const a = checkPolicyArn(arn, 'permissionsBoundary');
  try {
    return getPolicy(ctx, a, 'permissionsBoundary').arn;
  } catch {
    throw noSuchEntity(`Scope ARN: ${a} does not exist or is not attachable.`);
  }
}

function editUser(ctx: Ctx, name: string | undefined): UserDoc {
  return ctx.tx.edit<UserDoc>(IAM_KIND.user, ctx.scope, getUser(ctx, name).id)!;
}

export const userHandlers = {
  CreateUser(ctx: Ctx, i: CreateUserRequest): CreateUserResponse {
    const name = checkName(i.UserName, 'userName', USER_NAME_MAX);
    const path = checkPath(i.Path);
    const tags = checkTags(i.Tags);
    const pb = boundary(ctx, i.PermissionsBoundary);
    if (ctx.tx.get(IAM_KIND.user, ctx.scope, idOf(name))) throw alreadyExists(`User with name ${name} already exists.`);
    const u: UserDoc = {
      id: idOf(name),
      name,
      userId: uniqueId('AIDA'),
      path,
      arn: iamArn(ctx, 'user', path, name),
      createDate: new Date(ctx.clock.now()).toISOString(),
      inlinePolicies: {},
      attachedPolicies: [],
      tags,
      ...(pb ? { permissionsBoundary: pb } : {}),
    };
    ctx.tx.put(IAM_KIND.user, ctx.scope, u);
    return { User: userOut(u) };
  },

  GetUser(ctx: Ctx, i: GetUserRequest): GetUserResponse {
    if (i.UserName !== undefined) return { User: userOut(getUser(ctx, i.UserName)) };
    const p = ctx.principal;
    if (p.type === 'IAMUser' && p.userName) return { User: userOut(getUser(ctx, p.userName)) };
    if (p.type === 'Root') return { User: { UserId: p.account, Arn: p.arn, CreateDate: ROOT_CREATED } as User };
    throw nonUserCaller();
  },

  DeleteUser(ctx: Ctx, i: DeleteUserRequest): Empty {
    const u = getUser(ctx, i.UserName);
    if (keysOf(ctx, u).length) throw deleteConflict('Cannot delete entity, must delete access keys first.');
    if (Object.keys(u.inlinePolicies).length) throw deleteConflict('Cannot delete entity, must delete policies first.');
    if (u.attachedPolicies.length) throw deleteConflict('Cannot delete entity, must detach all policies first.');
    ctx.tx.delete(IAM_KIND.user, ctx.scope, u.id);
    return {};
  },

  ListUsers(ctx: Ctx, i: ListUsersRequest): ListUsersResponse {
    const prefix = checkPathPrefix(i.PathPrefix);
    const p = page(
      usersOf(ctx).filter((u) => u.path.startsWith(prefix)),
      (u) => u.id,
      i.Marker,
      i.MaxItems,
    );
    return { Users: p.items.map((u) => userOut(u, 'list')), ...truncation(p) };
  },

  /** Renames and/or moves a user; its keys, policies and tags follow. */
  UpdateUser(ctx: Ctx, i: UpdateUserRequest): Empty {
    const c = new Checks().name(i.UserName, 'userName', USER_NAME_MAX);
    if (i.NewUserName !== undefined) c.name(i.NewUserName, 'newUserName', USER_NAME_MAX);
    c.done();
    const u = getUser(ctx, i.UserName);
    const path = i.NewPath === undefined ? u.path : checkPath(i.NewPath, 'newPath');
    const name = i.NewUserName ?? u.name;
    if (idOf(name) !== u.id && ctx.tx.get(IAM_KIND.user, ctx.scope, idOf(name)))
      throw alreadyExists(`User with name ${name} already exists.`);
    const keys = keysOf(ctx, u);
    const moved: UserDoc = { ...structuredClone(u), id: idOf(name), name, path, arn: iamArn(ctx, 'user', path, name) };
    if (moved.id !== u.id) {
      ctx.tx.delete(IAM_KIND.user, ctx.scope, u.id);
      delete moved.seq;
      ctx.tx.put(IAM_KIND.user, ctx.scope, moved);
    } else {
      Object.assign(ctx.tx.edit<UserDoc>(IAM_KIND.user, ctx.scope, u.id)!, { name, path, arn: moved.arn });
    }
    for (const k of keys) ctx.tx.edit<AccessKeyDoc>(IAM_KIND.accessKey, GLOBAL, k.id)!.userName = name;
    return {};
  },

  PutUserPermissionsBoundary(ctx: Ctx, i: PutUserPermissionsBoundaryRequest): Empty {
    const u = getUser(ctx, i.UserName);
    const c = new Checks();
    c.required(i.PermissionsBoundary, 'permissionsBoundary');
    c.done();
    ctx.tx.edit<UserDoc>(IAM_KIND.user, ctx.scope, u.id)!.permissionsBoundary = boundary(ctx, i.PermissionsBoundary)!;
    return {};
  },

  DeleteUserPermissionsBoundary(ctx: Ctx, i: DeleteUserPermissionsBoundaryRequest): Empty {
    const u = editUser(ctx, i.UserName);
    if (!u.permissionsBoundary) throw noSuchEntity(`The user with name ${u.name} does not have a permissions boundary.`);
    delete u.permissionsBoundary;
    return {};
  },

  TagUser(ctx: Ctx, i: TagUserRequest): Empty {
    tagDoc(ctx, IAM_KIND.user, () => getUser(ctx, i.UserName).id, i.Tags);
    return {};
  },

  UntagUser(ctx: Ctx, i: UntagUserRequest): Empty {
    untagDoc(ctx, IAM_KIND.user, () => getUser(ctx, i.UserName).id, i.TagKeys);
    return {};
  },

  ListUserTags(ctx: Ctx, i: ListUserTagsRequest): ListUserTagsResponse {
    const p = listTags(getUser(ctx, i.UserName).tags, i.Marker, i.MaxItems);
    return { Tags: p.items, ...truncation(p) };
  },
};
