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

const accessDenied = (message: string) => new ApiError('AccessDenied', message, 403);
const validation = (message: string) => new ApiError('ValidationError', message, 400);

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\u0021-\u007E]*\/)?([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

function findRoleByArn(ctx: Ctx, arn: string): RoleDoc | undefined {
  const m = ROLE_ARN.exec(arn);
  if (!m) return undefined;
  const role = ctx.tx.get<RoleDoc>(IAM_KIND.role, m[2]!, m[3]!.toLowerCase());
  return role && role.arn === arn ? role : role && arn.endsWith(`/${role.name}`) && arn.includes(`:${m[2]}:`) ? role : undefined;
}

function checkRoleArn(arn: string | undefined): RegExpExecArray {
  if (!arn || arn.length < 20 || arn.length > 2048)
    throw validation(
      `1 validation error detected: Value '${arn}' at 'roleArn' failed to satisfy constraint: Member must have length ${arn && arn.length > 2048 ? 'less than or equal to 2048' : 'greater than or equal to 20'}`,
    );
  const m = ROLE_ARN.exec(arn);
  if (!m) throw validation(`${arn} is invalid`);
  return m;
}

function checkSessionName(name: string | undefined): string {
  if (!name || !SESSION_NAME.test(name)) {
    throw validation(
      `1 validation error detected: Value '${name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }
  return name;
}

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
  // the plaintext limit first: a longer document is never parsed
  if (policy.length > 2048) throw new ApiError('PackedPolicyTooLarge', 'Packed size of the policy exceeds the maximum allowed.', 400);
  try {
    parsePolicy(policy);
  } catch {
    throw new ApiError('MalformedPolicyDocument', 'The policy is not in the valid JSON format.', 400);
  }
}

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
  extra: Partial<Pick<SessionDoc, 'ec2RoleDelivery' | 'sourceInstanceArn'>> & {
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
  });
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
    checkRoleArn(input.RoleArn);
    const sessionName = checkSessionName(input.RoleSessionName);
    const caller = ctx.principal;
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
        ...Object.fromEntries((input.Tags ?? []).map((t) => [`aws:RequestTag/${t.Key}`, t.Value])),
      },
    };
    if (!trustAllows(role, req)) throw denied;
    const duration = checkDuration(ctx, role, input.DurationSeconds, caller.type === 'AssumedRole');
    checkSessionPolicy(input.Policy);
    const s = startRoleSession(ctx, role, sessionName, duration, {
      sessionPolicy: input.Policy,
      sourceIdentity: input.SourceIdentity,
      tags: input.Tags ? Object.fromEntries(input.Tags.map((t) => [t.Key!, t.Value!])) : undefined,
    });
    return {
      Credentials: credentials(s),
      AssumedRoleUser: { AssumedRoleId: s.userId, Arn: s.arn },
      ...(input.Policy ? { PackedPolicySize: Math.min(100, Math.ceil((input.Policy.length / 2048) * 100)) } : {}),
      ...(input.SourceIdentity ? { SourceIdentity: input.SourceIdentity } : {}),
    };
  },

  GetSessionToken(ctx: Ctx, input: GetSessionTokenRequest): GetSessionTokenResponse {
    const caller = ctx.principal;
    if (caller.type === 'AssumedRole' || caller.sessionToken) throw accessDenied('Cannot call GetSessionToken with session credentials');
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
    checkRoleArn(input.RoleArn);
    const sessionName = checkSessionName(input.RoleSessionName);
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
    const s = startRoleSession(ctx, role, sessionName, duration, { sessionPolicy: input.Policy });
    return {
      Credentials: credentials(s),
      SubjectFromWebIdentityToken: claims.sub,
      AssumedRoleUser: { AssumedRoleId: s.userId, Arn: s.arn },
      Provider: iss,
      Audience: aud[0],
    };
  },

  AssumeRoleWithSAML(ctx: Ctx, input: AssumeRoleWithSAMLRequest): AssumeRoleWithSAMLResponse {
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
    const s = startRoleSession(ctx, role, sessionName, duration, { sessionPolicy: input.Policy });
    const account = role.arn.split(':')[4]!;
    const providerName = (input.PrincipalArn ?? '').split('/').pop() ?? '';
    return {
      Credentials: credentials(s),
      AssumedRoleUser: { AssumedRoleId: s.userId, Arn: s.arn },
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
