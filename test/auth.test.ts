// --auth verify and --auth enforce with real clients: signatures checked with AWS's codes, and
// IAM policies enforced with AWS's evaluation logic.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac } from 'node:crypto';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  AttachRolePolicyCommand,
  CreateAccessKeyCommand,
  CreateInstanceProfileCommand,
  AddRoleToInstanceProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  AssumeRoleCommand,
  DecodeAuthorizationMessageCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { VirtualClock } from '../src/core/clock.ts';
import { timed } from './helpers/run.ts';

const run = timed(promisify(execFile));
const ROOT = { accessKeyId: 'AKIAPALISADEROOT0001', secretAccessKey: 'root-secret-for-tests-only' };
type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const opts = (url: string, credentials: Creds) => ({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
const fail = async (p: Promise<unknown>) => {
  const e = (await p.then(
    () => undefined,
    (x) => x,
  )) as { name: string; message: string; $metadata?: { httpStatusCode?: number } } | undefined;
  assert.ok(e, 'expected the call to be refused');
  return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
};

let server: Palisade;
let clock: VirtualClock;
let user: Creds;

async function startWith(auth: 'verify' | 'enforce') {
  process.env.PALISADE_ROOT_ACCESS_KEY_ID = ROOT.accessKeyId;
  process.env.PALISADE_ROOT_SECRET_ACCESS_KEY = ROOT.secretAccessKey;
  // tests drive time: the server's virtual clock, starting at the real time
  const s = await start({ auth, clock: 'virtual' });
  clock = s.clock as VirtualClock;
  clock.set(Date.now());
  return s;
}

describe('--auth verify', () => {
  before(async () => {
    server = await startWith('verify');
    const iam = new IAMClient(opts(server.url, ROOT));
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }))).AccessKey!;
    user = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  });
  after(async () => server.close());

  it("valid SDK, aws CLI and boto3 calls pass and act as the key's owner", async () => {
    const who = await new STSClient(opts(server.url, user)).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, 'arn:aws:iam::000000000000:user/alice');
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: user.accessKeyId,
      AWS_SECRET_ACCESS_KEY: user.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const cli = await run('aws', ['ec2', 'describe-vpcs', '--endpoint-url', server.url, '--output', 'json'], { env });
    assert.equal(JSON.parse(cli.stdout).Vpcs.length, 1);
    const py = `import boto3\nprint(boto3.client('sts', endpoint_url='${server.url}', region_name='us-east-1').get_caller_identity()['Arn'])`;
    const b = await run('python3', ['-c', py], { env });
    assert.equal(b.stdout.trim(), 'arn:aws:iam::000000000000:user/alice');
  });

  it("wrong secret, unknown key and a tampered body are refused with each protocol's codes", async () => {
    let e = await fail(new EC2Client(opts(server.url, { ...user, secretAccessKey: 'wrong' })).send(new DescribeSecurityGroupsCommand({})));
    assert.deepEqual([e.name, e.status], ['SignatureDoesNotMatch', 403]);
    e = await fail(
      new EC2Client(opts(server.url, { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' })).send(
        new DescribeSecurityGroupsCommand({}),
      ),
    );
    assert.deepEqual([e.name, e.status], ['AuthFailure', 401]);
    e = await fail(
      new STSClient(opts(server.url, { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' })).send(new GetCallerIdentityCommand({})),
    );
    assert.deepEqual([e.name, e.status], ['InvalidClientTokenId', 403]);
    // Sign a body, then send another one.
    const signer = new SignatureV4({
      credentials: user,
      region: 'us-east-1',
      service: 'ec2',
      sha256: class {
        private h;
        constructor(k?: Uint8Array) {
          this.h = k ? createHmac('sha256', k) : createHash('sha256');
        }
        update(d: Uint8Array | string) {
          this.h.update(d);
        }
        async digest() {
          return new Uint8Array(this.h.digest());
        }
        reset() {}
      } as never,
    });
    const host = new URL(server.url).host;
    const body = 'Action=DescribeVpcs&Version=2016-11-15';
    const signed = (await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: host.split(':')[0]!,
      port: Number(host.split(':')[1]),
      path: '/',
      headers: { host, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    } as never)) as unknown as { headers: Record<string, string> };
    const ok = await fetch(server.url, { method: 'POST', headers: signed.headers as Record<string, string>, body });
    assert.equal(ok.status, 200);
    const tampered = await fetch(server.url, {
      method: 'POST',
      headers: signed.headers as Record<string, string>,
      body: body.replace('DescribeVpcs', 'DescribeSubnets'),
    });
    assert.equal(tampered.status, 403);
    assert.match(await tampered.text(), /SignatureDoesNotMatch/);
  });

  it('an expired session token and a skewed clock are refused; presigned URLs work', async () => {
    const session = (await new STSClient(opts(server.url, user)).send(new GetSessionTokenCommand({ DurationSeconds: 900 }))).Credentials!;
    const temp = { accessKeyId: session.AccessKeyId!, secretAccessKey: session.SecretAccessKey!, sessionToken: session.SessionToken! };
    assert.equal(
      (await new STSClient(opts(server.url, temp)).send(new GetCallerIdentityCommand({}))).Arn,
      'arn:aws:iam::000000000000:user/alice',
    );
    clock.advance(901);
    let e = await fail(new STSClient(opts(server.url, temp)).send(new GetCallerIdentityCommand({})));
    assert.deepEqual([e.name, e.status], ['ExpiredToken', 403]);
    e = await fail(new EC2Client(opts(server.url, temp)).send(new DescribeSecurityGroupsCommand({})));
    assert.equal(e.name, 'RequestExpired');
    clock.advance(3600); // the client signs with the real time: now 76 minutes apart
    e = await fail(new STSClient(opts(server.url, user)).send(new GetCallerIdentityCommand({})));
    assert.equal(e.name, 'SignatureDoesNotMatch');
    assert.match(e.message, /Signature expired/);
    clock.set(Date.now());
    // A presigned GET of GetCallerIdentity.
    const signer = new SignatureV4({
      credentials: user,
      region: 'us-east-1',
      service: 'sts',
      sha256: class {
        private h;
        constructor(k?: Uint8Array) {
          this.h = k ? createHmac('sha256', k) : createHash('sha256');
        }
        update(d: Uint8Array | string) {
          this.h.update(d);
        }
        async digest() {
          return new Uint8Array(this.h.digest());
        }
        reset() {}
      } as never,
    });
    const host = new URL(server.url).host;
    const pre = await signer.presign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: host.split(':')[0]!,
        port: Number(host.split(':')[1]),
        path: '/',
        query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
        headers: { host },
      } as never,
      { expiresIn: 300 },
    );
    const qs = new URLSearchParams(pre.query as Record<string, string>).toString();
    const res = await fetch(`${server.url}/?${qs}`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /user\/alice/);
  });
});

