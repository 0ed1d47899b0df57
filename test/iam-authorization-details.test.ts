// GetAccountAuthorizationDetails through @aws-sdk/client-iam and the aws CLI: users and roles with
// their inline, attached and boundary policies (roles with their instance profiles), managed
// policies with every version, documents URL-encoded; Filter by entity type; MaxItems/Marker
// paging over the whole sequence; an unknown entity type refused with Coral's ValidationError.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  GetAccountAuthorizationDetailsCommand,
  IAMClient,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
} from '@aws-sdk/client-iam';
import { awsError, CREDS, start } from './helpers/server.ts';
import { timed } from './helpers/run.ts';
import type { Palisade } from '../src/server.ts';

const run = timed(promisify(execFile));
let server: Palisade;
let iam: IAMClient;
const json = (o: unknown) => JSON.stringify(o);
/** AWS's URL-encoding of policy documents (RFC 3986). */
const awsEncoded = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const TRUST = json({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
const S3_READ = json({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
const EC2_READ = json({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }] });
const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const BOUNDARY = 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess';
let appPolicy = '';
let unusedPolicy = '';

before(async () => {
  server = await start();
  iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
  appPolicy = (await iam.send(new CreatePolicyCommand({ PolicyName: 'app-read', PolicyDocument: S3_READ, Description: 'app' }))).Policy!
    .Arn!;
  await iam.send(new CreatePolicyVersionCommand({ PolicyArn: appPolicy, PolicyDocument: EC2_READ, SetAsDefault: true }));
  unusedPolicy = (await iam.send(new CreatePolicyCommand({ PolicyName: 'unused', PolicyDocument: S3_READ }))).Policy!.Arn!;
  await iam.send(new CreateRoleCommand({ RoleName: 'app', AssumeRolePolicyDocument: TRUST, Tags: [{ Key: 'team', Value: 'web' }] }));
  await iam.send(new PutRolePolicyCommand({ RoleName: 'app', PolicyName: 'inline-s3', PolicyDocument: S3_READ }));
  await iam.send(new AttachRolePolicyCommand({ RoleName: 'app', PolicyArn: appPolicy }));
  await iam.send(new AttachRolePolicyCommand({ RoleName: 'app', PolicyArn: READ_ONLY }));
  await iam.send(new PutRolePermissionsBoundaryCommand({ RoleName: 'app', PermissionsBoundary: BOUNDARY }));
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'app-profile' }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'app-profile', RoleName: 'app' }));
  await iam.send(new CreateRoleCommand({ RoleName: 'batch', AssumeRolePolicyDocument: TRUST }));
  await iam.send(new CreateUserCommand({ UserName: 'alice' }));
  await iam.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'inline-ec2', PolicyDocument: EC2_READ }));
  await iam.send(new AttachUserPolicyCommand({ UserName: 'alice', PolicyArn: appPolicy }));
});

after(async () => {
  await server.close();
});

