// SigV4 verification gaps (--auth verify): a signature must cover the body of every service but
// S3, and a presigned URL must carry a valid X-Amz-Expires (1 to 604800 seconds) and a date that
// is not in the future beyond the allowed skew.
// S3's answers are those AWS gives (AuthorizationQueryParametersError "X-Amz-Expires must be less
// than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds";
// AccessDenied "Request is not yet valid"), as reported in aws/aws-cli#5464 and minio/minio#2638.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignatureV4 } from '@smithy/signature-v4';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Sha256 } from '../src/core/sha256.ts';
import { start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';

const ROOT = { accessKeyId: 'AKIAPALISADESIGV4001', secretAccessKey: 'sigv4-root-secret-for-tests-only' };
const DEADLINE = () => AbortSignal.timeout(10_000);

describe('SigV4 under --auth verify', () => {
  let server: Palisade;
  let url: URL;
  before(async () => {
    process.env.PALISADE_ROOT_ACCESS_KEY_ID = ROOT.accessKeyId;
    process.env.PALISADE_ROOT_SECRET_ACCESS_KEY = ROOT.secretAccessKey;
    server = await start({ auth: 'verify' });
    url = new URL(server.url);
  });
  after(async () => {
    await server.close();
    delete process.env.PALISADE_ROOT_ACCESS_KEY_ID;
    delete process.env.PALISADE_ROOT_SECRET_ACCESS_KEY;
  });

  const signer = (service: string) => new SignatureV4({ service, region: 'us-east-1', credentials: ROOT, sha256: Sha256 as never });

  it('EC2: UNSIGNED-PAYLOAD cannot carry a swapped body (the signature must cover the body)', async () => {
    const signedBody = 'Action=DescribeVpcs&Version=2016-11-15';
    const signed = await signer('ec2').sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      query: {},
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      body: signedBody,
    });
    // As signed, it is still refused: EC2 does not take unsigned payloads.
    for (const body of [signedBody, 'Action=CreateSecurityGroup&Version=2016-11-15&GroupName=smuggled&GroupDescription=x']) {
      const res = await fetch(server.url, { method: 'POST', headers: signed.headers as Record<string, string>, body, signal: DEADLINE() });
      assert.equal(res.status, 403, body);
      assert.match(await res.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
    }
    const ec2 = new EC2Client({ endpoint: server.url, region: 'us-east-1', credentials: ROOT, maxAttempts: 1 });
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['smuggled'] }] }));
    assert.equal(groups.SecurityGroups?.length, 0, 'nothing was created');
  });

  it("EC2: a declared payload hash that is not the body's is refused; the right one is served", async () => {
    const body = 'Action=DescribeVpcs&Version=2016-11-15';
    const sign = (sha: string) =>
      signer('ec2').sign({
        method: 'POST',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/',
        query: {},
        headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded', 'x-amz-content-sha256': sha },
        body,
      });
    const wrong = await sign('0'.repeat(64));
    assert.equal(
      (await fetch(server.url, { method: 'POST', headers: wrong.headers as Record<string, string>, body, signal: DEADLINE() })).status,
      403,
    );
    const { createHash } = await import('node:crypto');
    const right = await sign(createHash('sha256').update(body).digest('hex'));
    assert.equal(
      (await fetch(server.url, { method: 'POST', headers: right.headers as Record<string, string>, body, signal: DEADLINE() })).status,
      200,
    );
  });

  async function presignedSts(expiresIn = 300, signingDate = new Date()): Promise<URL> {
    const req = await signer('sts').presign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/',
        query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
        headers: { host: url.host },
      },
      { expiresIn, signingDate },
    );
    const u = new URL(server.url);
    for (const [k, v] of Object.entries(req.query ?? {})) u.searchParams.set(k, String(v));
    return u;
  }

  it('STS presigned: a valid URL works; X-Amz-Expires NaN, 0, -1, 604801 or missing is refused (never a 500)', async () => {
    const ok = await presignedSts();
    assert.equal((await fetch(ok, { signal: DEADLINE() })).status, 200);
    for (const bad of ['NaN', '0', '-1', '604801', '1e3', '99999999999999999999', null]) {
      const u = await presignedSts();
      if (bad === null) u.searchParams.delete('X-Amz-Expires');
      else u.searchParams.set('X-Amz-Expires', bad);
      const res = await fetch(u, { signal: DEADLINE() });
      assert.equal(res.status, 403, `X-Amz-Expires=${bad}`);
      assert.match(await res.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
    }
  });

  it('STS presigned: a date an hour in the future is not yet valid', async () => {
    const u = await presignedSts(300, new Date(Date.now() + 3_600_000));
    const res = await fetch(u, { signal: DEADLINE() });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /Signature not yet current/);
  });

  it('S3 presigned: AuthorizationQueryParametersError for X-Amz-Expires, AccessDenied "Request is not yet valid" for a future date', async () => {
    const s3 = new S3Client({ endpoint: server.url, region: 'us-east-1', credentials: ROOT, forcePathStyle: true, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: 'presign-bucket' }));
    const presign = async (expiresIn: number, signingDate = new Date()) => {
      const req = await new SignatureV4({
        service: 's3',
        region: 'us-east-1',
        credentials: ROOT,
        sha256: Sha256 as never,
        uriEscapePath: false,
      }).presign(
        {
          method: 'GET',
          protocol: 'http:',
          hostname: url.hostname,
          port: Number(url.port),
          path: '/presign-bucket',
          query: {},
          headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        },
        { expiresIn, signingDate, unsignableHeaders: new Set(['x-amz-content-sha256']) },
      );
      const u = new URL('/presign-bucket', server.url);
      for (const [k, v] of Object.entries(req.query ?? {})) u.searchParams.set(k, String(v));
      return u;
    };
    assert.equal((await fetch(await presign(60), { signal: DEADLINE() })).status, 200);
    for (const [bad, message] of [
      ['604801', /less than a week/],
      ['abc', /should be a number/],
      ['-5', /non-negative/],
    ] as const) {
      const u = await presign(60);
      u.searchParams.set('X-Amz-Expires', bad);
      const res = await fetch(u, { signal: DEADLINE() });
      assert.equal(res.status, 400, bad);
      const text = await res.text();
      assert.match(text, /<Code>AuthorizationQueryParametersError<\/Code>/);
      assert.match(text, message);
    }
    const future = await fetch(await presign(60, new Date(Date.now() + 3_600_000)), { signal: DEADLINE() });
    assert.equal(future.status, 403);
    assert.match(await future.text(), /Request is not yet valid/);
  });

  // Found by test/fuzz.test.ts: the check decoded the path with decodeURIComponent, which throws
  // on `%ZZ`, and every service and the admin API answered 500 InternalError.
  it('a path whose escapes do not decode is judged like any other (never a 500): EC2, IAM, the admin API', async () => {
    const body = 'Action=DescribeVpcs&Version=2016-11-15';
    for (const path of ['/%ZZ', '/%E0%A4%A', '/a%']) {
      const sign = (service: string, method: string, b?: string, at = path) =>
        signer(service).sign({
          method,
          protocol: 'http:',
          hostname: url.hostname,
          port: Number(url.port),
          path: at,
          query: {},
          headers: { host: url.host, ...(b !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
          ...(b !== undefined ? { body: b } : {}),
        });
      const ec2 = await sign('ec2', 'POST', body);
      const ok = await fetch(new URL(path, server.url), {
        method: 'POST',
        headers: ec2.headers as Record<string, string>,
        body,
        signal: DEADLINE(),
      });
      assert.equal(ok.status, 200, `${path}: ${await ok.text()}`);
      const iam = await sign('iam', 'POST', 'Action=ListRoles&Version=2010-05-08');
      const tampered = { ...(iam.headers as Record<string, string>) };
      tampered.authorization = tampered.authorization!.replace(/Signature=(\w)/, (_, c: string) => `Signature=${c === 'f' ? '0' : 'f'}`);
      const bad = await fetch(new URL(path, server.url), {
        method: 'POST',
        headers: tampered,
        body: 'Action=ListRoles&Version=2010-05-08',
        signal: DEADLINE(),
      });
      assert.equal(bad.status, 403, path);
      assert.match(await bad.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
      const admin = await sign('palisade', 'GET', undefined, `/_palisade/imds${path}`);
      const res = await fetch(new URL(`/_palisade/imds${path}`, server.url), {
        headers: admin.headers as Record<string, string>,
        signal: DEADLINE(),
      });
      // past the guard; no route has such a segment
      assert.equal(res.status, 404, path);
      assert.equal(((await res.json()) as { code: string }).code, 'NotFound');
    }
  });
});
