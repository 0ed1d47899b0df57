// S3 bucket configuration through @aws-sdk/client-s3 (path-style), the aws CLI and boto3: the
// policy, ACL, ownership controls, public access block, tagging, versioning, encryption and the
// subresources Terraform's aws_s3_bucket reads — each with its defaults for a new bucket, its
// "not configured" answer, its validation, and nothing changed by a refused call. Then
// `--auth enforce` (each operation's IAM action, on the bucket's ARN).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketEncryptionCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketOwnershipControlsCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketReplicationCommand,
  DeleteBucketTaggingCommand,
  DeleteBucketWebsiteCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAccelerateConfigurationCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetBucketReplicationCommand,
  GetBucketRequestPaymentCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetBucketWebsiteCommand,
  GetObjectLockConfigurationCommand,
  GetPublicAccessBlockCommand,
  PutBucketAccelerateConfigurationCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketLoggingCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketReplicationCommand,
  PutBucketRequestPaymentCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutBucketWebsiteCommand,
  PutObjectLockConfigurationCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreatePolicyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { awsError, CREDS, start } from './helpers/server.ts';
import { canonicalUserId } from '../src/services/s3/index.ts';
import type { Palisade } from '../src/server.ts';
import { timed } from './helpers/run.ts';

const run = timed(promisify(execFile));
const ACCOUNT = '000000000000';
type Creds = { accessKeyId: string; secretAccessKey: string };
const s3Client = (url: string, credentials: Creds = CREDS) =>
  new S3Client({ endpoint: url, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1 });

