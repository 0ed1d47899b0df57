// IAM answers compared with answers recorded from real AWS (issue #15, IAM part). Grouped by
// operation; every test names its source:
//  - LS-ROLES / LS-PROFILES / LS-IAM: localstack tests/aws/services/iam/test_iam_roles.snapshot.json,
//    test_iam_instance_profiles.snapshot.json, test_iam.snapshot.json (snapshots recorded against AWS,
//    2025–2026);
//  - MOTO-POLICIES: moto tests/test_iam/test_iam_policies.py (IAM's policy-validation messages,
//    written against AWS); MOTO-ATTRS: moto tests/test_iam/test_iam_response_attributes.py
//    (@aws_verified);
//  - CLI#7641: aws/aws-cli#7641 (a real get-role output);
//  - API-REF: the IAM API Reference (docs.aws.amazon.com/IAM/latest/APIReference).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeletePolicyCommand,
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetRoleCommand,
  GetUserCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesCommand,
  ListPoliciesCommand,
  ListRolesCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleDescriptionCommand,
} from '@aws-sdk/client-iam';
import type { Palisade } from '../src/server.ts';
import { awsManagedPolicies, awsManagedPolicy } from '../src/services/iam/aws-managed.ts';
import { validatePolicyDocument } from '../src/services/iam/policy-grammar.ts';
import { parsePolicy } from '../src/auth/iam-policy.ts';
import { awsError, CREDS, start } from './helpers/server.ts';

let server: Palisade;
let iam: IAMClient;
before(async () => {
  server = await start();
  iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
});
after(async () => {
  iam.destroy();
  await server.close();
});

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
const MOCK_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::example_bucket' },
});
let n = 0;
const uid = (p: string) => `${p}-${++n}-${Date.now().toString(36)}`;
const keys = (o: object) => Object.keys(o).sort();
const role = async (extra: Partial<ConstructorParameters<typeof CreateRoleCommand>[0]> = {}) =>
  (await iam.send(new CreateRoleCommand({ RoleName: uid('role'), AssumeRolePolicyDocument: TRUST, ...extra }))).Role!;
const policy = async (doc = MOCK_POLICY) =>
  (await iam.send(new CreatePolicyCommand({ PolicyName: uid('policy'), PolicyDocument: doc }))).Policy!;
const BASE_ROLE = ['Arn', 'AssumeRolePolicyDocument', 'CreateDate', 'Path', 'RoleId', 'RoleName'];

