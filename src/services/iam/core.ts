// IAM essentials: roles, instance profiles, inline and managed policies, users and access
// keys — what instances, STS and `--auth enforce` build on.
import type { Ctx } from '../../gateway/context.ts';
import { ApiError } from '../../gateway/errors.ts';
import { randomKeyId, randomSecret } from '../../auth/credentials.ts';
import { parsePolicy } from '../../auth/policy.ts';
import { GLOBAL, IAM_KIND, type AccessKeyDoc, type InstanceProfileDoc, type ManagedPolicyDoc, type RoleDoc, type UserDoc } from './model.ts';

const noSuch = (m: string) => new ApiError('NoSuchEntity', m, 404);
const exists = (m: string) => new ApiError('EntityAlreadyExists', m, 409);
const conflict = (m: string) => new ApiError('DeleteConflict', m, 409);
const limit = (m: string) => new ApiError('LimitExceeded', m, 409);
const validation = (m: string) => new ApiError('ValidationError', m, 400);
const malformed = (m: string) => new ApiError('MalformedPolicyDocument', m, 400);

const NAME = /^[\w+=,.@-]+$/;
function checkName(v: unknown, field: string, max: number): string {
  const s = String(v ?? '');
  if (s.length < 1 || s.length > max) throw validation(`1 validation error detected: Value '${s}' at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
  if (!NAME.test(s)) throw validation(`1 validation error detected: Value '${s}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`);
  return s;
}
function checkPath(p: string | undefined): string {
  const path = p ?? '/';
  if (!/^(\/|\/[\u0021-\u007E]+\/)$/.test(path) || path.length > 512) throw validation(`The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.`);
  return path;
}

/** IAM JSON policy grammar (MalformedPolicyDocument on violations). */
export function validatePolicyDocument(text: string | undefined, kind: 'identity' | 'trust'): string {
  if (!text) throw malformed('Syntax errors in policy.');
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('Syntax errors in policy.');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw malformed('Syntax errors in policy.');
  for (const k of Object.keys(doc)) if (!['Version', 'Id', 'Statement'].includes(k)) throw malformed('Syntax errors in policy.');
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') throw malformed('The policy failed legacy parsing');
  const st = doc.Statement;
  const list = Array.isArray(st) ? st : st && typeof st === 'object' ? [st] : undefined;
  if (!list || list.length === 0) throw malformed('Missing required field Statement');
  for (const s of list as Record<string, unknown>[]) {
    if (!s || typeof s !== 'object') throw malformed('Syntax errors in policy.');
    for (const k of Object.keys(s)) if (!['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Principal', 'NotPrincipal', 'Condition'].includes(k)) throw malformed('Syntax errors in policy.');
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw malformed(s.Effect === undefined ? 'Missing required field Effect' : 'Invalid effect: ' + String(s.Effect));
    if ((s.Action === undefined) === (s.NotAction === undefined)) throw malformed('Missing required field Action');
    if (kind === 'identity') {
      if (s.Principal !== undefined || s.NotPrincipal !== undefined) throw malformed('Policy document should not specify a principal.');
      if (s.Resource === undefined && s.NotResource === undefined) throw malformed('Missing required field Resource');
    } else {
      if (s.Principal === undefined && s.NotPrincipal === undefined) throw malformed('Missing required field Principal');
      if (s.Resource !== undefined || s.NotResource !== undefined) throw malformed('Has prohibited field Resource');
    }
    if (s.Condition !== undefined && (typeof s.Condition !== 'object' || Array.isArray(s.Condition))) throw malformed('Syntax errors in policy.');
  }
  try {
    parsePolicy(text);
  } catch (e) {
    throw malformed((e as Error).message);
  }
  return text;
}

const now = (ctx: Ctx) => new Date(ctx.clock.now());
const iso = (ctx: Ctx) => now(ctx).toISOString();
const arnIam = (ctx: Ctx, type: string, path: string, name: string) => `arn:${ctx.partition}:iam::${ctx.account}:${type}${path}${name}`;

export function getRole(ctx: Ctx, name: string | undefined): RoleDoc {
  const r = ctx.tx.get<RoleDoc>(IAM_KIND.role, ctx.scope, String(name ?? '').toLowerCase());
  if (!r) throw noSuch(`The role with name ${name} cannot be found.`);
  return r;
}
function getUser(ctx: Ctx, name: string | undefined): UserDoc {
  const u = ctx.tx.get<UserDoc>(IAM_KIND.user, ctx.scope, String(name ?? '').toLowerCase());
  if (!u) throw noSuch(`The user with name ${name} cannot be found.`);
  return u;
}
function getProfile(ctx: Ctx, name: string | undefined): InstanceProfileDoc {
  const p = ctx.tx.get<InstanceProfileDoc>(IAM_KIND.instanceProfile, ctx.scope, String(name ?? '').toLowerCase());
  if (!p) throw noSuch(`Instance Profile ${name} cannot be found.`);
  return p;
}

/** AWS-managed policies every account can attach. */
const AWS_MANAGED: Record<string, object> = {
  AdministratorAccess: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  ReadOnlyAccess: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ec2:Describe*', 'ec2:Get*', 'iam:Get*', 'iam:List*', 'sts:GetCallerIdentity', 'cloudtrail:LookupEvents', 'logs:Describe*', 'logs:Get*', 'logs:FilterLogEvents', 's3:Get*', 's3:List*'], Resource: '*' }] },
  AmazonEC2FullAccess: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }, { Effect: 'Allow', Action: 'iam:CreateServiceLinkedRole', Resource: '*' }] },
  AmazonEC2ReadOnlyAccess: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }] },
  IAMReadOnlyAccess: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['iam:GenerateCredentialReport', 'iam:Get*', 'iam:List*'], Resource: '*' }] },
  AmazonSSMManagedInstanceCore: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ssm:DescribeAssociation', 'ssm:GetDocument', 'ssm:UpdateInstanceInformation', 'ssmmessages:*', 'ec2messages:*'], Resource: '*' }] },
};

