// `--auth verify|enforce`: a request must carry a valid SigV4 signature made with a secret
// Palisade knows — an IAM user's access key, an STS session (with its token, unexpired), or the
// root key pair. Failures answer with each protocol's own codes, as AWS does.
import type { IncomingMessage } from 'node:http';
import type { Store } from '../store/store.ts';
import type { Clock } from '../core/clock.ts';
import { ApiError } from '../core/errors.ts';
import { GLOBAL, IAM_KIND, type AccessKeyDoc } from '../core/documents/iam.ts';
import { SESSION_KIND, type SessionDoc } from './principals.ts';
import { parseSigned, signatureMatches, type SignedRequest } from './sigv4.ts';
import { randomKeyId, randomSecret } from './credentials.ts';

export type AuthMode = 'open' | 'verify' | 'enforce';
export type Protocol = 'ec2' | 'query' | 'json' | 'rest';
const SKEW_MS = 15 * 60 * 1000;
/** STS calls that are made without AWS credentials. */
export const UNSIGNED_ACTIONS = new Set(['AssumeRoleWithWebIdentity', 'AssumeRoleWithSAML']);

type Failure =
  | 'missing'
  | 'unknown-key'
  | 'mismatch'
  | 'expired-token'
  | 'skew'
  | 'expired-presign'
  | 'not-yet-valid'
  | 'malformed'
  | 'bad-expires'
  | 'bad-region'
  | 'inactive-key';

/** AWS's answer to a credential scope naming a region it does not have (at most 64 characters of it quoted). */
const regionMessage = (region: string) => `Credential should be scoped to a valid region, not '${region.slice(0, 64)}'. `;

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

export function authError(protocol: Protocol, f: Failure, detail = ''): ApiError {
  switch (protocol) {
    case 'ec2':
      switch (f) {
        case 'missing':
          return new ApiError('MissingAuthenticationToken', 'Request is missing Authentication Token', 401);
        case 'unknown-key':
        case 'inactive-key':
          return new ApiError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
        case 'mismatch':
        case 'malformed':
          return new ApiError('SignatureDoesNotMatch', MISMATCH, 403);
        case 'expired-token':
        case 'skew':
        case 'expired-presign':
        case 'not-yet-valid':
          return new ApiError('RequestExpired', 'Request has expired.', 400);
        case 'bad-expires':
          return new ApiError('AuthFailure', detail, 401);
        case 'bad-region':
          return new ApiError('AuthFailure', regionMessage(detail), 401);
      }
      break;
    case 'json':
      switch (f) {
        case 'missing':
          return new ApiError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
        case 'unknown-key':
        case 'inactive-key':
          return new ApiError('UnrecognizedClientException', 'The security token included in the request is invalid.', 400);
        case 'mismatch':
        case 'malformed':
          return new ApiError('InvalidSignatureException', MISMATCH, 400);
        case 'expired-token':
          return new ApiError('ExpiredTokenException', 'The security token included in the request is expired', 400);
        case 'skew':
        case 'expired-presign':
          return new ApiError('InvalidSignatureException', `Signature expired: ${detail}`, 400);
        case 'not-yet-valid':
          return new ApiError('InvalidSignatureException', `Signature not yet current: ${detail}`, 400);
        case 'bad-expires':
          return new ApiError('InvalidSignatureException', detail, 400);
        case 'bad-region':
          return new ApiError('InvalidSignatureException', regionMessage(detail), 400);
      }
      break;
    case 'rest':
      switch (f) {
        case 'skew':
          return new ApiError('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', 403);
        case 'unknown-key':
        case 'inactive-key':
          return new ApiError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', 403);
        case 'expired-token':
          return new ApiError('ExpiredToken', 'The provided token has expired.', 400);
        case 'missing':
          return new ApiError('AccessDenied', 'Access Denied', 403);
        case 'not-yet-valid':
          return new ApiError('AccessDenied', 'Request is not yet valid', 403);
        case 'bad-expires':
          return new ApiError('AuthorizationQueryParametersError', detail, 400);
        case 'bad-region':
          return new ApiError(
            'AuthorizationHeaderMalformed',
            `The authorization header is malformed; the region '${detail}' is wrong; expecting 'us-east-1'`,
            400,
          );
        default:
          return new ApiError('SignatureDoesNotMatch', MISMATCH, 403);
      }
  }
  switch (f) {
    case 'missing':
      return new ApiError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    case 'unknown-key':
    case 'inactive-key':
      return new ApiError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
    case 'mismatch':
    case 'malformed':
      return new ApiError('SignatureDoesNotMatch', MISMATCH, 403);
    case 'expired-token':
      return new ApiError('ExpiredToken', 'The security token included in the request is expired', 403);
    case 'skew':
    case 'expired-presign':
      return new ApiError('SignatureDoesNotMatch', `Signature expired: ${detail}`, 403);
    case 'not-yet-valid':
      return new ApiError('SignatureDoesNotMatch', `Signature not yet current: ${detail}`, 403);
    case 'bad-expires':
      return new ApiError('SignatureDoesNotMatch', detail, 403);
    case 'bad-region':
      return new ApiError('SignatureDoesNotMatch', regionMessage(detail), 403);
  }
}

