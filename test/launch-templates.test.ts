// Launch templates with @aws-sdk/client-ec2: versions ($Latest, $Default, ranges, inheritance from a
// source version), the default version, deletion, AWS's errors (refused calls change nothing),
// and RunInstances from a template: its parameters apply, the call's own override them, and the
// data plane judges traffic by the groups the template gave the instance.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateKeyPairCommand,
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSecurityGroupCommand,
  DeleteLaunchTemplateCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeVolumesCommand,
  ModifyLaunchTemplateCommand,
  RunInstancesCommand,
  type EC2Client,
  type Instance,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { IAMClient, AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand } from '@aws-sdk/client-iam';
import { awsError, CREDS, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';

let server: Palisade;
let client: EC2Client;
let groupDb: string;
let groupApp: string;
const userData = Buffer.from('#!/bin/sh\necho template\n').toString('base64');

before(async () => {
  server = await start();
  client = ec2(server.url);
  const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'lt-role',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    }),
  );
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'lt-profile' }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'lt-profile', RoleName: 'lt-role' }));
  await client.send(new CreateKeyPairCommand({ KeyName: 'lt-key', KeyType: 'ed25519' }));
  groupDb = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'lt-db', Description: 'db' }))).GroupId!;
  groupApp = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'lt-app', Description: 'app' }))).GroupId!;
  await client.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupDb,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: groupApp }] }],
    }),
  );
});
after(async () => server.close());

const templates = async () => (await client.send(new DescribeLaunchTemplatesCommand({}))).LaunchTemplates!;
const instanceCount = async () => (await client.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!).length;
const launch = async (input: Partial<RunInstancesCommandInput>): Promise<Instance> =>
  (await client.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, ...input } as RunInstancesCommandInput))).Instances![0]!;
const versions = async (name: string, more: Record<string, unknown> = {}) =>
  (await client.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: name, ...more }))).LaunchTemplateVersions!;

