// The data plane through its HTTP API and the `palisade probe` CLI, on a real server whose
// state comes from the EC2 API: rule changes apply at once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { timed } from './helpers/run.ts';

const run = timed(promisify(execFile));
let server: Palisade;
let client: EC2Client;
let web: string;
let db: string;
let client1: string;
let sgWeb: string;
let sgDb: string;
let sgApp: string;

async function api(path: string, body?: unknown, method = 'POST') {
  const res = await fetch(server.url + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

before(async () => {
  server = await start({ clock: 'virtual' });
  client = ec2(server.url);
  const { Vpc } = await client.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
  const { Subnet } = await client.send(
    new CreateSubnetCommand({ VpcId: Vpc!.VpcId, CidrBlock: '10.20.1.0/24', AvailabilityZone: 'us-east-1a' }),
  );
  const mk = async (name: string) =>
    (await client.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: Vpc!.VpcId }))).GroupId!;
  sgWeb = await mk('web');
  sgDb = await mk('db');
  sgApp = await mk('app');
  const launch = async (groups: string[], pub = false) =>
    (
      await client.send(
        new RunInstancesCommand({
          ImageId: 'ami-12345678',
          MinCount: 1,
          MaxCount: 1,
          NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: Subnet!.SubnetId, Groups: groups, AssociatePublicIpAddress: pub }],
        }),
      )
    ).Instances![0]!;
  const w = await launch([sgWeb], true);
  web = w.InstanceId!;
  db = (await launch([sgDb])).InstanceId!;
  client1 = (await launch([sgApp])).InstanceId!;
  await client.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: sgWeb,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    }),
  );
  await client.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: sgDb,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: sgWeb }] }],
    }),
  );
});
after(async () => server.close());

describe('POST /_palisade/network/evaluate', () => {
  it('judges a batch with explanations; rule changes are live at once', async () => {
    const { body } = await api('/_palisade/network/evaluate', {
      flows: [
        { from: web, to: db, protocol: 'tcp', port: 5432 },
        { from: client1, to: db, protocol: 'tcp', port: 5432 },
        { from: 'internet:198.51.100.7', to: web, protocol: 'tcp', port: 443 },
        { from: 'internet:198.51.100.7', to: db, protocol: 'tcp', port: 5432 },
      ],
    });
    const [a, b, c, d] = body.results;
    assert.equal(a.verdict, 'ACCEPT');
    assert.equal(a.ingress.rules[0].referencedGroupId, sgWeb);
    assert.match(a.ingress.rules[0].securityGroupRuleId, /^sgr-/);
    assert.equal(b.verdict, 'REJECT');
    assert.equal(b.decidedBy, 'ingress');
    assert.match(b.explanation, /no rule of its security groups matches/);
    assert.equal(b.ingress.nearestRules[0].fromPort, 5432, 'closest rule: same port, other source');
    assert.equal(c.verdict, 'REJECT', 'the internet reaches an instance only at its public IP');
    assert.equal(c.decidedBy, 'route');
    assert.equal(d.decidedBy, 'route');
    // At the public IP it works.
    const pub = (
      await api('/_palisade/network/evaluate', { flows: [{ from: 'internet:198.51.100.7', to: 'web-public', protocol: 'tcp', port: 443 }] })
    ).body.results[0];
    assert.ok(pub.error, 'an unknown endpoint is an error, not a verdict');
  });

  it('a group attached to the client opens the database to it immediately', async () => {
    const { Reservations } = await client.send(
      new (await import('@aws-sdk/client-ec2')).DescribeInstancesCommand({ InstanceIds: [client1] }),
    );
    const eni = Reservations![0]!.Instances![0]!.NetworkInterfaces![0]!.NetworkInterfaceId!;
    await client.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [sgApp, sgWeb] }));
    const { body } = await api('/_palisade/network/evaluate', { flows: [{ from: client1, to: db, protocol: 'tcp', port: 5432 }] });
    assert.equal(body.results[0].verdict, 'ACCEPT');
    await client.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [sgApp] }));
  });
});