describe('GetAccountAuthorizationDetails', () => {
  it('gives users, roles (with instance profiles) and managed policies in use, with URL-encoded documents', async () => {
    const out = await iam.send(new GetAccountAuthorizationDetailsCommand({}));
    assert.equal(out.IsTruncated, false);
    assert.deepEqual(out.GroupDetailList, []);

    const [alice] = out.UserDetailList!;
    assert.equal(out.UserDetailList!.length, 1);
    assert.equal(alice!.UserName, 'alice');
    assert.deepEqual(alice!.UserPolicyList, [{ PolicyName: 'inline-ec2', PolicyDocument: awsEncoded(EC2_READ) }]);
    assert.deepEqual(alice!.AttachedManagedPolicies, [{ PolicyName: 'app-read', PolicyArn: appPolicy }]);
    assert.deepEqual(alice!.GroupList, []);

    assert.deepEqual(
      out.RoleDetailList!.map((r) => r.RoleName),
      ['app', 'batch'],
    );
    const app = out.RoleDetailList![0]!;
    assert.equal(app.AssumeRolePolicyDocument, awsEncoded(TRUST));
    assert.deepEqual(app.RolePolicyList, [{ PolicyName: 'inline-s3', PolicyDocument: awsEncoded(S3_READ) }]);
    assert.deepEqual(app.AttachedManagedPolicies, [
      { PolicyName: 'app-read', PolicyArn: appPolicy },
      { PolicyName: 'ReadOnlyAccess', PolicyArn: READ_ONLY },
    ]);
    assert.deepEqual(app.PermissionsBoundary, { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: BOUNDARY });
    assert.deepEqual(app.Tags, [{ Key: 'team', Value: 'web' }]);
    assert.deepEqual(
      app.InstanceProfileList!.map((p) => [p.InstanceProfileName, p.Roles!.map((r) => r.RoleName)]),
      [['app-profile', ['app']]],
    );
    assert.deepEqual(out.RoleDetailList![1]!.InstanceProfileList, []);

    // Customer managed policies (used or not) and the AWS managed ones in use (attached or a boundary).
    const policies = new Map(out.Policies!.map((p) => [p.Arn!, p]));
    assert.deepEqual([...policies.keys()].sort(), [appPolicy, unusedPolicy, BOUNDARY, READ_ONLY].sort());
    const mine = policies.get(appPolicy)!;
    assert.equal(mine.AttachmentCount, 2);
    assert.equal(mine.DefaultVersionId, 'v2');
    assert.deepEqual(
      mine.PolicyVersionList!.map((v) => [v.VersionId, v.IsDefaultVersion, v.Document]),
      [
        ['v1', false, awsEncoded(S3_READ)],
        ['v2', true, awsEncoded(EC2_READ)],
      ],
    );
    assert.equal(policies.get(BOUNDARY)!.PermissionsBoundaryUsageCount, 1);
    assert.equal(policies.get(BOUNDARY)!.AttachmentCount, 0);
    assert.equal(policies.get(unusedPolicy)!.AttachmentCount, 0);
  });

  it('Filter keeps the entity types asked for', async () => {
    const only = async (...Filter: ('User' | 'Role' | 'Group' | 'LocalManagedPolicy' | 'AWSManagedPolicy')[]) => {
      const o = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter }));
      return [
        o.UserDetailList!.length,
        o.RoleDetailList!.length,
        o
          .Policies!.map((p) => p.PolicyName)
          .sort()
          .join(','),
      ];
    };
    assert.deepEqual(await only('Role'), [0, 2, '']);
    assert.deepEqual(await only('User'), [1, 0, '']);
    assert.deepEqual(await only('Group'), [0, 0, '']);
    assert.deepEqual(await only('LocalManagedPolicy'), [0, 0, 'app-read,unused']);
    assert.deepEqual(await only('AWSManagedPolicy'), [0, 0, 'AmazonEC2ReadOnlyAccess,ReadOnlyAccess']);
    assert.deepEqual(await only('User', 'AWSManagedPolicy'), [1, 0, 'AmazonEC2ReadOnlyAccess,ReadOnlyAccess']);
  });

  it('pages with MaxItems and Marker over users, roles and policies together', async () => {
    const whole = await iam.send(new GetAccountAuthorizationDetailsCommand({}));
    const seen = { users: [] as string[], roles: [] as string[], policies: [] as string[] };
    let Marker: string | undefined;
    let pages = 0;
    do {
      const o: GetAccountAuthorizationDetailsCommandOutput = await iam.send(
        new GetAccountAuthorizationDetailsCommand({ MaxItems: 2, Marker }),
      );
      const n = o.UserDetailList!.length + o.RoleDetailList!.length + o.Policies!.length;
      assert.ok(n <= 2 && n > 0, `page of ${n}`);
      seen.users.push(...o.UserDetailList!.map((u) => u.UserName!));
      seen.roles.push(...o.RoleDetailList!.map((r) => r.RoleName!));
      seen.policies.push(...o.Policies!.map((p) => p.Arn!));
      Marker = o.IsTruncated ? o.Marker : undefined;
      if (o.IsTruncated) assert.ok(o.Marker);
      pages++;
    } while (Marker);
    assert.equal(pages, 4, '7 entities, 2 a page');
    assert.deepEqual(
      seen.users,
      whole.UserDetailList!.map((u) => u.UserName),
    );
    assert.deepEqual(
      seen.roles,
      whole.RoleDetailList!.map((r) => r.RoleName),
    );
    assert.deepEqual(
      seen.policies,
      whole.Policies!.map((p) => p.Arn),
    );
  });

  it('refuses an unknown entity type and a bad MaxItems with ValidationError (400)', async () => {
    let e = await awsError(() => iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['User', 'Usr' as 'User'] })));
    assert.equal(e.name, 'ValidationError');
    assert.equal(e.status, 400);
    assert.equal(
      e.message,
      "1 validation error detected: Value '[User, Usr]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: " +
        '[Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]]',
    );
    e = await awsError(() => iam.send(new GetAccountAuthorizationDetailsCommand({ MaxItems: 0 })));
    assert.equal(e.name, 'ValidationError');
  });

  it('aws iam get-account-authorization-details (the CLI walks the pages)', async () => {
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    let stdout: string;
    try {
      ({ stdout } = await run(
        'aws',
        ['iam', 'get-account-authorization-details', '--page-size', '2', '--endpoint-url', server.url, '--output', 'json'],
        { env },
      ));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // no aws CLI here (it is on CI)
      throw err;
    }
    const o = JSON.parse(stdout) as {
      UserDetailList: { UserName: string }[];
      RoleDetailList: { RoleName: string; RolePolicyList: { PolicyDocument: unknown }[] }[];
      Policies: unknown[];
    };
    assert.deepEqual(
      o.UserDetailList.map((u) => u.UserName),
      ['alice'],
    );
    assert.deepEqual(
      o.RoleDetailList.map((r) => r.RoleName),
      ['app', 'batch'],
    );
    assert.equal(o.Policies.length, 4);
    // botocore decodes the URL-encoded documents
    assert.deepEqual(o.RoleDetailList[0]!.RolePolicyList[0]!.PolicyDocument, JSON.parse(S3_READ));
  });
});
