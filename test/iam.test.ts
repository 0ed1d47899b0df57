// End-to-end: the IAM API (roles, inline and managed policies, instance profiles, users and access
// keys) driven with @aws-sdk/client-iam against a real server — AWS's codes, statuses and
// messages, paging, the policy grammar, and that a refused call changes nothing. One boto3 check
// that policy documents come back URL-encoded the way botocore decodes them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { timed } from './helpers/run.ts';
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteInstanceProfileCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListEntitiesForPolicyCommand,
  ListInstanceProfilesCommand,
  ListInstanceProfilesForRoleCommand,
  ListInstanceProfileTagsCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  SetDefaultPolicyVersionCommand,
  TagInstanceProfileCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
  UpdateRoleDescriptionCommand,
  UpdateUserCommand,
  paginateListRoles,
  DeleteRolePermissionsBoundaryCommand,
  DeleteUserPermissionsBoundaryCommand,
  GetAccessKeyLastUsedCommand,
  ListPolicyTagsCommand,
  ListUserTagsCommand,
  PutRolePermissionsBoundaryCommand,
  PutUserPermissionsBoundaryCommand,
  TagPolicyCommand,
  TagUserCommand,
  UntagInstanceProfileCommand,
  UntagPolicyCommand,
  UntagUserCommand,
  type Tag,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { awsError, CREDS, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { validatePolicyDocument } from '../src/services/iam/policy-grammar.ts';

const run = timed(promisify(execFile));
let server: Palisade;
let iam: IAMClient;
const ACCOUNT = '000000000000';

const client = (credentials = CREDS) => new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
const json = (o: unknown) => JSON.stringify(o);
const TRUST = json({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
const S3_READ = json({
  Version: '2012-10-17',
  Statement: [{ Sid: 'Read', Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' }],
});
const EC2_DESCRIBE = json({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }] });

/** AWS's URL-encoding of policy documents (RFC 3986: `*` is %2A, space %20). */
const awsEncoded = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

async function expectError(p: () => Promise<unknown>, name: string, status: number, message?: string | RegExp) {
  const e = await awsError(p);
  assert.equal(e.name, name, `error name (message: ${e.message})`);
  assert.equal(e.status, status);
  if (typeof message === 'string') assert.equal(e.message, message);
  else if (message) assert.match(e.message, message);
  return e;
}

const role = (RoleName: string, extra: Partial<ConstructorParameters<typeof CreateRoleCommand>[0]> = {}) =>
  iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: TRUST, ...extra }));

before(async () => {
  server = await start();
  iam = client();
});
after(async () => server.close());

// ---------------------------------------------------------------------------------------------

