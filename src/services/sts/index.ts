// STS (query protocol): caller identity, role sessions (AssumeRole, web identity, SAML),
// session tokens and authorization-message decoding. Sessions are usable against every API.
import type {
  AssumeRoleRequest,
  AssumeRoleResponse,
  AssumeRoleWithSAMLRequest,
  AssumeRoleWithSAMLResponse,
  AssumeRoleWithWebIdentityRequest,
  AssumeRoleWithWebIdentityResponse,
  DecodeAuthorizationMessageRequest,
  DecodeAuthorizationMessageResponse,
  GetAccessKeyInfoRequest,
  GetAccessKeyInfoResponse,
  GetCallerIdentityResponse,
  GetFederationTokenRequest,
  GetFederationTokenResponse,
  GetSessionTokenRequest,
  GetSessionTokenResponse,
  Credentials,
} from '@aws-sdk/client-sts';
import { crypto } from '../../core/lazy.ts';
import type { Ctx, ServiceDef, Handler } from '../../core/context.ts';
import { ApiError } from '../../core/errors.ts';
import { loadModel } from '../../protocol/model.ts';
import { GLOBAL, IAM_KIND, type AccessKeyDoc, type RoleDoc } from '../../core/documents/iam.ts';
import { mintSession, pruneSessions } from '../../auth/credentials.ts';
import type { Principal, SessionDoc } from '../../auth/principals.ts';
import { evaluateTrust, parsePolicy, type RequestContext } from '../../auth/iam-policy.ts';
import { decodeAuthorizationMessage } from '../../auth/authz-message.ts';
import { readSamlResponse } from './saml.ts';
import {
  arnConstraint,
  checkConstraints,
  checkSessionTags,
  checkTransitiveOverride,
  P,
  packedPercent,
  policyArnConstraints,
  tagConstraints,
  type TagInput,
} from './validate.ts';

const accessDenied = (message: string) => new ApiError('AccessDenied', message, 403);
const validation = (message: string) => new ApiError('ValidationError', message, 400);

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\u0021-\u007E]*\/)?([\w+=,.@-]{1,64})$/;

function findRoleByArn(ctx: Ctx, arn: string): RoleDoc | undefined {
  const m = ROLE_ARN.exec(arn);
  if (!m) return undefined;
  const role = ctx.tx.get<RoleDoc>(IAM_KIND.role, m[2]!, m[3]!.toLowerCase());
  return role && role.arn === arn ? role : role && arn.endsWith(`/${role.name}`) && arn.includes(`:${m[2]}:`) ? role : undefined;
}

/**
 * The role ARN's form, checked after the model's constraints (AWS answers `X is invalid`, and
 * reports a constraint of another member first: localstack's AWS-validated snapshot
 * test_sts_invalid_parameters, an invalid ARN with the session name `Session1:2`, is the session
 * name's pattern error).
 */
function checkRoleArn(arn: string | undefined): RegExpExecArray {
  const m = arn === undefined ? null : ROLE_ARN.exec(arn);
  if (!m) throw validation(`${arn} is invalid`);
  return m;
}

/** The constraints AssumeRole* share, in the order of their input shapes. */
const roleArnAndName = (input: { RoleArn?: string; RoleSessionName?: string }) => [
  arnConstraint('roleArn', input.RoleArn),
  { at: 'roleSessionName', value: input.RoleSessionName, min: 2, max: 64, pattern: P.name },
];
const sessionPolicyConstraints = (input: { PolicyArns?: { arn?: string }[]; Policy?: string; DurationSeconds?: number }) => [
  ...policyArnConstraints(input.PolicyArns),
  { at: 'policy', value: input.Policy, min: 1, pattern: P.policy },
  { at: 'durationSeconds', value: input.DurationSeconds, min: 900, max: 43200 },
];

/**
 * The length constraints of the STS API reference (AssumeRoleWithSAML: "SAMLAssertion […] Length
 * Constraints: Minimum length of 4. Maximum length of 100000."; AssumeRoleWithWebIdentity:
 * "WebIdentityToken […] Minimum length of 4. Maximum length of 20000."), checked before the
 * value is decoded. Both are sensitive members, whose value AWS leaves out of the message.
 */