describe('launch templates', () => {
  it('CreateLaunchTemplate: version 1 is default and latest; tags; warnings for what the data names that does not exist', async () => {
    const r = await client.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'db-tpl',
        VersionDescription: 'first',
        LaunchTemplateData: {
          ImageId: 'ami-12345678',
          InstanceType: 't3.micro',
          KeyName: 'lt-key',
          SecurityGroupIds: [groupDb],
          IamInstanceProfile: { Name: 'lt-profile' },
          MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
          UserData: userData,
          BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 16, VolumeType: 'gp3' } }],
          TagSpecifications: [
            {
              ResourceType: 'instance',
              Tags: [
                { Key: 'Name', Value: 'db' },
                { Key: 'tier', Value: 'data' },
              ],
            },
            { ResourceType: 'volume', Tags: [{ Key: 'backup', Value: 'daily' }] },
          ],
        },
        TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'owner', Value: 'ops' }] }],
      }),
    );
    const t = r.LaunchTemplate!;
    assert.match(t.LaunchTemplateId!, /^lt-[0-9a-f]{17}$/);
    assert.equal(t.DefaultVersionNumber, 1);
    assert.equal(t.LatestVersionNumber, 1);
    assert.equal(t.CreatedBy, 'arn:aws:iam::000000000000:root');
    assert.deepEqual(t.Tags, [{ Key: 'owner', Value: 'ops' }]);
    assert.equal(r.Warning, undefined);
    const w = await client.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'warned',
        LaunchTemplateData: { ImageId: 'ami-0123456789abcdef0', KeyName: 'nope', SecurityGroupIds: ['sg-0123456789abcdef0'] },
      }),
    );
    assert.deepEqual(
      w.Warning!.Errors!.map((e) => e.Code),
      ['InvalidAMIID.NotFound', 'InvalidKeyPair.NotFound', 'InvalidGroup.NotFound'],
    );
    const [v1] = await versions('db-tpl');
    assert.equal(v1!.VersionDescription, 'first');
    assert.equal(v1!.DefaultVersion, true);
    assert.equal(v1!.LaunchTemplateData!.InstanceType, 't3.micro');
    assert.equal(v1!.LaunchTemplateData!.MetadataOptions!.HttpTokens, 'required');
    assert.deepEqual(v1!.LaunchTemplateData!.SecurityGroupIds, [groupDb]);
    assert.equal(v1!.LaunchTemplateData!.BlockDeviceMappings![0]!.Ebs!.VolumeSize, 16);
  });

  it('refuses a duplicate or malformed name, missing data and bad values — changing nothing', async () => {
    const before = (await templates()).length;
    let e = await awsError(() =>
      client.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'db-tpl', LaunchTemplateData: { InstanceType: 't3.micro' } })),
    );
    assert.equal(e.name, 'InvalidLaunchTemplateName.AlreadyExistsException');
    assert.equal(e.message, 'Launch template name already in use.');
    e = await awsError(() =>
      client.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'a b', LaunchTemplateData: { InstanceType: 't3.micro' } })),
    );
    assert.equal(e.name, 'InvalidLaunchTemplateName.MalformedException');
    e = await awsError(() => client.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'no-data' } as never)));
    assert.equal(e.name, 'MissingParameter');
    e = await awsError(() =>
      client.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: 'bad-tokens',
          LaunchTemplateData: { MetadataOptions: { HttpTokens: 'sometimes' as never } },
        }),
      ),
    );
    assert.equal(e.name, 'InvalidParameterValue');
    assert.equal((await templates()).length, before);
  });

  it('versions: inherit from a source version, $Latest and $Default, ranges, filters; ModifyLaunchTemplate sets the default', async () => {
    const v2 = await client.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateName: 'db-tpl',
        SourceVersion: '1',
        VersionDescription: 'bigger',
        LaunchTemplateData: { InstanceType: 't3.small' },
      }),
    );
    assert.equal(v2.LaunchTemplateVersion!.VersionNumber, 2);
    assert.equal(v2.LaunchTemplateVersion!.DefaultVersion, false);
    assert.equal(v2.LaunchTemplateVersion!.LaunchTemplateData!.InstanceType, 't3.small');
    assert.equal(v2.LaunchTemplateVersion!.LaunchTemplateData!.KeyName, 'lt-key', 'inherited from version 1');
    await client.send(
      new CreateLaunchTemplateVersionCommand({ LaunchTemplateName: 'db-tpl', LaunchTemplateData: { ImageId: 'ami-12345678' } }),
    );
    assert.deepEqual(
      (await versions('db-tpl')).map((v) => v.VersionNumber),
      [1, 2, 3],
    );
    const pick = async (vs: string[]) => (await versions('db-tpl', { Versions: vs })).map((v) => v.VersionNumber);
    assert.deepEqual(await pick(['$Latest']), [3]);
    assert.deepEqual(await pick(['$Default']), [1]);
    assert.deepEqual(
      (await versions('db-tpl', { MinVersion: '2', MaxVersion: '3' })).map((v) => v.VersionNumber),
      [2, 3],
    );
    assert.deepEqual(
      (await versions('db-tpl', { Filters: [{ Name: 'instance-type', Values: ['t3.small'] }] })).map((v) => v.VersionNumber),
      [2],
    );
    const e = await awsError(() => pick(['9']));
    assert.equal(e.name, 'InvalidLaunchTemplateId.VersionNotFound');
    assert.match(e.message, /^Could not find the specified version 9 for the launch template with ID lt-[0-9a-f]{17}\.$/);
    const m = await client.send(new ModifyLaunchTemplateCommand({ LaunchTemplateName: 'db-tpl', DefaultVersion: '2' }));
    assert.equal(m.LaunchTemplate!.DefaultVersionNumber, 2);
    assert.deepEqual(
      (await versions('db-tpl', { Filters: [{ Name: 'is-default-version', Values: ['true'] }] })).map((v) => v.VersionNumber),
      [2],
    );
    const [t] = (await client.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ['db-tpl'] }))).LaunchTemplates!;
    assert.deepEqual([t!.DefaultVersionNumber, t!.LatestVersionNumber], [2, 3]);
    const bad = await awsError(() => client.send(new ModifyLaunchTemplateCommand({ LaunchTemplateName: 'db-tpl', DefaultVersion: '7' })));
    assert.equal(bad.name, 'InvalidLaunchTemplateId.VersionNotFound');
  });

  it('DescribeLaunchTemplates by id, name and filter; AWS errors for unknown ones', async () => {
    const all = await templates();
    const db = all.find((t) => t.LaunchTemplateName === 'db-tpl')!;
    const byId = (await client.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [db.LaunchTemplateId!] }))).LaunchTemplates!;
    assert.deepEqual(
      byId.map((t) => t.LaunchTemplateName),
      ['db-tpl'],
    );
    const f = await client.send(new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'tag:owner', Values: ['ops'] }] }));
    assert.deepEqual(
      f.LaunchTemplates!.map((t) => t.LaunchTemplateName),
      ['db-tpl'],
    );
    let e = await awsError(() => client.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ['lt-0123456789abcdef0'] })));
    assert.equal(e.name, 'InvalidLaunchTemplateId.NotFound');
    assert.equal(e.message, 'The specified launch template, with template ID lt-0123456789abcdef0, does not exist.');
    e = await awsError(() => client.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ['missing'] })));
    assert.equal(e.name, 'InvalidLaunchTemplateName.NotFoundException');
    e = await awsError(() => client.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'missing' })));
    assert.equal(e.name, 'InvalidLaunchTemplateName.NotFoundException');
    assert.equal(e.message, 'The specified launch template, with template name missing, does not exist.');
  });

  it('RunInstances from a template: its parameters, the call overriding them, merged tags, the aws:ec2launchtemplate tags', async () => {
    const before = await instanceCount();
    let e = await awsError(() => launch({ LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0' } }));
    assert.equal(e.name, 'InvalidLaunchTemplateId.NotFound');
    e = await awsError(() => launch({ LaunchTemplate: { LaunchTemplateName: 'db-tpl', Version: '42' } }));
    assert.equal(e.name, 'InvalidLaunchTemplateId.VersionNotFound');
    assert.equal(await instanceCount(), before, 'refused launches launch nothing');

    // No version: the default (2, t3.small).
    const i = await launch({
      LaunchTemplate: { LaunchTemplateName: 'db-tpl' },
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'db-1' }] }],
    });
    assert.equal(i.InstanceType, 't3.small');
    assert.equal(i.ImageId, 'ami-12345678');
    assert.equal(i.KeyName, 'lt-key');
    assert.equal(i.MetadataOptions!.HttpTokens, 'required');
    assert.equal(i.MetadataOptions!.HttpPutResponseHopLimit, 2);
    assert.match(i.IamInstanceProfile!.Arn!, /:instance-profile\/lt-profile$/);
    assert.deepEqual(
      i.NetworkInterfaces![0]!.Groups!.map((g) => g.GroupId),
      [groupDb],
    );
    const tags = Object.fromEntries(i.Tags!.map((t) => [t.Key, t.Value]));
    assert.equal(tags.Name, 'db-1', "the call's value wins");
    assert.equal(tags.tier, 'data', "the template's other tags stay");
    assert.equal(tags['aws:ec2launchtemplate:version'], '2');
    assert.match(tags['aws:ec2launchtemplate:id']!, /^lt-/);
    const ud = await client.send(new DescribeInstanceAttributeCommand({ InstanceId: i.InstanceId, Attribute: 'userData' }));
    assert.equal(ud.UserData!.Value, userData);
    const [root] = (
      await client.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [i.InstanceId!] }] }))
    ).Volumes!;
    assert.deepEqual([root!.Size, root!.VolumeType], [16, 'gp3']);
    assert.deepEqual(root!.Tags, [{ Key: 'backup', Value: 'daily' }]);

    // $Latest by id, and a parameter of the call over the template's.
    const id = (await templates()).find((t) => t.LaunchTemplateName === 'db-tpl')!.LaunchTemplateId!;
    const j = await launch({ LaunchTemplate: { LaunchTemplateId: id, Version: '$Latest' }, InstanceType: 'm5.large' });
    assert.equal(j.InstanceType, 'm5.large');
    assert.equal(Object.fromEntries(j.Tags!.map((t) => [t.Key, t.Value]))['aws:ec2launchtemplate:version'], '3');
  });

  it("a template's interfaces and groups are what the data plane judges traffic by", async () => {
    await client.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'db-eni',
        LaunchTemplateData: {
          ImageId: 'ami-12345678',
          InstanceType: 't3.micro',
          NetworkInterfaces: [{ DeviceIndex: 0, Groups: [groupDb], AssociatePublicIpAddress: false, Description: 'from template' }],
        },
      }),
    );
    const db = await launch({ LaunchTemplate: { LaunchTemplateName: 'db-eni' } });
    assert.equal(db.NetworkInterfaces![0]!.Description, 'from template');
    assert.equal(db.PublicIpAddress, undefined);
    const app = await launch({ ImageId: 'ami-12345678', SecurityGroupIds: [groupApp] });
    const other = await launch({ ImageId: 'ami-12345678' });
    const res = await fetch(`${server.url}/_palisade/network/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        flows: [
          { from: app.InstanceId, to: db.InstanceId, protocol: 'tcp', port: 5432 },
          { from: other.InstanceId, to: db.InstanceId, protocol: 'tcp', port: 5432 },
        ],
      }),
    });
    const body = (await res.json()) as { results: { verdict: string }[] };
    assert.deepEqual(
      body.results.map((r) => r.verdict),
      ['ACCEPT', 'REJECT'],
    );
  });

  it('DeleteLaunchTemplateVersions (not the default) and DeleteLaunchTemplate', async () => {
    const r = await client.send(new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateName: 'db-tpl', Versions: ['1', '2', '8'] }));
    assert.deepEqual(
      r.SuccessfullyDeletedLaunchTemplateVersions!.map((v) => v.VersionNumber),
      [1],
    );
    assert.deepEqual(
      r.UnsuccessfullyDeletedLaunchTemplateVersions!.map((v) => [v.VersionNumber, v.ResponseError!.Code]),
      [
        [2, 'unexpectedError'],
        [8, 'launchTemplateVersionDoesNotExist'],
      ],
    );
    assert.deepEqual(
      (await versions('db-tpl')).map((v) => v.VersionNumber),
      [2, 3],
    );
    const v4 = await client.send(
      new CreateLaunchTemplateVersionCommand({ LaunchTemplateName: 'db-tpl', LaunchTemplateData: { InstanceType: 't3.micro' } }),
    );
    assert.equal(v4.LaunchTemplateVersion!.VersionNumber, 4, 'numbers are not reused');
    const d = await client.send(new DeleteLaunchTemplateCommand({ LaunchTemplateName: 'db-tpl' }));
    assert.equal(d.LaunchTemplate!.LaunchTemplateName, 'db-tpl');
    const e = await awsError(() => client.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: d.LaunchTemplate!.LaunchTemplateId })));
    assert.equal(e.name, 'InvalidLaunchTemplateId.NotFound');
    assert.ok(!(await templates()).some((t) => t.LaunchTemplateName === 'db-tpl'));
    // The name can be used again.
    await client.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'db-tpl', LaunchTemplateData: { InstanceType: 't3.micro' } }));
  });
});