describe('--auth enforce', () => {
  let role: Creds;
  let dev: string;
  let prod: string;
  before(async () => {
    server = await startWith('enforce');
    const iam = new IAMClient(opts(server.url, ROOT));
    const root = new EC2Client(opts(server.url, ROOT));
    dev = (
      await root.send(
        new CreateSecurityGroupCommand({
          GroupName: 'dev',
          Description: 'dev',
          TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'env', Value: 'dev' }] }],
        }),
      )
    ).GroupId!;
    prod = (
      await root.send(
        new CreateSecurityGroupCommand({
          GroupName: 'prod',
          Description: 'prod',
          TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'env', Value: 'prod' }] }],
        }),
      )
    ).GroupId!;
    await iam.send(new CreateUserCommand({ UserName: 'bob' }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'bob',
        PolicyName: 'assume',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
        }),
      }),
    );
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }))).AccessKey!;
    user = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'sg-editor',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'sg-editor',
        PolicyName: 'dev-only',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' },
            {
              Effect: 'Allow',
              Action: 'ec2:AuthorizeSecurityGroupIngress',
              Resource: 'arn:aws:ec2:*:*:security-group/*',
              Condition: { StringEquals: { 'aws:ResourceTag/env': 'dev' } },
            },
            { Effect: 'Allow', Action: 'ec2:RunInstances', Resource: '*' },
          ],
        }),
      }),
    );
    const s = (
      await new STSClient(opts(server.url, user)).send(
        new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/sg-editor', RoleSessionName: 'ci' }),
      )
    ).Credentials!;
    role = { accessKeyId: s.AccessKeyId!, secretAccessKey: s.SecretAccessKey!, sessionToken: s.SessionToken! };
  });
  after(async () => server.close());

  const ssh = (g: string) =>
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: g,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
    });

  it('a role allowed Describe* and AuthorizeSecurityGroupIngress on env=dev groups: dev yes, prod no, delete no', async () => {
    const ec2c = new EC2Client(opts(server.url, role));
    assert.ok((await ec2c.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.length >= 3);
    await ec2c.send(ssh(dev));
    let e = await fail(ec2c.send(ssh(prod)));
    assert.deepEqual([e.name, e.status], ['UnauthorizedOperation', 403]);
    assert.match(e.message, /Encoded authorization failure message: /);
    e = await fail(ec2c.send(new DeleteSecurityGroupCommand({ GroupId: dev })));
    assert.equal(e.name, 'UnauthorizedOperation');
    // the encoded message decodes through STS (for a caller allowed to decode: the root)
    const encoded = /Encoded authorization failure message: (\S+)/.exec(e.message)![1]!;
    const decoded = await new STSClient(opts(server.url, ROOT)).send(new DecodeAuthorizationMessageCommand({ EncodedMessage: encoded }));
    const msg = JSON.parse(decoded.DecodedMessage!);
    assert.equal(msg.allowed, false);
    assert.equal(msg.context.action, 'ec2:DeleteSecurityGroup');
  });

  it('an explicit deny beats an allow', async () => {
    const iam = new IAMClient(opts(server.url, ROOT));
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'sg-editor',
        PolicyName: 'no-ssh-world',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Deny',
              Action: 'ec2:AuthorizeSecurityGroupIngress',
              Resource: '*',
              Condition: { StringEquals: { 'aws:ResourceTag/env': 'dev' } },
            },
          ],
        }),
      }),
    );
    const e = await fail(
      new EC2Client(opts(server.url, role)).send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: dev,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
        }),
      ),
    );
    assert.equal(e.name, 'UnauthorizedOperation');
    assert.match(e.message, /explicit deny/);
  });

  it('RunInstances with an instance profile fails without iam:PassRole', async () => {
    const iam = new IAMClient(opts(server.url, ROOT));
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'app',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'app' }));
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'app', RoleName: 'app' }));
    const ec2c = new EC2Client(opts(server.url, role));
    const launch = () =>
      ec2c.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, IamInstanceProfile: { Name: 'app' } }));
    const e = await fail(launch());
    assert.equal(e.name, 'UnauthorizedOperation');
    assert.match(e.message, /iam:PassRole/);
    const p = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'pass-app',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'iam:PassRole', Resource: 'arn:aws:iam::000000000000:role/app' }],
        }),
      }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'sg-editor', PolicyArn: p.Policy!.Arn }));
    const ok = await launch();
    assert.equal(ok.Instances!.length, 1);
  });

  it('IAM calls are denied with AccessDenied; GetCallerIdentity needs no permission', async () => {
    const e = await fail(new IAMClient(opts(server.url, role)).send(new CreateUserCommand({ UserName: 'mallory' })));
    assert.deepEqual([e.name, e.status], ['AccessDenied', 403]);
    const who = await new STSClient(opts(server.url, role)).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, 'arn:aws:sts::000000000000:assumed-role/sg-editor/ci');
  });
});