describe('CreateRole / GetRole / ListRoles / UpdateRoleDescription: the members IAM returns', () => {
  it('CreateRole has no MaxSessionDuration, RoleLastUsed or Tags when not set (LS-ROLES test_create_role_defaults)', async () => {
    const r = await role();
    assert.deepEqual(keys(r), BASE_ROLE);
    const got = (await iam.send(new GetRoleCommand({ RoleName: r.RoleName }))).Role!;
    assert.deepEqual(keys(got), [...BASE_ROLE, 'MaxSessionDuration', 'RoleLastUsed'].sort());
    assert.equal(got.MaxSessionDuration, 3600);
  });

  it('CreateRole does not return a Description it was given; GetRole and ListRoles do (LS-ROLES test_list_roles_pagination, test_role_permissions_boundary_lifecycle)', async () => {
    const path = `/${uid('p')}/`;
    const r = await role({ Description: 'Role 0', Path: path });
    assert.equal(r.Description, undefined);
    assert.equal((await iam.send(new GetRoleCommand({ RoleName: r.RoleName }))).Role!.Description, 'Role 0');
    const listed = (await iam.send(new ListRolesCommand({ PathPrefix: path }))).Roles!;
    assert.deepEqual(keys(listed[0]!), [...BASE_ROLE, 'Description', 'MaxSessionDuration'].sort());
  });

  it('CreateRole echoes MaxSessionDuration when the request set it (localstack PR #6754, checked against AWS)', async () => {
    const r = await role({ MaxSessionDuration: 7200 });
    assert.equal(r.MaxSessionDuration, 7200);
  });

  it('an empty Description is no Description (LS-ROLES test_create_role_defaults: none in GetRole)', async () => {
    const r = await role({ Description: '' });
    assert.equal((await iam.send(new GetRoleCommand({ RoleName: r.RoleName }))).Role!.Description, undefined);
  });

  it('Tags appear in CreateRole and GetRole only when there are some, never in ListRoles (LS-ROLES test_role_with_tags)', async () => {
    const path = `/${uid('t')}/`;
    const r = await role({ Path: path, Tags: [{ Key: 'test', Value: 'value' }] });
    assert.deepEqual(r.Tags, [{ Key: 'test', Value: 'value' }]);
    assert.equal((await iam.send(new ListRolesCommand({ PathPrefix: path }))).Roles![0]!.Tags, undefined);
  });

  it('PermissionsBoundaryType is "Policy" (LS-ROLES test_role_permissions_boundary_lifecycle; CLI#7641)', async () => {
    const p = await policy();
    const r = await role({ PermissionsBoundary: p.Arn });
    assert.deepEqual(r.PermissionsBoundary, { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: p.Arn });
    const got = (await iam.send(new GetRoleCommand({ RoleName: r.RoleName }))).Role!;
    assert.equal(got.PermissionsBoundary!.PermissionsBoundaryType, 'Policy');
    const u = (await iam.send(new CreateUserCommand({ UserName: uid('u'), PermissionsBoundary: p.Arn }))).User!;
    assert.equal(u.PermissionsBoundary!.PermissionsBoundaryType, 'Policy');
    const gu = (await iam.send(new GetUserCommand({ UserName: u.UserName }))).User!;
    assert.equal(gu.PermissionsBoundary!.PermissionsBoundaryType, 'Policy');
  });

  it('UpdateRoleDescription answers without MaxSessionDuration or RoleLastUsed (LS-ROLES test_update_role)', async () => {
    const r = await role({ Description: 'initial description' });
    const u = (await iam.send(new UpdateRoleDescriptionCommand({ RoleName: r.RoleName, Description: 'via update' }))).Role!;
    assert.deepEqual(keys(u), [...BASE_ROLE, 'Description'].sort());
  });
});

describe('Instance profiles: members and errors', () => {
  it('CreateInstanceProfile has no Tags, GetInstanceProfile has Tags: [], ListInstanceProfiles none (LS-PROFILES test_instance_profile_lifecycle)', async () => {
    const path = `/${uid('ip')}/`;
    const name = uid('profile');
    const created = (await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: name, Path: path }))).InstanceProfile!;
    assert.equal(created.Tags, undefined);
    assert.deepEqual(created.Roles, []);
    const got = (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }))).InstanceProfile!;
    assert.deepEqual(got.Tags, []);
    const listed = (await iam.send(new ListInstanceProfilesCommand({ PathPrefix: path }))).InstanceProfiles!;
    assert.equal(listed[0]!.Tags, undefined);
  });

  it("a profile's Roles have no MaxSessionDuration (LS-PROFILES test_add_remove_role_from_instance_profile)", async () => {
    const name = uid('profile');
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: name }));
    const r = await role();
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: r.RoleName }));
    const got = (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }))).InstanceProfile!;
    assert.deepEqual(keys(got.Roles![0]!), BASE_ROLE);
  });

  it('RemoveRoleFromInstanceProfile of a role not in it: "Role R in Instance Profile P cannot be found." (LS-PROFILES test_role_instance_profile_operations_errors)', async () => {
    const name = uid('profile');
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: name }));
    const r = await role();
    const e = await awsError(() => iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: name, RoleName: r.RoleName })));
    assert.deepEqual(e, {
      name: 'NoSuchEntityException',
      message: `Role ${r.RoleName} in Instance Profile ${name} cannot be found.`,
      status: 404,
    });
  });
});