function checkSecretLength(value: string | undefined, member: string, min: number, max: number): string {
  const v = value ?? '';
  if (v.length < min || v.length > max) {
    throw validation(
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length ${v.length > max ? `less than or equal to ${max}` : `greater than or equal to ${min}`}`,
    );
  }
  return v;
}

/** The inline session policy of AssumeRole*: AWS refuses one that is not a valid policy. */
function checkSessionPolicy(policy: string | undefined): void {
  if (policy === undefined) return;
  try {
    parsePolicy(policy);
  } catch {
    throw new ApiError('MalformedPolicyDocument', 'The policy is not in the valid JSON format.', 400);
  }
}

/**
 * The packed size of the session policies and tags (validate.ts): over 100% is
 * PackedPolicyTooLarge, with the percentage the tags consume when there are tags.
 */
function packedSize(policy: string | undefined, policyArns: { arn?: string }[] | undefined, tags: TagInput[]): number {
  const packed = packedPercent(policy, policyArns, tags);
  if (packed.total > 100) {
    throw new ApiError(
      'PackedPolicyTooLarge',
      tags.length
        ? `Packed size of session tags consumes ${packed.total}% of allotted space.`
        : 'Packed size of the policy exceeds the maximum allowed.',
      400,
    );
  }
  return packed.total;
}

const tagMap = (tags: TagInput[]) => Object.fromEntries(tags.map((t) => [t.Key!, t.Value ?? '']));

function credentials(s: SessionDoc): Credentials {
  return { AccessKeyId: s.id, SecretAccessKey: s.secret, SessionToken: s.token, Expiration: new Date(s.expiration) };
}

/** The ARNs a caller is known by in a trust policy's Principal element. */
function principalArns(p: Principal): string[] {
  return p.role ? [p.arn, p.role.arn] : [p.arn];
}

function checkDuration(ctx: Ctx, role: RoleDoc, requested: number | undefined, chained: boolean): number {
  const d = requested ?? 3600;
  if (d < 900 || d > 43200)
    throw validation(
      `1 validation error detected: Value '${d}' at 'durationSeconds' failed to satisfy constraint: Member must have value ${d < 900 ? 'greater than or equal to 900' : 'less than or equal to 43200'}`,
    );
  if (d > role.maxSessionDuration) throw validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  if (chained && d > 3600)
    throw validation('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
  return d;
}

/** Starts a session of `role` (all the checks of the caller's right to it are done before). */
export function startRoleSession(
  ctx: Ctx,
  role: RoleDoc,
  sessionName: string,
  durationSeconds: number,
  extra: Partial<Pick<SessionDoc, 'ec2RoleDelivery' | 'sourceInstanceArn' | 'transitiveTagKeys' | 'sessionPolicyArns'>> & {
    sessionPolicy?: string;
    sourceIdentity?: string;
    tags?: Record<string, string>;
  } = {},
): SessionDoc {
  const account = role.arn.split(':')[4]!;
  const partition = role.arn.split(':')[1]!;
  const now = ctx.clock.now();
  pruneSessions(ctx.tx, now);
  return mintSession(ctx.tx, {
    account,
    type: 'AssumedRole',
    issuedAt: now,
    expiration: now + durationSeconds * 1000,
    arn: `arn:${partition}:sts::${account}:assumed-role/${role.name}/${sessionName}`,
    userId: `${role.roleId}:${sessionName}`,
    role: { name: role.name, arn: role.arn, roleId: role.roleId, path: role.path, sessionName },
    ...(extra.ec2RoleDelivery ? { ec2RoleDelivery: extra.ec2RoleDelivery } : {}),
    ...(extra.sourceInstanceArn ? { sourceInstanceArn: extra.sourceInstanceArn } : {}),
    ...(extra.sessionPolicy ? { sessionPolicy: extra.sessionPolicy } : {}),
    ...(extra.sourceIdentity ? { sourceIdentity: extra.sourceIdentity } : {}),
    ...(extra.tags ? { tags: extra.tags } : {}),
    ...(extra.transitiveTagKeys?.length ? { transitiveTagKeys: extra.transitiveTagKeys } : {}),
    ...(extra.sessionPolicyArns?.length ? { sessionPolicyArns: extra.sessionPolicyArns } : {}),
  });
}

/** The transitive tags of the calling session (role chaining passes them on). */
function inheritedTags(ctx: Ctx): Record<string, string> {
  const caller = ctx.principal;
  if (caller.type !== 'AssumedRole' || !caller.sessionToken) return {};
  const s = ctx.tx.get<SessionDoc>('sts-session', GLOBAL, caller.accessKeyId);
  const out: Record<string, string> = {};
  for (const k of s?.transitiveTagKeys ?? []) if (s?.tags && k in s.tags) out[k] = s.tags[k]!;
  return out;
}

/** Federated users may call no STS operation but GetCallerIdentity (GetFederationToken's documentation). */
function refuseFederated(ctx: Ctx, action: string): void {
  const caller = ctx.principal;
  if (caller.type === 'FederatedUser')
    throw accessDenied(`User: ${caller.arn} is not authorized to perform: sts:${action} on resource: ${caller.arn}`);
}

/** Does the role's trust policy let this request in? */
export function trustAllows(role: RoleDoc, req: RequestContext): boolean {
  try {
    return evaluateTrust(parsePolicy(role.assumeRolePolicy, `${role.arn}#trust`), req).decision === 'Allow';
  } catch {
    return false;
  }
}

/** The claims AssumeRoleWithWebIdentity reads, in the types the JWT/OIDC specifications give them. */
interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  amr?: string[];
}

