// Reads who and where a request is for from its SigV4 credential scope (header or presigned
// query string). Verification of the signature itself lives in auth/.
export interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

const HEADER = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/;

export function credentialScope(authorization: string | undefined, query: URLSearchParams): CredentialScope | undefined {
  if (authorization) {
    const m = HEADER.exec(authorization);
    if (m) return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]! };
  }
  const cred = query.get('X-Amz-Credential');
  if (cred) {
    const p = cred.split('/');
    if (p.length === 5) return { accessKeyId: p[0]!, date: p[1]!, region: p[2]!, service: p[3]! };
  }
  return undefined;
}

/** Re-exported for callers not moved yet (the S3 adapter); the function lives in core/regions.ts. */
export { partitionOf } from '../core/regions.ts';