describe('AttachRolePolicy / AttachUserPolicy / DetachRolePolicy', () => {
  it('a PolicyArn that is no ARN: ValidationError "Invalid ARN:  Could not be parsed!" (LS-IAM test_role_attach_policy, test_user_attach_policy)', async () => {
    const r = await role();
    // a name of 20 characters or more (shorter text fails the model's length check first)
    const p = (await iam.send(new CreatePolicyCommand({ PolicyName: uid('test-policy-long-name'), PolicyDocument: MOCK_POLICY }))).Policy!;
    for (const arn of ['longpolicynamebutnoarn', p.PolicyName!]) {
      const e = await awsError(() => iam.send(new AttachRolePolicyCommand({ RoleName: r.RoleName, PolicyArn: arn })));
      assert.deepEqual(e, { name: 'ValidationError', message: 'Invalid ARN:  Could not be parsed!', status: 400 });
    }
    const user = uid('u');
    await iam.send(new CreateUserCommand({ UserName: user }));
    const e = await awsError(() => iam.send(new AttachUserPolicyCommand({ UserName: user, PolicyArn: 'longpolicynamebutnoarn' })));
    assert.equal(e.message, 'Invalid ARN:  Could not be parsed!');
    const missing = await awsError(() => iam.send(new AttachRolePolicyCommand({ RoleName: r.RoleName, PolicyArn: `${p.Arn}123` })));
    assert.deepEqual(missing, {
      name: 'NoSuchEntityException',
      message: `Policy ${p.Arn}123 does not exist or is not attachable.`,
      status: 404,
    });
  });

  it('AWS managed policies under service-role/ exist: AmazonElasticMapReduceRole, AWSControlTowerServiceRolePolicy (LS-ROLES test_attach_detach_aws_managed_policy_role)', async () => {
    const r = await role();
    const emr = 'arn:aws:iam::aws:policy/service-role/AmazonElasticMapReduceRole';
    const ct = 'arn:aws:iam::aws:policy/service-role/AWSControlTowerServiceRolePolicy';
    await iam.send(new AttachRolePolicyCommand({ RoleName: r.RoleName, PolicyArn: emr }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: r.RoleName, PolicyArn: ct }));
    const attached = (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: r.RoleName }))).AttachedPolicies!;
    assert.deepEqual(attached.map((a) => a.PolicyArn).sort(), [ct, emr]);
    await iam.send(new DetachRolePolicyCommand({ RoleName: r.RoleName, PolicyArn: emr }));
    const again = await awsError(() => iam.send(new DetachRolePolicyCommand({ RoleName: r.RoleName, PolicyArn: emr })));
    assert.deepEqual(again, { name: 'NoSuchEntityException', message: `Policy ${emr} was not found.`, status: 404 });
    const none = 'arn:aws:iam::aws:policy/Nonexistent';
    const e = await awsError(() => iam.send(new DetachRolePolicyCommand({ RoleName: r.RoleName, PolicyArn: none })));
    assert.equal(e.message, `Policy ${none} was not found.`);
  });
});

describe('AWS managed policy catalogue', () => {
  it('is the complete list (1,400+ policies, each with a loadable document) and read lazily (moto aws_managed_policies.py data)', () => {
    const all = awsManagedPolicies('aws');
    assert.ok(all.length > 1400, `only ${all.length}`);
    for (const p of all) {
      validatePolicyDocument(p.versions[0]!.document, 'identity');
      parsePolicy(p.versions[0]!.document);
    }
    assert.equal(awsManagedPolicy('aws', 'arn:aws:iam::aws:policy/AmazonElasticMapReduceRole'), undefined, 'the path is part of the ARN');
    assert.equal(awsManagedPolicy('aws-cn', 'arn:aws-cn:iam::aws:policy/AdministratorAccess')!.policyId, 'ANPAIWMBCKSKIEE64ZLYK');
  });

  it('ListPolicies Scope=AWS lists them with their paths (API-REF ListPolicies)', async () => {
    const names = new Map<string, string>();
    let marker: string | undefined;
    do {
      const page = await iam.send(new ListPoliciesCommand({ Scope: 'AWS', Marker: marker, MaxItems: 1000 }));
      for (const p of page.Policies!) names.set(p.PolicyName!, p.Arn!);
      marker = page.Marker;
    } while (marker);
    assert.ok(names.size > 1400);
    assert.equal(names.get('AWSControlTowerServiceRolePolicy'), 'arn:aws:iam::aws:policy/service-role/AWSControlTowerServiceRolePolicy');
  });
});