export function awsManagedPolicy(partition: string, arn: string): ManagedPolicyDoc | undefined {
  const m = new RegExp(`^arn:${partition}:iam::aws:policy/(.+)$`).exec(arn);
  const name = m?.[1]?.split('/').pop();
  if (!name || !AWS_MANAGED[name]) return undefined;
  return {
    id: arn, name, policyId: `ANPA${name.toUpperCase().replace(/[^A-Z0-9]/g, '').padEnd(17, 'X').slice(0, 17)}`, path: '/', arn,
    createDate: '2015-02-06T18:39:46Z', updateDate: '2015-02-06T18:39:46Z', defaultVersionId: 'v1',
    versions: [{ versionId: 'v1', document: JSON.stringify(AWS_MANAGED[name]), createDate: '2015-02-06T18:39:46Z' }], nextVersion: 2, tags: [],
  };
}

export function findPolicy(ctx: Ctx, arn: string | undefined): ManagedPolicyDoc {
  const p = arn ? ctx.tx.get<ManagedPolicyDoc>(IAM_KIND.policy, ctx.scope, arn) ?? awsManagedPolicy(ctx.partition, arn) : undefined;
  if (!p) throw noSuch(`Policy ${arn} does not exist or is not attachable.`);
  return p;
}

const toRole = (r: RoleDoc) => ({
  Path: r.path, RoleName: r.name, RoleId: r.roleId, Arn: r.arn, CreateDate: new Date(r.createDate),
  AssumeRolePolicyDocument: encodeURIComponent(r.assumeRolePolicy), Description: r.description, MaxSessionDuration: r.maxSessionDuration,
  ...(r.permissionsBoundary ? { PermissionsBoundary: { PermissionsBoundaryType: 'Policy' as const, PermissionsBoundaryArn: r.permissionsBoundary } } : {}),
  Tags: r.tags.length ? r.tags : undefined,
});
const toProfile = (ctx: Ctx, p: InstanceProfileDoc) => ({
  Path: p.path, InstanceProfileName: p.name, InstanceProfileId: p.profileId, Arn: p.arn, CreateDate: new Date(p.createDate),
  Roles: p.roles.map((n) => ctx.tx.get<RoleDoc>(IAM_KIND.role, ctx.scope, n.toLowerCase())).filter((r): r is RoleDoc => !!r).map(toRole),
  Tags: p.tags.length ? p.tags : undefined,
});
const toUser = (u: UserDoc) => ({ Path: u.path, UserName: u.name, UserId: u.userId, Arn: u.arn, CreateDate: new Date(u.createDate), Tags: u.tags.length ? u.tags : undefined });
const toPolicy = (p: ManagedPolicyDoc, attachments: number) => ({
  PolicyName: p.name, PolicyId: p.policyId, Arn: p.arn, Path: p.path, DefaultVersionId: p.defaultVersionId, AttachmentCount: attachments,
  PermissionsBoundaryUsageCount: 0, IsAttachable: true, Description: p.description, CreateDate: new Date(p.createDate), UpdateDate: new Date(p.updateDate),
  Tags: p.tags.length ? p.tags : undefined,
});

