// The seed's workflow with the real aws CLI: role with the EC2 trust policy → instance profile →
// add role → run-instances --iam-instance-profile with two groups → modify-instance-attribute
// --groups → describe-instances shows the new groups.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { start, CREDS } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { timed } from './helpers/run.ts';

const run = timed(promisify(execFile));
let server: Palisade;
let aws: (...args: string[]) => Promise<any>;

before(async () => {
  server = await start();
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  aws = async (...args: string[]) => {
    const { stdout } = await run('aws', [...args, '--endpoint-url', server.url, '--output', 'json'], { env });
    return stdout.trim() ? JSON.parse(stdout) : {};
  };
});
after(async () => server.close());

describe('seed workflow with the aws CLI', () => {
  it('role → instance profile → run-instances with two groups → modify-instance-attribute --groups', async () => {
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    const role = await aws('iam', 'create-role', '--role-name', 'web-app', '--assume-role-policy-document', trust);
    assert.equal(role.Role.Arn, 'arn:aws:iam::000000000000:role/web-app');
    assert.deepEqual(
      role.Role.AssumeRolePolicyDocument.Statement[0].Principal,
      { Service: 'ec2.amazonaws.com' },
      'botocore decodes the URL-encoded document',
    );
    const profile = await aws('iam', 'create-instance-profile', '--instance-profile-name', 'web-app');
    await aws('iam', 'add-role-to-instance-profile', '--instance-profile-name', 'web-app', '--role-name', 'web-app');
    const a = (await aws('ec2', 'create-security-group', '--group-name', 'web', '--description', 'web tier')).GroupId;
    const b = (await aws('ec2', 'create-security-group', '--group-name', 'ssh', '--description', 'admin ssh')).GroupId;
    const c = (await aws('ec2', 'create-security-group', '--group-name', 'monitoring', '--description', 'metrics')).GroupId;
    const launched = await aws(
      'ec2',
      'run-instances',
      '--image-id',
      'ami-0abcdef1234567890',
      '--instance-type',
      't3.micro',
      '--count',
      '1',
      '--security-group-ids',
      a,
      b,
      '--iam-instance-profile',
      'Name=web-app',
    );
    const i = launched.Instances[0];
    assert.deepEqual(i.SecurityGroups.map((g: { GroupId: string }) => g.GroupId).sort(), [a, b].sort());
    assert.equal(i.IamInstanceProfile.Arn, profile.InstanceProfile.Arn);
    await aws('ec2', 'modify-instance-attribute', '--instance-id', i.InstanceId, '--groups', a, c);
    const d = await aws('ec2', 'describe-instances', '--instance-ids', i.InstanceId);
    const now = d.Reservations[0].Instances[0];
    assert.deepEqual(now.SecurityGroups.map((g: { GroupName: string }) => g.GroupName).sort(), ['monitoring', 'web']);
    assert.equal(now.State.Name, 'running');
    const byGroup = await aws('ec2', 'describe-instances', '--filters', `Name=instance.group-id,Values=${c}`);
    assert.equal(byGroup.Reservations[0].Instances[0].InstanceId, i.InstanceId);
    const assoc = await aws('ec2', 'describe-iam-instance-profile-associations');
    assert.equal(assoc.IamInstanceProfileAssociations[0].InstanceId, i.InstanceId);
  });
});
