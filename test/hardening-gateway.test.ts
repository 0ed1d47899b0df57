// What the gateway answers before (or instead of) a service: in the caller's protocol, escaped,
// and never a scope for a region AWS does not have.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateTrailCommand, CloudTrailClient, GetTrailCommand } from '@aws-sdk/client-cloudtrail';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { start, CREDS } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { KIND } from '../src/core/documents/ec2.ts';

const DEADLINE = () => AbortSignal.timeout(10_000);
const auth = (region: string, service: string) =>
  `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=00`;

describe('gateway answers', () => {
  let p: Palisade;
  before(async () => {
    p = await start();
  });
  after(() => p.close());

  // "Credential should be scoped to a valid region, not 'xx'." — AWS's answer, as quoted in
  // aws/aws-sdk-go#156 and aws/aws-sdk-js-v3#5576.
  it('a region AWS does not have is refused and never becomes a scope (no default VPC for it)', async () => {
    for (const region of ['..', 'x'.repeat(300), 'us-east-99', 'US-EAST-1']) {
      const ec2 = await fetch(p.url, {
        method: 'POST',
        body: 'Action=DescribeVpcs&Version=2016-11-15',
        signal: DEADLINE(),
        headers: { authorization: auth(region, 'ec2'), 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(ec2.status, 401, region);
      const text = await ec2.text();
      assert.match(text, /<Code>AuthFailure<\/Code>/);
      assert.match(text, /Credential should be scoped to a valid region/);
      const logs = await fetch(p.url, {
        method: 'POST',
        body: '{}',
        signal: DEADLINE(),
        headers: {
          authorization: auth(region, 'logs'),
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'Logs_20140328.DescribeLogGroups',
        },
      });
      assert.equal(logs.status, 400);
      assert.equal((await logs.json()).__type, 'InvalidSignatureException');
      const s3 = await fetch(`${p.url}/bucket-of-nowhere`, {
        method: 'PUT',
        signal: DEADLINE(),
        headers: { authorization: auth(region, 's3') },
      });
      assert.equal(s3.status, 400);
      assert.match(await s3.text(), /<Code>AuthorizationHeaderMalformed<\/Code>/);
    }
    const scopes = p.store.scopes(KIND.vpc);
    assert.ok(
      scopes.every((s) => /^\d{12}\/[a-z]{2}(-[a-z]+)+-\d$/.test(s)),
      scopes.join(', '),
    );
  });

  it("a body past the limit is refused in the caller's protocol (413)", async () => {
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x61);
    const json = await fetch(p.url, {
      method: 'POST',
      body: big,
      signal: DEADLINE(),
      headers: {
        authorization: auth('us-east-1', 'logs'),
        'x-amz-target': 'Logs_20140328.PutLogEvents',
        'content-type': 'application/x-amz-json-1.1',
      },
    });
    assert.equal(json.status, 413);
    assert.match(json.headers.get('content-type') ?? '', /json/);
    assert.equal((await json.json()).__type, 'RequestEntityTooLarge');
    const iam = await fetch(p.url, {
      method: 'POST',
      body: big,
      signal: DEADLINE(),
      headers: { authorization: auth('us-east-1', 'iam'), 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(iam.status, 413);
    assert.match(await iam.text(), /^<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>RequestEntityTooLarge<\/Code>/);
    const s3 = await fetch(`${p.url}/some-bucket/key`, {
      method: 'PUT',
      body: big,
      signal: DEADLINE(),
      headers: { authorization: auth('us-east-1', 's3') },
    });
    assert.equal(s3.status, 413);
    assert.match(await s3.text(), /<Error><Code>RequestEntityTooLarge<\/Code>/);
    const ec2 = await fetch(p.url, {
      method: 'POST',
      body: big,
      signal: DEADLINE(),
      headers: { authorization: auth('us-east-1', 'ec2'), 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(ec2.status, 413);
    assert.match(await ec2.text(), /<Response><Errors><Error><Code>RequestEntityTooLarge<\/Code>/);
    assert.equal((await fetch(`${p.url}/_palisade/health`, { signal: DEADLINE() })).status, 200);
  });

  it("a request line and headers past 16 KB answer 431 in the caller's protocol (node:http refuses them before any handler)", async () => {
    const long = 'a'.repeat(17_000);
    const s3 = await fetch(`${p.url}/b?prefix=${long}`, { signal: DEADLINE(), headers: { authorization: auth('us-east-1', 's3') } });
    assert.equal(s3.status, 431);
    assert.match(await s3.text(), /<Error><Code>RequestHeaderSectionTooLarge<\/Code>/);
    const json = await fetch(`${p.url}/?x=${long}`, {
      method: 'POST',
      body: '{}',
      signal: DEADLINE(),
      headers: { authorization: auth('us-east-1', 'logs'), 'x-amz-target': 'Logs_20140328.DescribeLogGroups' },
    });
    assert.equal(json.status, 431);
    assert.equal((await json.json()).__type, 'RequestHeaderSectionTooLarge');
    const admin = await fetch(`${p.url}/_palisade/clock?x=${long}`, { signal: DEADLINE() });
    assert.equal(admin.status, 431);
    assert.equal((await admin.json()).code, 'RequestHeaderSectionTooLarge');
    const ec2 = await fetch(`${p.url}/?Action=DescribeVpcs&Filter.1.Name=${long}`, {
      signal: DEADLINE(),
      headers: { authorization: auth('us-east-1', 'ec2') },
    });
    assert.equal(ec2.status, 431);
    assert.match(await ec2.text(), /<Response><Errors><Error><Code>RequestHeaderSectionTooLarge/);
    assert.equal((await fetch(`${p.url}/_palisade/health`, { signal: DEADLINE() })).status, 200);
  });

  it('an EC2 filter named like an Object member (valueOf, __proto__) is an unknown filter, not a 500', async () => {
    for (const name of ['valueOf', '__proto__', 'hasOwnProperty', 'constructor']) {
      const res = await fetch(p.url, {
        method: 'POST',
        body: `Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=${name}&Filter.1.Value.1=x`,
        signal: DEADLINE(),
        headers: { authorization: auth('us-east-1', 'ec2'), 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(res.status, 400, name);
      assert.match(await res.text(), /<Code>InvalidParameterValue<\/Code>/);
    }
  });

  it('error text is escaped: an unknown service named with markup', async () => {
    const res = await fetch(p.url, {
      method: 'POST',
      body: 'Action=X',
      signal: DEADLINE(),
      headers: { authorization: auth('us-east-1', '<b>&x'), 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.status, 400);
    const text = await res.text();
    assert.match(text, /&lt;b&gt;&amp;x/);
    assert.doesNotMatch(text, /<b>/);
  });

  it('CreateTrail refuses an S3KeyPrefix with a NUL (InvalidS3PrefixException) and creates nothing', async () => {
    const s3 = new S3Client({ endpoint: p.url, region: 'us-east-1', credentials: CREDS, forcePathStyle: true, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: 'trail-bucket-nul' }));
    const ct = new CloudTrailClient({ endpoint: p.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
    await assert.rejects(ct.send(new CreateTrailCommand({ Name: 'nul', S3BucketName: 'trail-bucket-nul', S3KeyPrefix: 'a\u0000b' })), {
      name: 'InvalidS3PrefixException',
    });
    await assert.rejects(ct.send(new GetTrailCommand({ Name: 'nul' })), { name: 'TrailNotFoundException' });
  });
});
