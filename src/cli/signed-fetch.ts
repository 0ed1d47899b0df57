// HTTP calls from the `palisade` subcommands to a running server, SigV4-signed with the
// credentials of the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN):
// under `--auth verify|enforce` the admin API (/_palisade/*) answers only the root key pair, and
// the AWS APIs only keys Palisade knows. Without credentials the request goes unsigned (`--auth
// open` serves it).
//
// node:http, not fetch: Node's first fetch() loads undici, ~100-200 ms of a command's start for
// one local request. A server that cannot be reached is an UnreachableError (exit 3) naming the
// URL, with a hint; an error answer is an Error with the server's message (which names the
// missing resource on a 404).
import type { IncomingHttpHeaders, RequestOptions } from 'node:http';
import { loadPackage, moduleRequire, SIGNER_PACKAGE } from '../core/lazy.ts';
import { Sha256 } from '../core/sha256.ts';
import { InputError, UnreachableError } from './errors.ts';
import { DEFAULT_ENDPOINT } from './commands.ts';

/** The server a client command talks to: --endpoint, else AWS_ENDPOINT_URL, else the default. */
export function endpointOf(flag: string | undefined): string {
  return (flag ?? (process.env.AWS_ENDPOINT_URL || undefined) ?? DEFAULT_ENDPOINT).replace(/\/$/, '');
}

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

/** The answer, read to its end. */
export interface CliResponse {
  status: number;
  ok: boolean;
  headers: IncomingHttpHeaders;
  text(): Promise<string>;
}

/** Errors that mean nobody answers at that address (as opposed to an answer we did not like). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);

/** Seconds a call may take before the command gives up on the server. */
const TIMEOUT_MS = 120_000;

export async function signedFetch(endpoint: string, call: SignedCall): Promise<CliResponse> {
  let url: URL;
  try {
    url = new URL(call.path, `${endpoint}/`);
  } catch {
    throw new InputError(`invalid endpoint '${endpoint}': a URL like http://127.0.0.1:4566 is expected`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InputError(`invalid endpoint '${endpoint}': http:// or https:// is expected`);
  let headers: Record<string, string> = { ...call.headers, host: url.host };
  if (call.body !== undefined) headers['content-length'] = String(Buffer.byteLength(call.body));
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
      headers,
      ...(call.body !== undefined ? { body: call.body } : {}),
    });
    headers = signed.headers as Record<string, string>;
  }
  const http = moduleRequire(url.protocol === 'https:' ? 'node:https' : 'node:http') as typeof import('node:http');
  const options: RequestOptions = {
    method: call.method,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || undefined,
    path: url.pathname + url.search,
    headers,
  };
  return new Promise<CliResponse>((resolve, reject) => {
    const req = http.request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('error', reject);
      res.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, headers: res.headers, text: () => Promise.resolve(text) });
      });
    });
    req.setTimeout(TIMEOUT_MS, () =>
      req.destroy(Object.assign(new Error(`no answer within ${TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })),
    );
    req.once('error', (e: Error & { code?: string }) => {
      if (e.code && UNREACHABLE.has(e.code)) reject(new UnreachableError(endpoint, e.message, { cause: e }));
      else reject(e);
    });
    req.end(call.body);
  });
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
    // A 404 names what is missing (an instance, a connection); one for the path itself means a
    // server without that endpoint.
    if (res.status === 404 && e.error?.startsWith('unknown endpoint'))
      throw new Error(`${endpoint} has no ${method} ${path.split('?')[0]}: is it a Palisade server of this version?`);
    throw new Error(e.error ?? `HTTP ${res.status} from ${method} ${endpoint}${path}`);
  }
  return parsed as T;
}
