// Customer managed policies and their versions (at most 5; one is the default), alongside the
// AWS managed policies every account sees (read-only). The document id of a customer managed
// policy is its ARN (arn:PARTITION:iam::ACCOUNT:policy/PATH/NAME).
import type {
  CreatePolicyRequest,
  CreatePolicyResponse,
  CreatePolicyVersionRequest,
  CreatePolicyVersionResponse,
  DeletePolicyRequest,
  DeletePolicyVersionRequest,
  GetPolicyRequest,
  GetPolicyResponse,
  GetPolicyVersionRequest,
  GetPolicyVersionResponse,
  ListPoliciesRequest,
  ListPoliciesResponse,
  ListPolicyTagsRequest,
  ListPolicyTagsResponse,
  ListPolicyVersionsRequest,
  ListPolicyVersionsResponse,
  Policy,
  PolicyVersion as SdkPolicyVersion,
  SetDefaultPolicyVersionRequest,
  TagPolicyRequest,
  UntagPolicyRequest,
} from '@aws-sdk/client-iam';
import type { Ctx } from '../../core/context.ts';
import { awsManagedPolicies, awsManagedPolicy } from './aws-managed.ts';
import { alreadyExists, deleteConflict, invalidInput, limitExceeded, noSuchEntity } from './errors.ts';
import { iamArn, uniqueId } from './ids.ts';
import { attachmentCount, boundaryCount, checkPolicyArn, getPolicy, idOf, localPolicy, POLICY_NAME_MAX } from './lookups.ts';
import { IAM_KIND, type ManagedPolicyDoc, type PolicyVersion } from '../../core/documents/iam.ts';
import { truncation, type Empty } from './output.ts';
import { page } from './paging.ts';
import { checkManagedSize, checkPolicyDocument, encodePolicyDocument } from './policy-grammar.ts';
import { checkTags, listTags, tagDoc, tagsOut, untagDoc } from './tags.ts';
import { Checks, checkPath, checkPathPrefix } from './validate.ts';

const MAX_VERSIONS = 5;
const VERSION_ID = /^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$/;

/**
 * A managed policy as IAM returns it (moto's AWS-verified tests/test_iam/test_iam_response_attributes.py;
 * localstack's recorded create-policy answers): `create` (CreatePolicy) has no Description even when
 * one was given, and Tags only when some were; `get` (GetPolicy, GetAccountAuthorizationDetails)
 * has the Description if any and always Tags (`[]` when none); `list` (ListPolicies) neither.
 */
export function policyOut(ctx: Ctx, p: ManagedPolicyDoc, shape: 'create' | 'get' | 'list'): Policy {
  const out: Policy = {
    PolicyName: p.name,
    PolicyId: p.policyId,
    Arn: p.arn,
    Path: p.path,
    DefaultVersionId: p.defaultVersionId,
    AttachmentCount: attachmentCount(ctx, p.arn),
    PermissionsBoundaryUsageCount: boundaryCount(ctx, p.arn),
    IsAttachable: true,
    ...(shape === 'get' && p.description ? { Description: p.description } : {}),
    CreateDate: new Date(p.createDate),
    UpdateDate: new Date(p.updateDate),
  };
  if (shape === 'get') out.Tags = tagsOut(p.tags) ?? [];
  else if (shape === 'create' && p.tags.length) out.Tags = tagsOut(p.tags);
  return out;
}

export function versionOut(p: ManagedPolicyDoc, v: PolicyVersion, withDocument: boolean): SdkPolicyVersion {
  return {
    ...(withDocument ? { Document: encodePolicyDocument(v.document) } : {}),
    VersionId: v.versionId,
    IsDefaultVersion: v.versionId === p.defaultVersionId,
    CreateDate: new Date(v.createDate),
  };
}

/** A customer managed policy, staged for change; AWS managed policies cannot be changed. */
function editable(ctx: Ctx, arn: string | undefined): ManagedPolicyDoc {
  const p = getPolicy(ctx, arn);
  const d = ctx.tx.edit<ManagedPolicyDoc>(IAM_KIND.policy, ctx.scope, p.arn);
  if (!d) throw invalidInput(`Policy ${p.arn} is an AWS managed policy and cannot be modified.`);
  return d;
}

