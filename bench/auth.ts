// Request rate with `--auth enforce` (real signatures, IAM evaluation) against `--auth open`.
import { EC2Client, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import { fmt, load, ms, spawnServer } from './lib.ts';

const ROOT = { accessKeyId: 'AKIABENCHROOT0000001', secretAccessKey: 'bench-root-secret' };

async function rate(mode: 'open' | 'enforce'): Promise<{ rate: number; p50: number; p99: number }> {
  const s = await spawnServer(['--in-memory', '--auth', mode], {
    PALISADE_ROOT_ACCESS_KEY_ID: ROOT.accessKeyId,
    PALISADE_ROOT_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
  });
  const handler = new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 8 }) });
  try {
    const iam = new IAMClient({ endpoint: s.url, region: 'us-east-1', credentials: ROOT, requestHandler: handler });
    await iam.send(new CreateUserCommand({ UserName: 'bench' }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'bench',
        PolicyName: 'p',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['ec2:Describe*', 'ec2:AuthorizeSecurityGroupIngress'], Resource: '*' },
            {
              Effect: 'Deny',
              Action: 'ec2:DeleteSecurityGroup',
              Resource: '*',
              Condition: { StringEquals: { 'aws:ResourceTag/env': 'prod' } },
            },
          ],
        }),
      }),
    );
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'bench' }))).AccessKey!;
    const ec2 = new EC2Client({
      endpoint: s.url,
      region: 'us-east-1',
      credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! },
      requestHandler: handler,
    });
    const cmd = () => ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 5 }));
    await load(300, 8, cmd);
    return await load(3000, 8, cmd);
  } finally {
    await s.stop();
  }
}

export async function benchAuth(print: (line: string) => void = console.log): Promise<void> {
  const open = await rate('open');
  const enforce = await rate('enforce');
  print(
    `auth: DescribeSecurityGroups via the JS SDK, open: ${fmt(open.rate)} req/s (p99 ${ms(open.p99)}); enforce: ${fmt(enforce.rate)} req/s (p99 ${ms(enforce.p99)}) = ${((enforce.rate / open.rate) * 100).toFixed(0)}% of open  [target ≥ 70%] ${enforce.rate / open.rate >= 0.7 ? '✓' : '✗'}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await benchAuth();