describe('roles', () => {
  it('CreateRole returns the role with an AROA id, its ARN, defaults and the trust policy URL-encoded', async () => {
    const { Role } = await role('web-server', { Path: '/app/', Description: 'web tier', Tags: [{ Key: 'team', Value: 'blue' }] });
    assert.equal(Role!.RoleName, 'web-server');
    assert.match(Role!.RoleId!, /^AROA[A-Z2-7]{17}$/);
    assert.equal(Role!.Arn, `arn:aws:iam::${ACCOUNT}:role/app/web-server`);
    assert.equal(Role!.Path, '/app/');
    assert.ok(Role!.CreateDate instanceof Date);
    // CreateRole answers without MaxSessionDuration (not set) and without the Description, as IAM
    // does (recorded: localstack test_iam_roles.snapshot.json; test/aws-parity-iam.test.ts)
    assert.equal(Role!.MaxSessionDuration, undefined);
    assert.equal(Role!.Description, undefined);
    assert.deepEqual(Role!.Tags, [{ Key: 'team', Value: 'blue' }]);
    assert.equal(Role!.AssumeRolePolicyDocument, awsEncoded(TRUST));
    assert.equal(decodeURIComponent(Role!.AssumeRolePolicyDocument!), TRUST);
  });

  it('names are unique case-insensitively and returned as given', async () => {
    await role('CaseRole');
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'caserole' }));
    assert.equal(Role!.RoleName, 'CaseRole');
    assert.deepEqual(Role!.RoleLastUsed, {});
    await expectError(() => role('CASEROLE'), 'EntityAlreadyExistsException', 409, 'Role with name CASEROLE already exists.');
  });

  it('validates name, path, session duration and description with ValidationError', async () => {
    await expectError(
      () => role('bad name!'),
      'ValidationError',
      400,
      "1 validation error detected: Value 'bad name!' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
    );
    await expectError(
      () => role('x'.repeat(65)),
      'ValidationError',
      400,
      /at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64/,
    );
    await expectError(
      () => role('bad-path', { Path: 'app/' }),
      'ValidationError',
      400,
      'The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.',
    );
    await expectError(
      () => role('short', { MaxSessionDuration: 900 }),
      'ValidationError',
      400,
      "1 validation error detected: Value '900' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600",
    );
    await expectError(
      () => role('long', { MaxSessionDuration: 43201 }),
      'ValidationError',
      400,
      /Member must have value less than or equal to 43200/,
    );
    const e = await expectError(() => role('bad name!', { MaxSessionDuration: 1 }), 'ValidationError', 400);
    assert.match(e.message, /^2 validation errors detected: .*roleName.*; .*maxSessionDuration/);
    const ok = await role('long-session', { MaxSessionDuration: 43200 });
    assert.equal(ok.Role!.MaxSessionDuration, 43200);
  });

  // Coral's validation, as IAM answers a request without a required member (the SDK v3 sends it
  // as given): every missing member at once, by its lower-camel path, "Member must not be null".
  it('a missing required parameter is a ValidationError naming each missing member', async () => {
    await expectError(
      () => iam.send(new GetRoleCommand({} as never)),
      'ValidationError',
      400,
      "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null",
    );
    await expectError(
      () => iam.send(new CreateRoleCommand({} as never)),
      'ValidationError',
      400,
      "2 validation errors detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null; Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null",
    );
    await expectError(
      () => iam.send(new CreateRoleCommand({ RoleName: 'tagged-missing', AssumeRolePolicyDocument: '{}', Tags: [{ Key: 'k' } as never] })),
      'ValidationError',
      400,
      "1 validation error detected: Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null",
    );
  });

  it('validates the trust policy as one (MalformedPolicyDocument 400)', async () => {
    const withResource = json({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole', Resource: '*' }],
    });
    await expectError(
      () => role('t1', { AssumeRolePolicyDocument: withResource }),
      'MalformedPolicyDocumentException',
      400,
      'Has prohibited field Resource',
    );
    const noPrincipal = json({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] });
    await expectError(
      () => role('t2', { AssumeRolePolicyDocument: noPrincipal }),
      'MalformedPolicyDocumentException',
      400,
      'Missing required field Principal',
    );
    await expectError(
      () => role('t3', { AssumeRolePolicyDocument: '{not json' }),
      'MalformedPolicyDocumentException',
      400,
      'This policy contains invalid Json',
    );
    const s3 = json({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 's3:GetObject' }],
    });
    await expectError(
      () => role('t4', { AssumeRolePolicyDocument: s3 }),
      'MalformedPolicyDocumentException',
      400,
      'AssumeRole policy may only specify STS AssumeRole actions.',
    );
    const huge = json({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: Array.from({ length: 60 }, (_, i) => `arn:aws:iam::${ACCOUNT}:role/r${i}`) },
          Action: 'sts:AssumeRole',
        },
      ],
    });
    await expectError(
      () => role('t5', { AssumeRolePolicyDocument: huge }),
      'LimitExceededException',
      409,
      'Cannot exceed quota for ACLSizePerRole: 2048',
    );
    // nothing was created by the refused calls
    for (const n of ['t1', 't2', 't3', 't4', 't5'])
      await expectError(() => iam.send(new GetRoleCommand({ RoleName: n })), 'NoSuchEntityException', 404);
  });

  it("GetRole of an unknown role is NoSuchEntity 404 with IAM's message", async () => {
    await expectError(
      () => iam.send(new GetRoleCommand({ RoleName: 'nobody' })),
      'NoSuchEntityException',
      404,
      'The role with name nobody cannot be found.',
    );
  });

  it('UpdateRole, UpdateRoleDescription and UpdateAssumeRolePolicy change the role', async () => {
    await role('updatable');
    await iam.send(new UpdateRoleCommand({ RoleName: 'updatable', Description: 'first', MaxSessionDuration: 7200 }));
    let r = (await iam.send(new GetRoleCommand({ RoleName: 'updatable' }))).Role!;
    assert.equal(r.Description, 'first');
    assert.equal(r.MaxSessionDuration, 7200);
    const upd = await iam.send(new UpdateRoleDescriptionCommand({ RoleName: 'updatable', Description: 'second' }));
    assert.equal(upd.Role!.Description, 'second');
    const trust = json({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
    });
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'updatable', PolicyDocument: trust }));
    r = (await iam.send(new GetRoleCommand({ RoleName: 'updatable' }))).Role!;
    assert.equal(decodeURIComponent(r.AssumeRolePolicyDocument!), trust);
    await expectError(
      () => iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'updatable', PolicyDocument: EC2_DESCRIBE })),
      'MalformedPolicyDocumentException',
      400,
      'Has prohibited field Resource',
    );
    await expectError(() => iam.send(new UpdateRoleCommand({ RoleName: 'updatable', MaxSessionDuration: 100 })), 'ValidationError', 400);
    r = (await iam.send(new GetRoleCommand({ RoleName: 'updatable' }))).Role!;
    assert.equal(decodeURIComponent(r.AssumeRolePolicyDocument!), trust, 'the refused update changed nothing');
    assert.equal(r.MaxSessionDuration, 7200);
    await expectError(() => iam.send(new UpdateRoleCommand({ RoleName: 'ghost', Description: 'x' })), 'NoSuchEntityException', 404);
  });

  it('TagRole merges (keys case-insensitive), UntagRole removes, ListRoleTags pages', async () => {
    await role('tagged', { Tags: [{ Key: 'Env', Value: 'dev' }] });
    await iam.send(
      new TagRoleCommand({
        RoleName: 'tagged',
        Tags: [
          { Key: 'env', Value: 'prod' },
          { Key: 'owner', Value: 'ops' },
          { Key: 'cost', Value: '42' },
        ],
      }),
    );
    let tags = (await iam.send(new ListRoleTagsCommand({ RoleName: 'tagged' }))).Tags!;
    assert.deepEqual(tags, [
      { Key: 'cost', Value: '42' },
      { Key: 'env', Value: 'prod' },
      { Key: 'owner', Value: 'ops' },
    ]);
    const p1 = await iam.send(new ListRoleTagsCommand({ RoleName: 'tagged', MaxItems: 2 }));
    assert.equal(p1.IsTruncated, true);
    assert.equal(p1.Tags!.length, 2);
    const p2 = await iam.send(new ListRoleTagsCommand({ RoleName: 'tagged', MaxItems: 2, Marker: p1.Marker }));
    assert.equal(p2.IsTruncated, false);
    assert.deepEqual(p2.Tags, [{ Key: 'owner', Value: 'ops' }]);
    await iam.send(new UntagRoleCommand({ RoleName: 'tagged', TagKeys: ['ENV', 'missing'] }));
    tags = (await iam.send(new ListRoleTagsCommand({ RoleName: 'tagged' }))).Tags!;
    assert.deepEqual(
      tags.map((t) => t.Key),
      ['cost', 'owner'],
    );
    await expectError(
      () =>
        iam.send(
          new TagRoleCommand({
            RoleName: 'tagged',
            Tags: [
              { Key: 'a', Value: '1' },
              { Key: 'A', Value: '2' },
            ],
          }),
        ),
      'InvalidInputException',
      400,
      'Duplicate tag keys found. Please note that Tag keys are case insensitive.',
    );
    const many: Tag[] = Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await expectError(() => iam.send(new TagRoleCommand({ RoleName: 'tagged', Tags: many })), 'LimitExceededException', 409);
    assert.equal((await iam.send(new ListRoleTagsCommand({ RoleName: 'tagged' }))).Tags!.length, 2, 'the refused tagging changed nothing');
  });

  it('PermissionsBoundary must be an existing managed policy and is returned by GetRole', async () => {
    await expectError(
      () => role('bounded', { PermissionsBoundary: `arn:aws:iam::${ACCOUNT}:policy/nope` }),
      'NoSuchEntityException',
      404,
      `Scope ARN: arn:aws:iam::${ACCOUNT}:policy/nope does not exist or is not attachable.`,
    );
    await role('bounded', { PermissionsBoundary: 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess' });
    const r = (await iam.send(new GetRoleCommand({ RoleName: 'bounded' }))).Role!;
    assert.deepEqual(r.PermissionsBoundary, {
      PermissionsBoundaryType: 'Policy',
      PermissionsBoundaryArn: 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess',
    });
  });

  it('DeleteRole refuses (DeleteConflict 409) while the role is in a profile or has policies, then deletes', async () => {
    await role('doomed');
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'doomed-profile' }));
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'doomed-profile', RoleName: 'doomed' }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'doomed', PolicyName: 'inline', PolicyDocument: S3_READ }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'doomed', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }));
    const del = () => iam.send(new DeleteRoleCommand({ RoleName: 'doomed' }));
    await expectError(del, 'DeleteConflictException', 409, 'Cannot delete entity, must remove roles from instance profile first.');
    await iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'doomed-profile', RoleName: 'doomed' }));
    await expectError(del, 'DeleteConflictException', 409, 'Cannot delete entity, must delete policies first.');
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'doomed', PolicyName: 'inline' }));
    await expectError(del, 'DeleteConflictException', 409, 'Cannot delete entity, must detach all policies first.');
    await iam.send(new DetachRolePolicyCommand({ RoleName: 'doomed', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }));
    await del();
    await expectError(() => iam.send(new GetRoleCommand({ RoleName: 'doomed' })), 'NoSuchEntityException', 404);
    await expectError(del, 'NoSuchEntityException', 404, 'The role with name doomed cannot be found.');
  });

  it('ListRoles filters by PathPrefix and pages with Marker/MaxItems/IsTruncated', async () => {
    const names = ['p-a', 'p-b', 'P-c', 'p-d', 'p-e'];
    for (const n of names) await role(n, { Path: '/paging/' });
    const all = await iam.send(new ListRolesCommand({ PathPrefix: '/paging/' }));
    assert.equal(all.IsTruncated, false);
    assert.equal(all.Marker, undefined);
    assert.deepEqual(
      all.Roles!.map((r) => r.RoleName),
      names,
    );
    assert.equal(all.Roles![0]!.AssumeRolePolicyDocument, awsEncoded(TRUST));
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const p = await iam.send(new ListRolesCommand({ PathPrefix: '/paging/', MaxItems: 2, Marker: marker }));
      pages++;
      seen.push(...p.Roles!.map((r) => r.RoleName!));
      assert.equal(p.IsTruncated, p.Marker !== undefined);
      marker = p.Marker;
    } while (marker);
    assert.equal(pages, 3);
    assert.deepEqual(seen, names);
    // the SDK paginator follows the same markers
    const viaPaginator: string[] = [];
    for await (const p of paginateListRoles({ client: iam, pageSize: 2 }, { PathPrefix: '/paging/' }))
      viaPaginator.push(...p.Roles!.map((r) => r.RoleName!));
    assert.deepEqual(viaPaginator, names);
    await expectError(
      () => iam.send(new ListRolesCommand({ MaxItems: 0 })),
      'ValidationError',
      400,
      "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
    await expectError(() => iam.send(new ListRolesCommand({ MaxItems: 1001 })), 'ValidationError', 400);
    await expectError(
      () => iam.send(new ListRolesCommand({ PathPrefix: 'paging' })),
      'ValidationError',
      400,
      'The specified value for pathPrefix is invalid. It must begin with the / character and contain only alphanumeric characters and/or / characters.',
    );
    await expectError(() => iam.send(new ListRolesCommand({ Marker: 'garbage' })), 'InvalidInputException', 400);
  });
});