function checkVersionId(versionId: string | undefined): string {
  const c = new Checks();
  if (c.required(versionId, 'versionId')) c.pattern(versionId, 'versionId', VERSION_ID, 'v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?');
  c.done();
  return versionId!;
}

function findVersion(p: ManagedPolicyDoc, versionId: string): PolicyVersion {
  const v = p.versions.find((x) => x.versionId === versionId);
  if (!v) throw noSuchEntity(`Policy ${p.arn} version ${versionId} does not exist or is not attachable.`);
  return v;
}

const now = (ctx: Ctx) => new Date(ctx.clock.now()).toISOString();

export const policyHandlers = {
  CreatePolicy(ctx: Ctx, i: CreatePolicyRequest): CreatePolicyResponse {
    const c = new Checks().name(i.PolicyName, 'policyName', POLICY_NAME_MAX).length(i.Description, 'description', 0, 1000);
    c.done();
    const name = i.PolicyName!;
    const path = checkPath(i.Path);
    const text = checkPolicyDocument(i.PolicyDocument, 'identity', 'policyDocument', { managed: true });
    checkManagedSize(text);
    const tags = checkTags(i.Tags);
    const lower = idOf(name);
    if (ctx.tx.all<ManagedPolicyDoc>(IAM_KIND.policy, ctx.scope).some((p) => idOf(p.name) === lower)) {
      throw alreadyExists(`A policy called ${name} already exists. Duplicate names are not allowed.`);
    }
    const created = now(ctx);
    const arn = iamArn(ctx, 'policy', path, name);
    const p: ManagedPolicyDoc = {
      id: arn,
      name,
      policyId: uniqueId('ANPA'),
      path,
      arn,
      createDate: created,
      updateDate: created,
      defaultVersionId: 'v1',
      versions: [{ versionId: 'v1', document: text, createDate: created }],
      nextVersion: 2,
      tags,
      ...(i.Description ? { description: i.Description } : {}),
    };
    ctx.tx.put(IAM_KIND.policy, ctx.scope, p);
    return { Policy: policyOut(ctx, p, 'create') };
  },

  GetPolicy(ctx: Ctx, i: GetPolicyRequest): GetPolicyResponse {
    return { Policy: policyOut(ctx, getPolicy(ctx, i.PolicyArn), 'get') };
  },

  DeletePolicy(ctx: Ctx, i: DeletePolicyRequest): Empty {
    // a missing policy: "Policy ARN was not found." (recorded from IAM: localstack
    // test_iam.py::test_delete_non_existent_policy_returns_no_such_entity)
    const arn = checkPolicyArn(i.PolicyArn);
    if (!localPolicy(ctx, arn) && !awsManagedPolicy(ctx.partition, arn)) throw noSuchEntity(`Policy ${arn} was not found.`);
    const p = editable(ctx, arn);
    if (attachmentCount(ctx, p.arn)) throw deleteConflict('Cannot delete a policy attached to entities.');
    if (p.versions.length > 1) {
      throw deleteConflict(
        "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
      );
    }
    ctx.tx.delete(IAM_KIND.policy, ctx.scope, p.id);
    return {};
  },

  ListPolicies(ctx: Ctx, i: ListPoliciesRequest): ListPoliciesResponse {
    const c = new Checks();
    const scope = i.Scope ?? 'All';
    if (!['All', 'AWS', 'Local'].includes(scope)) c.fail(scope, 'scope', 'satisfy enum value set: [All, AWS, Local]');
    if (i.PolicyUsageFilter !== undefined && !['PermissionsPolicy', 'PermissionsBoundary'].includes(i.PolicyUsageFilter)) {
      c.fail(i.PolicyUsageFilter, 'policyUsageFilter', 'satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]');
    }
    c.done();
    const prefix = checkPathPrefix(i.PathPrefix);
    let all = [
      ...(scope === 'Local' ? [] : awsManagedPolicies(ctx.partition)),
      ...(scope === 'AWS' ? [] : ctx.tx.all<ManagedPolicyDoc>(IAM_KIND.policy, ctx.scope)),
    ].filter((p) => p.path.startsWith(prefix));
    if (i.OnlyAttached) {
      const usage = i.PolicyUsageFilter;
      all = all.filter(
        (p) =>
          (usage !== 'PermissionsBoundary' && attachmentCount(ctx, p.arn) > 0) ||
          (usage !== 'PermissionsPolicy' && boundaryCount(ctx, p.arn) > 0),
      );
    }
    const p = page(all, (x) => `${idOf(x.name)}\u0000${x.arn}`, i.Marker, i.MaxItems);
    return { Policies: p.items.map((x) => policyOut(ctx, x, 'list')), ...truncation(p) };
  },

  CreatePolicyVersion(ctx: Ctx, i: CreatePolicyVersionRequest): CreatePolicyVersionResponse {
    const p = editable(ctx, i.PolicyArn);
    const text = checkPolicyDocument(i.PolicyDocument, 'identity', 'policyDocument', { managed: true });
    checkManagedSize(text);
    if (p.versions.length >= MAX_VERSIONS) {
      throw limitExceeded(
        `A managed policy can have up to ${MAX_VERSIONS} versions. Before you create a new version, you must delete an existing version.`,
      );
    }
    const v: PolicyVersion = { versionId: `v${p.nextVersion++}`, document: text, createDate: now(ctx) };
    p.versions.push(v);
    if (i.SetAsDefault) p.defaultVersionId = v.versionId;
    p.updateDate = v.createDate;
    return { PolicyVersion: versionOut(p, v, false) };
  },

  GetPolicyVersion(ctx: Ctx, i: GetPolicyVersionRequest): GetPolicyVersionResponse {
    const p = getPolicy(ctx, i.PolicyArn);
    return { PolicyVersion: versionOut(p, findVersion(p, checkVersionId(i.VersionId)), true) };
  },

  ListPolicyVersions(ctx: Ctx, i: ListPolicyVersionsRequest): ListPolicyVersionsResponse {
    const p = getPolicy(ctx, i.PolicyArn);
    // newest first, as IAM lists them
    const pg = page(p.versions, (v) => String(1e9 - Number(v.versionId.slice(1).split('.')[0])).padStart(10, '0'), i.Marker, i.MaxItems);
    return { Versions: pg.items.map((v) => versionOut(p, v, false)), ...truncation(pg) };
  },

  DeletePolicyVersion(ctx: Ctx, i: DeletePolicyVersionRequest): Empty {
    const versionId = checkVersionId(i.VersionId);
    const p = editable(ctx, i.PolicyArn);
    findVersion(p, versionId);
    if (versionId === p.defaultVersionId) throw deleteConflict('Cannot delete the default version of a policy.');
    p.versions = p.versions.filter((v) => v.versionId !== versionId);
    return {};
  },

  SetDefaultPolicyVersion(ctx: Ctx, i: SetDefaultPolicyVersionRequest): Empty {
    const versionId = checkVersionId(i.VersionId);
    const p = editable(ctx, i.PolicyArn);
    findVersion(p, versionId);
    if (p.defaultVersionId !== versionId) {
      p.defaultVersionId = versionId;
      p.updateDate = now(ctx);
    }
    return {};
  },

  TagPolicy(ctx: Ctx, i: TagPolicyRequest): Empty {
    tagDoc(ctx, IAM_KIND.policy, () => editable(ctx, i.PolicyArn).id, i.Tags);
    return {};
  },

  UntagPolicy(ctx: Ctx, i: UntagPolicyRequest): Empty {
    untagDoc(ctx, IAM_KIND.policy, () => editable(ctx, i.PolicyArn).id, i.TagKeys);
    return {};
  },

  ListPolicyTags(ctx: Ctx, i: ListPolicyTagsRequest): ListPolicyTagsResponse {
    const p = listTags(getPolicy(ctx, i.PolicyArn).tags, i.Marker, i.MaxItems);
    return { Tags: p.items, ...truncation(p) };
  },
};
