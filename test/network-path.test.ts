// Verdicts follow the whole network path (VPC User Guide: route tables, internet/egress-only/NAT
// gateways, network ACLs, peering): route → ACL out → group egress → ACL in → group ingress, with
// ACLs stateless (replies need rules too) and families never mixed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupEgressCommand,
  CreateEgressOnlyInternetGatewayCommand,
  DeleteRouteCommand,
  DescribeInstancesCommand,
  DescribeVpcsCommand,
  ReplaceRouteCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import { aclRule, EstateBuilder, evaluate as evaluateAt, type Launched } from './helpers/estate.ts';
import type { Palisade } from '../src/server.ts';

let server: Palisade;
let client: EC2Client;
let estate: EstateBuilder;

const evaluate = (flow: Record<string, unknown>) => evaluateAt(server.url, flow);

/** A group open to everything in and out (so routes and ACLs decide). */
async function openGroup(vpcId: string, name: string) {
  const g = await estate.group(vpcId, name, [
    { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
  ]);
  await client
    .send(
      new AuthorizeSecurityGroupEgressCommand({ GroupId: g, IpPermissions: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }),
    )
    .catch(() => undefined); // a VPC with IPv6 already has it
  return g;
}

before(async () => {
  server = await start({ clock: 'virtual' });
  client = ec2(server.url);
  estate = new EstateBuilder(client);
});
after(() => server.close());

describe('routes decide what leaves and enters a VPC', () => {
  it('no route to the internet: REJECT by route even with a public IP and an open group; the internet gateway route opens it', async () => {
    const v = await estate.vpc('10.1.0.0/16');
    const s = await estate.subnet(v, '10.1.1.0/24');
    const g = await openGroup(v, 'open-1');
    const i = await estate.launch(s, g, { publicIp: true });
    const igw = await estate.internetGateway(v);
    const publicIp = i.publicIp;
    assert.ok(publicIp, 'the instance has a public IP');
    let r = await evaluate({ from: 'internet:198.51.100.9', to: publicIp, protocol: 'tcp', port: 22 });
    assert.equal(r.verdict, 'REJECT');
    assert.equal(r.decidedBy, 'route');
    assert.match(r.reason, /no (return )?route/);
    r = await evaluate({ from: i.id, to: 'internet:198.51.100.9', protocol: 'tcp', port: 443 });
    assert.equal(r.decidedBy, 'route');
    // The main table gets 0.0.0.0/0 → igw: both ways open.
    assert.ok((await client.send(new DescribeVpcsCommand({ VpcIds: [v] }))).Vpcs![0]);
    const rt = await estate.mainRouteTable(v);
    await estate.route(rt, '0.0.0.0/0', { GatewayId: igw });
    r = await evaluate({ from: 'internet:198.51.100.9', to: publicIp, protocol: 'tcp', port: 22 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
    assert.ok(
      r.route.some((h: { target: string }) => h.target === igw),
      'the explanation names the route',
    );
    r = await evaluate({ from: i.id, to: 'internet:198.51.100.9', protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'ACCEPT');
    // `probe --from internet:IP --to i-…`: the internet reaches the instance at its public address, as `reach` does.
    r = await evaluate({ from: 'internet:198.51.100.9', to: i.id, protocol: 'tcp', port: 22 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
    // Removing the route closes it again at once.
    await client.send(new DeleteRouteCommand({ RouteTableId: rt, DestinationCidrBlock: '0.0.0.0/0' }));
    r = await evaluate({ from: 'internet:198.51.100.9', to: publicIp, protocol: 'tcp', port: 22 });
    assert.equal(r.decidedBy, 'route');
  });

  it('a NAT-ed private instance reaches the internet but is not reachable from it', async () => {
    const v = await estate.vpc('10.2.0.0/16');
    const pub = await estate.subnet(v, '10.2.1.0/24');
    const priv = await estate.subnet(v, '10.2.2.0/24');
    const g = await openGroup(v, 'open-2');
    const igw = await estate.internetGateway(v);
    await estate.route(await estate.routeTable(v, [pub]), '0.0.0.0/0', { GatewayId: igw });
    const nat = await estate.natGateway(pub);
    await estate.route(await estate.routeTable(v, [priv]), '0.0.0.0/0', { NatGatewayId: nat });
    const i = await estate.launch(priv, g);
    const out = await evaluate({ from: i.id, to: 'internet:203.0.113.5', protocol: 'tcp', port: 443 });
    assert.equal(out.verdict, 'ACCEPT', JSON.stringify(out));
    assert.ok(out.route.some((h: { target: string }) => h.target === nat));
    const inbound = await evaluate({ from: 'internet:203.0.113.5', to: i.id, protocol: 'tcp', port: 22 });
    assert.equal(inbound.verdict, 'REJECT');
    assert.equal(inbound.decidedBy, 'route');
  });
});

describe('network ACLs are stateless and ordered', () => {
  let v: string;
  let s: string;
  let acl: string;
  let i: Launched;
  let peer: Launched;
  before(async () => {
    v = await estate.vpc('10.3.0.0/16');
    s = await estate.subnet(v, '10.3.1.0/24');
    const other = await estate.subnet(v, '10.3.2.0/24');
    const g = await openGroup(v, 'open-3');
    i = await estate.launch(s, g);
    peer = await estate.launch(other, g);
    acl = await estate.customAcl(v, s);
  });

  it('a custom ACL denies everything until entries are added', async () => {
    const r = await evaluate({ from: peer.id, to: i.id, protocol: 'tcp', port: 22 });
    assert.equal(r.verdict, 'REJECT');
    assert.equal(r.decidedBy, 'acl');
    assert.equal(r.acl.networkAclId, acl);
    assert.equal(r.acl.ruleNumber, 32767);
  });

  it('without the ephemeral-port outbound rule the replies of an allowed inbound connection are blocked (the group alone would allow them)', async () => {
    await estate.aclEntry(acl, aclRule(100, 'ingress', 'allow', '10.3.0.0/16', { ports: [22, 22] }));
    let r = await evaluate({ from: peer.id, to: i.id, protocol: 'tcp', port: 22, srcPort: 40000 });
    assert.equal(r.verdict, 'REJECT');
    assert.equal(r.decidedBy, 'acl');
    assert.equal(r.acl.reply, true);
    assert.equal(r.acl.direction, 'outbound');
    assert.match(r.explanation, /stateless/);
    await estate.aclEntry(acl, aclRule(100, 'egress', 'allow', '10.3.0.0/16', { ports: [1024, 65535] }));
    r = await evaluate({ from: peer.id, to: i.id, protocol: 'tcp', port: 22, srcPort: 40000 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
  });

  it('a deny at a lower rule number beats an allow', async () => {
    await estate.aclEntry(acl, aclRule(50, 'ingress', 'deny', '10.3.2.0/24'));
    const r = await evaluate({ from: peer.id, to: i.id, protocol: 'tcp', port: 22, srcPort: 40000 });
    assert.equal(r.verdict, 'REJECT');
    assert.equal(r.acl.ruleNumber, 50);
    assert.equal(r.acl.direction, 'inbound');
  });

  it('traffic within one subnet does not cross its ACL', async () => {
    const g = await openGroup(v, 'open-3b');
    const neighbour = await estate.launch(s, g);
    const r = await evaluate({ from: neighbour.id, to: i.id, protocol: 'udp', port: 53 });
    assert.equal(r.verdict, 'ACCEPT');
  });
});

describe('IPv6', () => {
  it('from the internet through an internet gateway to an IPv6 address with a ::/0 rule: ACCEPT; an egress-only gateway lets only outbound IPv6 through', async () => {
    const v = await estate.vpc('10.4.0.0/16', { ipv6: true });
    const block = await estate.ipv6Block(v);
    const sub6 = block.replace('::/56', '::/64');
    const s = await estate.subnet(v, '10.4.1.0/24', { ipv6Cidr: sub6 });
    const g = await openGroup(v, 'open-4');
    const i = await estate.launch(s, g, { ipv6: true });
    const ipv6 = i.ipv6!;
    const rt = await estate.mainRouteTable(v);
    // Egress-only: out yes, in no.
    const eigw = (await client.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: v }))).EgressOnlyInternetGateway!
      .EgressOnlyInternetGatewayId!;
    await estate.route(rt, '::/0', { EgressOnlyInternetGatewayId: eigw });
    let r = await evaluate({ from: i.id, to: 'internet:2001:db8::1', protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
    r = await evaluate({ from: 'internet:2001:db8::1', to: ipv6, protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'REJECT');
    assert.equal(r.decidedBy, 'route');
    // An internet gateway and its ::/0 route: in too.
    const igw = await estate.internetGateway(v);
    await client.send(new ReplaceRouteCommand({ RouteTableId: rt, DestinationIpv6CidrBlock: '::/0', GatewayId: igw }));
    r = await evaluate({ from: 'internet:2001:db8::1', to: ipv6, protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
    // Named by its id, from an IPv6 internet address: the instance's IPv6 address.
    r = await evaluate({ from: 'internet:2001:db8::1', to: i.id, protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
  });

  it('address families never mix: an IPv4-only instance cannot reach an IPv6 address', async () => {
    const v = await estate.vpc('10.5.0.0/16', { ipv6: true });
    const block = await estate.ipv6Block(v);
    const s = await estate.subnet(v, '10.5.1.0/24', { ipv6Cidr: block.replace('::/56', '::/64') });
    const g = await openGroup(v, 'open-5');
    const v4only = await estate.launch(s, g);
    const dual = await estate.launch(s, g, { ipv6: true });
    const r = await evaluate({ from: v4only.id, to: dual.ipv6, protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'REJECT');
    assert.equal(r.decidedBy, 'route');
    assert.match(r.reason, /families never mix/);
  });
});

describe('peering', () => {
  it('peered VPCs reach each other only with routes on both sides', async () => {
    const a = await estate.vpc('10.6.0.0/16');
    const b = await estate.vpc('10.7.0.0/16');
    const sa = await estate.subnet(a, '10.6.1.0/24');
    const sb = await estate.subnet(b, '10.7.1.0/24');
    const ia = await estate.launch(sa, await openGroup(a, 'open-6a'));
    const ib = await estate.launch(sb, await openGroup(b, 'open-6b'));
    const pcx = await estate.peering(a, b);
    let r = await evaluate({ from: ia.id, to: ib.id, protocol: 'tcp', port: 22 });
    assert.equal(r.decidedBy, 'route', 'no routes yet');
    await estate.route(await estate.mainRouteTable(a), '10.7.0.0/16', { VpcPeeringConnectionId: pcx });
    r = await evaluate({ from: ia.id, to: ib.id, protocol: 'tcp', port: 22 });
    assert.equal(r.decidedBy, 'route', 'a route on one side only');
    assert.match(r.reason, /return route/);
    await estate.route(await estate.mainRouteTable(b), '10.6.0.0/16', { VpcPeeringConnectionId: pcx });
    r = await evaluate({ from: ia.id, to: ib.id, protocol: 'tcp', port: 22 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
  });
});

describe('Elastic IPs', () => {
  it('an Elastic IP makes an instance reachable at that address', async () => {
    const v = await estate.vpc('10.8.0.0/16');
    const s = await estate.subnet(v, '10.8.1.0/24');
    const i = await estate.launch(s, await openGroup(v, 'open-8'));
    await estate.internetGateway(v, { route: true });
    let r = await evaluate({ from: i.id, to: 'internet:198.51.100.20', protocol: 'tcp', port: 443 });
    assert.equal(r.decidedBy, 'route', 'no public address yet');
    const { AllocationId, PublicIp } = await client.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await client.send(new AssociateAddressCommand({ AllocationId, InstanceId: i.id }));
    r = await evaluate({ from: 'internet:198.51.100.20', to: PublicIp, protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
  });
});

describe('an Elastic IP through stop and start', () => {
  it('stays the instance public address (an auto-assigned one would change)', async () => {
    const { StopInstancesCommand, StartInstancesCommand, DescribeAddressesCommand } = await import('@aws-sdk/client-ec2');
    const v = await estate.vpc('10.9.0.0/16');
    const s = await estate.subnet(v, '10.9.1.0/24');
    const i = await estate.launch(s, await openGroup(v, 'open-9'));
    await estate.internetGateway(v);
    const { AllocationId, PublicIp } = await client.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await client.send(new AssociateAddressCommand({ AllocationId, InstanceId: i.id }));
    await client.send(new StopInstancesCommand({ InstanceIds: [i.id] }));
    await client.send(new StartInstancesCommand({ InstanceIds: [i.id] }));
    const now = (await client.send(new DescribeInstancesCommand({ InstanceIds: [i.id] }))).Reservations![0]!.Instances![0]!;
    assert.equal(now.PublicIpAddress, PublicIp);
    const addr = (await client.send(new DescribeAddressesCommand({ AllocationIds: [AllocationId!] }))).Addresses![0]!;
    assert.equal(addr.InstanceId, i.id);
  });
});
