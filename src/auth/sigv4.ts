// SigV4 verification with @smithy/signature-v4: the request is signed again with the secret
// Palisade knows for its access key, over exactly the headers the client signed, and the two
// signatures are compared. Header signatures and presigned query strings both work.
import type { SignatureV4 as SignatureV4Class } from '@smithy/signature-v4';
import type { IncomingMessage } from 'node:http';
import { loadPackage, SIGNER_PACKAGE, crypto } from '../core/lazy.ts';
import { Sha256 } from '../core/sha256.ts';

// Loaded on first use (only `--auth verify|enforce` checks signatures), so that starting the
// server does not load @smithy/signature-v4 and @smithy/core (kept out of the bundle).
let signerClass: Promise<typeof SignatureV4Class> | undefined;
const loadSigner = () =>
  (signerClass ??= Promise.resolve().then(() => loadPackage<typeof import('@smithy/signature-v4')>(SIGNER_PACKAGE).SignatureV4));

export interface SignedRequest {
  accessKeyId: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** X-Amz-Date as epoch ms */
  date: number;
  presigned: boolean;
  expires?: number;
  sessionToken?: string;
}

type VerifyFailure = 'missing' | 'malformed' | { failure: 'bad-expires'; detail: string };

/** The longest a presigned URL may be valid: SigV4 signing keys last 7 days. */
const MAX_PRESIGN_SECONDS = 604800;

/**
 * X-Amz-Expires of a presigned request: an integer number of seconds, 1 to 604800 (S3 answers
 * AuthorizationQueryParametersError with these messages; other services refuse the signature).
 */
function presignExpiry(raw: string | null): number | { failure: 'bad-expires'; detail: string } {
  if (raw === null)
    return {
      failure: 'bad-expires',
      detail:
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    };
  if (!/^-?\d{1,12}$/.test(raw)) return { failure: 'bad-expires', detail: 'X-Amz-Expires should be a number' };
  const n = Number(raw);
  if (n < 0) return { failure: 'bad-expires', detail: 'X-Amz-Expires must be non-negative' };
  if (n > MAX_PRESIGN_SECONDS)
    return {
      failure: 'bad-expires',
      detail: `X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than ${MAX_PRESIGN_SECONDS} seconds`,
    };
  if (n === 0) return { failure: 'bad-expires', detail: 'X-Amz-Expires must be at least 1 second' };
  return n;
}

const HEADER =
  /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/;

function parseAmzDate(s: string | undefined): number {
  const m = s && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

export function parseSigned(req: IncomingMessage, url: URL): SignedRequest | VerifyFailure {
  const auth = req.headers.authorization;
  if (auth) {
    const m = HEADER.exec(auth);
    if (!m) return 'malformed';
    const date = parseAmzDate(String(req.headers['x-amz-date'] ?? ''));
    if (Number.isNaN(date)) return 'malformed';
    const token = req.headers['x-amz-security-token'];
    return {
      accessKeyId: m[1]!,
      region: m[3]!,
      service: m[4]!,
      signedHeaders: m[5]!.split(';'),
      signature: m[6]!,
      date,
      presigned: false,
      sessionToken: typeof token === 'string' ? token : undefined,
    };
  }
  const q = url.searchParams;
  if (q.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256') {
    const cred = (q.get('X-Amz-Credential') ?? '').split('/');
    const date = parseAmzDate(q.get('X-Amz-Date') ?? '');
    const sig = q.get('X-Amz-Signature') ?? '';
    if (cred.length !== 5 || Number.isNaN(date) || !/^[0-9a-f]{64}$/.test(sig)) return 'malformed';
    const expires = presignExpiry(q.get('X-Amz-Expires'));
    if (typeof expires !== 'number') return expires;
    return {
      accessKeyId: cred[0]!,
      region: cred[2]!,
      service: cred[3]!,
      signedHeaders: (q.get('X-Amz-SignedHeaders') ?? 'host').split(';'),
      signature: sig,
      date,
      presigned: true,
      expires,
      sessionToken: q.get('X-Amz-Security-Token') ?? undefined,
    };
  }
  return 'missing';
}

/**
 * A request path decoded for signing. One whose escapes do not decode (`/%ZZ`, a cut-off UTF-8
 * sequence) is signed as sent: any client's signature over it is then judged like another (it
 * matches or it does not), instead of the check failing on it.
 */
function decodedPath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/**
 * Recomputes the signature with `secret`; true when it matches what the client sent.
 * `unsignedPayload`: the service lets a request leave its body out of the signature (S3 only:
 * `x-amz-content-sha256: UNSIGNED-PAYLOAD` or a streaming mode). Every other service's signature
 * covers the body, whatever the header claims.
 */
export async function signatureMatches(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  s: SignedRequest,
  secret: string,
  unsignedPayload: boolean,
): Promise<boolean> {
  // A declared payload hash must be the body's: otherwise the signature covers another body.
  const declared = req.headers['x-amz-content-sha256'];
  if (declared !== undefined) {
    const isHash = typeof declared === 'string' && /^[0-9a-f]{64}$/.test(declared);
    if (!isHash && !unsignedPayload) return false;
    if (isHash && crypto().createHash('sha256').update(body).digest('hex') !== declared) return false;
  }
  const SignatureV4 = await loadSigner();
  const signer = new SignatureV4({
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: secret, ...(s.sessionToken ? { sessionToken: s.sessionToken } : {}) },
    region: s.region,
    service: s.service,
    sha256: Sha256 as never,
    uriEscapePath: s.service !== 's3',
    applyChecksum: false,
  });
  const headers: Record<string, string> = {};
  for (const h of s.signedHeaders) {
    const v = req.headers[h];
    if (v !== undefined) headers[h] = Array.isArray(v) ? v.join(',') : v;
  }
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    if (s.presigned && k === 'X-Amz-Signature') continue;
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const request = {
    method: req.method ?? 'GET',
    protocol: 'http:',
    hostname: String(req.headers.host ?? '').replace(/:\d+$/, ''),
    port: Number(String(req.headers.host ?? '').split(':')[1]) || undefined,
    // S3 signs the path exactly as sent; other services sign it decoded and escaped again.
    path: s.service === 's3' ? url.pathname : decodedPath(url.pathname),
    query,
    headers,
    body: s.presigned ? undefined : body,
  };
  let expected: string | undefined;
  if (s.presigned) {
    // Presigning adds the X-Amz-* parameters itself: sign without them and read the result.
    for (const k of ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Security-Token'])
      delete query[k];
    // S3's presigned URLs sign no payload (UNSIGNED-PAYLOAD); the header carries that to the signer only.
    if (s.service === 's3' && !('x-amz-content-sha256' in headers)) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    const out = await signer.presign(request as never, {
      signingDate: new Date(s.date),
      expiresIn: s.expires,
      unhoistableHeaders: new Set(Object.keys(headers)),
      signableHeaders: new Set(s.signedHeaders),
      unsignableHeaders: s.signedHeaders.includes('x-amz-content-sha256') ? undefined : new Set(['x-amz-content-sha256']),
    });
    expected = String((out.query as Record<string, string>)['X-Amz-Signature']);
  } else {
    const out = await signer.sign(request as never, { signingDate: new Date(s.date), signableHeaders: new Set(s.signedHeaders) });
    expected = /Signature=([0-9a-f]{64})/.exec(
      String((out.headers as Record<string, string>).authorization ?? (out.headers as Record<string, string>).Authorization),
    )?.[1];
  }
  if (!expected) return false;
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(s.signature, 'hex');
  return a.length === b.length && crypto().timingSafeEqual(a, b);
}
