// Flow logs record what the whole path judged (VPC Flow Logs guide, "Flow log record examples"):
// a network ACL's reject is a REJECT record; a ping the security group allows whose reply the
// ACL blocks writes ACCEPT (the request) then REJECT (the reply), as the guide's "ping from your
// home computer" example; a NAT gateway's interface records the translation in pkt-srcaddr /
// pkt-dstaddr (the guide's "Traffic through a NAT gateway" example).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateFlowLogsCommand, DescribeNatGatewaysCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CREDS, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { adminPost, EstateBuilder } from './helpers/estate.ts';

const ROLE = 'arn:aws:iam::000000000000:role/flow-logs';
const T0 = 1_700_000_400_000 + 30_000;
const FORMAT = '${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr} ${flow-direction} ${action}';

let server: Palisade;
let client: EC2Client;
let estate: EstateBuilder;
let logs: CloudWatchLogsClient;

const api = async (path: string, body: unknown) => (await adminPost(server.url, path, body)).body;

async function flowLog(subnetId: string, group: string) {
  const r = await client.send(
    new CreateFlowLogsCommand({
      ResourceType: 'Subnet',
      ResourceIds: [subnetId],
      TrafficType: 'ALL',
      LogGroupName: group,
      DeliverLogsPermissionArn: ROLE,
      LogFormat: FORMAT,
      MaxAggregationInterval: 60,
    }),
  );
  assert.deepEqual(r.Unsuccessful, []);
}

async function records(group: string): Promise<string[]> {
  await api('/_palisade/clock', { advanceSeconds: 660 });
  const events = (await logs.send(new FilterLogEventsCommand({ logGroupName: group }))).events ?? [];
  // (an interface that sent nothing in a window writes a NODATA record: `-` for the traffic fields)
  return events
    .map((e) => e.message!)
    .filter((m) => !m.endsWith(' - - - - - -'))
    .sort();
}

