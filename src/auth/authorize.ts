// `--auth enforce`: IAM authorization of every call, following AWS's evaluation logic for
// identity-based policies (explicit deny > allow > implicit deny), with the role session's
// session policy and permissions boundary as further limits, the resources a call touches as
// ARNs, the condition keys EC2 users rely on, and iam:PassRole for instance profiles.
import type { Ctx, ServiceDef } from '../core/context.ts';
import { ApiError } from '../core/errors.ts';
import { evaluate, parsePolicy, type ContextValue, type ParsedPolicy, type RequestContext } from './iam-policy.ts';
import { encodeAuthorizationMessage } from './authz-message.ts';
import { IAM_KIND, type InstanceProfileDoc, type ManagedPolicyDoc, type RoleDoc, type UserDoc } from '../core/documents/iam.ts';
import { KIND, type TagPair, type VpcDoc } from '../core/documents/ec2.ts';
import { SESSION_KIND, type SessionDoc } from './principals.ts';
import { awsManagedPolicy } from '../services/iam/core.ts';
import { ec2Arn, RESOURCE_TYPES, resourceTypeOfId } from '../core/resource-types.ts';

/** Calls AWS lets anyone make. */
const ALWAYS_ALLOWED = new Set(['sts:GetCallerIdentity']);

interface Res {
  arn: string;
  tags?: TagPair[];
  vpcArn?: string;
}

const policyCache = new Map<string, ParsedPolicy>();
function parsed(text: string, id: string): ParsedPolicy | undefined {
  const key = `${id}\u0000${text}`;
  let p = policyCache.get(key);
  if (!p) {
    try {
      p = parsePolicy(text, id);
    } catch {
      return undefined;
    }
    if (policyCache.size > 5000) policyCache.clear();
    policyCache.set(key, p);
  }
  return p;
}

function managedPolicy(ctx: Ctx, arn: string): ManagedPolicyDoc | undefined {
  return ctx.tx.get<ManagedPolicyDoc>(IAM_KIND.policy, ctx.principal.account, arn) ?? awsManagedPolicy(ctx.partition, arn);
}

function documentsOf(ctx: Ctx, owner: { inlinePolicies: Record<string, string>; attachedPolicies: string[]; arn: string }): ParsedPolicy[] {
  const out: ParsedPolicy[] = [];
  for (const [name, text] of Object.entries(owner.inlinePolicies)) {
    const p = parsed(text, `${owner.arn}#${name}`);
    if (p) out.push(p);
  }
  for (const arn of owner.attachedPolicies) {
    const m = managedPolicy(ctx, arn);
    const v = m?.versions.find((x) => x.versionId === m.defaultVersionId);
    const p = v && parsed(v.document, arn);
    if (p) out.push(p);
  }
  return out;
}

interface Identity {
  policies: ParsedPolicy[];
  boundary?: ParsedPolicy[];
  session?: ParsedPolicy[];
  root: boolean;
}

function identity(ctx: Ctx): Identity {
  const p = ctx.principal;
  if (p.type === 'Root') return { policies: [], root: true };
  if (p.type === 'IAMUser') {
    const u = ctx.tx.get<UserDoc>(IAM_KIND.user, p.account, (p.userName ?? '').toLowerCase());
    if (!u) return { policies: [], root: false };
    const boundary = u.permissionsBoundary
      ? documentsOf(ctx, { inlinePolicies: {}, attachedPolicies: [u.permissionsBoundary], arn: u.arn })
      : undefined;
    return { policies: documentsOf(ctx, u), boundary, root: false };
  }
  if (p.type === 'AssumedRole' && p.role) {
    const r = ctx.tx.get<RoleDoc>(IAM_KIND.role, p.account, p.role.name.toLowerCase());
    if (!r) return { policies: [], root: false };
    const session = ctx.tx.get<SessionDoc>(SESSION_KIND, '_global', p.accessKeyId);
    const boundary = r.permissionsBoundary
      ? documentsOf(ctx, { inlinePolicies: {}, attachedPolicies: [r.permissionsBoundary], arn: r.arn })
      : undefined;
    return { policies: documentsOf(ctx, r), boundary, session: sessionPolicies(ctx, session), root: false };
  }
  if (p.type === 'FederatedUser') {
    // GetFederationToken: the caller's permissions ∩ the session policies; without session
    // policies the session has none ("If you do not pass a policy, the resulting federated user
    // session has no permissions", STS API reference).
    const session = ctx.tx.get<SessionDoc>(SESSION_KIND, '_global', p.accessKeyId);
    const limit = sessionPolicies(ctx, session);
    const by = session?.federatedBy;
    if (!limit || !by) return { policies: [], root: false };
    if ('root' in by) return { policies: [rootPolicy()], session: limit, root: false };
    const u = ctx.tx.get<UserDoc>(IAM_KIND.user, p.account, by.userName.toLowerCase());
    if (!u) return { policies: [], root: false };
    const boundary = u.permissionsBoundary
      ? documentsOf(ctx, { inlinePolicies: {}, attachedPolicies: [u.permissionsBoundary], arn: u.arn })
      : undefined;
    return { policies: documentsOf(ctx, u), boundary, session: limit, root: false };
  }
  return { policies: [], root: false };
}