/** The bucket policy CloudTrail's documentation gives (with aws:SourceArn for the trail). */
const trailPolicy = (bucket: string, account = ACCOUNT) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AWSCloudTrailAclCheck',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: `arn:aws:s3:::${bucket}`,
      },
      {
        Sid: 'AWSCloudTrailWrite',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${bucket}/AWSLogs/${account}/*`,
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
      },
    ],
  });

const publicRead = (bucket: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
  });

let server: Palisade;
let s3: S3Client;
before(async () => {
  server = await start();
  s3 = s3Client(server.url);
});
after(async () => server.close());

describe('S3 bucket configuration', () => {
  it('a new bucket: the defaults AWS gives it and the "not configured" answers Terraform reads past', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'fresh' }));
    const Bucket = 'fresh';
    const own = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket }));
    assert.deepEqual(own.OwnershipControls, { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    const pab = await s3.send(new GetPublicAccessBlockCommand({ Bucket }));
    assert.deepEqual(pab.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    const enc = await s3.send(new GetBucketEncryptionCommand({ Bucket }));
    assert.deepEqual(enc.ServerSideEncryptionConfiguration, {
      Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }],
    });
    const ver = await s3.send(new GetBucketVersioningCommand({ Bucket }));
    assert.equal(ver.Status, undefined);
    assert.equal(ver.MFADelete, undefined);
    const acl = await s3.send(new GetBucketAclCommand({ Bucket }));
    assert.deepEqual(acl.Owner, { ID: canonicalUserId(ACCOUNT), DisplayName: ACCOUNT });
    assert.deepEqual(acl.Grants, [
      { Grantee: { Type: 'CanonicalUser', ID: canonicalUserId(ACCOUNT), DisplayName: ACCOUNT }, Permission: 'FULL_CONTROL' },
    ]);
    assert.equal((await s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket }))).Status, undefined);
    assert.equal((await s3.send(new GetBucketRequestPaymentCommand({ Bucket }))).Payer, 'BucketOwner');
    assert.equal((await s3.send(new GetBucketLoggingCommand({ Bucket }))).LoggingEnabled, undefined);

    const notConfigured: [() => Promise<unknown>, string, number][] = [
      [() => s3.send(new GetBucketPolicyCommand({ Bucket })), 'NoSuchBucketPolicy', 404],
      [() => s3.send(new GetBucketPolicyStatusCommand({ Bucket })), 'NoSuchBucketPolicy', 404],
      [() => s3.send(new GetBucketTaggingCommand({ Bucket })), 'NoSuchTagSet', 404],
      [() => s3.send(new GetBucketCorsCommand({ Bucket })), 'NoSuchCORSConfiguration', 404],
      [() => s3.send(new GetBucketWebsiteCommand({ Bucket })), 'NoSuchWebsiteConfiguration', 404],
      [() => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })), 'NoSuchLifecycleConfiguration', 404],
      [() => s3.send(new GetBucketReplicationCommand({ Bucket })), 'ReplicationConfigurationNotFoundError', 404],
      [() => s3.send(new GetObjectLockConfigurationCommand({ Bucket })), 'ObjectLockConfigurationNotFoundError', 404],
    ];
    for (const [call, code, status] of notConfigured) {
      const e = await awsError(call);
      assert.deepEqual([e.name, e.status], [code, status], code);
    }
    // Replication and Object Lock are not emulated; deleting replication that is not there succeeds.
    await s3.send(new DeleteBucketReplicationCommand({ Bucket }));
    for (const call of [
      () =>
        s3.send(
          new PutBucketReplicationCommand({ Bucket, ReplicationConfiguration: { Role: 'arn:aws:iam::000000000000:role/r', Rules: [] } }),
        ),
      () => s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } })),
      () => s3.send(new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true })),
    ]) {
      assert.deepEqual(Object.values(await awsError(call)).slice(0, 1), ['NotImplemented']);
    }
  });

  it('bucket policy: put, get, status, delete; MalformedPolicy; public policies refused while BlockPublicPolicy is on', async () => {
    const Bucket = 'policed';
    await s3.send(new CreateBucketCommand({ Bucket }));
    const policy = trailPolicy(Bucket);
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: policy }));
    assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket }))).Policy, policy);
    assert.equal((await s3.send(new GetBucketPolicyStatusCommand({ Bucket }))).PolicyStatus?.IsPublic, false);

    const malformed: [string, RegExp][] = [
      ['not json', /first byte must be '\{'/],
      ['[]', /first byte must be '\{'/],
      ['{"Version":"2012-10-17"}', /Statement/],
      [
        JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${Bucket}/*` }] }),
        /Missing required field Principal/,
      ],
      [JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject' }] }), /Missing required field Resource/],
      [
        JSON.stringify({
          Statement: [{ Effect: 'Allow', Principal: '*', Action: 'ec2:RunInstances', Resource: `arn:aws:s3:::${Bucket}` }],
        }),
        /Policy has invalid action/,
      ],
      [
        JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::other/*' }] }),
        /Policy has invalid resource/,
      ],
      [
        JSON.stringify({
          Statement: [{ Effect: 'Allow', Principal: { AWS: 'alice' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${Bucket}/*` }],
        }),
        /Invalid principal in policy/,
      ],
      [
        JSON.stringify({
          Statement: [{ Effect: 'Allow', Principal: { Service: 'nobody' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${Bucket}/*` }],
        }),
        /Invalid principal in policy/,
      ],
      [
        JSON.stringify({
          Statement: [{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${Bucket}` }],
        }),
        /Action does not apply to any resource/,
      ],
      [
        JSON.stringify({
          Statement: [{ Effect: 'Maybe', Principal: { AWS: ACCOUNT }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${Bucket}/*` }],
        }),
        /effect/i,
      ],
      [
        `{"Statement":[${'{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::policed/*"},'.repeat(300)}{}]}`,
        /size/,
      ],
    ];
    for (const [text, message] of malformed) {
      const e = await awsError(() => s3.send(new PutBucketPolicyCommand({ Bucket, Policy: text })));
      assert.deepEqual([e.name, e.status], ['MalformedPolicy', 400], text.slice(0, 80));
      assert.match(e.message, message);
    }
    // A public policy: refused while Block Public Access (on by default) blocks public policies.
    const pub = publicRead(Bucket);
    const denied = await awsError(() => s3.send(new PutBucketPolicyCommand({ Bucket, Policy: pub })));
    assert.deepEqual([denied.name, denied.status], ['AccessDenied', 403]);
    assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket }))).Policy, policy, 'refused calls change nothing');
    // A grant to everyone narrowed to one account is not public.
    const narrowed = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${Bucket}/*`,
          Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
        },
      ],
    });
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: narrowed }));
    assert.equal((await s3.send(new GetBucketPolicyStatusCommand({ Bucket }))).PolicyStatus?.IsPublic, false);
    await s3.send(new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: { BlockPublicPolicy: false } }));
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: pub }));
    assert.equal((await s3.send(new GetBucketPolicyStatusCommand({ Bucket }))).PolicyStatus?.IsPublic, true);
    await s3.send(new DeleteBucketPolicyCommand({ Bucket }));
    assert.equal((await awsError(() => s3.send(new GetBucketPolicyCommand({ Bucket })))).name, 'NoSuchBucketPolicy');
    await s3.send(new DeleteBucketPolicyCommand({ Bucket })); // deleting none succeeds
  });

  it('ACLs: disabled by BucketOwnerEnforced, canned and grant-header ACLs once enabled, BlockPublicAcls, AccessControlPolicy bodies', async () => {
    const Bucket = 'acl-bucket';
    await s3.send(new CreateBucketCommand({ Bucket }));
    const owner = canonicalUserId(ACCOUNT);
    let e = await awsError(() => s3.send(new PutBucketAclCommand({ Bucket, ACL: 'public-read' })));
    assert.deepEqual([e.name, e.status, e.message], ['AccessControlListNotSupported', 400, 'The bucket does not allow ACLs']);
    await s3.send(new PutBucketAclCommand({ Bucket, ACL: 'private' })); // the owner's full control is allowed
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
    e = await awsError(() => s3.send(new PutBucketAclCommand({ Bucket, ACL: 'public-read' })));
    assert.deepEqual([e.name, e.status], ['AccessDenied', 403], 'BlockPublicAcls is on by default');
    await s3.send(new PutBucketAclCommand({ Bucket, ACL: 'log-delivery-write' as never }));
    let grants = (await s3.send(new GetBucketAclCommand({ Bucket }))).Grants!;
    assert.deepEqual(
      grants.map((g) => [g.Grantee?.Type, g.Grantee?.ID ?? g.Grantee?.URI, g.Permission]),
      [
        ['CanonicalUser', owner, 'FULL_CONTROL'],
        ['Group', 'http://acs.amazonaws.com/groups/s3/LogDelivery', 'WRITE'],
        ['Group', 'http://acs.amazonaws.com/groups/s3/LogDelivery', 'READ_ACP'],
      ],
    );
    await s3.send(new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: false } }));
    await s3.send(
      new PutBucketAclCommand({
        Bucket,
        GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"',
        GrantFullControl: `id="${owner}"`,
      }),
    );
    grants = (await s3.send(new GetBucketAclCommand({ Bucket }))).Grants!;
    assert.deepEqual(
      grants.map((g) => [g.Grantee?.URI ?? g.Grantee?.ID, g.Permission]),
      [
        [owner, 'FULL_CONTROL'],
        ['http://acs.amazonaws.com/groups/global/AllUsers', 'READ'],
      ],
    );
    // Back to enforced ownership is refused while the ACL grants others.
    e = await awsError(() =>
      s3.send(
        new PutBucketOwnershipControlsCommand({ Bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }),
      ),
    );
    assert.deepEqual([e.name, e.status], ['InvalidBucketAclWithObjectOwnership', 400]);
    // An AccessControlPolicy body (Grantee with xsi:type).
    await s3.send(
      new PutBucketAclCommand({
        Bucket,
        AccessControlPolicy: {
          Owner: { ID: owner },
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: owner }, Permission: 'FULL_CONTROL' },
            { Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers' }, Permission: 'READ' },
          ],
        },
      }),
    );
    grants = (await s3.send(new GetBucketAclCommand({ Bucket }))).Grants!;
    assert.equal(grants[1]!.Grantee?.URI, 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers');
    e = await awsError(() =>
      s3.send(
        new PutBucketAclCommand({
          Bucket,
          AccessControlPolicy: { Grants: [{ Grantee: { Type: 'AmazonCustomerByEmail', EmailAddress: 'a@b.c' }, Permission: 'READ' }] },
        }),
      ),
    );
    assert.equal(e.name, 'UnresolvableGrantByEmailAddress');
    e = await awsError(() => s3.send(new PutBucketAclCommand({ Bucket, ACL: 'private', GrantRead: `id="${owner}"` })));
    assert.equal(e.name, 'InvalidRequest');
    assert.equal((await s3.send(new GetBucketAclCommand({ Bucket }))).Grants!.length, 2, 'refused calls change nothing');
    await s3.send(new PutBucketAclCommand({ Bucket, ACL: 'private' }));
    await s3.send(
      new PutBucketOwnershipControlsCommand({ Bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }),
    );
    // CreateBucket with an ACL: refused under the default BucketOwnerEnforced, accepted with ObjectWriter.
    e = await awsError(() => s3.send(new CreateBucketCommand({ Bucket: 'acl-create', ACL: 'log-delivery-write' as never })));
    assert.equal(e.name, 'InvalidBucketAclWithObjectOwnership');
    await s3.send(new CreateBucketCommand({ Bucket: 'acl-create', ACL: 'log-delivery-write' as never, ObjectOwnership: 'ObjectWriter' }));
    assert.equal((await s3.send(new GetBucketAclCommand({ Bucket: 'acl-create' }))).Grants!.length, 3);
    assert.equal(
      (await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'acl-create' }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership,
      'ObjectWriter',
    );
  });

  it('ownership controls and public access block: put, get, delete, then "not found"', async () => {
    const Bucket = 'controls';
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(
      new PutBucketOwnershipControlsCommand({ Bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] } }),
    );
    assert.equal(
      (await s3.send(new GetBucketOwnershipControlsCommand({ Bucket }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership,
      'BucketOwnerPreferred',
    );
    const bad = await awsError(() =>
      s3.send(new PutBucketOwnershipControlsCommand({ Bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'Nobody' as never }] } })),
    );
    assert.equal(bad.name, 'MalformedXML');
    await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket }));
    let e = await awsError(() => s3.send(new GetBucketOwnershipControlsCommand({ Bucket })));
    assert.deepEqual([e.name, e.status], ['OwnershipControlsNotFoundError', 404]);

    await s3.send(
      new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true } }),
    );
    assert.deepEqual((await s3.send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: true,
    });
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket }));
    e = await awsError(() => s3.send(new GetPublicAccessBlockCommand({ Bucket })));
    assert.deepEqual([e.name, e.status], ['NoSuchPublicAccessBlockConfiguration', 404]);
    // Without a public access block a public policy is accepted.
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: publicRead(Bucket) }));
  });

  it('tagging: put, get, replace, delete; the limits (InvalidTag) change nothing', async () => {
    const Bucket = 'tagged';
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(
      new PutBucketTaggingCommand({
        Bucket,
        Tagging: {
          TagSet: [
            { Key: 'env', Value: 'test' },
            { Key: 'team', Value: '' },
          ],
        },
      }),
    );
    assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet, [
      { Key: 'env', Value: 'test' },
      { Key: 'team', Value: '' },
    ]);
    const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    const refused: [{ Key: string; Value: string }[], RegExp][] = [
      [tags(51), /greater than 50/],
      [[{ Key: 'k'.repeat(129), Value: 'v' }], /TagKey .* too long/],
      [[{ Key: 'k', Value: 'v'.repeat(257) }], /TagValue .* too long/],
      [[{ Key: 'aws:cloudformation:stack', Value: 'v' }], /System tags/],
      [
        [
          { Key: 'a', Value: '1' },
          { Key: 'a', Value: '2' },
        ],
        /same key/,
      ],
    ];
    for (const [TagSet, message] of refused) {
      const e = await awsError(() => s3.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet } })));
      assert.deepEqual([e.name, e.status], ['InvalidTag', 400]);
      assert.match(e.message, message);
    }
    assert.equal((await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet!.length, 2, 'refused calls change nothing');
    await s3.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: tags(50) } }));
    assert.equal((await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet!.length, 50);
    await s3.send(new DeleteBucketTaggingCommand({ Bucket }));
    assert.equal((await awsError(() => s3.send(new GetBucketTaggingCommand({ Bucket })))).name, 'NoSuchTagSet');
  });

  it('versioning, encryption, CORS, website, logging, lifecycle, acceleration, request payment: stored, echoed, validated', async () => {
    const Bucket = 'configured';
    await s3.send(new CreateBucketCommand({ Bucket }));
    // versioning
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status, 'Enabled');
    assert.equal(
      (await awsError(() => s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'On' as never } })))).name,
      'MalformedXML',
    );
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status, 'Suspended');
    // encryption
    const kms = {
      Rules: [
        { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' as const, KMSMasterKeyID: 'alias/s3' }, BucketKeyEnabled: true },
      ],
    };
    await s3.send(new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration: kms }));
    assert.deepEqual((await s3.send(new GetBucketEncryptionCommand({ Bucket }))).ServerSideEncryptionConfiguration, kms);
    let e = await awsError(() =>
      s3.send(
        new PutBucketEncryptionCommand({
          Bucket,
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256', KMSMasterKeyID: 'k' } }],
          },
        }),
      ),
    );
    assert.equal(e.name, 'InvalidArgument');
    e = await awsError(() =>
      s3.send(
        new PutBucketEncryptionCommand({
          Bucket,
          ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'rot13' as never } }] },
        }),
      ),
    );
    assert.equal(e.name, 'MalformedXML');
    assert.deepEqual((await s3.send(new GetBucketEncryptionCommand({ Bucket }))).ServerSideEncryptionConfiguration, kms);
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket }));
    assert.equal(
      (await s3.send(new GetBucketEncryptionCommand({ Bucket }))).ServerSideEncryptionConfiguration?.Rules?.[0]
        ?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
      'AES256',
      'deleting resets to SSE-S3',
    );
    // CORS
    const cors = [
      { ID: 'web', AllowedMethods: ['GET', 'PUT'], AllowedOrigins: ['https://example.com'], AllowedHeaders: ['*'], MaxAgeSeconds: 300 },
    ];
    await s3.send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules: cors } }));
    assert.deepEqual((await s3.send(new GetBucketCorsCommand({ Bucket }))).CORSRules, cors);
    e = await awsError(() =>
      s3.send(
        new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules: [{ AllowedMethods: ['PATCH'], AllowedOrigins: ['*'] }] } }),
      ),
    );
    assert.deepEqual([e.name, e.message], ['InvalidRequest', 'Found unsupported HTTP method in CORS config. Unsupported method is PATCH']);
    await s3.send(new DeleteBucketCorsCommand({ Bucket }));
    assert.equal((await awsError(() => s3.send(new GetBucketCorsCommand({ Bucket })))).name, 'NoSuchCORSConfiguration');
    // website
    await s3.send(
      new PutBucketWebsiteCommand({
        Bucket,
        WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' }, ErrorDocument: { Key: 'error.html' } },
      }),
    );
    const site = await s3.send(new GetBucketWebsiteCommand({ Bucket }));
    assert.deepEqual([site.IndexDocument, site.ErrorDocument], [{ Suffix: 'index.html' }, { Key: 'error.html' }]);
    e = await awsError(() => s3.send(new PutBucketWebsiteCommand({ Bucket, WebsiteConfiguration: { ErrorDocument: { Key: 'e' } } })));
    assert.equal(e.name, 'InvalidArgument');
    await s3.send(new DeleteBucketWebsiteCommand({ Bucket }));
    assert.equal((await awsError(() => s3.send(new GetBucketWebsiteCommand({ Bucket })))).name, 'NoSuchWebsiteConfiguration');
    // logging
    await s3.send(new CreateBucketCommand({ Bucket: 'access-logs' }));
    await s3.send(
      new PutBucketLoggingCommand({
        Bucket,
        BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'access-logs', TargetPrefix: 'configured/' } },
      }),
    );
    assert.deepEqual((await s3.send(new GetBucketLoggingCommand({ Bucket }))).LoggingEnabled, {
      TargetBucket: 'access-logs',
      TargetPrefix: 'configured/',
    });
    e = await awsError(() =>
      s3.send(
        new PutBucketLoggingCommand({
          Bucket,
          BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'no-such-target', TargetPrefix: '' } },
        }),
      ),
    );
    assert.equal(e.name, 'InvalidTargetBucketForLogging');
    await s3.send(new PutBucketLoggingCommand({ Bucket, BucketLoggingStatus: {} }));
    assert.equal((await s3.send(new GetBucketLoggingCommand({ Bucket }))).LoggingEnabled, undefined);
    // lifecycle
    const rules = [{ ID: 'expire', Status: 'Enabled' as const, Filter: { Prefix: 'tmp/' }, Expiration: { Days: 7 } }];
    const put = await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: rules } }));
    assert.equal(put.TransitionDefaultMinimumObjectSize, 'all_storage_classes_128K');
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }));
    assert.deepEqual(got.Rules, rules);
    e = await awsError(() =>
      s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: [rules[0]!, rules[0]!] } })),
    );
    assert.equal(e.name, 'InvalidArgument');
    e = await awsError(() =>
      s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket,
          LifecycleConfiguration: { Rules: [{ ID: 'x', Status: 'Enabled', Filter: {} }] },
        }),
      ),
    );
    assert.equal(e.name, 'InvalidRequest');
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket }));
    assert.equal(
      (await awsError(() => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })))).name,
      'NoSuchLifecycleConfiguration',
    );
    // acceleration and request payment
    await s3.send(new PutBucketAccelerateConfigurationCommand({ Bucket, AccelerateConfiguration: { Status: 'Enabled' } }));
    assert.equal((await s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket }))).Status, 'Enabled');
    await s3.send(new PutBucketRequestPaymentCommand({ Bucket, RequestPaymentConfiguration: { Payer: 'Requester' } }));
    assert.equal((await s3.send(new GetBucketRequestPaymentCommand({ Bucket }))).Payer, 'Requester');
    e = await awsError(() =>
      s3.send(new PutBucketRequestPaymentCommand({ Bucket, RequestPaymentConfiguration: { Payer: 'Nobody' as never } })),
    );
    assert.equal(e.name, 'MalformedXML');
  });

  it("NoSuchBucket, another account's bucket, x-amz-expected-bucket-owner; DeleteBucket takes the configuration with it", async () => {
    const Bucket = 'missing-bucket';
    const calls = [
      new GetBucketPolicyCommand({ Bucket }),
      new PutBucketPolicyCommand({ Bucket, Policy: trailPolicy(Bucket) }),
      new GetBucketTaggingCommand({ Bucket }),
      new GetBucketVersioningCommand({ Bucket }),
      new GetBucketAclCommand({ Bucket }),
      new GetBucketEncryptionCommand({ Bucket }),
      new GetBucketOwnershipControlsCommand({ Bucket }),
      new GetPublicAccessBlockCommand({ Bucket }),
      new GetBucketCorsCommand({ Bucket }),
      new GetBucketLoggingCommand({ Bucket }),
      new GetBucketReplicationCommand({ Bucket }),
      new DeleteBucketTaggingCommand({ Bucket }),
    ];
    for (const c of calls) {
      const e = await awsError(() => s3.send(c as never));
      assert.deepEqual([e.name, e.status], ['NoSuchBucket', 404], c.constructor.name);
    }
    await s3.send(new CreateBucketCommand({ Bucket: 'owned-by-a' }));
    const other = s3Client(server.url, { accessKeyId: '111122223333', secretAccessKey: 'x' });
    let e = await awsError(() => other.send(new PutBucketPolicyCommand({ Bucket: 'owned-by-a', Policy: trailPolicy('owned-by-a') })));
    assert.deepEqual([e.name, e.status], ['AccessDenied', 403]);
    e = await awsError(() => s3.send(new GetBucketVersioningCommand({ Bucket: 'owned-by-a', ExpectedBucketOwner: '111122223333' })));
    assert.deepEqual([e.name, e.status], ['AccessDenied', 403]);
    await s3.send(new GetBucketVersioningCommand({ Bucket: 'owned-by-a', ExpectedBucketOwner: ACCOUNT }));
    // Configure, delete, create again: the new bucket has the defaults.
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'owned-by-a', Policy: trailPolicy('owned-by-a') }));
    await s3.send(new PutBucketTaggingCommand({ Bucket: 'owned-by-a', Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'owned-by-a', VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'owned-by-a' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'owned-by-a' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'owned-by-a' }));
    assert.equal((await awsError(() => s3.send(new GetBucketPolicyCommand({ Bucket: 'owned-by-a' })))).name, 'NoSuchBucketPolicy');
    assert.equal((await awsError(() => s3.send(new GetBucketTaggingCommand({ Bucket: 'owned-by-a' })))).name, 'NoSuchTagSet');
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'owned-by-a' }))).Status, undefined);
    assert.equal(
      (await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'owned-by-a' }))).PublicAccessBlockConfiguration?.BlockPublicPolicy,
      true,
    );
  });

  it('the aws CLI and boto3 read and write the configuration', async () => {
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const aws = async (...args: string[]) =>
      JSON.parse((await run('aws', ['s3api', ...args, '--endpoint-url', server.url, '--output', 'json'], { env })).stdout || '{}') as any;
    await aws('create-bucket', '--bucket', 'cli-bucket');
    await aws('put-bucket-policy', '--bucket', 'cli-bucket', '--policy', trailPolicy('cli-bucket'));
    assert.deepEqual(JSON.parse((await aws('get-bucket-policy', '--bucket', 'cli-bucket')).Policy), JSON.parse(trailPolicy('cli-bucket')));
    await aws('put-bucket-tagging', '--bucket', 'cli-bucket', '--tagging', 'TagSet=[{Key=env,Value=cli}]');
    assert.deepEqual((await aws('get-bucket-tagging', '--bucket', 'cli-bucket')).TagSet, [{ Key: 'env', Value: 'cli' }]);
    await aws('put-bucket-versioning', '--bucket', 'cli-bucket', '--versioning-configuration', 'Status=Enabled');
    assert.equal((await aws('get-bucket-versioning', '--bucket', 'cli-bucket')).Status, 'Enabled');
    assert.equal(
      (await aws('get-bucket-encryption', '--bucket', 'cli-bucket')).ServerSideEncryptionConfiguration.Rules[0]
        .ApplyServerSideEncryptionByDefault.SSEAlgorithm,
      'AES256',
    );
    const missing = await run('aws', ['s3api', 'get-bucket-cors', '--bucket', 'cli-bucket', '--endpoint-url', server.url], { env }).then(
      () => '',
      (x: { stderr: string }) => x.stderr,
    );
    assert.match(missing, /NoSuchCORSConfiguration/);
    const py = [
      'import boto3, json',
      `s3 = boto3.client('s3', endpoint_url='${server.url}', region_name='us-east-1', config=boto3.session.Config(s3={'addressing_style': 'path'}))`,
      "s3.put_public_access_block(Bucket='cli-bucket', PublicAccessBlockConfiguration={'BlockPublicAcls': True, 'IgnorePublicAcls': True, 'BlockPublicPolicy': True, 'RestrictPublicBuckets': False})",
      "own = s3.get_bucket_ownership_controls(Bucket='cli-bucket')['OwnershipControls']['Rules'][0]['ObjectOwnership']",
      "pab = s3.get_public_access_block(Bucket='cli-bucket')['PublicAccessBlockConfiguration']",
      "acl = s3.get_bucket_acl(Bucket='cli-bucket')['Grants'][0]['Permission']",
      'try:',
      "    s3.get_bucket_website(Bucket='cli-bucket'); err = None",
      'except s3.exceptions.ClientError as e:',
      "    err = e.response['Error']['Code']",
      "print(json.dumps({'own': own, 'pab': pab, 'acl': acl, 'err': err}))",
    ].join('\n');
    const out = JSON.parse((await run('python3', ['-c', py], { env })).stdout) as Record<string, unknown>;
    assert.deepEqual(out, {
      own: 'BucketOwnerEnforced',
      pab: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: false },
      acl: 'FULL_CONTROL',
      err: 'NoSuchWebsiteConfiguration',
    });
  });
});

describe('S3 bucket configuration under --auth enforce', () => {
  const ROOT = { accessKeyId: 'AKIAPALISADEROOT0002', secretAccessKey: 'root-secret-for-s3-config-tests' };
  let enforced: Palisade;
  let user: Creds;
  before(async () => {
    process.env.PALISADE_ROOT_ACCESS_KEY_ID = ROOT.accessKeyId;
    process.env.PALISADE_ROOT_SECRET_ACCESS_KEY = ROOT.secretAccessKey;
    enforced = await start({ auth: 'enforce' });
    const iam = new IAMClient({ endpoint: enforced.url, region: 'us-east-1', credentials: ROOT, maxAttempts: 1 });
    await iam.send(new CreateUserCommand({ UserName: 'auditor' }));
    const policy = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'bucket-reader',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['s3:GetBucketPolicy', 's3:PutBucketTagging'], Resource: 'arn:aws:s3:::audited' },
            { Effect: 'Allow', Action: 's3:GetEncryptionConfiguration', Resource: 'arn:aws:s3:::audited' },
          ],
        }),
      }),
    );
    await iam.send(new AttachUserPolicyCommand({ UserName: 'auditor', PolicyArn: policy.Policy!.Arn! }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'auditor' }))).AccessKey!;
    user = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
    const root = s3Client(enforced.url, ROOT);
    await root.send(new CreateBucketCommand({ Bucket: 'audited' }));
    await root.send(new CreateBucketCommand({ Bucket: 'elsewhere' }));
    await root.send(new PutBucketPolicyCommand({ Bucket: 'audited', Policy: trailPolicy('audited') }));
  });
  after(async () => {
    delete process.env.PALISADE_ROOT_ACCESS_KEY_ID;
    delete process.env.PALISADE_ROOT_SECRET_ACCESS_KEY;
    await enforced.close();
  });

  it("authorizes each operation as its IAM action, on the bucket's ARN", async () => {
    const c = s3Client(enforced.url, user);
    assert.ok((await c.send(new GetBucketPolicyCommand({ Bucket: 'audited' }))).Policy);
    await c.send(new GetBucketEncryptionCommand({ Bucket: 'audited' })); // s3:GetEncryptionConfiguration
    await c.send(new PutBucketTaggingCommand({ Bucket: 'audited', Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } }));
    await c.send(new DeleteBucketTaggingCommand({ Bucket: 'audited' })); // s3:PutBucketTagging
    for (const [call, action] of [
      [() => c.send(new GetBucketPolicyCommand({ Bucket: 'elsewhere' })), 's3:GetBucketPolicy'],
      [() => c.send(new PutBucketPolicyCommand({ Bucket: 'audited', Policy: trailPolicy('audited') })), 's3:PutBucketPolicy'],
      [() => c.send(new GetBucketTaggingCommand({ Bucket: 'audited' })), 's3:GetBucketTagging'],
      [() => c.send(new GetPublicAccessBlockCommand({ Bucket: 'audited' })), 's3:GetBucketPublicAccessBlock'],
    ] as const) {
      const e = await awsError(call);
      assert.deepEqual([e.name, e.status], ['AccessDenied', 403]);
      assert.match(e.message, new RegExp(`not authorized to perform: ${action} on resource: arn:aws:s3:::`));
    }
  });
});