/** Marker/MaxItems paging as IAM does it. */
function page<T>(items: T[], marker: string | undefined, maxItems: number | undefined): { items: T[]; IsTruncated: boolean; Marker?: string } {
  const max = maxItems ?? 100;
  if (max < 1 || max > 1000) throw validation(`1 validation error detected: Value '${max}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`);
  const start = marker ? Number(Buffer.from(marker, 'base64url').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) throw new ApiError('InvalidInput', 'Invalid Marker', 400);
  const slice = items.slice(start, start + max);
  const more = start + max < items.length;
  return { items: slice, IsTruncated: more, ...(more ? { Marker: Buffer.from(String(start + max)).toString('base64url') } : {}) };
}

function attachments(ctx: Ctx, arn: string): number {
  return ctx.tx.all<RoleDoc>(IAM_KIND.role, ctx.scope).filter((r) => r.attachedPolicies.includes(arn)).length
    + ctx.tx.all<UserDoc>(IAM_KIND.user, ctx.scope).filter((u) => u.attachedPolicies.includes(arn)).length;
}

type In = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const iamCoreHandlers = {
  CreateRole(ctx: Ctx, i: In) {
    const name = checkName(i.RoleName, 'roleName', 64);
    const path = checkPath(i.Path);
    if (ctx.tx.get(IAM_KIND.role, ctx.scope, name.toLowerCase())) throw exists(`Role with name ${name} already exists.`);
    const max = i.MaxSessionDuration ?? 3600;
    if (max < 3600 || max > 43200) throw validation(`1 validation error detected: Value '${max}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200`);
    if (i.PermissionsBoundary) findPolicy(ctx, i.PermissionsBoundary);
    const r: RoleDoc = {
      id: name.toLowerCase(), name, roleId: randomKeyId('AROA').slice(0, 21), path, arn: arnIam(ctx, 'role', path, name), createDate: iso(ctx),
      assumeRolePolicy: validatePolicyDocument(i.AssumeRolePolicyDocument, 'trust'), description: i.Description, maxSessionDuration: max,
      permissionsBoundary: i.PermissionsBoundary, inlinePolicies: {}, attachedPolicies: [], tags: i.Tags ?? [],
    };
    ctx.tx.put(IAM_KIND.role, ctx.scope, r);
    return { Role: toRole(r) };
  },
  GetRole: (ctx: Ctx, i: In) => ({ Role: toRole(getRole(ctx, i.RoleName)) }),
  ListRoles(ctx: Ctx, i: In) {
    const roles = ctx.tx.all<RoleDoc>(IAM_KIND.role, ctx.scope).filter((r) => r.path.startsWith(i.PathPrefix ?? '/'));
    const p = page(roles, i.Marker, i.MaxItems);
    return { Roles: p.items.map(toRole), IsTruncated: p.IsTruncated, Marker: p.Marker };
  },
  DeleteRole(ctx: Ctx, i: In) {
    const r = getRole(ctx, i.RoleName);
    if (ctx.tx.all<InstanceProfileDoc>(IAM_KIND.instanceProfile, ctx.scope).some((p) => p.roles.some((n) => n.toLowerCase() === r.id))) throw conflict('Cannot delete entity, must remove roles from instance profile first.');
    if (Object.keys(r.inlinePolicies).length) throw conflict('Cannot delete entity, must delete policies first.');
    if (r.attachedPolicies.length) throw conflict('Cannot delete entity, must detach all policies first.');
    ctx.tx.delete(IAM_KIND.role, ctx.scope, r.id);
    return {};
  },
  UpdateRole(ctx: Ctx, i: In) {
    const r = ctx.tx.edit<RoleDoc>(IAM_KIND.role, ctx.scope, getRole(ctx, i.RoleName).id)!;
    if (i.Description !== undefined) r.description = i.Description;
    if (i.MaxSessionDuration !== undefined) {
      if (i.MaxSessionDuration < 3600 || i.MaxSessionDuration > 43200) throw validation(`1 validation error detected: Value '${i.MaxSessionDuration}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200`);
      r.maxSessionDuration = i.MaxSessionDuration;
    }
    return {};
  },
  UpdateAssumeRolePolicy(ctx: Ctx, i: In) {
    const r = ctx.tx.edit<RoleDoc>(IAM_KIND.role, ctx.scope, getRole(ctx, i.RoleName).id)!;
    r.assumeRolePolicy = validatePolicyDocument(i.PolicyDocument, 'trust');
    return {};
  },
  PutRolePolicy(ctx: Ctx, i: In) {
    const r = ctx.tx.edit<RoleDoc>(IAM_KIND.role, ctx.scope, getRole(ctx, i.RoleName).id)!;
    const name = checkName(i.PolicyName, 'policyName', 128);
    r.inlinePolicies[name] = validatePolicyDocument(i.PolicyDocument, 'identity');
    const size = Object.values(r.inlinePolicies).reduce((n, t) => n + t.replace(/\s/g, '').length, 0);
    if (size > 10240) throw limit('Maximum policy size of 10240 bytes exceeded for role ' + r.name);
    return {};
  },
  GetRolePolicy(ctx: Ctx, i: In) {
    const r = getRole(ctx, i.RoleName);
    const doc = r.inlinePolicies[i.PolicyName];
    if (doc === undefined) throw noSuch(`The role policy with name ${i.PolicyName} cannot be found.`);
    return { RoleName: r.name, PolicyName: i.PolicyName, PolicyDocument: encodeURIComponent(doc) };
  },
  DeleteRolePolicy(ctx: Ctx, i: In) {
    const r = ctx.tx.edit<RoleDoc>(IAM_KIND.role, ctx.scope, getRole(ctx, i.RoleName).id)!;
    if (r.inlinePolicies[i.PolicyName] === undefined) throw noSuch(`The role policy with name ${i.PolicyName} cannot be found.`);
    delete r.inlinePolicies[i.PolicyName];
    return {};
  },
  ListRolePolicies(ctx: Ctx, i: In) {
    const p = page(Object.keys(getRole(ctx, i.RoleName).inlinePolicies), i.Marker, i.MaxItems);
    return { PolicyNames: p.items, IsTruncated: p.IsTruncated, Marker: p.Marker };
  },
  AttachRolePolicy(ctx: Ctx, i: In) {
    const p = findPolicy(ctx, i.PolicyArn);
    const r = ctx.tx.edit<RoleDoc>(IAM_KIND.role, ctx.scope, getRole(ctx, i.RoleName).id)!;
    if (!r.attachedPolicies.includes(p.arn)) {
      if (r.attachedPolicies.length >= 10) throw limit('Cannot exceed quota for PoliciesPerRole: 10');
      r.attachedPolicies.push(p.arn);
    }
    return {};
  },
  DetachRolePolicy(ctx: Ctx, i: In) {
    const r = ctx.tx.edit<RoleDoc>(IAM_KIND.role, ctx.scope, getRole(ctx, i.RoleName).id)!;
    if (!r.attachedPolicies.includes(i.PolicyArn)) throw noSuch(`Policy ${i.PolicyArn} was not found.`);
    r.attachedPolicies = r.attachedPolicies.filter((a) => a !== i.PolicyArn);
    return {};
  },
  ListAttachedRolePolicies(ctx: Ctx, i: In) {
    const r = getRole(ctx, i.RoleName);
    const p = page(r.attachedPolicies.map((arn) => findPolicy(ctx, arn)).filter((x) => x.path.startsWith(i.PathPrefix ?? '/')), i.Marker, i.MaxItems);
    return { AttachedPolicies: p.items.map((x) => ({ PolicyName: x.name, PolicyArn: x.arn })), IsTruncated: p.IsTruncated, Marker: p.Marker };
  },
  CreatePolicy(ctx: Ctx, i: In) {
    const name = checkName(i.PolicyName, 'policyName', 128);
    const path = checkPath(i.Path);
    const arn = arnIam(ctx, 'policy', path, name);
    if (ctx.tx.get(IAM_KIND.policy, ctx.scope, arn)) throw exists(`A policy called ${name} already exists. Duplicate names are not allowed.`);
    const doc = validatePolicyDocument(i.PolicyDocument, 'identity');
    if (doc.replace(/\s/g, '').length > 6144) throw limit('Cannot exceed quota for PolicySize: 6144');
    const p: ManagedPolicyDoc = {
      id: arn, name, policyId: randomKeyId('ANPA').slice(0, 21), path, arn, description: i.Description, createDate: iso(ctx), updateDate: iso(ctx),
      defaultVersionId: 'v1', versions: [{ versionId: 'v1', document: doc, createDate: iso(ctx) }], nextVersion: 2, tags: i.Tags ?? [],
    };
    ctx.tx.put(IAM_KIND.policy, ctx.scope, p);
    return { Policy: toPolicy(p, 0) };
  },
  GetPolicy: (ctx: Ctx, i: In) => {
    const p = findPolicy(ctx, i.PolicyArn);
    return { Policy: toPolicy(p, attachments(ctx, p.arn)) };
  },
  DeletePolicy(ctx: Ctx, i: In) {
    const p = findPolicy(ctx, i.PolicyArn);
    if (!ctx.tx.get(IAM_KIND.policy, ctx.scope, p.arn)) throw new ApiError('InvalidInput', 'AWS managed policies cannot be deleted.', 400);
    if (attachments(ctx, p.arn)) throw conflict('Cannot delete a policy attached to entities.');
    if (p.versions.length > 1) throw conflict('This policy has more than one version. Before you delete a policy, you must delete the policy\'s versions. The default version is deleted with the policy.');
    ctx.tx.delete(IAM_KIND.policy, ctx.scope, p.arn);
    return {};
  },
  ListPolicies(ctx: Ctx, i: In) {
    const scope = i.Scope ?? 'All';
    const local = scope === 'AWS' ? [] : ctx.tx.all<ManagedPolicyDoc>(IAM_KIND.policy, ctx.scope);
    const aws = scope === 'Local' ? [] : Object.keys(AWS_MANAGED).map((n) => awsManagedPolicy(ctx.partition, `arn:${ctx.partition}:iam::aws:policy/${n}`)!);
    let all = [...aws, ...local].filter((p) => p.path.startsWith(i.PathPrefix ?? '/'));
    if (i.OnlyAttached) all = all.filter((p) => attachments(ctx, p.arn) > 0);
    const p = page(all, i.Marker, i.MaxItems);
    return { Policies: p.items.map((x) => toPolicy(x, attachments(ctx, x.arn))), IsTruncated: p.IsTruncated, Marker: p.Marker };
  },
  CreatePolicyVersion(ctx: Ctx, i: In) {
    const base = findPolicy(ctx, i.PolicyArn);
    const p = ctx.tx.edit<ManagedPolicyDoc>(IAM_KIND.policy, ctx.scope, base.arn);
    if (!p) throw new ApiError('InvalidInput', 'AWS managed policies cannot be modified.', 400);
    if (p.versions.length >= 5) throw limit('A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.');
    const v = { versionId: `v${p.nextVersion++}`, document: validatePolicyDocument(i.PolicyDocument, 'identity'), createDate: iso(ctx) };
    p.versions.push(v);
    if (i.SetAsDefault) p.defaultVersionId = v.versionId;
    p.updateDate = iso(ctx);
    return { PolicyVersion: { VersionId: v.versionId, IsDefaultVersion: p.defaultVersionId === v.versionId, CreateDate: new Date(v.createDate) } };
  },
  GetPolicyVersion(ctx: Ctx, i: In) {
    const p = findPolicy(ctx, i.PolicyArn);
    const v = p.versions.find((x) => x.versionId === i.VersionId);
    if (!v) throw noSuch(`Policy ${p.arn} version ${i.VersionId} does not exist or is not attachable.`);
    return { PolicyVersion: { Document: encodeURIComponent(v.document), VersionId: v.versionId, IsDefaultVersion: v.versionId === p.defaultVersionId, CreateDate: new Date(v.createDate) } };
  },
  ListPolicyVersions(ctx: Ctx, i: In) {
    const p = findPolicy(ctx, i.PolicyArn);
    return { Versions: p.versions.map((v) => ({ VersionId: v.versionId, IsDefaultVersion: v.versionId === p.defaultVersionId, CreateDate: new Date(v.createDate) })), IsTruncated: false };
  },
  DeletePolicyVersion(ctx: Ctx, i: In) {
    const p = ctx.tx.edit<ManagedPolicyDoc>(IAM_KIND.policy, ctx.scope, findPolicy(ctx, i.PolicyArn).arn);
    if (!p) throw new ApiError('InvalidInput', 'AWS managed policies cannot be modified.', 400);
    if (i.VersionId === p.defaultVersionId) throw conflict('Cannot delete the default version of a policy.');
    if (!p.versions.some((v) => v.versionId === i.VersionId)) throw noSuch(`Policy ${p.arn} version ${i.VersionId} does not exist.`);
    p.versions = p.versions.filter((v) => v.versionId !== i.VersionId);
    return {};
  },
  SetDefaultPolicyVersion(ctx: Ctx, i: In) {
    const p = ctx.tx.edit<ManagedPolicyDoc>(IAM_KIND.policy, ctx.scope, findPolicy(ctx, i.PolicyArn).arn);
    if (!p) throw new ApiError('InvalidInput', 'AWS managed policies cannot be modified.', 400);
    if (!p.versions.some((v) => v.versionId === i.VersionId)) throw noSuch(`Policy ${p.arn} version ${i.VersionId} does not exist.`);
    p.defaultVersionId = i.VersionId;
    return {};
  },
  CreateInstanceProfile(ctx: Ctx, i: In) {
    const name = checkName(i.InstanceProfileName, 'instanceProfileName', 128);
    const path = checkPath(i.Path);
    if (ctx.tx.get(IAM_KIND.instanceProfile, ctx.scope, name.toLowerCase())) throw exists(`Instance Profile ${name} already exists.`);
    const p: InstanceProfileDoc = { id: name.toLowerCase(), name, profileId: randomKeyId('AIPA').slice(0, 21), path, arn: arnIam(ctx, 'instance-profile', path, name), createDate: iso(ctx), roles: [], tags: i.Tags ?? [] };
    ctx.tx.put(IAM_KIND.instanceProfile, ctx.scope, p);
    return { InstanceProfile: toProfile(ctx, p) };
  },
  GetInstanceProfile: (ctx: Ctx, i: In) => ({ InstanceProfile: toProfile(ctx, getProfile(ctx, i.InstanceProfileName)) }),
  DeleteInstanceProfile(ctx: Ctx, i: In) {
    const p = getProfile(ctx, i.InstanceProfileName);
    if (p.roles.length) throw conflict('Cannot delete entity, must remove roles from instance profile first.');
    ctx.tx.delete(IAM_KIND.instanceProfile, ctx.scope, p.id);
    return {};
  },
  ListInstanceProfiles(ctx: Ctx, i: In) {
    const p = page(ctx.tx.all<InstanceProfileDoc>(IAM_KIND.instanceProfile, ctx.scope).filter((x) => x.path.startsWith(i.PathPrefix ?? '/')), i.Marker, i.MaxItems);
    return { InstanceProfiles: p.items.map((x) => toProfile(ctx, x)), IsTruncated: p.IsTruncated, Marker: p.Marker };
  },
  AddRoleToInstanceProfile(ctx: Ctx, i: In) {
    const role = getRole(ctx, i.RoleName);
    const p = ctx.tx.edit<InstanceProfileDoc>(IAM_KIND.instanceProfile, ctx.scope, getProfile(ctx, i.InstanceProfileName).id)!;
    if (p.roles.some((n) => n.toLowerCase() === role.id)) throw exists(`The role with name ${role.name} already exists in instance profile ${p.name}.`);
    if (p.roles.length >= 1) throw limit('Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1');
    p.roles.push(role.name);
    return {};
  },
  RemoveRoleFromInstanceProfile(ctx: Ctx, i: In) {
    const role = getRole(ctx, i.RoleName);
    const p = ctx.tx.edit<InstanceProfileDoc>(IAM_KIND.instanceProfile, ctx.scope, getProfile(ctx, i.InstanceProfileName).id)!;
    if (!p.roles.some((n) => n.toLowerCase() === role.id)) throw noSuch(`The role with name ${role.name} cannot be found in instance profile ${p.name}.`);
    p.roles = p.roles.filter((n) => n.toLowerCase() !== role.id);
    return {};
  },
  ListInstanceProfilesForRole(ctx: Ctx, i: In) {
    const role = getRole(ctx, i.RoleName);
    const p = page(ctx.tx.all<InstanceProfileDoc>(IAM_KIND.instanceProfile, ctx.scope).filter((x) => x.roles.some((n) => n.toLowerCase() === role.id)), i.Marker, i.MaxItems);
    return { InstanceProfiles: p.items.map((x) => toProfile(ctx, x)), IsTruncated: p.IsTruncated, Marker: p.Marker };
  },
  CreateUser(ctx: Ctx, i: In) {
    const name = checkName(i.UserName, 'userName', 64);
    const path = checkPath(i.Path);
    if (ctx.tx.get(IAM_KIND.user, ctx.scope, name.toLowerCase())) throw exists(`User with name ${name} already exists.`);
    const u: UserDoc = { id: name.toLowerCase(), name, userId: randomKeyId('AIDA').slice(0, 21), path, arn: arnIam(ctx, 'user', path, name), createDate: iso(ctx), inlinePolicies: {}, attachedPolicies: [], tags: i.Tags ?? [], permissionsBoundary: i.PermissionsBoundary };
    ctx.tx.put(IAM_KIND.user, ctx.scope, u);
    return { User: toUser(u) };
  },
  GetUser(ctx: Ctx, i: In) {
    if (i.UserName === undefined) {
      const p = ctx.principal;
      if (p.type === 'IAMUser') return { User: toUser(getUser(ctx, p.userName)) };
      if (p.type === 'Root') return { User: { UserId: p.account, Arn: p.arn, CreateDate: new Date(0), Path: '/', UserName: undefined as never } };
      throw validation('Must specify userName when calling with non-User credentials');
    }
    return { User: toUser(getUser(ctx, i.UserName)) };
  },
  ListUsers(ctx: Ctx, i: In) {
    const p = page(ctx.tx.all<UserDoc>(IAM_KIND.user, ctx.scope).filter((u) => u.path.startsWith(i.PathPrefix ?? '/')), i.Marker, i.MaxItems);
    return { Users: p.items.map(toUser), IsTruncated: p.IsTruncated, Marker: p.Marker };
  },
  DeleteUser(ctx: Ctx, i: In) {
    const u = getUser(ctx, i.UserName);
    const keys = ctx.tx.all<AccessKeyDoc>(IAM_KIND.accessKey, GLOBAL).filter((k) => k.account === ctx.account && k.userName.toLowerCase() === u.id);
    if (keys.length) throw conflict('Cannot delete entity, must delete access keys first.');
    if (Object.keys(u.inlinePolicies).length) throw conflict('Cannot delete entity, must delete policies first.');
    if (u.attachedPolicies.length) throw conflict('Cannot delete entity, must detach all policies first.');
    ctx.tx.delete(IAM_KIND.user, ctx.scope, u.id);
    return {};
  },
  PutUserPolicy(ctx: Ctx, i: In) {
    const u = ctx.tx.edit<UserDoc>(IAM_KIND.user, ctx.scope, getUser(ctx, i.UserName).id)!;
    u.inlinePolicies[checkName(i.PolicyName, 'policyName', 128)] = validatePolicyDocument(i.PolicyDocument, 'identity');
    return {};
  },
  GetUserPolicy(ctx: Ctx, i: In) {
    const u = getUser(ctx, i.UserName);
    const doc = u.inlinePolicies[i.PolicyName];
    if (doc === undefined) throw noSuch(`The user policy with name ${i.PolicyName} cannot be found.`);
    return { UserName: u.name, PolicyName: i.PolicyName, PolicyDocument: encodeURIComponent(doc) };
  },
  DeleteUserPolicy(ctx: Ctx, i: In) {
    const u = ctx.tx.edit<UserDoc>(IAM_KIND.user, ctx.scope, getUser(ctx, i.UserName).id)!;
    if (u.inlinePolicies[i.PolicyName] === undefined) throw noSuch(`The user policy with name ${i.PolicyName} cannot be found.`);
    delete u.inlinePolicies[i.PolicyName];
    return {};
  },
  ListUserPolicies(ctx: Ctx, i: In) {
    const p = page(Object.keys(getUser(ctx, i.UserName).inlinePolicies), i.Marker, i.MaxItems);
    return { PolicyNames: p.items, IsTruncated: p.IsTruncated, Marker: p.Marker };
  },
  AttachUserPolicy(ctx: Ctx, i: In) {
    const p = findPolicy(ctx, i.PolicyArn);
    const u = ctx.tx.edit<UserDoc>(IAM_KIND.user, ctx.scope, getUser(ctx, i.UserName).id)!;
    if (!u.attachedPolicies.includes(p.arn)) u.attachedPolicies.push(p.arn);
    return {};
  },
  DetachUserPolicy(ctx: Ctx, i: In) {
    const u = ctx.tx.edit<UserDoc>(IAM_KIND.user, ctx.scope, getUser(ctx, i.UserName).id)!;
    if (!u.attachedPolicies.includes(i.PolicyArn)) throw noSuch(`Policy ${i.PolicyArn} was not found.`);
    u.attachedPolicies = u.attachedPolicies.filter((a) => a !== i.PolicyArn);
    return {};
  },
  ListAttachedUserPolicies(ctx: Ctx, i: In) {
    const u = getUser(ctx, i.UserName);
    return { AttachedPolicies: u.attachedPolicies.map((arn) => ({ PolicyArn: arn, PolicyName: arn.split('/').pop() })), IsTruncated: false };
  },
  CreateAccessKey(ctx: Ctx, i: In) {
    const name = i.UserName ?? (ctx.principal.type === 'IAMUser' ? ctx.principal.userName : undefined);
    if (!name) throw validation('Must specify userName when calling with non-User credentials');
    const u = getUser(ctx, name);
    const mine = ctx.tx.all<AccessKeyDoc>(IAM_KIND.accessKey, GLOBAL).filter((k) => k.account === ctx.account && k.userName.toLowerCase() === u.id);
    if (mine.length >= 2) throw limit('Cannot exceed quota for AccessKeysPerUser: 2');
    const k: AccessKeyDoc = { id: randomKeyId('AKIA'), account: ctx.account, userName: u.name, secret: randomSecret(), status: 'Active', createDate: iso(ctx) };
    ctx.tx.put(IAM_KIND.accessKey, GLOBAL, k);
    return { AccessKey: { UserName: u.name, AccessKeyId: k.id, Status: k.status, SecretAccessKey: k.secret, CreateDate: new Date(k.createDate) } };
  },
  ListAccessKeys(ctx: Ctx, i: In) {
    const name = i.UserName ?? ctx.principal.userName;
    const u = getUser(ctx, name);
    const keys = ctx.tx.all<AccessKeyDoc>(IAM_KIND.accessKey, GLOBAL).filter((k) => k.account === ctx.account && k.userName.toLowerCase() === u.id);
    return { AccessKeyMetadata: keys.map((k) => ({ UserName: u.name, AccessKeyId: k.id, Status: k.status, CreateDate: new Date(k.createDate) })), IsTruncated: false };
  },
  DeleteAccessKey(ctx: Ctx, i: In) {
    const k = ctx.tx.get<AccessKeyDoc>(IAM_KIND.accessKey, GLOBAL, i.AccessKeyId);
    if (!k || k.account !== ctx.account) throw noSuch(`The Access Key with id ${i.AccessKeyId} cannot be found.`);
    ctx.tx.delete(IAM_KIND.accessKey, GLOBAL, k.id);
    return {};
  },
  UpdateAccessKey(ctx: Ctx, i: In) {
    const k = ctx.tx.edit<AccessKeyDoc>(IAM_KIND.accessKey, GLOBAL, i.AccessKeyId);
    if (!k || k.account !== ctx.account) throw noSuch(`The Access Key with id ${i.AccessKeyId} cannot be found.`);
    if (i.Status !== 'Active' && i.Status !== 'Inactive') throw validation(`Value '${i.Status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`);
    k.status = i.Status;
    return {};
  },
};