describe('CreatePolicy / GetPolicy / ListPolicies / DeletePolicy', () => {
  it('CreatePolicy has neither Description nor empty Tags; GetPolicy has Description and Tags: []; ListPolicies neither (MOTO-ATTRS test_policy_resource_returns_subset_of_available_attributes)', async () => {
    const path = `/${uid('pp')}/`;
    const c = (
      await iam.send(
        new CreatePolicyCommand({ PolicyName: uid('pol'), Path: path, PolicyDocument: MOCK_POLICY, Description: 'test description' }),
      )
    ).Policy!;
    assert.equal(c.Description, undefined);
    assert.equal(c.Tags, undefined);
    const g = (await iam.send(new GetPolicyCommand({ PolicyArn: c.Arn }))).Policy!;
    assert.equal(g.Description, 'test description');
    assert.deepEqual(g.Tags, []);
    const l = (await iam.send(new ListPoliciesCommand({ Scope: 'Local', PathPrefix: path }))).Policies!;
    assert.equal(l[0]!.Description, undefined);
    assert.equal(l[0]!.Tags, undefined);
  });

  it('DeletePolicy of a missing policy: "Policy ARN was not found." (LS-IAM test_delete_non_existent_policy_returns_no_such_entity)', async () => {
    const arn = 'arn:aws:iam::000000000000:policy/non-existent-policy';
    const e = await awsError(() => iam.send(new DeletePolicyCommand({ PolicyArn: arn })));
    assert.deepEqual(e, { name: 'NoSuchEntityException', message: `Policy ${arn} was not found.`, status: 404 });
  });
});

describe('TagRole / UntagRole', () => {
  const tooMany = Array.from({ length: 51 }, (_, i) => ({ Key: String(i), Value: String(i) }));

  it('validates the tags before looking the role up, without echoing them (LS-ROLES test_role_tag_errors: tag-role-too-many-tags)', async () => {
    const e = await awsError(() => iam.send(new TagRoleCommand({ RoleName: 'test-nonexistent-role', Tags: tooMany })));
    assert.deepEqual(e, {
      name: 'ValidationError',
      message:
        "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
      status: 400,
    });
  });

  it('tag key/value messages name the member, not the value (LS-ROLES test_role_tag_errors)', async () => {
    const r = await role();
    const long = await awsError(() => iam.send(new TagRoleCommand({ RoleName: r.RoleName, Tags: [{ Key: 'k'.repeat(129), Value: 'v' }] })));
    assert.equal(
      long.message,
      "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128",
    );
    const bad = await awsError(() => iam.send(new TagRoleCommand({ RoleName: r.RoleName, Tags: [{ Key: 'invalid!key', Value: 'v' }] })));
    assert.equal(
      bad.message,
      "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
    );
    const value = await awsError(() =>
      iam.send(new TagRoleCommand({ RoleName: r.RoleName, Tags: [{ Key: 'key', Value: 'v'.repeat(257) }] })),
    );
    assert.equal(
      value.message,
      "1 validation error detected: Value at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256",
    );
    const create = await awsError(() => role({ Tags: tooMany }));
    assert.equal(
      create.message,
      "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
    );
  });

  it('UntagRole: one message for the whole key list (LS-ROLES untag-role-key-too-long, untag-role-too-many-keys)', async () => {
    const r = await role();
    const e = await awsError(() => iam.send(new UntagRoleCommand({ RoleName: r.RoleName, TagKeys: ['invalid!key'] })));
    assert.equal(
      e.message,
      "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+, Member must not be null]",
    );
    const many = await awsError(() => iam.send(new UntagRoleCommand({ RoleName: r.RoleName, TagKeys: tooMany.map((t) => t.Key) })));
    assert.equal(
      many.message,
      "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 50",
    );
  });
});

