// Instances and IMDS: RunInstances of 100 instances, DescribeInstances over 1,000 instances,
// and credential fetches per second from an instance's metadata service.
import { agent, auth, fmt, get, load, ms, post, spawnServer } from './lib.ts';

export async function benchInstances(print: (line: string) => void = console.log): Promise<void> {
  const s = await spawnServer();
  const ec2 = (body: string) => post(s.url, `${body}&Version=2016-11-15`, { authorization: auth('ec2'), 'x-amz-date': '20260101T000000Z' });
  const iam = (body: string) => post(s.url, `${body}&Version=2010-05-08`, { authorization: auth('iam'), 'x-amz-date': '20260101T000000Z' });
  try {
    const trust = encodeURIComponent(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    );
    await iam(`Action=CreateRole&RoleName=app&AssumeRolePolicyDocument=${trust}`);
    await iam('Action=CreateInstanceProfile&InstanceProfileName=app');
    await iam('Action=AddRoleToInstanceProfile&InstanceProfileName=app&RoleName=app');
    const t0 = performance.now();
    const r = await ec2('Action=RunInstances&ImageId=ami-12345678&MinCount=100&MaxCount=100&IamInstanceProfile.Name=app');
    const runMs = performance.now() - t0;
    if (r.status !== 200) throw new Error(r.body);
    print(`instances: RunInstances of 100 instances: ${ms(runMs)} (one call)`);
    for (let k = 0; k < 9; k++) await ec2('Action=RunInstances&ImageId=ami-12345678&MinCount=100&MaxCount=100');
    const d = await load(300, 8, () => ec2('Action=DescribeInstances'));
    print(`instances: DescribeInstances over 1,000 instances: ${fmt(d.rate)} req/s  p50 ${ms(d.p50)}  p99 ${ms(d.p99)}`);
    const first = /<instanceId>(i-[0-9a-f]+)<\/instanceId>/.exec(r.body)![1]!;
    const ep = JSON.parse((await post(`${s.url}/_palisade/imds/${first}`, '', {})).body).endpoint as string;
    const token = (await get(`${ep}/latest/api/token`, { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' }, 'PUT')).body;
    const c = await load(5000, 8, () => get(`${ep}/latest/meta-data/iam/security-credentials/app`, { 'x-aws-ec2-metadata-token': token }));
    print(`imds: credential fetches: ${fmt(c.rate)} /s  p50 ${ms(c.p50)}  p99 ${ms(c.p99)}`);
  } finally {
    await s.stop();
    agent.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchInstances();