// ---------------------------------------------------------------------------------------------

describe('inline policies', () => {
  before(async () => {
    await role('inline-role');
    await iam.send(new CreateUserCommand({ UserName: 'inline-user' }));
  });

  it('Put/Get/List/DeleteRolePolicy: the document comes back as given, URL-encoded', async () => {
    const pretty = JSON.stringify(JSON.parse(S3_READ), null, 2);
    await iam.send(new PutRolePolicyCommand({ RoleName: 'inline-role', PolicyName: 'read', PolicyDocument: pretty }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'inline-role', PolicyName: 'describe', PolicyDocument: EC2_DESCRIBE }));
    const got = await iam.send(new GetRolePolicyCommand({ RoleName: 'INLINE-ROLE', PolicyName: 'read' }));
    assert.equal(got.RoleName, 'inline-role');
    assert.equal(got.PolicyName, 'read');
    assert.equal(got.PolicyDocument, awsEncoded(pretty));
    assert.match(got.PolicyDocument!, /^%7B%0A%20%20%22Version%22/);
    assert.equal(decodeURIComponent(got.PolicyDocument!), pretty);
    assert.deepEqual((await iam.send(new ListRolePoliciesCommand({ RoleName: 'inline-role' }))).PolicyNames, ['describe', 'read']);
    const p1 = await iam.send(new ListRolePoliciesCommand({ RoleName: 'inline-role', MaxItems: 1 }));
    assert.deepEqual([p1.PolicyNames, p1.IsTruncated], [['describe'], true]);
    // replacing keeps one policy of that name
    await iam.send(new PutRolePolicyCommand({ RoleName: 'inline-role', PolicyName: 'read', PolicyDocument: S3_READ }));
    assert.equal(
      decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: 'inline-role', PolicyName: 'read' }))).PolicyDocument!),
      S3_READ,
    );
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'inline-role', PolicyName: 'read' }));
    assert.deepEqual((await iam.send(new ListRolePoliciesCommand({ RoleName: 'inline-role' }))).PolicyNames, ['describe']);
    await expectError(
      () => iam.send(new GetRolePolicyCommand({ RoleName: 'inline-role', PolicyName: 'read' })),
      'NoSuchEntityException',
      404,
      'The role policy with name read cannot be found.',
    );
    await expectError(
      () => iam.send(new DeleteRolePolicyCommand({ RoleName: 'inline-role', PolicyName: 'read' })),
      'NoSuchEntityException',
      404,
    );
    await expectError(
      () => iam.send(new PutRolePolicyCommand({ RoleName: 'ghost', PolicyName: 'p', PolicyDocument: S3_READ })),
      'NoSuchEntityException',
      404,
      'The role with name ghost cannot be found.',
    );
  });

  it('identity policies are validated: no Principal, Resource required, actions need a vendor', async () => {
    const put = (doc: unknown) =>
      iam.send(
        new PutRolePolicyCommand({ RoleName: 'inline-role', PolicyName: 'bad', PolicyDocument: typeof doc === 'string' ? doc : json(doc) }),
      );
    await expectError(
      () => put({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' }] }),
      'MalformedPolicyDocumentException',
      400,
      'Policy document should not specify a principal.',
    );
    await expectError(
      () => put({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*' }] }),
      'MalformedPolicyDocumentException',
      400,
      'Policy statement must contain resources.',
    );
    await expectError(
      () => put({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Resource: '*' }] }),
      'MalformedPolicyDocumentException',
      400,
      'Policy statement must contain actions.',
    );
    await expectError(
      () => put({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*', Extra: 1 }] }),
      'MalformedPolicyDocumentException',
      400,
      'Syntax errors in policy.',
    );
    await expectError(
      () => put({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'GetObject', Resource: '*' }] }),
      'MalformedPolicyDocumentException',
      400,
      'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.',
    );
    await expectError(() => put('[]'), 'MalformedPolicyDocumentException', 400, 'Syntax errors in policy.');
    assert.deepEqual(
      (await iam.send(new ListRolePoliciesCommand({ RoleName: 'inline-role' }))).PolicyNames,
      ['describe'],
      'nothing stored',
    );
  });

  it('the inline policies of a role together are limited to 10,240 characters (LimitExceeded 409)', async () => {
    await role('big-inline');
    const doc = (n: number) =>
      json({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: Array.from({ length: n }, (_, i) => `s3:Get${'x'.repeat(20)}${i}`), Resource: '*' }],
      });
    await iam.send(new PutRolePolicyCommand({ RoleName: 'big-inline', PolicyName: 'one', PolicyDocument: doc(170) }));
    await expectError(
      () => iam.send(new PutRolePolicyCommand({ RoleName: 'big-inline', PolicyName: 'two', PolicyDocument: doc(170) })),
      'LimitExceededException',
      409,
      'Maximum policy size of 10240 bytes exceeded for role big-inline',
    );
    // white space does not count
    const spaced = doc(100).replaceAll(',', `,\n${' '.repeat(100)}`);
    assert.ok(spaced.length > 10_240);
    await iam.send(new PutRolePolicyCommand({ RoleName: 'big-inline', PolicyName: 'spaced', PolicyDocument: spaced }));
    assert.deepEqual((await iam.send(new ListRolePoliciesCommand({ RoleName: 'big-inline' }))).PolicyNames, ['one', 'spaced']);
  });

  it('Put/Get/List/DeleteUserPolicy', async () => {
    await iam.send(new PutUserPolicyCommand({ UserName: 'inline-user', PolicyName: 'describe', PolicyDocument: EC2_DESCRIBE }));
    const got = await iam.send(new GetUserPolicyCommand({ UserName: 'inline-user', PolicyName: 'describe' }));
    assert.deepEqual([got.UserName, got.PolicyName, got.PolicyDocument], ['inline-user', 'describe', awsEncoded(EC2_DESCRIBE)]);
    assert.deepEqual((await iam.send(new ListUserPoliciesCommand({ UserName: 'inline-user' }))).PolicyNames, ['describe']);
    await expectError(
      () => iam.send(new GetUserPolicyCommand({ UserName: 'inline-user', PolicyName: 'nope' })),
      'NoSuchEntityException',
      404,
      'The user policy with name nope cannot be found.',
    );
    const big = json({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: Array.from({ length: 100 }, (_, i) => `s3:Get${'x'.repeat(20)}${i}`), Resource: '*' }],
    });
    await expectError(
      () => iam.send(new PutUserPolicyCommand({ UserName: 'inline-user', PolicyName: 'big', PolicyDocument: big })),
      'LimitExceededException',
      409,
      'Maximum policy size of 2048 bytes exceeded for user inline-user',
    );
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'inline-user', PolicyName: 'describe' }));
    assert.deepEqual((await iam.send(new ListUserPoliciesCommand({ UserName: 'inline-user' }))).PolicyNames, []);
    await expectError(
      () => iam.send(new ListUserPoliciesCommand({ UserName: 'ghost' })),
      'NoSuchEntityException',
      404,
      'The user with name ghost cannot be found.',
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('managed policies', () => {
  it('CreatePolicy returns an ANPA id, the ARN with its path and v1 as the default version', async () => {
    const { Policy } = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'S3Read',
        Path: '/team/',
        PolicyDocument: S3_READ,
        Description: 'read s3',
        Tags: [{ Key: 'a', Value: 'b' }],
      }),
    );
    assert.equal(Policy!.Arn, `arn:aws:iam::${ACCOUNT}:policy/team/S3Read`);
    assert.match(Policy!.PolicyId!, /^ANPA[A-Z2-7]{17}$/);
    assert.deepEqual([Policy!.DefaultVersionId, Policy!.AttachmentCount, Policy!.IsAttachable, Policy!.Path], ['v1', 0, true, '/team/']);
    const got = (await iam.send(new GetPolicyCommand({ PolicyArn: Policy!.Arn }))).Policy!;
    assert.equal(got.Description, 'read s3');
    assert.deepEqual(got.Tags, [{ Key: 'a', Value: 'b' }]);
    const v = (await iam.send(new GetPolicyVersionCommand({ PolicyArn: Policy!.Arn, VersionId: 'v1' }))).PolicyVersion!;
    assert.deepEqual([v.IsDefaultVersion, v.Document], [true, awsEncoded(S3_READ)]);
    await expectError(
      () => iam.send(new CreatePolicyCommand({ PolicyName: 's3read', PolicyDocument: S3_READ })),
      'EntityAlreadyExistsException',
      409,
      'A policy called s3read already exists. Duplicate names are not allowed.',
    );
  });

  it('managed policy documents must be Version 2012-10-17 and at most 6,144 characters', async () => {
    const noVersion = json({ Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] });
    await expectError(
      () => iam.send(new CreatePolicyCommand({ PolicyName: 'old', PolicyDocument: noVersion })),
      'MalformedPolicyDocumentException',
      400,
      'Policy document must be version 2012-10-17 or greater.',
    );
    const big = json({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: Array.from({ length: 300 }, (_, i) => `s3:Get${'x'.repeat(20)}${i}`), Resource: '*' }],
    });
    await expectError(
      () => iam.send(new CreatePolicyCommand({ PolicyName: 'big', PolicyDocument: big })),
      'LimitExceededException',
      409,
      'Cannot exceed quota for PolicySize: 6144',
    );
    await expectError(
      () => iam.send(new GetPolicyCommand({ PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/big` })),
      'NoSuchEntityException',
      404,
      `Policy arn:aws:iam::${ACCOUNT}:policy/big does not exist or is not attachable.`,
    );
  });

  it('versions: at most 5, SetAsDefault, list newest first, default cannot be deleted', async () => {
    const arn = (await iam.send(new CreatePolicyCommand({ PolicyName: 'Versioned', PolicyDocument: S3_READ }))).Policy!.Arn!;
    const v2 = await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: EC2_DESCRIBE }));
    assert.deepEqual(
      [v2.PolicyVersion!.VersionId, v2.PolicyVersion!.IsDefaultVersion, v2.PolicyVersion!.Document],
      ['v2', false, undefined],
    );
    const v3 = await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: EC2_DESCRIBE, SetAsDefault: true }));
    assert.equal(v3.PolicyVersion!.IsDefaultVersion, true);
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!.DefaultVersionId, 'v3');
    await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: S3_READ }));
    await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: S3_READ }));
    await expectError(
      () => iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: S3_READ })),
      'LimitExceededException',
      409,
      'A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.',
    );
    const list = await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }));
    assert.deepEqual(
      list.Versions!.map((v) => [v.VersionId, v.IsDefaultVersion]),
      [
        ['v5', false],
        ['v4', false],
        ['v3', true],
        ['v2', false],
        ['v1', false],
      ],
    );
    await expectError(
      () => iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: 'v3' })),
      'DeleteConflictException',
      409,
      'Cannot delete the default version of a policy.',
    );
    await iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: 'v1' }));
    await expectError(() => iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v1' })), 'NoSuchEntityException', 404);
    await expectError(() => iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'one' })), 'ValidationError', 400);
    const v6 = await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: S3_READ }));
    assert.equal(v6.PolicyVersion!.VersionId, 'v6', 'version ids are never reused');
    await iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v2' }));
    const v = (await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v2' }))).PolicyVersion!;
    assert.deepEqual([v.IsDefaultVersion, decodeURIComponent(v.Document!)], [true, EC2_DESCRIBE]);
    await expectError(
      () => iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v9' })),
      'NoSuchEntityException',
      404,
    );
    await expectError(
      () => iam.send(new DeletePolicyCommand({ PolicyArn: arn })),
      'DeleteConflictException',
      409,
      "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
    );
    for (const id of ['v3', 'v4', 'v5', 'v6']) await iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: id }));
    await iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
    await expectError(() => iam.send(new GetPolicyCommand({ PolicyArn: arn })), 'NoSuchEntityException', 404);
  });

  it('AWS managed policies are in every account, readable and attachable but not changeable', async () => {
    const admin = 'arn:aws:iam::aws:policy/AdministratorAccess';
    const p = (await iam.send(new GetPolicyCommand({ PolicyArn: admin }))).Policy!;
    assert.deepEqual([p.PolicyName, p.PolicyId, p.Path, p.DefaultVersionId], ['AdministratorAccess', 'ANPAIWMBCKSKIEE64ZLYK', '/', 'v1']);
    const v = (await iam.send(new GetPolicyVersionCommand({ PolicyArn: admin, VersionId: 'v1' }))).PolicyVersion!;
    assert.deepEqual(JSON.parse(decodeURIComponent(v.Document!)), {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
    });
    const listed: string[] = [];
    let marker: string | undefined;
    do {
      const page = await iam.send(new ListPoliciesCommand({ Scope: 'AWS', MaxItems: 1000, Marker: marker }));
      listed.push(...page.Policies!.map((x) => x.PolicyName!));
      marker = page.Marker;
    } while (marker);
    const aws = [
      'AdministratorAccess',
      'AmazonEC2FullAccess',
      'AmazonEC2ReadOnlyAccess',
      'AmazonSSMManagedInstanceCore',
      'IAMReadOnlyAccess',
      'ReadOnlyAccess',
    ];
    // the complete catalogue (1,400+ AWS managed policies)
    assert.ok(listed.length > 1400, String(listed.length));
    for (const name of aws) assert.ok(listed.includes(name), name);
    for (const name of aws) {
      const arn = `arn:aws:iam::aws:policy/${name}`;
      const d = (await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!;
      const doc = (await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: d.DefaultVersionId }))).PolicyVersion!.Document!;
      validatePolicyDocument(decodeURIComponent(doc), 'identity');
    }
    await expectError(() => iam.send(new DeletePolicyCommand({ PolicyArn: admin })), 'InvalidInputException', 400);
    await expectError(
      () => iam.send(new CreatePolicyVersionCommand({ PolicyArn: admin, PolicyDocument: S3_READ })),
      'InvalidInputException',
      400,
    );
    await expectError(
      () => iam.send(new GetPolicyCommand({ PolicyArn: 'arn:aws:iam::aws:policy/NoSuchPolicy' })),
      'NoSuchEntityException',
      404,
      'Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable.',
    );
  });

  it('attach/detach to roles and users; unknown ARN is NoSuchEntity; at most 10 per identity', async () => {
    await role('attach-role');
    await iam.send(new CreateUserCommand({ UserName: 'attach-user' }));
    const mine = (await iam.send(new CreatePolicyCommand({ PolicyName: 'Attachable', Path: '/x/', PolicyDocument: EC2_DESCRIBE }))).Policy!
      .Arn!;
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'attach-role', PolicyArn: mine }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'attach-role', PolicyArn: mine })); // idempotent
    await iam.send(
      new AttachRolePolicyCommand({ RoleName: 'attach-role', PolicyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore' }),
    );
    await iam.send(new AttachUserPolicyCommand({ UserName: 'attach-user', PolicyArn: mine }));
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'attach-role' }));
    assert.deepEqual(attached.AttachedPolicies, [
      { PolicyName: 'AmazonSSMManagedInstanceCore', PolicyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore' },
      { PolicyName: 'Attachable', PolicyArn: mine },
    ]);
    assert.equal(attached.IsTruncated, false);
    assert.deepEqual(
      (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'attach-role', PathPrefix: '/x/' }))).AttachedPolicies!.map(
        (p) => p.PolicyName,
      ),
      ['Attachable'],
    );
    assert.deepEqual((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'attach-user' }))).AttachedPolicies, [
      { PolicyName: 'Attachable', PolicyArn: mine },
    ]);
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: mine }))).Policy!.AttachmentCount, 2);
    const entities = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: mine }));
    assert.deepEqual(
      entities.PolicyRoles!.map((r) => r.RoleName),
      ['attach-role'],
    );
    assert.deepEqual(
      entities.PolicyUsers!.map((u) => u.UserName),
      ['attach-user'],
    );
    const attachedOnly = (await iam.send(new ListPoliciesCommand({ OnlyAttached: true }))).Policies!.map((p) => p.PolicyName);
    assert.ok(attachedOnly.includes('Attachable') && attachedOnly.includes('AmazonSSMManagedInstanceCore'));
    assert.ok(!attachedOnly.includes('AdministratorAccess'));

    await expectError(
      () => iam.send(new DeletePolicyCommand({ PolicyArn: mine })),
      'DeleteConflictException',
      409,
      'Cannot delete a policy attached to entities.',
    );
    const unknown = `arn:aws:iam::${ACCOUNT}:policy/Missing`;
    await expectError(
      () => iam.send(new AttachRolePolicyCommand({ RoleName: 'attach-role', PolicyArn: unknown })),
      'NoSuchEntityException',
      404,
      `Policy ${unknown} does not exist or is not attachable.`,
    );
    await expectError(
      () => iam.send(new AttachUserPolicyCommand({ UserName: 'attach-user', PolicyArn: 'arn:aws:iam::aws:policy/Nope' })),
      'NoSuchEntityException',
      404,
    );
    await expectError(
      () => iam.send(new AttachRolePolicyCommand({ RoleName: 'attach-role', PolicyArn: 'not-an-arn-at-all-really' })),
      'ValidationError',
      400,
      'Invalid ARN:  Could not be parsed!',
    );
    await expectError(
      () => iam.send(new DetachRolePolicyCommand({ RoleName: 'attach-role', PolicyArn: unknown })),
      'NoSuchEntityException',
      404,
      `Policy ${unknown} was not found.`,
    );

    for (let n = 0; n < 8; n++) {
      const arn = (await iam.send(new CreatePolicyCommand({ PolicyName: `Fill${n}`, PolicyDocument: EC2_DESCRIBE }))).Policy!.Arn!;
      await iam.send(new AttachRolePolicyCommand({ RoleName: 'attach-role', PolicyArn: arn }));
    }
    await expectError(
      () => iam.send(new AttachRolePolicyCommand({ RoleName: 'attach-role', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' })),
      'LimitExceededException',
      409,
      'Cannot exceed quota for PoliciesPerRole: 10',
    );
    assert.equal(
      (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'attach-role' }))).AttachedPolicies!.length,
      10,
      'the refused attach changed nothing',
    );
    const page1 = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'attach-role', MaxItems: 6 }));
    const page2 = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'attach-role', MaxItems: 6, Marker: page1.Marker }));
    assert.deepEqual(
      [page1.AttachedPolicies!.length, page1.IsTruncated, page2.AttachedPolicies!.length, page2.IsTruncated],
      [6, true, 4, false],
    );

    await iam.send(new DetachUserPolicyCommand({ UserName: 'attach-user', PolicyArn: mine }));
    await iam.send(new DetachRolePolicyCommand({ RoleName: 'attach-role', PolicyArn: mine }));
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: mine }))).Policy!.AttachmentCount, 0);
    await iam.send(new DeletePolicyCommand({ PolicyArn: mine }));
  });

  it('ListPolicies: Scope, PathPrefix and paging', async () => {
    for (const n of ['Lp1', 'Lp2', 'Lp3'])
      await iam.send(new CreatePolicyCommand({ PolicyName: n, Path: '/lp/', PolicyDocument: S3_READ }));
    const local = await iam.send(new ListPoliciesCommand({ Scope: 'Local', PathPrefix: '/lp/' }));
    assert.deepEqual(
      local.Policies!.map((p) => p.PolicyName),
      ['Lp1', 'Lp2', 'Lp3'],
    );
    assert.equal(local.Policies![0]!.Tags, undefined);
    const all: string[] = [];
    let m: string | undefined;
    do {
      const p = await iam.send(new ListPoliciesCommand({ MaxItems: 1000, Marker: m }));
      all.push(...p.Policies!.map((x) => x.PolicyName!));
      m = p.Marker;
    } while (m);
    assert.ok(all.includes('Lp1') && all.includes('AdministratorAccess'));
    assert.ok(!(await iam.send(new ListPoliciesCommand({ Scope: 'AWS', MaxItems: 1000 }))).Policies!.some((p) => p.PolicyName === 'Lp1'));
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const p = await iam.send(new ListPoliciesCommand({ MaxItems: 150, Marker: marker }));
      assert.ok(p.Policies!.length <= 150);
      names.push(...p.Policies!.map((x) => x.PolicyName!));
      marker = p.Marker;
    } while (marker);
    assert.deepEqual(names, all);
    await expectError(
      () => iam.send(new ListPoliciesCommand({ Scope: 'Mine' as 'All' })),
      'ValidationError',
      400,
      /satisfy enum value set: \[All, AWS, Local\]/,
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('instance profiles', () => {
  it('CreateInstanceProfile returns an AIPA id and the ARN; GetInstanceProfile lists the role in full', async () => {
    const { InstanceProfile } = await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'app', Path: '/ec2/' }));
    assert.match(InstanceProfile!.InstanceProfileId!, /^AIPA[A-Z2-7]{17}$/);
    assert.equal(InstanceProfile!.Arn, `arn:aws:iam::${ACCOUNT}:instance-profile/ec2/app`);
    assert.deepEqual(InstanceProfile!.Roles, []);
    const r = (await role('app-role', { Description: 'for app' })).Role!;
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'APP', RoleName: 'app-role' }));
    const got = (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'app' }))).InstanceProfile!;
    assert.equal(got.Roles!.length, 1);
    const gr = got.Roles![0]!;
    assert.deepEqual(
      [gr.RoleName, gr.RoleId, gr.Arn, gr.Path, gr.AssumeRolePolicyDocument],
      [r.RoleName, r.RoleId, r.Arn, '/', awsEncoded(TRUST)],
    );
    assert.ok(gr.CreateDate instanceof Date);
    await expectError(
      () => iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'App' })),
      'EntityAlreadyExistsException',
      409,
      'Instance Profile App already exists.',
    );
  });

  it('one role per profile: a second is LimitExceeded 409 and changes nothing', async () => {
    await role('second-role');
    await expectError(
      () => iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'app', RoleName: 'second-role' })),
      'LimitExceededException',
      409,
      'Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1',
    );
    const got = (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'app' }))).InstanceProfile!;
    assert.deepEqual(
      got.Roles!.map((x) => x.RoleName),
      ['app-role'],
    );
    await expectError(
      () => iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'app', RoleName: 'ghost' })),
      'NoSuchEntityException',
      404,
      'The role with name ghost cannot be found.',
    );
  });

  it('ListInstanceProfilesForRole, ListInstanceProfiles, RemoveRole, tags, and DeleteConflict while a role is in it', async () => {
    assert.deepEqual(
      (await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'app-role' }))).InstanceProfiles!.map(
        (p) => p.InstanceProfileName,
      ),
      ['app'],
    );
    assert.deepEqual((await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'second-role' }))).InstanceProfiles, []);
    const listed = await iam.send(new ListInstanceProfilesCommand({ PathPrefix: '/ec2/' }));
    assert.deepEqual([listed.InstanceProfiles!.map((p) => p.InstanceProfileName), listed.IsTruncated], [['app'], false]);
    await iam.send(new TagInstanceProfileCommand({ InstanceProfileName: 'app', Tags: [{ Key: 'tier', Value: 'web' }] }));
    assert.deepEqual((await iam.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: 'app' }))).Tags, [
      { Key: 'tier', Value: 'web' },
    ]);
    assert.deepEqual((await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'app' }))).InstanceProfile!.Tags, [
      { Key: 'tier', Value: 'web' },
    ]);
    await expectError(
      () => iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: 'app' })),
      'DeleteConflictException',
      409,
      'Cannot delete entity, must remove roles from instance profile first.',
    );
    await expectError(
      () => iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'app', RoleName: 'second-role' })),
      'NoSuchEntityException',
      404,
    );
    await iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'app', RoleName: 'app-role' }));
    await iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: 'app' }));
    await expectError(
      () => iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'app' })),
      'NoSuchEntityException',
      404,
      'Instance Profile app cannot be found.',
    );
    await expectError(
      () => iam.send(new TagInstanceProfileCommand({ InstanceProfileName: 'app', Tags: [{ Key: 'a', Value: 'b' }] })),
      'NoSuchEntityException',
      404,
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('users and access keys', () => {
  it('CreateUser returns an AIDA id; GetUser by name and, without one, the caller', async () => {
    const { User } = await iam.send(new CreateUserCommand({ UserName: 'Alice', Path: '/staff/', Tags: [{ Key: 'dept', Value: 'eng' }] }));
    assert.match(User!.UserId!, /^AIDA[A-Z2-7]{17}$/);
    assert.equal(User!.Arn, `arn:aws:iam::${ACCOUNT}:user/staff/Alice`);
    assert.equal((await iam.send(new GetUserCommand({ UserName: 'alice' }))).User!.UserName, 'Alice');
    await expectError(
      () => iam.send(new CreateUserCommand({ UserName: 'ALICE' })),
      'EntityAlreadyExistsException',
      409,
      'User with name ALICE already exists.',
    );
    await expectError(
      () => iam.send(new GetUserCommand({ UserName: 'bob' })),
      'NoSuchEntityException',
      404,
      'The user with name bob cannot be found.',
    );
    // the test credentials are not an IAM user's key: the caller is the account root
    const root = (await iam.send(new GetUserCommand({}))).User!;
    assert.deepEqual([root.UserId, root.Arn, root.UserName], [ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`, undefined]);
    // with one of Alice's keys the caller is Alice
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'Alice' }))).AccessKey!;
    const asAlice = client({ accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! });
    const me = (await asAlice.send(new GetUserCommand({}))).User!;
    assert.deepEqual([me.UserName, me.Arn], ['Alice', User!.Arn]);
    assert.deepEqual(
      (await asAlice.send(new ListAccessKeysCommand({}))).AccessKeyMetadata!.map((k) => k.AccessKeyId),
      [key.AccessKeyId],
    );
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'Alice', AccessKeyId: key.AccessKeyId }));
  });

  it('GetUser and CreateAccessKey without a name need user credentials (ValidationError for a role session)', async () => {
    const trustRoot = json({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }],
    });
    const r = (await role('session-role', { AssumeRolePolicyDocument: trustRoot })).Role!;
    const sts = new STSClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
    const c = (await sts.send(new AssumeRoleCommand({ RoleArn: r.Arn, RoleSessionName: 'tests' }))).Credentials!;
    const asRole = client({
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    } as typeof CREDS);
    const message = 'Must specify userName when calling with non-User credentials';
    await expectError(() => asRole.send(new GetUserCommand({})), 'ValidationError', 400, message);
    await expectError(() => asRole.send(new CreateAccessKeyCommand({})), 'ValidationError', 400, message);
    assert.equal((await asRole.send(new GetUserCommand({ UserName: 'Alice' }))).User!.UserName, 'Alice');
  });

  it('access keys: AKIA ids and 40-character secrets, at most 2 per user, Active/Inactive, delete', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'keyed' }));
    const k1 = (await iam.send(new CreateAccessKeyCommand({ UserName: 'keyed' }))).AccessKey!;
    assert.match(k1.AccessKeyId!, /^AKIA[A-Z0-9]{16}$/);
    assert.equal(k1.SecretAccessKey!.length, 40);
    assert.deepEqual([k1.UserName, k1.Status], ['keyed', 'Active']);
    const k2 = (await iam.send(new CreateAccessKeyCommand({ UserName: 'keyed' }))).AccessKey!;
    await expectError(
      () => iam.send(new CreateAccessKeyCommand({ UserName: 'keyed' })),
      'LimitExceededException',
      409,
      'Cannot exceed quota for AccessKeysPerUser: 2',
    );
    let keys = (await iam.send(new ListAccessKeysCommand({ UserName: 'keyed' }))).AccessKeyMetadata!;
    assert.deepEqual(keys.map((k) => k.AccessKeyId).sort(), [k1.AccessKeyId, k2.AccessKeyId].sort());
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'keyed', AccessKeyId: k1.AccessKeyId, Status: 'Inactive' }));
    keys = (await iam.send(new ListAccessKeysCommand({ UserName: 'keyed' }))).AccessKeyMetadata!;
    assert.equal(keys.find((k) => k.AccessKeyId === k1.AccessKeyId)!.Status, 'Inactive');
    await expectError(
      () => iam.send(new UpdateAccessKeyCommand({ UserName: 'keyed', AccessKeyId: k1.AccessKeyId, Status: 'Paused' as 'Active' })),
      'ValidationError',
      400,
      /satisfy enum value set: \[Active, Inactive\]/,
    );
    await expectError(
      () => iam.send(new UpdateAccessKeyCommand({ UserName: 'inline-user', AccessKeyId: k1.AccessKeyId, Status: 'Active' })),
      'NoSuchEntityException',
      404,
      `The Access Key with id ${k1.AccessKeyId} cannot be found.`,
    );
    await expectError(
      () => iam.send(new DeleteUserCommand({ UserName: 'keyed' })),
      'DeleteConflictException',
      409,
      'Cannot delete entity, must delete access keys first.',
    );
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'keyed', AccessKeyId: k1.AccessKeyId }));
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'keyed', AccessKeyId: k2.AccessKeyId }));
    await expectError(
      () => iam.send(new DeleteAccessKeyCommand({ UserName: 'keyed', AccessKeyId: k2.AccessKeyId })),
      'NoSuchEntityException',
      404,
    );
    await iam.send(new DeleteUserCommand({ UserName: 'keyed' }));
    await expectError(() => iam.send(new GetUserCommand({ UserName: 'keyed' })), 'NoSuchEntityException', 404);
  });

  it('DeleteUser refuses while the user has policies', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'policied' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'policied', PolicyName: 'p', PolicyDocument: EC2_DESCRIBE }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'policied', PolicyArn: 'arn:aws:iam::aws:policy/IAMReadOnlyAccess' }));
    await expectError(
      () => iam.send(new DeleteUserCommand({ UserName: 'policied' })),
      'DeleteConflictException',
      409,
      'Cannot delete entity, must delete policies first.',
    );
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'policied', PolicyName: 'p' }));
    await expectError(
      () => iam.send(new DeleteUserCommand({ UserName: 'policied' })),
      'DeleteConflictException',
      409,
      'Cannot delete entity, must detach all policies first.',
    );
    await iam.send(new DetachUserPolicyCommand({ UserName: 'policied', PolicyArn: 'arn:aws:iam::aws:policy/IAMReadOnlyAccess' }));
    await iam.send(new DeleteUserCommand({ UserName: 'policied' }));
  });

  it('ListUsers pages; UpdateUser renames and the keys follow', async () => {
    for (const n of ['u1', 'u2', 'u3']) await iam.send(new CreateUserCommand({ UserName: n, Path: '/lu/' }));
    const p1 = await iam.send(new ListUsersCommand({ PathPrefix: '/lu/', MaxItems: 2 }));
    const p2 = await iam.send(new ListUsersCommand({ PathPrefix: '/lu/', MaxItems: 2, Marker: p1.Marker }));
    assert.deepEqual(
      [p1.Users!.map((u) => u.UserName), p1.IsTruncated, p2.Users!.map((u) => u.UserName), p2.IsTruncated],
      [['u1', 'u2'], true, ['u3'], false],
    );
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'u3' }))).AccessKey!;
    await expectError(() => iam.send(new UpdateUserCommand({ UserName: 'u3', NewUserName: 'U1' })), 'EntityAlreadyExistsException', 409);
    await iam.send(new UpdateUserCommand({ UserName: 'u3', NewUserName: 'u4', NewPath: '/moved/' }));
    const u4 = (await iam.send(new GetUserCommand({ UserName: 'u4' }))).User!;
    assert.equal(u4.Arn, `arn:aws:iam::${ACCOUNT}:user/moved/u4`);
    assert.deepEqual(
      (await iam.send(new ListAccessKeysCommand({ UserName: 'u4' }))).AccessKeyMetadata!.map((k) => [k.AccessKeyId, k.UserName]),
      [[key.AccessKeyId, 'u4']],
    );
    const asU4 = client({ accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! });
    assert.equal((await asU4.send(new GetUserCommand({}))).User!.UserName, 'u4');
    await expectError(() => iam.send(new GetUserCommand({ UserName: 'u3' })), 'NoSuchEntityException', 404);
  });
});