/** A VPC with an internet gateway and a public subnet routed to it, and an ICMP/SSH-open group. */
async function publicEstate(cidr: string) {
  const vpcId = await estate.vpc(cidr);
  const igw = await estate.internetGateway(vpcId);
  const pub = await estate.subnet(vpcId, cidr.replace('0.0/16', '1.0/24'));
  const rt = await estate.routeTable(vpcId, [pub]);
  await estate.route(rt, '0.0.0.0/0', { GatewayId: igw });
  const group = await estate.group(
    vpcId,
    `g-${cidr}`,
    [
      { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    ],
    { description: 'open' },
  );
  return { vpcId, igw, rt, pub, group };
}

before(async () => {
  server = await start({ clock: 'virtual' });
  await api('/_palisade/clock', { epochMillis: T0 });
  client = ec2(server.url);
  estate = new EstateBuilder(client);
  logs = new CloudWatchLogsClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
});
after(() => server.close());

describe('flow logs record the network ACLs’ verdicts', () => {
  it('ping allowed by the group, reply blocked by the ACL: ACCEPT for the request, then REJECT for the reply (Flow Logs guide example)', async () => {
    const e = await publicEstate('10.61.0.0/16');
    const web = await estate.launch(e.pub, e.group, { publicIp: true });
    assert.ok(web.publicIp);
    // Inbound ICMP allowed, outbound nothing: the guide's "the network ACL permits inbound ICMP traffic but does not permit outbound ICMP traffic".
    await estate.customAcl(e.vpcId, e.pub, [
      { RuleNumber: 100, Protocol: '1', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0', IcmpTypeCode: { Type: -1, Code: -1 } },
    ]);
    await flowLog(e.pub, 'ping-flows');
    const r = await api('/_palisade/network/evaluate', {
      record: true,
      flows: [{ from: 'internet:203.0.113.12', to: web.publicIp, protocol: 'icmp' }],
    });
    assert.equal(r.results[0].verdict, 'REJECT');
    assert.equal(r.results[0].decidedBy, 'acl');
    assert.equal(r.results[0].acl.reply, true);
    assert.deepEqual(
      await records('ping-flows'),
      [
        `${web.eni} 203.0.113.12 ${web.privateIp} 203.0.113.12 ${web.privateIp} ingress ACCEPT`,
        `${web.eni} ${web.privateIp} 203.0.113.12 ${web.privateIp} 203.0.113.12 egress REJECT`,
      ].sort(),
    );
  });

  it('an ACL deny on the way in is a REJECT record at the receiving interface; the same ping through an open connection writes ACCEPT then REJECT', async () => {
    const e = await publicEstate('10.62.0.0/16');
    const web = await estate.launch(e.pub, e.group, { publicIp: true });
    await estate.customAcl(e.vpcId, e.pub, [
      { RuleNumber: 90, Protocol: '6', RuleAction: 'deny', Egress: false, CidrBlock: '0.0.0.0/0', PortRange: { From: 22, To: 22 } },
      { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0' },
    ]);
    await flowLog(e.pub, 'deny-flows');
    const ssh = await api('/_palisade/network/evaluate', {
      record: true,
      flows: [{ from: 'internet:198.51.100.7', to: web.publicIp, protocol: 'tcp', port: 22, srcPort: 40000 }],
    });
    assert.equal(ssh.results[0].decidedBy, 'acl');
    assert.equal(ssh.results[0].acl.ruleNumber, 90);
    // A connection: the echo request gets in, the echo reply is stopped on its way out.
    const open = await api('/_palisade/network/connections', { from: 'internet:198.51.100.8', to: web.publicIp, protocol: 'icmp' });
    assert.equal(open.verdict, 'ACCEPT', JSON.stringify(open));
    const reply = await api(`/_palisade/network/connections/${open.connectionId}/send`, { direction: 'reply' });
    assert.equal(reply.verdict, 'REJECT');
    assert.equal(reply.decidedBy, 'acl');
    assert.deepEqual(
      await records('deny-flows'),
      [
        `${web.eni} 198.51.100.7 ${web.privateIp} 198.51.100.7 ${web.privateIp} ingress REJECT`,
        `${web.eni} 198.51.100.8 ${web.privateIp} 198.51.100.8 ${web.privateIp} ingress ACCEPT`,
        `${web.eni} ${web.privateIp} 198.51.100.8 ${web.privateIp} 198.51.100.8 egress REJECT`,
      ].sort(),
    );
  });
});

describe('flow logs on a NAT gateway’s interface show the translation', () => {
  it('pkt-srcaddr / pkt-dstaddr carry the original addresses (Flow Logs guide, "Traffic through a NAT gateway")', async () => {
    const e = await publicEstate('10.63.0.0/16');
    const nat = await estate.natGateway(e.pub);
    const n = (await client.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [nat] }))).NatGateways![0]!;
    const natEni = n.NatGatewayAddresses![0]!.NetworkInterfaceId!;
    const natIp = n.NatGatewayAddresses![0]!.PrivateIp!;
    const priv = await estate.subnet(e.vpcId, '10.63.2.0/24');
    await estate.route(await estate.routeTable(e.vpcId, [priv]), '0.0.0.0/0', { NatGatewayId: nat });
    const app = await estate.launch(priv, e.group, { publicIp: false });
    await flowLog(e.pub, 'nat-flows');
    await flowLog(priv, 'app-flows');
    const open = await api('/_palisade/network/connections', { from: app.id, to: 'internet:203.0.113.5', protocol: 'tcp', port: 443 });
    assert.equal(open.verdict, 'ACCEPT', JSON.stringify(open));
    const reply = await api(`/_palisade/network/connections/${open.connectionId}/send`, { direction: 'reply', flags: ['SYN', 'ACK'] });
    assert.equal(reply.verdict, 'ACCEPT', JSON.stringify(reply));
    const ext = '203.0.113.5';
    assert.deepEqual(
      await records('nat-flows'),
      [
        `${natEni} ${app.privateIp} ${natIp} ${app.privateIp} ${ext} ingress ACCEPT`,
        `${natEni} ${natIp} ${ext} ${natIp} ${ext} egress ACCEPT`,
        `${natEni} ${ext} ${natIp} ${ext} ${natIp} ingress ACCEPT`,
        `${natEni} ${natIp} ${app.privateIp} ${ext} ${app.privateIp} egress ACCEPT`,
      ].sort(),
    );
    assert.deepEqual(
      await records('app-flows'),
      [
        `${app.eni} ${app.privateIp} ${ext} ${app.privateIp} ${ext} egress ACCEPT`,
        `${app.eni} ${ext} ${app.privateIp} ${ext} ${app.privateIp} ingress ACCEPT`,
      ].sort(),
    );
  });
});