describe('ports belong to TCP and UDP only', () => {
  it('a port given with another protocol is ignored (rules of other protocols cover all ports); bad ports are errors', async () => {
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: sgDb,
        IpPermissions: [{ IpProtocol: '50', UserIdGroupPairs: [{ GroupId: sgWeb }] }],
      }),
    );
    const { body } = await api('/_palisade/network/evaluate', {
      flows: [
        { from: web, to: db, protocol: '50' },
        { from: web, to: db, protocol: '50', port: 70000, srcPort: 99999 },
        { from: web, to: db, protocol: 'tcp', port: 5432, srcPort: 70000 },
        { from: web, to: db, protocol: 'tcp', port: 5432.5 },
      ],
    });
    const [plain, withPorts, badSrc, badDst] = body.results;
    assert.equal(plain.verdict, 'ACCEPT');
    assert.equal(withPorts.verdict, 'ACCEPT', 'the same flow: the ports are not part of an ESP packet');
    assert.match(badSrc.error, /srcPort must be 0-65535/);
    assert.match(badDst.error, /port \(0-65535\) is required/);
    await client.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: sgDb,
        IpPermissions: [{ IpProtocol: '50', UserIdGroupPairs: [{ GroupId: sgWeb }] }],
      }),
    );
  });
});

describe('connections driven packet by packet', () => {
  it('a tracked connection outlives its rule until idle timeout on the server clock', async () => {
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: sgDb,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: sgApp }] }],
      }),
    );
    const open = await api('/_palisade/network/connections', { from: client1, to: db, protocol: 'tcp', port: 22 });
    assert.equal(open.status, 201);
    assert.equal(open.body.verdict, 'ACCEPT');
    const id = open.body.connectionId;
    assert.equal(
      (await api(`/_palisade/network/connections/${id}/send`, { direction: 'reply', flags: ['SYN', 'ACK'] })).body.verdict,
      'ACCEPT',
    );
    assert.equal((await api(`/_palisade/network/connections/${id}/send`, { direction: 'forward', flags: ['ACK'] })).body.verdict, 'ACCEPT');
    await client.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: sgDb,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: sgApp }] }],
      }),
    );
    const still = await api(`/_palisade/network/connections/${id}/send`, { direction: 'forward', flags: ['ACK'] });
    assert.equal(still.body.verdict, 'ACCEPT');
    assert.match(still.body.explanation, /tracked connection/);
    const clock = await api('/_palisade/clock', { advanceSeconds: 432001 });
    assert.equal(clock.status, 200);
    const after = await api(`/_palisade/network/connections/${id}/send`, { direction: 'forward', flags: ['ACK'] });
    assert.equal(after.body.verdict, 'REJECT');
    const closed = await api(`/_palisade/network/connections/${id}`, undefined, 'DELETE');
    assert.equal(closed.body.closed, true);
  });

  it('the clock cannot be moved on a system-clock server', async () => {
    const s2 = await start();
    try {
      const res = await fetch(`${s2.url}/_palisade/clock`, { method: 'POST', body: JSON.stringify({ advanceSeconds: 1 }) });
      assert.equal(res.status, 409);
    } finally {
      await s2.close();
    }
  });
});

describe('palisade probe', () => {
  it('exits 0 on ACCEPT and 1 on REJECT, with --json', async () => {
    const cli = ['--import', 'tsx', 'src/main.ts', 'probe', '--endpoint', server.url];
    const ok = await run(process.execPath, [...cli, '--from', web, '--to', db, '--port', '5432']);
    assert.match(ok.stdout, /^ACCEPT/);
    const bad = await run(process.execPath, [...cli, '--from', client1, '--to', db, '--port', '5432', '--json']).catch((e) => e);
    assert.equal(bad.code, 1);
    const j = JSON.parse(bad.stdout);
    assert.equal(j.verdict, 'REJECT');
    assert.ok(j.explanation);
  });
});
