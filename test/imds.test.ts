// The instance metadata service and the unmodified SDK credential chain: a process acting as an
// instance, with only AWS_EC2_METADATA_SERVICE_ENDPOINT set, gets its role's credentials.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IAMClient, CreateRoleCommand, CreateInstanceProfileCommand, AddRoleToInstanceProfileCommand } from '@aws-sdk/client-iam';
import {
  RunInstancesCommand,
  ModifyInstanceMetadataOptionsCommand,
  ReplaceIamInstanceProfileAssociationCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  StopInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { CREDS, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { timed } from './helpers/run.ts';

const run = timed(promisify(execFile));
let server: Palisade;
let client: EC2Client;
let iam: IAMClient;
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

async function profile(name: string, trust = TRUST) {
  await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }));
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: name }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }));
}
async function launch(profileName?: string, tokens: 'optional' | 'required' = 'optional') {
  const r = await client.send(
    new RunInstancesCommand({
      ImageId: 'ami-12345678',
      MinCount: 1,
      MaxCount: 1,
      MetadataOptions: { HttpTokens: tokens },
      ...(profileName ? { IamInstanceProfile: { Name: profileName } } : {}),
    }),
  );
  return r.Instances![0]!.InstanceId!;
}
async function imdsOf(id: string): Promise<string> {
  const res = await fetch(`${server.url}/_palisade/imds/${id}`, { method: 'POST' });
  return ((await res.json()) as { endpoint: string }).endpoint;
}
async function token(endpoint: string, ttl = '60') {
  return fetch(`${endpoint}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': ttl } });
}

before(async () => {
  server = await start();
  client = ec2(server.url);
  iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
  await profile('app');
  await profile('other');
});
after(async () => server.close());

describe('IMDS', () => {
  it('the SDK default credential chain in a child process gets the role session of the instance', async () => {
    const id = await launch('app');
    const endpoint = await imdsOf(id);
    const dir = mkdtempSync(join(tmpdir(), 'palisade-imds-'));
    const script = join(dir, 'who.mjs');
    writeFileSync(
      script,
      `
      import { createRequire } from 'node:module';
      const { STSClient, GetCallerIdentityCommand } = createRequire(process.env.PROJECT + '/')('@aws-sdk/client-sts');
      const sts = new STSClient({ endpoint: process.env.PALISADE_URL, region: 'us-east-1' });
      const out = await sts.send(new GetCallerIdentityCommand({}));
      console.log(JSON.stringify(out));`,
    );
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint,
      PALISADE_URL: server.url,
      AWS_CONFIG_FILE: join(dir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
      PROJECT: process.cwd(),
    };
    const { stdout } = await run(process.execPath, [script], { env, cwd: process.cwd() });
    const who = JSON.parse(stdout.trim().split('\n').pop()!);
    assert.equal(who.Arn, `arn:aws:sts::000000000000:assumed-role/app/${id}`);
    assert.match(who.UserId, /^AROA[A-Z0-9]+:i-/);

    // boto3 with no keys, the same way
    const py = `import boto3, json\nprint(json.dumps(boto3.client('sts', endpoint_url='${server.url}', region_name='us-east-1').get_caller_identity()['Arn']))`;
    const b = await run('python3', ['-c', py], { env: { ...env, AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint } }).catch((e) => e);
    if (!(b instanceof Error)) assert.equal(JSON.parse(b.stdout), `arn:aws:sts::000000000000:assumed-role/app/${id}`);
    else assert.fail((b as Error & { stderr?: string }).stderr ?? String(b));

    // After ReplaceIamInstanceProfileAssociation, new credentials belong to the new role.
    const assoc = (
      await client.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [id] }] }))
    ).IamInstanceProfileAssociations![0]!;
    await client.send(
      new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: assoc.AssociationId, IamInstanceProfile: { Name: 'other' } }),
    );
    const again = await run(process.execPath, [script], { env, cwd: process.cwd() });
    assert.equal(JSON.parse(again.stdout.trim().split('\n').pop()!).Arn, `arn:aws:sts::000000000000:assumed-role/other/${id}`);
  });

  it('IMDSv2: tokens bound to the instance, 401 without a token when required, TTL checked', async () => {
    const a = await launch('app', 'required');
    const b = await launch('app', 'required');
    const ea = await imdsOf(a);
    const eb = await imdsOf(b);
    assert.equal((await fetch(`${ea}/latest/meta-data/instance-id`)).status, 401);
    assert.equal((await token(ea, '0')).status, 400);
    assert.equal((await token(ea, '21601')).status, 400);
    const t = await (await token(ea)).text();
    const ok = await fetch(`${ea}/latest/meta-data/instance-id`, { headers: { 'x-aws-ec2-metadata-token': t } });
    assert.equal(await ok.text(), a);
    assert.equal(
      (await fetch(`${eb}/latest/meta-data/instance-id`, { headers: { 'x-aws-ec2-metadata-token': t } })).status,
      401,
      "another instance's token",
    );
    const creds = await fetch(`${ea}/latest/meta-data/iam/security-credentials/app`, { headers: { 'x-aws-ec2-metadata-token': t } });
    const doc = (await creds.json()) as Record<string, string>;
    assert.equal(doc.Code, 'Success');
    assert.match(doc.AccessKeyId!, /^ASIA/);
    assert.match(doc.Expiration!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const sg = await fetch(`${ea}/latest/meta-data/security-groups`, { headers: { 'x-aws-ec2-metadata-token': t } });
    assert.equal(await sg.text(), 'default');
    const ident = await fetch(`${ea}/latest/dynamic/instance-identity/document`, { headers: { 'x-aws-ec2-metadata-token': t } });
    assert.equal(((await ident.json()) as { instanceId: string }).instanceId, a);
  });

  it('HttpEndpoint=disabled answers 403; a stopped instance has no metadata service', async () => {
    const id = await launch('app');
    const e = await imdsOf(id);
    await client.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpEndpoint: 'disabled' }));
    assert.equal((await fetch(`${e}/latest/meta-data/`)).status, 403);
    await client.send(new StopInstancesCommand({ InstanceIds: [id] }));
    const res = await fetch(`${server.url}/_palisade/imds/${id}`, { method: 'POST' });
    assert.equal(res.status, 409);
    await assert.rejects(fetch(`${e}/latest/meta-data/`));
  });

  it('a role that does not trust ec2.amazonaws.com yields AssumeRoleUnauthorizedAccess', async () => {
    await profile(
      'untrusting',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    );
    const id = await launch('untrusting');
    const e = await imdsOf(id);
    const doc = (await (await fetch(`${e}/latest/meta-data/iam/security-credentials/untrusting`)).json()) as { Code: string };
    assert.equal(doc.Code, 'AssumeRoleUnauthorizedAccess');
  });

  it('palisade exec runs a command as the instance and passes its exit code through', async () => {
    const id = await launch('app');
    const cli = [
      '--import',
      'tsx',
      'src/main.ts',
      'exec',
      id,
      '--endpoint',
      server.url,
      '--',
      'aws',
      'sts',
      'get-caller-identity',
      '--endpoint-url',
      server.url,
      '--output',
      'json',
    ];
    const { stdout } = await run(process.execPath, cli, {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'should-be-removed', AWS_SECRET_ACCESS_KEY: 'x' },
    });
    assert.equal(JSON.parse(stdout).Arn, `arn:aws:sts::000000000000:assumed-role/app/${id}`);
    const fail = await run(process.execPath, [
      '--import',
      'tsx',
      'src/main.ts',
      'exec',
      id,
      '--endpoint',
      server.url,
      '--',
      'sh',
      '-c',
      'exit 7',
    ]).catch((e) => e);
    assert.equal(fail.code, 7);
  });
});