let allowAll: ParsedPolicy | undefined;
/** What the root may do (everything): a root-made federation session is its session policies alone. */
const rootPolicy = () =>
  (allowAll ??= parsePolicy('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}', 'root'));

/** A session's policies (the inline one and the managed PolicyArns): together its limit, or none. */
function sessionPolicies(ctx: Ctx, session: SessionDoc | undefined): ParsedPolicy[] | undefined {
  if (!session) return undefined;
  const out: ParsedPolicy[] = [];
  const inline = session.sessionPolicy ? parsed(session.sessionPolicy, `${session.arn}#session`) : undefined;
  if (inline) out.push(inline);
  if (session.sessionPolicyArns?.length)
    out.push(...documentsOf(ctx, { inlinePolicies: {}, attachedPolicies: session.sessionPolicyArns, arn: session.arn }));
  return out.length ? out : undefined;
}

const arnOf = (ctx: Ctx, name: string, id: string) => ec2Arn(ctx.partition, ctx.region, ctx.account, name, id);

function ec2Resource(ctx: Ctx, id: string): Res | undefined {
  const type = resourceTypeOfId(id);
  if (!type) return undefined;
  const doc = type.kind ? ctx.tx.get<{ id: string; tags?: TagPair[]; vpcId?: string }>(type.kind, ctx.scope, id) : undefined;
  const vpcId = type.prefix === 'vpc' ? id : doc?.vpcId;
  return { arn: arnOf(ctx, type.name, id), tags: doc?.tags, vpcArn: vpcId ? arnOf(ctx, 'vpc', vpcId) : undefined };
}

/** The resources an EC2 call acts on, as AWS names them for authorization. */
function ec2Resources(ctx: Ctx, action: string, input: Record<string, unknown>): Res[] {
  if (/^(Describe|Get)/.test(action)) return [{ arn: '*' }];
  // Every EC2 id the call names, wherever in its input (the resource-type table knows the
  // prefixes); images have an account-less ARN of their own (below).
  const ids: string[] = [];
  const seen = new Set<string>();
  const walk = (v: unknown, depth: number): void => {
    if (depth > 6 || ids.length >= 100) return;
    if (typeof v === 'string') {
      const t = resourceTypeOfId(v);
      if (t && t.prefix !== 'ami' && !seen.has(v)) {
        seen.add(v);
        ids.push(v);
      }
    } else if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x, depth + 1);
  };
  walk(input, 0);
  if (typeof input.GroupName === 'string' && input.GroupId === undefined && action !== 'CreateSecurityGroup') {
    const def = ctx.tx.all<VpcDoc>(KIND.vpc, ctx.scope).find((v) => v.isDefault);
    const g =
      def &&
      ctx.tx
        .all<{ id: string; vpcId: string; name: string }>(KIND.sg, ctx.scope)
        .find((x) => x.vpcId === def.id && x.name.toLowerCase() === String(input.GroupName).toLowerCase());
    if (g) ids.push(g.id);
  }
  const out = ids.map((id) => ec2Resource(ctx, id)).filter((r): r is Res => !!r);
  const created = RESOURCE_TYPES.find((t) => t.createdBy === action);
  if (created) out.push({ arn: arnOf(ctx, created.name, '*') });
  if (action === 'RunInstances') {
    out.push({ arn: arnOf(ctx, 'network-interface', '*') });
    if (typeof input.ImageId === 'string') out.push({ arn: `arn:${ctx.partition}:ec2:${ctx.region}::image/${input.ImageId}` });
  }
  return out.length ? out : [{ arn: '*' }];
}