const INVALID_JWT = 'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)';
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function jsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * Decodes a JWT (RFC 7519: three base64url parts, a JSON object header and a JSON object of
 * claims) without verifying it. Total: anything else, or a claim of the wrong type, is STS's
 * InvalidIdentityToken, never an exception of ours.
 */
function decodeJwt(token: string): { header: Record<string, unknown>; claims: JwtClaims } {
  const invalid = () => new ApiError('InvalidIdentityToken', INVALID_JWT, 400);
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[0] || !parts[1] || !parts.every((p) => BASE64URL.test(p))) throw invalid();
  const header = jsonObject(parts[0]);
  const raw = jsonObject(parts[1]);
  if (!header || !raw) throw invalid();
  const { iss, sub, aud, exp, amr } = raw;
  if (iss !== undefined && !isString(iss)) throw invalid();
  if (sub !== undefined && !isString(sub)) throw invalid();
  if (exp !== undefined && typeof exp !== 'number') throw invalid();
  if (aud !== undefined && !isString(aud) && !(Array.isArray(aud) && aud.every(isString))) throw invalid();
  // amr is read only when it is a list (as before), and then only a list of strings
  if (Array.isArray(amr) && !amr.every(isString)) throw invalid();
  return { header, claims: { iss, sub, aud, exp, amr: Array.isArray(amr) ? amr : undefined } as JwtClaims };
}

const WELL_KNOWN_IDPS = ['accounts.google.com', 'graph.facebook.com', 'www.amazon.com', 'cognito-identity.amazonaws.com'];

