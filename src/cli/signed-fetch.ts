// HTTP calls from the `palisade` subcommands to a running server, SigV4-signed with the
// credentials of the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN):
// under `--auth verify|enforce` the admin API (/_palisade/*) answers only the root key pair, and
// the AWS APIs only keys Palisade knows. Without credentials the request goes unsigned (`--auth
// open` serves it). A server that cannot be reached is named in the error, with a hint.
import { loadPackage, SIGNER_PACKAGE } from '../core/lazy.ts';
import { Sha256 } from '../core/sha256.ts';

interface SignedCall {
  method: 'GET' | 'POST' | 'DELETE';
  /** path and query string, e.g. `/_palisade/network/evaluate` */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** the SigV4 scope's service and region (the admin API accepts any) */
  service?: string;
  region?: string;
}

export async function signedFetch(endpoint: string, call: SignedCall): Promise<Response> {
  const url = new URL(call.path, `${endpoint}/`);
  let headers: Record<string, string> = { ...call.headers };
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (accessKeyId && secretAccessKey) {
    const { SignatureV4 } = loadPackage<typeof import('@smithy/signature-v4')>(SIGNER_PACKAGE);
    const signer = new SignatureV4({
      service: call.service ?? 'palisade',
      region: call.region ?? 'us-east-1',
      sha256: Sha256 as never,
      credentials: {
        accessKeyId,
        secretAccessKey,
        ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
      },
    });
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const signed = await signer.sign({
      method: call.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: { ...headers, host: url.host },
      ...(call.body !== undefined ? { body: call.body } : {}),
    });
    headers = signed.headers as Record<string, string>;
  }
  try {
    return await fetch(url, { method: call.method, headers, ...(call.body !== undefined ? { body: call.body } : {}) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new Error(
      `cannot reach Palisade at ${endpoint}${cause ? ` (${cause})` : ''}: is it running? (palisade start; or give --endpoint / AWS_ENDPOINT_URL)`,
      { cause: e },
    );
  }
}

/** A JSON call to the admin API: its answer, or an Error with the server's message. */
export async function adminCall<T>(endpoint: string, method: SignedCall['method'], path: string, body?: unknown): Promise<T> {
  const res = await signedFetch(endpoint, {
    method,
    path,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`unexpected answer from ${endpoint}${path} (HTTP ${res.status}): ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const e = parsed as { error?: string; code?: string };
    throw new Error(e.error ?? `HTTP ${res.status}`);
  }
  return parsed as T;
}