// ---------------------------------------------------------------------------------------------

describe('tags and permissions boundaries of every entity', () => {
  it('users, managed policies and instance profiles tag like roles; boundaries can be put and removed', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'extra-user' }));
    await iam.send(
      new TagUserCommand({
        UserName: 'extra-user',
        Tags: [
          { Key: 'a', Value: '1' },
          { Key: 'b', Value: '2' },
        ],
      }),
    );
    await iam.send(new UntagUserCommand({ UserName: 'extra-user', TagKeys: ['a'] }));
    assert.deepEqual((await iam.send(new ListUserTagsCommand({ UserName: 'extra-user' }))).Tags, [{ Key: 'b', Value: '2' }]);
    assert.deepEqual((await iam.send(new GetUserCommand({ UserName: 'extra-user' }))).User!.Tags, [{ Key: 'b', Value: '2' }]);

    const arn = (await iam.send(new CreatePolicyCommand({ PolicyName: 'ExtraTags', PolicyDocument: S3_READ }))).Policy!.Arn!;
    await iam.send(
      new TagPolicyCommand({
        PolicyArn: arn,
        Tags: [
          { Key: 'x', Value: 'y' },
          { Key: 'z', Value: '' },
        ],
      }),
    );
    await iam.send(new UntagPolicyCommand({ PolicyArn: arn, TagKeys: ['z'] }));
    assert.deepEqual((await iam.send(new ListPolicyTagsCommand({ PolicyArn: arn }))).Tags, [{ Key: 'x', Value: 'y' }]);
    await expectError(
      () => iam.send(new TagPolicyCommand({ PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess', Tags: [{ Key: 'x', Value: 'y' }] })),
      'InvalidInputException',
      400,
    );

    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'extra', Tags: [{ Key: 'k', Value: 'v' }] }));
    await iam.send(new UntagInstanceProfileCommand({ InstanceProfileName: 'extra', TagKeys: ['K'] }));
    assert.deepEqual((await iam.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: 'extra' }))).Tags, []);

    await role('extra-role');
    await iam.send(new PutRolePermissionsBoundaryCommand({ RoleName: 'extra-role', PermissionsBoundary: arn }));
    await iam.send(new PutUserPermissionsBoundaryCommand({ UserName: 'extra-user', PermissionsBoundary: arn }));
    assert.equal((await iam.send(new GetRoleCommand({ RoleName: 'extra-role' }))).Role!.PermissionsBoundary!.PermissionsBoundaryArn, arn);
    assert.equal((await iam.send(new GetUserCommand({ UserName: 'extra-user' }))).User!.PermissionsBoundary!.PermissionsBoundaryArn, arn);
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!.PermissionsBoundaryUsageCount, 2);
    const boundaryOf = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn, PolicyUsageFilter: 'PermissionsBoundary' }));
    assert.deepEqual(
      [boundaryOf.PolicyRoles!.map((r) => r.RoleName), boundaryOf.PolicyUsers!.map((u) => u.UserName)],
      [['extra-role'], ['extra-user']],
    );
    await iam.send(new DeleteRolePermissionsBoundaryCommand({ RoleName: 'extra-role' }));
    await iam.send(new DeleteUserPermissionsBoundaryCommand({ UserName: 'extra-user' }));
    assert.equal((await iam.send(new GetRoleCommand({ RoleName: 'extra-role' }))).Role!.PermissionsBoundary, undefined);
    await expectError(
      () =>
        iam.send(
          new PutRolePermissionsBoundaryCommand({ RoleName: 'extra-role', PermissionsBoundary: `arn:aws:iam::${ACCOUNT}:policy/Nope` }),
        ),
      'NoSuchEntityException',
      404,
    );

    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'extra-user' }))).AccessKey!;
    const used = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.AccessKeyId }));
    assert.deepEqual([used.UserName, used.AccessKeyLastUsed!.ServiceName], ['extra-user', 'N/A']);
  });
});