const stsHandlers: Record<string, Handler> = {
  GetCallerIdentity(ctx: Ctx): GetCallerIdentityResponse {
    const p = ctx.principal;
    return { UserId: p.userId, Account: p.account, Arn: p.arn };
  },

  GetAccessKeyInfo(ctx: Ctx, input: GetAccessKeyInfoRequest): GetAccessKeyInfoResponse {
    const id = input.AccessKeyId!;
    const key = ctx.tx.get<AccessKeyDoc>(IAM_KIND.accessKey, GLOBAL, id);
    if (key) return { Account: key.account };
    const s = ctx.tx.get<SessionDoc>('sts-session', GLOBAL, id);
    if (s) return { Account: s.account };
    if (/^\d{12}$/.test(id)) return { Account: id };
    return { Account: ctx.config.defaultAccount };
  },

  AssumeRole(ctx: Ctx, input: AssumeRoleRequest): AssumeRoleResponse {
    const transitiveKeys = input.TransitiveTagKeys ?? [];
    checkConstraints([
      ...roleArnAndName(input),
      ...sessionPolicyConstraints(input),
      ...tagConstraints(input.Tags),
      ...(transitiveKeys.length > 50
        ? [{ at: 'transitiveTagKeys', value: `[${transitiveKeys.join(', ')}]`, length: transitiveKeys.length, max: 50 }]
        : []),
      ...transitiveKeys.map((k, i) => ({ at: `transitiveTagKeys.${i + 1}.member`, value: k, min: 1, max: 128, pattern: P.tagKey })),
      { at: 'externalId', value: input.ExternalId, min: 2, max: 1224, pattern: P.externalId },
      { at: 'serialNumber', value: input.SerialNumber, min: 9, max: 256, pattern: P.serial },
      { at: 'tokenCode', value: input.TokenCode, min: 6, max: 6, pattern: P.token },
      { at: 'sourceIdentity', value: input.SourceIdentity, min: 2, max: 64, pattern: P.name },
    ]);
    checkRoleArn(input.RoleArn);
    const sessionName = input.RoleSessionName!;
    const caller = ctx.principal;
    refuseFederated(ctx, 'AssumeRole');
    const requestTags = input.Tags ?? [];
    checkSessionTags(requestTags, transitiveKeys);
    const inherited = inheritedTags(ctx);
    checkTransitiveOverride(inherited, requestTags);
    const denied = accessDenied(`User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`);
    // AWS refuses root credentials here; in `open` mode (any key is some account's root) it is allowed.
    if (caller.type === 'Root' && ctx.config.auth && ctx.config.auth !== 'open')
      throw accessDenied('Roles may not be assumed by root accounts.');
    const role = findRoleByArn(ctx, input.RoleArn!);
    if (!role) throw denied;
    const req: RequestContext = {
      action: 'sts:AssumeRole',
      resource: role.arn,
      principal: { aws: principalArns(caller), account: caller.account },
      context: {
        'aws:PrincipalArn': caller.role?.arn ?? caller.arn,
        'aws:PrincipalAccount': caller.account,
        'aws:userid': caller.userId,
        'aws:SourceIp': ctx.sourceIp,
        'aws:CurrentTime': new Date(ctx.clock.now()).toISOString(),
        'aws:EpochTime': Math.floor(ctx.clock.now() / 1000),
        'aws:RequestedRegion': ctx.region,
        'sts:ExternalId': input.ExternalId,
        'sts:RoleSessionName': sessionName,
        'sts:SourceIdentity': input.SourceIdentity,
        'aws:TagKeys': input.Tags?.map((t) => t.Key!),
        'sts:TransitiveTagKeys': input.TransitiveTagKeys,
        ...Object.fromEntries((input.Tags ?? []).map((t) => [`aws:RequestTag/${t.Key}`, t.Value])),
      },
    };
    if (!trustAllows(role, req)) throw denied;
    const duration = checkDuration(ctx, role, input.DurationSeconds, caller.type === 'AssumedRole');
    checkSessionPolicy(input.Policy);
    const allTags = [...Object.entries(inherited).map(([Key, Value]) => ({ Key, Value })), ...requestTags];
    const packed = packedSize(input.Policy, input.PolicyArns, allTags);
    const s = startRoleSession(ctx, role, sessionName, duration, {
      sessionPolicy: input.Policy,
      sessionPolicyArns: input.PolicyArns?.map((p) => p.arn!),
      sourceIdentity: input.SourceIdentity,
      tags: allTags.length ? tagMap(allTags) : undefined,
      transitiveTagKeys: [...Object.keys(inherited), ...transitiveKeys],
    });
    const passed = input.Policy !== undefined || (input.PolicyArns?.length ?? 0) > 0 || allTags.length > 0;
    return {
      Credentials: credentials(s),
      AssumedRoleUser: { AssumedRoleId: s.userId, Arn: s.arn },
      ...(passed ? { PackedPolicySize: packed } : {}),
      ...(input.SourceIdentity ? { SourceIdentity: input.SourceIdentity } : {}),
    };
  },

  /**
   * Temporary credentials for a federated user, made with an IAM user's long-term credentials
   * (or the root's, for at most an hour); never with session credentials. The session's
   * permissions are the caller's intersected with the session policies passed here — none
   * passed, none granted (STS API reference, GetFederationToken).
   */
  GetFederationToken(ctx: Ctx, input: GetFederationTokenRequest): GetFederationTokenResponse {
    checkConstraints([
      { at: 'name', value: input.Name, min: 2, max: 32, pattern: P.name },
      { at: 'policy', value: input.Policy, min: 1, max: 2048, pattern: P.policy },
      ...policyArnConstraints(input.PolicyArns),
      { at: 'durationSeconds', value: input.DurationSeconds, min: 900, max: 129600 },
      ...tagConstraints(input.Tags),
    ]);
    const caller = ctx.principal;
    if (caller.sessionToken || caller.type === 'AssumedRole' || caller.type === 'FederatedUser')
      throw accessDenied('Cannot call GetFederationToken with session credentials');
    const tags = input.Tags ?? [];
    checkSessionTags(tags, undefined);
    checkSessionPolicy(input.Policy);
    const packed = packedSize(input.Policy, input.PolicyArns, tags);
    const requested = input.DurationSeconds ?? 43200;
    // "If the specified duration is longer than one hour, the session obtained by using root user
    // credentials defaults to one hour."
    const d = caller.type === 'Root' ? Math.min(requested, 3600) : requested;
    const now = ctx.clock.now();
    const name = input.Name!;
    const partition = caller.arn.split(':')[1] ?? 'aws';
    pruneSessions(ctx.tx, now);
    const s = mintSession(ctx.tx, {
      account: caller.account,
      type: 'FederatedUser',
      issuedAt: now,
      expiration: now + d * 1000,
      arn: `arn:${partition}:sts::${caller.account}:federated-user/${name}`,
      userId: `${caller.account}:${name}`,
      federatedBy: caller.type === 'Root' ? { root: true } : { userName: caller.userName ?? '' },
      ...(input.Policy !== undefined ? { sessionPolicy: input.Policy } : {}),
      ...(input.PolicyArns?.length ? { sessionPolicyArns: input.PolicyArns.map((p) => p.arn!) } : {}),
      ...(tags.length ? { tags: tagMap(tags) } : {}),
    });
    return { Credentials: credentials(s), FederatedUser: { FederatedUserId: s.userId, Arn: s.arn }, PackedPolicySize: packed };
  },

  GetSessionToken(ctx: Ctx, input: GetSessionTokenRequest): GetSessionTokenResponse {
    checkConstraints([
      { at: 'durationSeconds', value: input.DurationSeconds, min: 900, max: 129600 },
      { at: 'serialNumber', value: input.SerialNumber, min: 9, max: 256, pattern: P.serial },
      { at: 'tokenCode', value: input.TokenCode, min: 6, max: 6, pattern: P.token },
    ]);
    const caller = ctx.principal;
    if (caller.type === 'AssumedRole' || caller.type === 'FederatedUser' || caller.sessionToken)
      throw accessDenied('Cannot call GetSessionToken with session credentials');
    const d = input.DurationSeconds ?? (caller.type === 'Root' ? 3600 : 43200);
    const max = caller.type === 'Root' ? 3600 : 129600;
    if (d < 900 || d > max)
      throw validation(
        `1 validation error detected: Value '${d}' at 'durationSeconds' failed to satisfy constraint: Member must have value ${d < 900 ? 'greater than or equal to 900' : `less than or equal to ${max}`}`,
      );
    const now = ctx.clock.now();
    const s = mintSession(ctx.tx, {
      account: caller.account,
      type: caller.type === 'Root' ? 'Root' : 'IAMUser',
      issuedAt: now,
      expiration: now + d * 1000,
      arn: caller.arn,
      userId: caller.userId,
      ...(caller.userName ? { userName: caller.userName } : {}),
    });
    return { Credentials: credentials(s) };
  },

  AssumeRoleWithWebIdentity(ctx: Ctx, input: AssumeRoleWithWebIdentityRequest): AssumeRoleWithWebIdentityResponse {
    checkConstraints([
      ...roleArnAndName(input),
      { at: 'webIdentityToken', value: input.WebIdentityToken, min: 4, max: 20000, sensitive: true },
      { at: 'providerId', value: input.ProviderId, min: 4, max: 2048 },
      ...sessionPolicyConstraints(input),
    ]);
    checkRoleArn(input.RoleArn);
    const sessionName = input.RoleSessionName!;
    const { claims } = decodeJwt(checkSecretLength(input.WebIdentityToken, 'webIdentityToken', 4, 20000));
    const now = ctx.clock.now();
    if (typeof claims.exp === 'number' && claims.exp * 1000 < now) {
      throw new ApiError(
        'ExpiredTokenException',
        `Token expired: current date/time ${Math.floor(now / 1000)} must be before the expiration date/time ${claims.exp}`,
        400,
      );
    }
    const iss = claims.iss ?? '';
    const host = iss.replace(/^https:\/\//, '');
    const role = findRoleByArn(ctx, input.RoleArn!);
    const denied = accessDenied('Not authorized to perform sts:AssumeRoleWithWebIdentity');
    if (!role) throw denied;
    const account = role.arn.split(':')[4]!;
    const provider = WELL_KNOWN_IDPS.includes(host) ? host : `arn:${role.arn.split(':')[1]}:iam::${account}:oidc-provider/${host}`;
    const aud = Array.isArray(claims.aud) ? claims.aud : claims.aud !== undefined ? [claims.aud] : [];
    const keyPrefix = WELL_KNOWN_IDPS.includes(host) ? host : host;
    const req: RequestContext = {
      action: 'sts:AssumeRoleWithWebIdentity',
      resource: role.arn,
      principal: { federated: provider },
      context: {
        [`${keyPrefix}:sub`]: claims.sub,
        [`${keyPrefix}:aud`]: aud,
        [`${keyPrefix}:oaud`]: aud,
        [`${keyPrefix}:amr`]: claims.amr,
        'aws:FederatedProvider': provider,
        'aws:SourceIp': ctx.sourceIp,
        'aws:CurrentTime': new Date(now).toISOString(),
        'sts:RoleSessionName': sessionName,
      },
    };
    if (!trustAllows(role, req)) throw denied;
    const duration = checkDuration(ctx, role, input.DurationSeconds, false);
    checkSessionPolicy(input.Policy);
    const packed = packedSize(input.Policy, input.PolicyArns, []);
    const s = startRoleSession(ctx, role, sessionName, duration, {
      sessionPolicy: input.Policy,
      sessionPolicyArns: input.PolicyArns?.map((p) => p.arn!),
    });
    return {
      Credentials: credentials(s),
      ...(input.Policy !== undefined || input.PolicyArns?.length ? { PackedPolicySize: packed } : {}),
      SubjectFromWebIdentityToken: claims.sub,
      AssumedRoleUser: { AssumedRoleId: s.userId, Arn: s.arn },
      Provider: iss,
      Audience: aud[0],
    };
  },

  AssumeRoleWithSAML(ctx: Ctx, input: AssumeRoleWithSAMLRequest): AssumeRoleWithSAMLResponse {
    checkConstraints([
      arnConstraint('roleArn', input.RoleArn),
      arnConstraint('principalArn', input.PrincipalArn),
      { at: 'sAMLAssertion', value: input.SAMLAssertion, min: 4, max: 100_000, sensitive: true },
      ...sessionPolicyConstraints(input),
    ]);
    checkRoleArn(input.RoleArn);
    const assertion = checkSecretLength(input.SAMLAssertion, 'sAMLAssertion', 4, 100_000);
    const saml = readSamlResponse(Buffer.from(assertion, 'base64').toString('utf8'));
    if (!saml) throw new ApiError('InvalidIdentityToken', 'Invalid SAML response: no assertion found', 400);
    const { issuer, subject, subjectType, audience, notOnOrAfter } = saml;
    if (notOnOrAfter && Date.parse(notOnOrAfter) < ctx.clock.now()) throw new ApiError('ExpiredTokenException', 'Token expired', 400);
    const role = findRoleByArn(ctx, input.RoleArn!);
    const denied = accessDenied('Not authorized to perform sts:AssumeRoleWithSAML');
    if (!role) throw denied;
    const sessionName = (subject.replace(/[^\w+=,.@-]/g, '').slice(0, 64) || 'saml-session').padEnd(2, '_');
    const req: RequestContext = {
      action: 'sts:AssumeRoleWithSAML',
      resource: role.arn,
      principal: { federated: input.PrincipalArn },
      context: {
        'saml:aud': audience,
        'saml:iss': issuer,
        'saml:sub': subject,
        'saml:sub_type': subjectType,
        'aws:SourceIp': ctx.sourceIp,
      },
    };
    if (!trustAllows(role, req)) throw denied;
    const duration = checkDuration(ctx, role, input.DurationSeconds, false);
    checkSessionPolicy(input.Policy);
    const packed = packedSize(input.Policy, input.PolicyArns, []);
    const s = startRoleSession(ctx, role, sessionName, duration, {
      sessionPolicy: input.Policy,
      sessionPolicyArns: input.PolicyArns?.map((p) => p.arn!),
    });
    const account = role.arn.split(':')[4]!;
    const providerName = (input.PrincipalArn ?? '').split('/').pop() ?? '';
    return {
      Credentials: credentials(s),
      AssumedRoleUser: { AssumedRoleId: s.userId, Arn: s.arn },
      ...(input.Policy !== undefined || input.PolicyArns?.length ? { PackedPolicySize: packed } : {}),
      Subject: subject,
      SubjectType: subjectType,
      Issuer: issuer,
      Audience: audience,
      NameQualifier: crypto()
        .createHash('sha1')
        .update(issuer + account + providerName)
        .digest('base64'),
    };
  },

  DecodeAuthorizationMessage(ctx: Ctx, input: DecodeAuthorizationMessageRequest): DecodeAuthorizationMessageResponse {
    const decoded = decodeAuthorizationMessage(ctx.store, input.EncodedMessage ?? '');
    if (decoded === undefined) throw new ApiError('InvalidAuthorizationMessageException', 'The message is invalid.', 400);
    return { DecodedMessage: decoded };
  },
};

export function stsService(): ServiceDef {
  return {
    name: 'sts',
    get model() {
      return loadModel('sts');
    },
    handlers: stsHandlers,
    global: true,
  };
}
