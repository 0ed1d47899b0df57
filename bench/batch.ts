// Batch verdicts per second through POST /_palisade/network/evaluate (a spawned server).
import { auth, fmt, load, post, spawnServer, agent } from './lib.ts';

export async function benchBatch(print: (line: string) => void = console.log): Promise<void> {
  const s = await spawnServer();
  const ec2 = (body: string) => post(s.url, `${body}&Version=2016-11-15`, { authorization: auth('ec2'), 'x-amz-date': '20260101T000000Z' });
  try {
    const web = /<groupId>(sg-[0-9a-f]+)<\/groupId>/.exec(
      (await ec2('Action=CreateSecurityGroup&GroupName=web&GroupDescription=web')).body,
    )![1]!;
    await ec2(
      `Action=AuthorizeSecurityGroupIngress&GroupId=${web}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443&IpPermissions.1.Groups.1.GroupId=${web}`,
    );
    const r = await ec2(`Action=RunInstances&ImageId=ami-12345678&MinCount=50&MaxCount=50&SecurityGroupId.1=${web}`);
    const ids = [...r.body.matchAll(/<instanceId>(i-[0-9a-f]+)<\/instanceId>/g)].map((m) => m[1]!);
    const flows = Array.from({ length: 1000 }, (_, i) => ({
      from: ids[i % ids.length],
      to: ids[(i * 7 + 1) % ids.length],
      protocol: 'tcp',
      port: i % 2 ? 443 : 22,
    }));
    for (const explain of [true, false]) {
      const body = JSON.stringify({ flows, explain });
      const res = await load(40, 4, async () => {
        const x = await post(`${s.url}/_palisade/network/evaluate`, body, { 'content-type': 'application/json' });
        if (x.status !== 200) throw new Error(x.body);
      });
      print(
        `engine: batch verdicts through the HTTP API (1,000 flows a request, 4 connections${explain ? ', with explanations' : ', "explain": false'}): ${fmt(res.rate * 1000)} verdicts/s  (p50 ${res.p50.toFixed(1)} ms a batch)`,
      );
    }
  } finally {
    await s.stop();
    agent.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchBatch();