// ---------------------------------------------------------------------------------------------

describe('wire shape and atomicity', () => {
  it('errors use the query <ErrorResponse> with Type Sender, the IAM code and the model status', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetRole&Version=2010-05-08&RoleName=nobody-here',
    });
    assert.equal(res.status, 404);
    const body = await res.text();
    assert.match(
      body,
      /^<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><Error><Type>Sender<\/Type><Code>NoSuchEntity<\/Code><Message>The role with name nobody-here cannot be found\.<\/Message><\/Error><RequestId>[^<]+<\/RequestId><\/ErrorResponse>$/,
    );
  });

  it('a refused call changes nothing', async () => {
    // a role with a malformed trust policy is not created
    await expectError(() => role('atomic', { AssumeRolePolicyDocument: '{}' }), 'MalformedPolicyDocumentException', 400);
    await expectError(() => iam.send(new GetRoleCommand({ RoleName: 'atomic' })), 'NoSuchEntityException', 404);
    // a profile stays as it was after a refused second role
    await role('atomic');
    await role('atomic-2');
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'atomic' }));
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'atomic', RoleName: 'atomic' }));
    await expectError(
      () => iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'atomic', RoleName: 'atomic-2' })),
      'LimitExceededException',
      409,
    );
    assert.deepEqual((await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'atomic-2' }))).InstanceProfiles, []);
    // a policy keeps its versions after a refused sixth
    const arn = (await iam.send(new CreatePolicyCommand({ PolicyName: 'Atomic', PolicyDocument: S3_READ }))).Policy!.Arn!;
    for (let n = 0; n < 4; n++) await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: S3_READ }));
    await expectError(
      () => iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: S3_READ, SetAsDefault: true })),
      'LimitExceededException',
      409,
    );
    assert.equal((await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))).Versions!.length, 5);
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!.DefaultVersionId, 'v1');
    // a user keeps its name and keys after a refused rename
    await iam.send(new CreateUserCommand({ UserName: 'atomic' }));
    await iam.send(new CreateUserCommand({ UserName: 'atomic-taken' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'atomic' }))).AccessKey!;
    await expectError(
      () => iam.send(new UpdateUserCommand({ UserName: 'atomic', NewUserName: 'atomic-taken' })),
      'EntityAlreadyExistsException',
      409,
    );
    assert.deepEqual(
      (await iam.send(new ListAccessKeysCommand({ UserName: 'atomic' }))).AccessKeyMetadata!.map((k) => k.AccessKeyId),
      [key.AccessKeyId],
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('policy grammar (validatePolicyDocument)', () => {
  const bad = (doc: unknown, kind: 'identity' | 'trust', message: string) =>
    assert.throws(
      () => validatePolicyDocument(typeof doc === 'string' ? doc : json(doc), kind),
      (e: Error & { code?: string; status?: number }) => {
        assert.equal(e.code, 'MalformedPolicyDocument');
        assert.equal(e.status, 400);
        assert.equal(e.message, message);
        return true;
      },
    );
  const allow = { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' };
  const trust = { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' };

  it('accepts well-formed identity and trust policies', () => {
    validatePolicyDocument(json({ Version: '2012-10-17', Statement: allow }), 'identity');
    validatePolicyDocument(json({ Version: '2008-10-17', Statement: [allow, { ...allow, Effect: 'Deny', Sid: 'no' }] }), 'identity');
    validatePolicyDocument(json({ Statement: [{ Effect: 'Allow', NotAction: 'iam:*', NotResource: ['arn:aws:s3:::x'] }] }), 'identity');
    validatePolicyDocument(
      json({
        Version: '2012-10-17',
        Statement: [
          { ...allow, Condition: { StringEquals: { 'aws:RequestedRegion': ['us-east-1'] }, Bool: { 'aws:SecureTransport': true } } },
        ],
      }),
      'identity',
    );
    validatePolicyDocument(
      json({
        Version: '2012-10-17',
        Statement: [trust, { Effect: 'Allow', Principal: '*', Action: ['sts:AssumeRole', 'sts:TagSession'] }],
      }),
      'trust',
    );
    validatePolicyDocument(
      json({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::123456789012:root', '123456789012'] }, Action: 'sts:AssumeRole' }],
      }),
      'trust',
    );
  });

  it("refuses malformed documents with IAM's messages", () => {
    bad('not json', 'identity', 'Syntax errors in policy.');
    bad('"a string"', 'identity', 'Syntax errors in policy.');
    bad({ Version: '2012-10-17' }, 'identity', 'Syntax errors in policy.');
    bad({ Version: '2012-10-17', Statement: [] }, 'identity', 'Syntax errors in policy.');
    bad({ Version: '2012-10-18', Statement: allow }, 'identity', 'Syntax errors in policy.');
    bad({ Version: '2012-10-17', Statement: allow, Extra: 1 }, 'identity', 'Syntax errors in policy.');
    bad({ Version: '2012-10-17', Statement: [{ ...allow, Effect: 'Permit' }] }, 'identity', 'Syntax errors in policy.');
    bad({ Version: '2012-10-17', Statement: [{ ...allow, NotAction: 's3:*' }] }, 'identity', 'Syntax errors in policy.');
    bad({ Version: '2012-10-17', Statement: [{ ...allow, Sid: 7 }] }, 'identity', 'Syntax errors in policy.');
    bad({ Version: '2012-10-17', Statement: [{ ...allow, Condition: ['x'] }] }, 'identity', 'Syntax errors in policy.');
    bad({ Version: '2012-10-17', Statement: [{ ...allow, Condition: { StringEquals: 'x' } }] }, 'identity', 'Syntax errors in policy.');
    bad({ Version: '2012-10-17', Statement: [{ ...allow, Action: [1] }] }, 'identity', 'Syntax errors in policy.');
    bad(
      {
        Version: '2012-10-17',
        Statement: [
          { ...allow, Sid: 'a' },
          { ...allow, Sid: 'a' },
        ],
      },
      'identity',
      'Statement IDs (SID) in a single policy must be unique.',
    );
    bad(
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: [], Resource: '*' }] },
      'identity',
      'Policy statement must contain actions.',
    );
    bad(
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*' }] },
      'identity',
      'Policy statement must contain resources.',
    );
    bad(
      { Version: '2012-10-17', Statement: [{ ...allow, Principal: '*' }] },
      'identity',
      'Policy document should not specify a principal.',
    );
    bad({ Version: '2012-10-17', Statement: [{ ...trust, Resource: '*' }] }, 'trust', 'Has prohibited field Resource');
    bad({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] }, 'trust', 'Missing required field Principal');
    bad({ Version: '2012-10-17', Statement: [{ ...trust, Principal: { Users: 'x' } }] }, 'trust', 'Syntax errors in policy.');
    bad(
      { Version: '2012-10-17', Statement: [{ ...trust, Action: 'ec2:RunInstances' }] },
      'trust',
      'AssumeRole policy may only specify STS AssumeRole actions.',
    );
    bad(
      { Version: '2012-10-17', Statement: [{ ...allow, Action: 's3' }] },
      'identity',
      'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.',
    );
    bad(
      { Version: '2012-10-17', Statement: [{ ...allow, Action: 's3:a:b' }] },
      'identity',
      'Actions/Condition can contain only one colon.',
    );
  });
});