describe('Trust policies (CreateRole, UpdateAssumeRolePolicy)', () => {
  it('text that is not JSON: "This policy contains invalid Json" (LS-IAM test_create_role_with_malformed_assume_role_policy_document; LS-ROLES test_update_assume_role_policy_errors)', async () => {
    const trailingComma = '{"Version":"2012-10-17","Statement":[{"Action":"sts:AssumeRole","Principal":"*","Effect":"Allow",}]}';
    const e = await awsError(() => role({ AssumeRolePolicyDocument: trailingComma }));
    assert.deepEqual(e, { name: 'MalformedPolicyDocumentException', message: 'This policy contains invalid Json', status: 400 });
    const r = await role();
    const u = await awsError(() => iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: r.RoleName, PolicyDocument: 'not valid json' })));
    assert.equal(u.message, 'This policy contains invalid Json');
  });

  it('an action other than the STS ones that assume a role: "AssumeRole policy may only specify STS AssumeRole actions." (LS-ROLES invalid-action-error)', async () => {
    const r = await role();
    for (const action of ['sts:InvalidAction', 's3:GetObject']) {
      const doc = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: action }],
      });
      const e = await awsError(() => iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: r.RoleName, PolicyDocument: doc })));
      assert.deepEqual(e, {
        name: 'MalformedPolicyDocumentException',
        message: 'AssumeRole policy may only specify STS AssumeRole actions.',
        status: 400,
      });
    }
    for (const ok of [['sts:AssumeRole', 'sts:TagSession'], 'sts:AssumeRoleWith*', 'sts:*']) {
      const doc = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: '123456789012' }, Action: ok }],
      });
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: r.RoleName, PolicyDocument: doc }));
    }
    const res = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole', Resource: 'arn:aws:s3:::example_bucket' },
      ],
    });
    const e = await awsError(() => iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: r.RoleName, PolicyDocument: res })));
    assert.equal(e.message, 'Has prohibited field Resource');
  });
});