/** Where the generated root key pair is kept in the state (a reset keeps it). */
export const ROOT_KEY_META = 'root-key';

export interface RootKey {
  accessKeyId: string;
  secretAccessKey: string;
  generated: boolean;
}

/** The root key pair of the default account: from the environment, else made once and kept. */
export function rootKey(store: Store, env: NodeJS.ProcessEnv = process.env): RootKey {
  const id = env.PALISADE_ROOT_ACCESS_KEY_ID;
  const secret = env.PALISADE_ROOT_SECRET_ACCESS_KEY;
  if (id && secret) return { accessKeyId: id, secretAccessKey: secret, generated: false };
  const kept = store.getMeta(ROOT_KEY_META);
  if (kept) return { ...(JSON.parse(kept) as { accessKeyId: string; secretAccessKey: string }), generated: false };
  const made = { accessKeyId: randomKeyId('AKIA'), secretAccessKey: randomSecret() };
  store.setMeta(ROOT_KEY_META, JSON.stringify(made));
  return { ...made, generated: true };
}

const stamp = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** Verifies the request's signature; returns the access key id it was made with. */
export async function authenticate(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  protocol: Protocol,
  store: Store,
  clock: Clock,
  root: RootKey,
): Promise<{ accessKeyId: string; signed: SignedRequest }> {
  const s = parseSigned(req, url);
  if (s === 'missing') throw authError(protocol, 'missing');
  if (s === 'malformed') throw authError(protocol, 'malformed');
  if (typeof s === 'object' && 'failure' in s) throw authError(protocol, s.failure, s.detail);
  const now = clock.now();
  let secret: string | undefined;
  if (s.accessKeyId === root.accessKeyId) secret = root.secretAccessKey;
  else if (s.accessKeyId.startsWith('ASIA')) {
    const session = store.table(SESSION_KIND, GLOBAL).get(s.accessKeyId) as SessionDoc | undefined;
    if (!session) throw authError(protocol, 'unknown-key');
    if (s.sessionToken !== session.token) throw authError(protocol, 'unknown-key');
    if (session.expiration <= now) throw authError(protocol, 'expired-token');
    secret = session.secret;
  } else {
    const key = store.table(IAM_KIND.accessKey, GLOBAL).get(s.accessKeyId) as AccessKeyDoc | undefined;
    if (!key) throw authError(protocol, 'unknown-key');
    if (key.status !== 'Active') throw authError(protocol, 'inactive-key');
    secret = key.secret;
  }
  if (s.presigned) {
    const until = s.date + s.expires! * 1000;
    // Signed for later than the allowed clock skew: not valid yet (a URL cannot be made to last longer than a week).
    if (s.date > now + SKEW_MS)
      throw authError(protocol, 'not-yet-valid', `${stamp(s.date)} is still later than ${stamp(now + SKEW_MS)} (${stamp(now)} + 15 min.)`);
    if (now > until) throw authError(protocol, 'expired-presign', `${stamp(until)} is now earlier than ${stamp(now)}`);
  } else if (Math.abs(now - s.date) > SKEW_MS) {
    throw authError(protocol, 'skew', `${stamp(s.date)} is now earlier than ${stamp(now - SKEW_MS)} (${stamp(now)} - 15 min.)`);
  }
  if (!(await signatureMatches(req, url, body, s, secret, protocol === 'rest'))) throw authError(protocol, 'mismatch');
  return { accessKeyId: s.accessKeyId, signed: s };
}
