// `palisade reach` on an exported estate (--state) and on a live server (--endpoint).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, RunInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { timed } from './helpers/run.ts';

const run = timed(promisify(execFile));
const cli = (...args: string[]): Promise<{ code?: number; stdout: string }> =>
  run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'reach', ...args]).catch((e) => e as { code: number; stdout: string });

describe('palisade reach --state (exported estate)', () => {
  it('lists who can reach port 22 of the public instance, with the rule', async () => {
    const enis = JSON.parse(readFileSync('test/fixtures/estate/network-interfaces.json', 'utf8')).NetworkInterfaces as {
      Association?: unknown;
      Attachment: { InstanceId: string };
    }[];
    const target = enis.find((e) => e.Association)!.Attachment.InstanceId;
    const out = await cli('--state', 'test/fixtures/estate', '--to', target, '--port', '22', '--json');
    const answer = JSON.parse(out.stdout);
    assert.equal(answer.target.instanceId, target);
    const internet = answer.sources.find((s: { kind: string }) => s.kind === 'internet');
    assert.ok(internet && internet.cidrs.length > 0);
  });
});

describe('palisade reach --endpoint (live)', () => {
  let server: Palisade;
  let client: EC2Client;
  let a: string;
  let b: string;
  before(async () => {
    server = await start();
    client = ec2(server.url);
    const sgA = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'ra', Description: 'a' }))).GroupId!;
    const sgB = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'rb', Description: 'b' }))).GroupId!;
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: sgB,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8000, ToPort: 8080, UserIdGroupPairs: [{ GroupId: sgA }] }],
      }),
    );
    a = (await client.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, SecurityGroupIds: [sgA] })))
      .Instances![0]!.InstanceId!;
    b = (await client.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, SecurityGroupIds: [sgB] })))
      .Instances![0]!.InstanceId!;
  });
  after(async () => server.close());

  it('A → B: open ports without --port; a blocked port exits 1 with the fix', async () => {
    const ports = await cli('--endpoint', server.url, '--from', a, '--to', b);
    assert.equal(ports.code ?? 0, 0);
    assert.match(ports.stdout, /open ports: 8000-8080/);
    const blocked = await cli('--endpoint', server.url, '--from', a, '--to', b, '--port', '22');
    assert.equal(blocked.code, 1);
    assert.match(blocked.stdout, /blocked by the ingress gate/);
    assert.match(blocked.stdout, /authorize-security-group-ingress --group-id sg-/);
    const who = JSON.parse((await cli('--endpoint', server.url, '--to', b, '--port', '8080', '--json')).stdout);
    assert.deepEqual(
      who.sources.map((s: { instanceId: string }) => s.instanceId),
      [a],
    );
  });
});