// The grammar: IAM's messages and their order, from MOTO-POLICIES (a selection; the complete list
// of its 78 invalid and 54 valid documents gives the same answers here).
const S3 = 'arn:aws:s3:::example_bucket';
const stmt = (s: object) => ({ Version: '2012-10-17', Statement: { Effect: 'Allow', ...s } });
const INVALID: [object | string, string][] = [
  ['This is not a json document', 'Syntax errors in policy.'],
  [{ Statement: { Effect: 'Allow', Action: 's3:ListBucket', Resource: S3 } }, 'Policy document must be version 2012-10-17 or greater.'],
  [{ Statement: { Effect: 'denY', Action: 's3:ListBucket', Resource: S3 } }, 'Policy document must be version 2012-10-17 or greater.'],
  [stmt({ Action: 's3:ListBucket', Resource: 'invalid resource' }), 'Resource invalid resource must be in ARN format or "*".'],
  [stmt({ Action: 's:3:ListBucket', Resource: 'sdfsadf' }), 'Resource sdfsadf must be in ARN format or "*".'],
  [
    stmt({ NotAction: 's3s:ListBucket', Resource: 'a:bsdfdsafsad' }),
    'Partition "bsdfdsafsad" is not valid for resource "arn:bsdfdsafsad:*:*:*:*".',
  ],
  [
    stmt({ Action: 's3:ListBucket', Resource: 'aws:s3:::example_bucket' }),
    'Partition "s3" is not valid for resource "arn:s3:::example_bucket:*".',
  ],
  [
    stmt({ Action: 's3:ListBucket', Resource: ['arn:error:s3:::example_bucket', 'arn:error:s3::example_bucket'] }),
    'Partition "error" is not valid for resource "arn:error:s3:::example_bucket".',
  ],
  [stmt({ Action: 's3:ListBucket', Resource: 'arn:aws' }), 'Resource vendor must be fully qualified and cannot contain regexes.'],
  [
    stmt({ Action: 's3:ListBucket', Resource: 'arn:aws:iam:us-east-1::example_bucket' }),
    'IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information.',
  ],
  [
    stmt({ Action: 's3:ListBucket', Resource: 'arn:aws:s3:us-east-1::example_bucket' }),
    'Resource arn:aws:s3:us-east-1::example_bucket can not contain region information.',
  ],
  [
    stmt({ Action: 's3:ListBucket', Resource: 'arn:aws:iam:::example_bucket' }),
    'IAM resource path must either be "*" or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.',
  ],
  [stmt({ Action: 's3:ListBucket', Resource: 'arn:aws:s3::example_bucket' }), 'The policy failed legacy parsing'],
  [stmt({ Resource: 'arn:aws:s3::example_bucket' }), 'The policy failed legacy parsing'],
  [{ Version: '2012-10-17', Statement: { Effect: 'denY', Action: 's3:ListBucket', Resource: S3 } }, 'The policy failed legacy parsing'],
  [stmt({ Action: 's3:ListBucket', Resource: S3, Condition: { DateGreaterThan: { a: 'sdfdsf' } } }), 'The policy failed legacy parsing'],
  [
    stmt({ Action: 's3:ListBucket', Resource: S3, Condition: { DateLessThanEquals: { a: '2016-12-13t2:00:00.593194+1' } } }),
    'The policy failed legacy parsing',
  ],
  [
    stmt({ Action: 's3:ListBucket', Resource: S3, Condition: { DateLessThan: { a: '9223372036854775808' } } }),
    'The policy failed legacy parsing',
  ],
  [
    stmt({ Action: 's3:ListBucket', Resource: 'arn:error:s3:::example_bucket', Condition: { DateGreaterThan: { a: 'sdfdsf' } } }),
    'The policy failed legacy parsing',
  ],
  [stmt({ Action: 'invalid', Resource: S3 }), 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.'],
  [stmt({ Action: 'a a:ListBucket', Resource: S3 }), 'Vendor a a is not valid'],
  [stmt({ Action: 's3:List:Bucket', Resource: S3 }), 'Actions/Condition can contain only one colon.'],
  [stmt({ Action: 's3:ListBucket', Resource: S3, Condition: { x: { a: '1' } } }), 'Syntax errors in policy.'],
  [stmt({ Action: 's3:ListBucket' }), 'Policy statement must contain resources.'],
  [stmt({ Resource: S3 }), 'Policy statement must contain actions.'],
];
const VALID: object[] = [
  stmt({ Action: 'iam: asdf safdsf af ', Resource: S3 }),
  stmt({ Action: 's3:ListBucket', Resource: 'arn:aws:fdsasf' }),
  stmt({ Action: 's3:ListBucket', Resource: 'arn:aws:invalid-service:us-east-1::example_bucket' }),
  stmt({ Action: 's3:ListBucket', Resource: S3, Condition: { DateGreaterThan: { a: '01T' } } }),
  stmt({ Action: 's3:ListBucket', Resource: S3, Condition: { x: {}, y: {} } }),
  stmt({ Action: 's3:ListBucket', Resource: S3, Condition: { DateLessThan: { a: '-292275054' } } }),
  stmt({ Action: 'kms:CreateGrant', Resource: ['arn:aws:kms:*:123456789012:key/*', null] }),
  stmt({ Action: 's3:*', Resource: 'arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point' }),
];

describe('CreatePolicy / PutRolePolicy: the policy grammar (MOTO-POLICIES)', () => {
  for (const [doc, message] of INVALID) {
    it(`${message} — ${JSON.stringify(doc).slice(0, 90)}`, async () => {
      const text = typeof doc === 'string' ? doc : JSON.stringify(doc);
      const e = await awsError(() => iam.send(new CreatePolicyCommand({ PolicyName: uid('bad'), PolicyDocument: text })));
      assert.deepEqual(e, { name: 'MalformedPolicyDocumentException', message, status: 400 });
    });
  }

  it('accepts the odd documents IAM accepts (MOTO-POLICIES valid_policy_documents), as managed and inline policies', async () => {
    const r = await role();
    for (const doc of VALID) {
      await iam.send(new CreatePolicyCommand({ PolicyName: uid('ok'), PolicyDocument: JSON.stringify(doc) }));
      await iam.send(new PutRolePolicyCommand({ RoleName: r.RoleName, PolicyName: 'p', PolicyDocument: JSON.stringify(doc) }));
    }
  });
});

describe('policy grammar: properties (fast-check)', () => {
  const fragment = fc.oneof(
    fc.constantFrom(
      '*',
      'arn:',
      'aws',
      'iam',
      's3',
      ':',
      '::',
      'us-east-1',
      'user/',
      'accesspoint/',
      't',
      '-',
      '+',
      'z',
      '.',
      '2016',
      '12',
    ),
    fc.string({ maxLength: 6 }),
  );
  const text = fc.array(fragment, { maxLength: 12 }).map((a) => a.join(''));
  const value = fc.oneof(text, fc.array(text, { maxLength: 3 }), fc.constant(null), fc.integer(), fc.boolean());
  const statement = fc.record(
    {
      Effect: fc.constantFrom('Allow', 'Deny', 'allow', 'x'),
      Action: value,
      NotAction: value,
      Resource: value,
      Sid: fc.oneof(text, fc.integer()),
      Principal: fc.oneof(fc.constant('*'), fc.record({ AWS: value })),
      Condition: fc.dictionary(
        fc.constantFrom('DateGreaterThan', 'ForAnyValue:StringLike', 'StringEqualsIfExists', 'Nope', 'Bool'),
        fc.dictionary(text, value, { maxKeys: 2 }),
        { maxKeys: 2 },
      ),
    },
    { requiredKeys: [] },
  );
  const doc = fc.record(
    { Version: fc.constantFrom('2012-10-17', '2008-10-17', 'x'), Statement: fc.oneof(statement, fc.array(statement, { maxLength: 4 })) },
    { requiredKeys: [] },
  );

  it('never crashes: every document is accepted or refused with a MalformedPolicyDocument', () => {
    fc.assert(
      fc.property(doc, fc.constantFrom('identity', 'trust') as fc.Arbitrary<'identity' | 'trust'>, (d, kind) => {
        try {
          validatePolicyDocument(JSON.stringify(d), kind);
        } catch (e) {
          assert.equal((e as { code?: string }).code ?? (e as Error).name, 'MalformedPolicyDocument', String(e));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('an accepted document is one the evaluator loads', () => {
    fc.assert(
      fc.property(doc, (d) => {
        const t = JSON.stringify(d);
        let ok = true;
        try {
          validatePolicyDocument(t, 'identity');
        } catch {
          ok = false;
        }
        if (ok) parsePolicy(t);
      }),
      { numRuns: 3000 },
    );
  });

  it('time grows linearly with the size of the document (resources, dates, actions)', () => {
    const big = (k: number) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: Array.from({ length: k }, (_, i) => ({
          Sid: `s${i}`,
          Effect: 'Allow',
          Action: ['iam: asdf safdsf af ', `s3:Get${'?'.repeat(50)}*`],
          Resource: [`arn:aws:s3:::${'b'.repeat(200)}/${i}`, `arn:aws:iam::*:user/${'u'.repeat(200)}`],
          Condition: { DateGreaterThan: { 'aws:CurrentTime': `2017-07-01T00:00:${String(i % 60).padStart(2, '0')}Z` } },
        })),
      });
    const time = (t: string) => {
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) validatePolicyDocument(t, 'identity');
      return performance.now() - t0;
    };
    time(big(50)); // warm up
    const small = time(big(200));
    const large = time(big(1600));
    assert.ok(large < small * 8 * 4 + 50, `8x the document took ${large.toFixed(1)} ms against ${small.toFixed(1)} ms`);
    // the trust-action glob over a pathological pattern stays fast
    const glob = JSON.stringify({
      Version: '2012-10-17',
      Statement: { Effect: 'Allow', Principal: '*', Action: `sts:${'*a'.repeat(2000)}` },
    });
    const t0 = performance.now();
    assert.throws(() => validatePolicyDocument(glob, 'trust'));
    assert.ok(performance.now() - t0 < 1000);
  });
});