// ---------------------------------------------------------------------------------------------

const hasBoto3 = (() => {
  try {
    execFileSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('boto3', () => {
  it(
    'CreateRole + PutRolePolicy + GetRolePolicy: botocore decodes the URL-encoded documents to the originals',
    { skip: !hasBoto3 && 'python3 with boto3 is not installed' },
    async () => {
      const policy = {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'Read it all',
            Effect: 'Allow',
            Action: ['s3:Get*', 's3:List*'],
            Resource: ['arn:aws:s3:::my-bucket/*', '*'],
            Condition: { StringLike: { 's3:prefix': ['home/${aws:username}/*', 'a+b=c&d?'] } },
          },
        ],
      };
      const py = `
import boto3, json, sys
iam = boto3.client('iam', endpoint_url=sys.argv[1], region_name='us-east-1')
trust = json.loads(sys.argv[2]); policy = json.loads(sys.argv[3])
role = iam.create_role(RoleName='boto-role', AssumeRolePolicyDocument=json.dumps(trust))['Role']
iam.put_role_policy(RoleName='boto-role', PolicyName='pretty', PolicyDocument=json.dumps(policy, indent=2))
got = iam.get_role_policy(RoleName='boto-role', PolicyName='pretty')
print(json.dumps({'created': role['AssumeRolePolicyDocument'], 'fetched': iam.get_role(RoleName='boto-role')['Role']['AssumeRolePolicyDocument'], 'policy': got['PolicyDocument'], 'type': type(got['PolicyDocument']).__name__}))
`;
      const env = {
        ...process.env,
        AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      };
      const { stdout } = await run('python3', ['-c', py, server.url, TRUST, json(policy)], { env });
      const out = JSON.parse(stdout) as { created: unknown; fetched: unknown; policy: unknown; type: string };
      assert.equal(out.type, 'dict', 'botocore turned the document back into a dict');
      assert.deepEqual(out.created, JSON.parse(TRUST));
      assert.deepEqual(out.fetched, JSON.parse(TRUST));
      assert.deepEqual(out.policy, policy);
      // and the JS SDK sees the same document still encoded, exactly as given
      const js = await iam.send(new GetRolePolicyCommand({ RoleName: 'boto-role', PolicyName: 'pretty' }));
      assert.deepEqual(JSON.parse(decodeURIComponent(js.PolicyDocument!)), policy);
      assert.match(js.PolicyDocument!, /^%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22/);
    },
  );
});
