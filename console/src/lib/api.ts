// The console's calls: the same APIs every other client uses, on the server that served the page,
// signed with SigV4 in the browser (@smithy/signature-v4). EC2 speaks its query protocol (XML
// answers, read by xml.ts), CloudWatch Logs, CloudTrail and STS theirs, the admin API JSON.
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { xmlToObject } from './xml';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** An error an API answered: AWS's code and message, shown as they are. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface Scope {
  credentials: Credentials;
  region: string;
}

const origin = () => new URL(window.location.href);

async function signed(
  scope: Scope,
  service: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
  query: Record<string, string> = {},
): Promise<Response> {
  const here = origin();
  const signer = new SignatureV4({ service, region: scope.region, credentials: scope.credentials, sha256: Sha256 });
  const req = await signer.sign({
    method,
    protocol: here.protocol,
    hostname: here.hostname,
    port: here.port ? Number(here.port) : undefined,
    path,
    query,
    headers: { ...headers, host: here.host },
    body,
  });
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (k.toLowerCase() !== 'host') h.set(k, v as string);
  const qs = new URLSearchParams(query).toString();
  return fetch(`${path}${qs ? `?${qs}` : ''}`, { method, headers: h, body });
}

// ---- EC2 (query protocol) ----

export type Params = Record<string, string | number | boolean | undefined>;

/** One EC2 call: `Action=…&Version=…` with the flattened parameters; the answer as an object. */
export async function ec2(scope: Scope, action: string, params: Params = {}): Promise<any> {
  const form = new URLSearchParams({ Action: action, Version: '2016-11-15' });
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') form.set(k, String(v));
  const res = await signed(
    scope,
    'ec2',
    'POST',
    '/',
    { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    form.toString(),
  );
  const text = await res.text();
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  if (!res.ok) {
    const code = doc.querySelector('Error > Code')?.textContent ?? `HTTP ${res.status}`;
    const message = doc.querySelector('Error > Message')?.textContent ?? text.slice(0, 300);
    throw new ApiError(code, message, res.status);
  }
  return xmlToObject(doc.documentElement);
}

/** Every page of a Describe call (NextToken), the items of `key` together. */
export async function ec2All(scope: Scope, action: string, key: string, params: Params = {}): Promise<any[]> {
  const out: any[] = [];
  let token: string | undefined;
  for (let i = 0; i < 100; i++) {
    const r = await ec2(scope, action, { ...params, NextToken: token });
    out.push(...list(r[key]));
    token = r.nextToken || undefined;
    if (!token) break;
  }
  return out;
}

/** EC2 lists (`<groupSet><item>…`) as arrays: an empty or missing one is []. */
export function list(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}

/** `Filter.1.Name=…&Filter.1.Value.1=…` */
export function filters(f: Record<string, string | string[] | undefined>): Params {
  const out: Params = {};
  let n = 0;
  for (const [name, value] of Object.entries(f)) {
    if (value === undefined) continue;
    n++;
    out[`Filter.${n}.Name`] = name;
    (Array.isArray(value) ? value : [value]).forEach((v, i) => (out[`Filter.${n}.Value.${i + 1}`] = v));
  }
  return out;
}

/** A list parameter: `GroupId.1=…&GroupId.2=…`. */
export function listParam(name: string, values: string[]): Params {
  const out: Params = {};
  values.forEach((v, i) => (out[`${name}.${i + 1}`] = v));
  return out;
}

// ---- JSON 1.1 services (CloudWatch Logs, CloudTrail) ----

export async function jsonCall(scope: Scope, service: string, target: string, input: unknown): Promise<any> {
  const body = JSON.stringify(input ?? {});
  const res = await signed(scope, service, 'POST', '/', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target }, body);
  const text = await res.text();
  const out = text ? JSON.parse(text) : {};
  if (!res.ok) {
    const code = String(out.__type ?? res.headers.get('x-amzn-errortype') ?? `HTTP ${res.status}`).replace(/^.*#/, '');
    throw new ApiError(code, out.message ?? out.Message ?? text.slice(0, 300), res.status);
  }
  return out;
}

export const logs = (scope: Scope, op: string, input: unknown) => jsonCall(scope, 'logs', `Logs_20140328.${op}`, input);
export const cloudtrail = (scope: Scope, op: string, input: unknown) =>
  jsonCall(scope, 'cloudtrail', `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.${op}`, input);

/** STS GetCallerIdentity (query protocol, XML): who the keys are. */
export async function callerIdentity(scope: Scope): Promise<{ account: string; arn: string }> {
  const form = new URLSearchParams({ Action: 'GetCallerIdentity', Version: '2011-06-15' }).toString();
  const res = await signed(scope, 'sts', 'POST', '/', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, form);
  const doc = new DOMParser().parseFromString(await res.text(), 'application/xml');
  if (!res.ok)
    throw new ApiError(
      doc.querySelector('Error > Code')?.textContent ?? `HTTP ${res.status}`,
      doc.querySelector('Error > Message')?.textContent ?? '',
      res.status,
    );
  return { account: doc.querySelector('Account')?.textContent ?? '', arn: doc.querySelector('Arn')?.textContent ?? '' };
}

// ---- Palisade's admin API ----

export async function admin(
  scope: Scope,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  query: Record<string, string> = {},
): Promise<any> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const res = await signed(scope, 'execute-api', method, path, text ? { 'content-type': 'application/json' } : {}, text, query);
  const raw = await res.text();
  let out: any;
  try {
    out = raw ? JSON.parse(raw) : {};
  } catch {
    throw new ApiError(`HTTP ${res.status}`, raw.slice(0, 300), res.status);
  }
  if (!res.ok) throw new ApiError(out.code ?? `HTTP ${res.status}`, out.error ?? raw, res.status);
  return out;
}

/** A presigned URL (query-string SigV4) for what cannot carry headers: EventSource. */
export async function presignedUrl(scope: Scope, path: string, expiresIn = 3600): Promise<string> {
  const here = origin();
  const signer = new SignatureV4({ service: 'execute-api', region: scope.region, credentials: scope.credentials, sha256: Sha256 });
  const req = await signer.presign(
    {
      method: 'GET',
      protocol: here.protocol,
      hostname: here.hostname,
      port: here.port ? Number(here.port) : undefined,
      path,
      query: {},
      headers: { host: here.host },
    },
    { expiresIn },
  );
  const qs = new URLSearchParams(req.query as Record<string, string>).toString();
  return `${path}?${qs}`;
}
