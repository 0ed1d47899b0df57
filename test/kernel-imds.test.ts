// The metadata service inside the kernel data plane's namespaces (`--dataplane kernel`): programs
// run with `palisade exec` inside an instance get its role's credentials from 169.254.169.254 with
// no metadata variable at all (the aws CLI, boto3); the IMDSv2 PUT response hop limit is real (a
// namespace behind the instance — a container — gets no token with hop limit 1, one with 2);
// `palisade exec internet` runs in the internet's namespace. Needs Linux, root, iproute2, nftables,
// conntrack, python3, curl and the aws CLI: without them it FAILS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { IAMClient, CreateRoleCommand, CreateInstanceProfileCommand, AddRoleToInstanceProfileCommand } from '@aws-sdk/client-iam';
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  ModifyInstanceMetadataOptionsCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { CREDS, ec2, start } from './helpers/server.ts';
import { KernelFixture, kernelTestsUnavailable, runIn, until } from './helpers/kernel.ts';
import type { Palisade } from '../src/server.ts';

const MAIN = join(import.meta.dirname, '..', 'src', 'main.ts');
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
const TOKEN_HEADERS = ['-X', 'PUT', '-H', 'x-aws-ec2-metadata-token-ttl-seconds: 60'];

describe('kernel data plane: the metadata service inside instances, palisade exec', () => {
  let p: Palisade | undefined;
  let c: EC2Client;
  const fx = new KernelFixture();
  let id = '';
  let ns = '';
  let nested = '';

  /** `palisade exec ARGS…` from the checkout: code and output (never rejects). */
  const palisade = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const base: NodeJS.ProcessEnv = { ...process.env, ...env };
      // the caller's metadata endpoint, if any, must not matter (and none is set inside)
      delete base.AWS_EC2_METADATA_SERVICE_ENDPOINT;
      execFile(
        process.execPath,
        ['--import', 'tsx', MAIN, 'exec', ...args],
        { env: base, timeout: 120_000, killSignal: 'SIGKILL', encoding: 'utf8' },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  const exec = (target: string, cmd: string[], env?: NodeJS.ProcessEnv) => palisade([target, '--endpoint', p!.url, '--', ...cmd], env);
  const curl = (where: string, args: string[]) =>
    runIn(where, 'curl', ['-s', '-g', '--max-time', '2', '-o', '-', '-w', '\n%{http_code}', ...args]);
  const metadata = (opts: Omit<ConstructorParameters<typeof ModifyInstanceMetadataOptionsCommand>[0], 'InstanceId'>) =>
    c.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, ...opts }));

  before(async () => {
    const why = kernelTestsUnavailable();
    if (why) throw new Error(why);
    p = await start({ dataplane: 'kernel' });
    fx.prefix = p.kernel!.names.prefix;
    c = ec2(p.url);
    const iam = new IAMClient({ endpoint: p.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
    await iam.send(new CreateRoleCommand({ RoleName: 'app', AssumeRolePolicyDocument: TRUST }));
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'app' }));
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'app', RoleName: 'app' }));
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.41.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await c.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.41.1.0/24' }))).Subnet!.SubnetId!;
    const r = await c.send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnet,
        IamInstanceProfile: { Name: 'app' },
        MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 1 },
      }),
    );
    id = r.Instances![0]!.InstanceId!;
    await until('the instance namespace', async () => {
      const k = (await (await fetch(`${p!.url}/_palisade/kernel`)).json()) as { namespaces: { instances: Record<string, string> } };
      ns = k.namespaces.instances[id] ?? '';
      return !!ns;
    });
    // A namespace behind the instance, as a container is: a veth into it, the instance forwards.
    nested = `${fx.prefix}-nested`;
    await run('ip', ['netns', 'add', nested]);
    await run('ip', ['link', 'add', 'ctr0', 'netns', ns, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nested]);
    await run('ip', ['-n', ns, 'addr', 'add', '192.168.77.1/30', 'dev', 'ctr0']);
    await run('ip', ['-n', ns, 'link', 'set', 'ctr0', 'up']);
    await run('ip', ['-n', nested, 'addr', 'add', '192.168.77.2/30', 'dev', 'eth0']);
    await run('ip', ['-n', nested, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', nested, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', nested, 'route', 'add', 'default', 'via', '192.168.77.1']);
    await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  });

  after(async () => {
    fx.stopPrograms();
    await fx.programsGone();
    await p?.close();
    const left = fx.leftovers();
    const hostLeft = fx.hostLeftovers();
    fx.cleanupSync();
    assert.deepEqual(left, [], 'namespaces with the server prefix left after close');
    assert.deepEqual(hostLeft, [], 'devices with the server prefix left in the host namespace');
  });

  it('aws sts get-caller-identity inside the instance (palisade exec, no metadata variable) is the instance role', async () => {
    const r = await exec(id, ['aws', 'sts', 'get-caller-identity', '--output', 'json'], CREDS_ENV);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { Arn: string }).Arn, `arn:aws:sts::000000000000:assumed-role/app/${id}`);
    // what the command saw: no metadata variable, no static keys, Palisade's API inside the namespace
    const env = await exec(id, ['env'], { ...CREDS_ENV, AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:1' });
    assert.equal(env.code, 0, env.stderr);
    const seen = Object.fromEntries(env.stdout.split('\n').map((l) => [l.split('=')[0], l.slice(l.indexOf('=') + 1)]));
    assert.equal(seen.AWS_EC2_METADATA_SERVICE_ENDPOINT, undefined);
    assert.equal(seen.AWS_ACCESS_KEY_ID, undefined);
    assert.equal(seen.AWS_ENDPOINT_URL, 'http://169.254.169.253:4566');
    assert.equal(seen.AWS_DEFAULT_REGION, 'us-east-1');
    // inside the instance's namespace
    const where = await exec(id, ['ip', 'netns', 'identify']);
    assert.equal(where.stdout.trim(), ns);
  });

  it('boto3 inside the instance gets the role from the default chain', async () => {
    const r = await exec(id, ['python3', '-c', "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `arn:aws:sts::000000000000:assumed-role/app/${id}`);
  });

  it('passes the exit code through; a missing command is 127; a stopped instance is refused', async () => {
    assert.equal((await exec(id, ['sh', '-c', 'exit 7'])).code, 7);
    const missing = await exec(id, ['no-such-command-palisade']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /command not found/);
    const unknown = await exec('i-0000000000000dead', ['true']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /does not exist/);
  });

  it('IMDSv2 hop limit 1: the instance gets a token, a namespace behind it does not (IMDSv1 is not limited)', async () => {
    await metadata({ HttpPutResponseHopLimit: 1 });
    const own = await curl(ns, [...TOKEN_HEADERS, 'http://169.254.169.254/latest/api/token']);
    assert.equal(own.code, 0, own.stderr);
    assert.match(own.stdout, /\n200$/);
    const behind = await curl(nested, [...TOKEN_HEADERS, 'http://169.254.169.254/latest/api/token']);
    assert.notEqual(behind.code, 0, `a token came through one hop more: ${behind.stdout}`);
    assert.equal(behind.code, 28, 'curl timed out (the answer died on the way)');
    const v1 = await curl(nested, ['http://169.254.169.254/latest/meta-data/instance-id']);
    assert.equal(v1.stdout, `${id}\n200`);
  });

  it('IMDSv2 hop limit 2: the namespace behind the instance gets a token and its credentials', async () => {
    await metadata({ HttpPutResponseHopLimit: 2, HttpTokens: 'required' });
    const t = await curl(nested, [...TOKEN_HEADERS, 'http://169.254.169.254/latest/api/token']);
    assert.equal(t.code, 0, t.stderr);
    const [token, status] = t.stdout.split('\n');
    assert.equal(status, '200');
    const tokenless = await curl(nested, ['http://169.254.169.254/latest/meta-data/instance-id']);
    assert.match(tokenless.stdout, /\n401$/);
    const creds = await curl(nested, [
      '-H',
      `x-aws-ec2-metadata-token: ${token}`,
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/app',
    ]);
    assert.match(creds.stdout, /"Code" : "Success"|"Code": "Success"/);
    await metadata({ HttpTokens: 'optional' });
  });

  it('[fd00:ec2::254] answers only with HttpProtocolIpv6 enabled; HttpEndpoint disabled answers 403', async () => {
    const v6 = () => curl(ns, ['http://[fd00:ec2::254]/latest/meta-data/instance-id']);
    assert.notEqual((await v6()).code, 0);
    await metadata({ HttpProtocolIpv6: 'enabled' });
    assert.equal((await v6()).stdout, `${id}\n200`);
    await metadata({ HttpEndpoint: 'disabled' });
    assert.match((await curl(ns, ['http://169.254.169.254/latest/meta-data/instance-id'])).stdout, /\n403$/);
    await metadata({ HttpEndpoint: 'enabled' });
  });

  it('palisade exec internet runs in the internet namespace and reaches Palisade', async () => {
    const where = await exec('internet', ['ip', 'netns', 'identify']);
    assert.equal(where.code, 0, where.stderr);
    assert.equal(where.stdout.trim(), `${fx.prefix}-internet`);
    const health = await exec('internet', ['sh', '-c', 'curl -s --max-time 2 "$AWS_ENDPOINT_URL/_palisade/health"']);
    assert.match(health.stdout, /"status":"ok"/);
  });

  it('stopping the instance removes its namespaces; exec is then refused', async () => {
    await c.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await until('the metadata namespace is gone', async () => !fx.leftovers().some((n) => n.includes(`-imds-${id}`)));
    const r = await exec(id, ['true']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not running/);
  });
});

const CREDS_ENV = { AWS_ACCESS_KEY_ID: CREDS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey };

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { timeout: 10_000, encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}