function iamResources(ctx: Ctx, action: string, input: Record<string, unknown>): Res[] {
  const acct = ctx.principal.account;
  const out: Res[] = [];
  const role = input.RoleName ? ctx.tx.get<RoleDoc>(IAM_KIND.role, acct, String(input.RoleName).toLowerCase()) : undefined;
  if (input.RoleName)
    out.push({ arn: role ? role.arn : `arn:${ctx.partition}:iam::${acct}:role/${input.RoleName}`, tags: role ? role.tags : undefined });
  if (input.UserName) out.push({ arn: `arn:${ctx.partition}:iam::${acct}:user/${input.UserName}` });
  if (input.InstanceProfileName) out.push({ arn: `arn:${ctx.partition}:iam::${acct}:instance-profile/${input.InstanceProfileName}` });
  if (typeof input.PolicyArn === 'string') out.push({ arn: input.PolicyArn });
  if (action === 'CreatePolicy' && input.PolicyName)
    out.push({ arn: `arn:${ctx.partition}:iam::${acct}:policy${input.Path ?? '/'}${input.PolicyName}` });
  return out.length ? out : [{ arn: '*' }];
}

/** The resource an S3 call acts on: its bucket (`arn:…:s3:::bucket`) or object (`…:bucket/key`); ListBuckets none. */
function s3Resources(ctx: Ctx, input: Record<string, unknown>): Res[] {
  if (typeof input.Bucket !== 'string') return [{ arn: '*' }];
  const bucket = `arn:${ctx.partition}:s3:::${input.Bucket}`;
  return [{ arn: typeof input.Key === 'string' ? `${bucket}/${input.Key}` : bucket }];
}

function requestTags(input: Record<string, unknown>): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const spec of (input.TagSpecifications as { Tags?: TagPair[] }[] | undefined) ?? [])
    for (const t of spec.Tags ?? []) tags[t.Key] = t.Value;
  for (const t of (input.Tags as TagPair[] | undefined) ?? []) if (t && typeof t.Key === 'string') tags[t.Key] = t.Value;
  return tags;
}

function baseContext(ctx: Ctx, input: Record<string, unknown>): Record<string, ContextValue> {
  const p = ctx.principal;
  const now = ctx.clock.now();
  const tags = requestTags(input);
  const c: Record<string, ContextValue> = {
    'aws:SourceIp': ctx.sourceIp,
    'aws:PrincipalArn': p.role?.arn ?? p.arn,
    'aws:PrincipalAccount': p.account,
    'aws:PrincipalType': p.type,
    'aws:userid': p.userId,
    'aws:RequestedRegion': ctx.region,
    'aws:CurrentTime': new Date(now).toISOString(),
    'aws:EpochTime': Math.floor(now / 1000),
    'aws:SecureTransport': false,
    'aws:MultiFactorAuthPresent': false,
    ...(p.userName ? { 'aws:username': p.userName } : {}),
    ...(Object.keys(tags).length ? { 'aws:TagKeys': Object.keys(tags) } : {}),
  };
  for (const [k, v] of Object.entries(tags)) c[`aws:RequestTag/${k}`] = v;
  if (p.ec2RoleDelivery) c['ec2:RoleDelivery'] = p.ec2RoleDelivery;
  if (p.sourceInstanceArn) c['ec2:SourceInstanceARN'] = p.sourceInstanceArn;
  return c;
}

function decide(ident: Identity, req: RequestContext): 'Allow' | 'ExplicitDeny' | 'ImplicitDeny' {
  if (ident.root) return 'Allow';
  const main = evaluate(ident.policies, req).decision;
  if (main !== 'Allow') return main;
  for (const limit of [ident.boundary, ident.session]) {
    if (!limit) continue;
    const d = evaluate(limit, req).decision;
    if (d !== 'Allow') return d;
  }
  return 'Allow';
}

