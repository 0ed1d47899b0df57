// GetAccountAuthorizationDetails: one snapshot of the account's IAM entities and how they relate —
// users and roles with their inline policies, attached managed policies, boundaries and tags (roles
// also with their instance profiles and last use), and managed policies with every version. Policy
// documents are URL-encoded as in every IAM answer. `Filter` keeps entity types; MaxItems/Marker
// page over the whole sequence: users, groups (Palisade has none), roles, then managed policies.
//
// Which AWS managed policies appear: those in use in the account (attached to a user or role, or a
// permissions boundary), as in the examples of the IAM API reference, where each carries an
// AttachmentCount; the hundreds of unused ones are left out (moto returns them all).
import type {
  AttachedPolicy,
  GetAccountAuthorizationDetailsRequest,
  GetAccountAuthorizationDetailsResponse,
  ManagedPolicyDetail,
  PolicyDetail,
  RoleDetail,
  UserDetail,
} from '@aws-sdk/client-iam';
import type { Ctx } from '../../core/context.ts';
import { awsManagedPolicies } from './aws-managed.ts';
import { attachmentCount, boundaryCount, getPolicy, profilesWithRole, rolesOf, usersOf } from './lookups.ts';
import { IAM_KIND, type ManagedPolicyDoc, type RoleDoc, type UserDoc } from '../../core/documents/iam.ts';
import { profileOut } from './instance-profiles.ts';
import { truncation } from './output.ts';
import { page } from './paging.ts';
import { encodePolicyDocument } from './policy-grammar.ts';
import { policyOut, versionOut } from './policies.ts';
import { lastUsedOut, roleOut } from './roles.ts';
import { userOut } from './users.ts';
import { tagsOut } from './tags.ts';
import { Checks } from './validate.ts';

const ENTITY_TYPES = ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'] as const;

type Entry =
  | { kind: 'user'; key: string; doc: UserDoc }
  | { kind: 'role'; key: string; doc: RoleDoc }
  | { kind: 'policy'; key: string; doc: ManagedPolicyDoc };

function inline(policies: Record<string, string>): PolicyDetail[] {
  return Object.keys(policies)
    .sort()
    .map((name) => ({ PolicyName: name, PolicyDocument: encodePolicyDocument(policies[name]!) }));
}

function attached(ctx: Ctx, arns: readonly string[]): AttachedPolicy[] {
  return arns.map((arn) => ({ PolicyName: getPolicy(ctx, arn).name, PolicyArn: arn }));
}

// The details are the entity as Get* gives it (members the detail shape lacks are not encoded),
// plus its policies; `Tags` is always there, empty or not.
function userDetail(ctx: Ctx, u: UserDoc): UserDetail {
  return {
    ...userOut(u),
    UserPolicyList: inline(u.inlinePolicies),
    GroupList: [],
    AttachedManagedPolicies: attached(ctx, u.attachedPolicies),
    Tags: tagsOut(u.tags) ?? [],
  };
}

function roleDetail(ctx: Ctx, r: RoleDoc): RoleDetail {
  return {
    ...roleOut(r, 'get'),
    InstanceProfileList: profilesWithRole(ctx, r).map((p) => profileOut(ctx, p, 'create')),
    RolePolicyList: inline(r.inlinePolicies),
    AttachedManagedPolicies: attached(ctx, r.attachedPolicies),
    Tags: tagsOut(r.tags) ?? [],
    RoleLastUsed: lastUsedOut(r),
  };
}

function policyDetail(ctx: Ctx, p: ManagedPolicyDoc): ManagedPolicyDetail {
  return { ...policyOut(ctx, p, 'get'), PolicyVersionList: p.versions.map((v) => versionOut(p, v, true)) };
}

export const authorizationDetailsHandlers = {
  GetAccountAuthorizationDetails(ctx: Ctx, i: GetAccountAuthorizationDetailsRequest): GetAccountAuthorizationDetailsResponse {
    const filter = i.Filter ?? [];
    const c = new Checks();
    // Coral's message for a list of enums names the whole list: "Value '[Usr]' at 'filter' failed to
    // satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: […]]"
    if (filter.some((f) => !(ENTITY_TYPES as readonly string[]).includes(f))) {
      c.fail(`[${filter.join(', ')}]`, 'filter', `satisfy constraint: [Member must satisfy enum value set: [${ENTITY_TYPES.join(', ')}]]`);
    }
    c.done();
    const want = (t: (typeof ENTITY_TYPES)[number]) => filter.length === 0 || filter.includes(t);
    const entries: Entry[] = [];
    // Keys order the sequence the pages walk: users, (groups), roles, policies, each by name or ARN.
    if (want('User')) for (const u of usersOf(ctx)) entries.push({ kind: 'user', key: `1\u0000${u.id}`, doc: u });
    if (want('Role')) for (const r of rolesOf(ctx)) entries.push({ kind: 'role', key: `3\u0000${r.id}`, doc: r });
    if (want('LocalManagedPolicy')) {
      for (const p of ctx.tx.all<ManagedPolicyDoc>(IAM_KIND.policy, ctx.scope))
        entries.push({ kind: 'policy', key: `4\u0000${p.arn}`, doc: p });
    }
    if (want('AWSManagedPolicy')) {
      for (const p of awsManagedPolicies(ctx.partition)) {
        if (attachmentCount(ctx, p.arn) > 0 || boundaryCount(ctx, p.arn) > 0)
          entries.push({ kind: 'policy', key: `4\u0000${p.arn}`, doc: p });
      }
    }
    const p = page(entries, (e) => e.key, i.Marker, i.MaxItems);
    const out: GetAccountAuthorizationDetailsResponse = { UserDetailList: [], GroupDetailList: [], RoleDetailList: [], Policies: [] };
    for (const e of p.items) {
      if (e.kind === 'user') out.UserDetailList!.push(userDetail(ctx, e.doc));
      else if (e.kind === 'role') out.RoleDetailList!.push(roleDetail(ctx, e.doc));
      else out.Policies!.push(policyDetail(ctx, e.doc));
    }
    return { ...out, ...truncation(p) };
  },
};