function deny(ctx: Ctx, service: ServiceDef, action: string, resource: string, decision: string): ApiError {
  const p = ctx.principal;
  const why =
    decision === 'ExplicitDeny'
      ? `with an explicit deny in an identity-based policy`
      : `because no identity-based policy allows the ${action} action`;
  const text = `User: ${p.arn} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
  if (service.model.protocol === 'ec2') {
    const encoded = encodeAuthorizationMessage(ctx.store, {
      allowed: false,
      explicitDeny: decision === 'ExplicitDeny',
      matchedStatements: { items: [] },
      failures: { items: [] },
      context: { principal: { id: p.userId, arn: p.arn }, action, resource, conditions: { items: [] } },
    });
    return new ApiError(
      'UnauthorizedOperation',
      `You are not authorized to perform this operation. ${text}. Encoded authorization failure message: ${encoded}`,
      403,
    );
  }
  if (service.model.protocol === 'json') return new ApiError('AccessDeniedException', text, 400);
  return new ApiError('AccessDenied', text, 403);
}

/** Throws AWS's denial when the caller may not make this call. */
export function authorize(ctx: Ctx, service: ServiceDef, action: string, input: Record<string, unknown>): void {
  const fullAction = `${service.name}:${action}`;
  if (ALWAYS_ALLOWED.has(fullAction)) return;
  if (service.name === 'sts' && action.startsWith('AssumeRoleWith')) return; // governed by the role's trust policy
  const ident = identity(ctx);
  if (ident.root) return;
  // A federated user "cannot call any IAM operations using the AWS CLI or the AWS API" nor any STS
  // operation but GetCallerIdentity (GetFederationToken's documentation).
  if (ctx.principal.type === 'FederatedUser' && (service.name === 'iam' || service.name === 'sts'))
    throw deny(ctx, service, fullAction, '*', 'ImplicitDeny');
  const base = baseContext(ctx, input);
  const resources =
    service.name === 'ec2'
      ? ec2Resources(ctx, action, input)
      : service.name === 'iam'
        ? iamResources(ctx, action, input)
        : service.name === 'sts' && typeof input.RoleArn === 'string'
          ? [{ arn: input.RoleArn }]
          : service.name === 'sts' && action === 'GetFederationToken' && typeof input.Name === 'string'
            ? [{ arn: `arn:${ctx.partition}:sts::${ctx.principal.account}:federated-user/${input.Name}` }]
            : service.name === 's3'
              ? s3Resources(ctx, input)
              : [{ arn: '*' }];
  for (const r of resources) {
    const context = { ...base };
    if (r.vpcArn) context['ec2:Vpc'] = r.vpcArn;
    for (const t of r.tags ?? []) {
      context[`aws:ResourceTag/${t.Key}`] = t.Value;
      context[`ec2:ResourceTag/${t.Key}`] = t.Value;
      context[`iam:ResourceTag/${t.Key}`] = t.Value;
    }
    const decision = decide(ident, { action: fullAction, resource: r.arn, context });
    if (decision !== 'Allow') throw deny(ctx, service, fullAction, r.arn, decision);
  }
  // Giving an instance a role needs iam:PassRole on that role.
  const spec = input.IamInstanceProfile as { Arn?: string; Name?: string } | undefined;
  if (service.name === 'ec2' && spec && (spec.Arn || spec.Name)) {
    const profiles = ctx.tx.all<InstanceProfileDoc>(IAM_KIND.instanceProfile, ctx.account);
    const profile = profiles.find((x) => x.arn === spec.Arn || x.name.toLowerCase() === spec.Name?.toLowerCase());
    const roleName = profile?.roles[0];
    const role = roleName ? ctx.tx.get<RoleDoc>(IAM_KIND.role, ctx.account, roleName.toLowerCase()) : undefined;
    if (role) {
      const decision = decide(ident, {
        action: 'iam:PassRole',
        resource: role.arn,
        context: { ...base, 'iam:PassedToService': 'ec2.amazonaws.com' },
      });
      if (decision !== 'Allow') throw deny(ctx, service, 'iam:PassRole', role.arn, decision);
    }
  }
}
