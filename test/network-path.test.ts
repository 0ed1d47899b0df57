// Verdicts follow the whole network path (VPC User Guide: route tables, internet/egress-only/NAT
// gateways, network ACLs, peering): route → ACL out → group egress → ACL in → group ingress, with
// ACLs stateless (replies need rules too) and families never mixed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AcceptVpcPeeringConnectionCommand,
  AllocateAddressCommand,
  AssociateAddressCommand,
  AssociateRouteTableCommand,
  AssociateSubnetCidrBlockCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateEgressOnlyInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteRouteCommand,
  DescribeVpcsCommand,
  DescribeInstancesCommand,
  ReplaceNetworkAclAssociationCommand,
  DescribeNetworkAclsCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';

let server: Palisade;
let client: EC2Client;

async function evaluate(flow: Record<string, unknown>) {
  const res = await fetch(`${server.url}/_palisade/network/evaluate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ flows: [flow] }),
  });
  return ((await res.json()) as { results: Record<string, any>[] }).results[0]!;
}

async function vpc(cidr: string, ipv6 = false) {
  const id = (await client.send(new CreateVpcCommand({ CidrBlock: cidr, AmazonProvidedIpv6CidrBlock: ipv6 }))).Vpc!.VpcId!;
  return id;
}

async function subnet(vpcId: string, cidr: string, ipv6?: string) {
  const s = (await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: 'us-east-1a' }))).Subnet!;
  if (ipv6) await client.send(new AssociateSubnetCidrBlockCommand({ SubnetId: s.SubnetId, Ipv6CidrBlock: ipv6 }));
  return s.SubnetId!;
}

/** A group open to everything in and out (so routes and ACLs decide). */
async function openGroup(vpcId: string, name: string) {
  const g = (await client.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpcId }))).GroupId!;
  await client.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: g,
      IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
    }),
  );
  await client
    .send(
      new AuthorizeSecurityGroupEgressCommand({ GroupId: g, IpPermissions: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }),
    )
    .catch(() => undefined); // a VPC with IPv6 already has it
  return g;
}

async function launch(subnetId: string, group: string, opts: { publicIp?: boolean; ipv6?: boolean } = {}) {
  const i = (
    await client.send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        NetworkInterfaces: [
          {
            DeviceIndex: 0,
            SubnetId: subnetId,
            Groups: [group],
            AssociatePublicIpAddress: opts.publicIp ?? false,
            ...(opts.ipv6 ? { Ipv6AddressCount: 1 } : {}),
          },
        ],
      }),
    )
  ).Instances![0]!;
  return i;
}

before(async () => {
  server = await start({ clock: 'virtual' });
  client = ec2(server.url);
});
after(() => server.close());

describe('routes decide what leaves and enters a VPC', () => {
  it('no route to the internet: REJECT by route even with a public IP and an open group; the internet gateway route opens it', async () => {
    const v = await vpc('10.1.0.0/16');
    const s = await subnet(v, '10.1.1.0/24');
    const g = await openGroup(v, 'open-1');
    const i = await launch(s, g, { publicIp: true });
    const igw = (await client.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await client.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: v }));
    const publicIp =
      i.PublicIpAddress ??
      (await client.send(new DescribeInstancesCommand({ InstanceIds: [i.InstanceId!] }))).Reservations![0]!.Instances![0]!.PublicIpAddress!;
    assert.ok(publicIp, 'the instance has a public IP');
    let r = await evaluate({ from: 'internet:198.51.100.9', to: publicIp, protocol: 'tcp', port: 22 });
    assert.equal(r.verdict, 'REJECT');
    assert.equal(r.decidedBy, 'route');
    assert.match(r.reason, /no (return )?route/);
    r = await evaluate({ from: i.InstanceId, to: 'internet:198.51.100.9', protocol: 'tcp', port: 443 });
    assert.equal(r.decidedBy, 'route');
    // The main table gets 0.0.0.0/0 → igw: both ways open.
    const main = (await client.send(new DescribeVpcsCommand({ VpcIds: [v] }))).Vpcs![0]!;
    assert.ok(main);
    const tables = await (await import('@aws-sdk/client-ec2')).DescribeRouteTablesCommand;
    const rt = (
      await client.send(
        new tables({
          Filters: [
            { Name: 'vpc-id', Values: [v] },
            { Name: 'association.main', Values: ['true'] },
          ],
        }),
      )
    ).RouteTables![0]!;
    await client.send(new CreateRouteCommand({ RouteTableId: rt.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    r = await evaluate({ from: 'internet:198.51.100.9', to: publicIp, protocol: 'tcp', port: 22 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
    assert.ok(
      r.route.some((h: { target: string }) => h.target === igw),
      'the explanation names the route',
    );
    r = await evaluate({ from: i.InstanceId, to: 'internet:198.51.100.9', protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'ACCEPT');
    // `probe --from internet:IP --to i-…`: the internet reaches the instance at its public address, as `reach` does.
    r = await evaluate({ from: 'internet:198.51.100.9', to: i.InstanceId, protocol: 'tcp', port: 22 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
    // Removing the route closes it again at once.
    await client.send(new DeleteRouteCommand({ RouteTableId: rt.RouteTableId, DestinationCidrBlock: '0.0.0.0/0' }));
    r = await evaluate({ from: 'internet:198.51.100.9', to: publicIp, protocol: 'tcp', port: 22 });
    assert.equal(r.decidedBy, 'route');
  });

  it('a NAT-ed private instance reaches the internet but is not reachable from it', async () => {
    const v = await vpc('10.2.0.0/16');
    const pub = await subnet(v, '10.2.1.0/24');
    const priv = await subnet(v, '10.2.2.0/24');
    const g = await openGroup(v, 'open-2');
    const igw = (await client.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await client.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: v }));
    const pubRt = (await client.send(new CreateRouteTableCommand({ VpcId: v }))).RouteTable!.RouteTableId!;
    await client.send(new CreateRouteCommand({ RouteTableId: pubRt, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    await client.send(new AssociateRouteTableCommand({ RouteTableId: pubRt, SubnetId: pub }));
    const eip = (await client.send(new AllocateAddressCommand({ Domain: 'vpc' }))).AllocationId!;
    const nat = (await client.send(new CreateNatGatewayCommand({ SubnetId: pub, AllocationId: eip }))).NatGateway!.NatGatewayId!;
    const privRt = (await client.send(new CreateRouteTableCommand({ VpcId: v }))).RouteTable!.RouteTableId!;
    await client.send(new CreateRouteCommand({ RouteTableId: privRt, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat }));
    await client.send(new AssociateRouteTableCommand({ RouteTableId: privRt, SubnetId: priv }));
    const i = await launch(priv, g);
    const out = await evaluate({ from: i.InstanceId, to: 'internet:203.0.113.5', protocol: 'tcp', port: 443 });
    assert.equal(out.verdict, 'ACCEPT', JSON.stringify(out));
    assert.ok(out.route.some((h: { target: string }) => h.target === nat));
    const inbound = await evaluate({ from: 'internet:203.0.113.5', to: i.InstanceId, protocol: 'tcp', port: 22 });
    assert.equal(inbound.verdict, 'REJECT');
    assert.equal(inbound.decidedBy, 'route');
  });
});

describe('network ACLs are stateless and ordered', () => {
  let v: string;
  let s: string;
  let acl: string;
  let i: { InstanceId?: string; PrivateIpAddress?: string };
  let peer: { InstanceId?: string };
  before(async () => {
    v = await vpc('10.3.0.0/16');
    s = await subnet(v, '10.3.1.0/24');
    const other = await subnet(v, '10.3.2.0/24');
    const g = await openGroup(v, 'open-3');
    i = await launch(s, g);
    peer = await launch(other, g);
    acl = (await client.send(new CreateNetworkAclCommand({ VpcId: v }))).NetworkAcl!.NetworkAclId!;
    const assoc = (
      await client.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [s] }] }))
    ).NetworkAcls![0]!.Associations!.find((a) => a.SubnetId === s)!.NetworkAclAssociationId!;
    await client.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assoc, NetworkAclId: acl }));
  });

  it('a custom ACL denies everything until entries are added', async () => {
    const r = await evaluate({ from: peer.InstanceId, to: i.InstanceId, protocol: 'tcp', port: 22 });
    assert.equal(r.verdict, 'REJECT');
    assert.equal(r.decidedBy, 'acl');
    assert.equal(r.acl.networkAclId, acl);
    assert.equal(r.acl.ruleNumber, 32767);
  });

  it('without the ephemeral-port outbound rule the replies of an allowed inbound connection are blocked (the group alone would allow them)', async () => {
    await client.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: acl,
        RuleNumber: 100,
        Protocol: '6',
        RuleAction: 'allow',
        Egress: false,
        CidrBlock: '10.3.0.0/16',
        PortRange: { From: 22, To: 22 },
      }),
    );
    let r = await evaluate({ from: peer.InstanceId, to: i.InstanceId, protocol: 'tcp', port: 22, srcPort: 40000 });
    assert.equal(r.verdict, 'REJECT');
    assert.equal(r.decidedBy, 'acl');
    assert.equal(r.acl.reply, true);
    assert.equal(r.acl.direction, 'outbound');
    assert.match(r.explanation, /stateless/);
    await client.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: acl,
        RuleNumber: 100,
        Protocol: '6',
        RuleAction: 'allow',
        Egress: true,
        CidrBlock: '10.3.0.0/16',
        PortRange: { From: 1024, To: 65535 },
      }),
    );
    r = await evaluate({ from: peer.InstanceId, to: i.InstanceId, protocol: 'tcp', port: 22, srcPort: 40000 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
  });

  it('a deny at a lower rule number beats an allow', async () => {
    await client.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: acl,
        RuleNumber: 50,
        Protocol: '-1',
        RuleAction: 'deny',
        Egress: false,
        CidrBlock: '10.3.2.0/24',
      }),
    );
    const r = await evaluate({ from: peer.InstanceId, to: i.InstanceId, protocol: 'tcp', port: 22, srcPort: 40000 });
    assert.equal(r.verdict, 'REJECT');
    assert.equal(r.acl.ruleNumber, 50);
    assert.equal(r.acl.direction, 'inbound');
  });

  it('traffic within one subnet does not cross its ACL', async () => {
    const g = await openGroup(v, 'open-3b');
    const neighbour = await launch(s, g);
    const r = await evaluate({ from: neighbour.InstanceId, to: i.InstanceId, protocol: 'udp', port: 53 });
    assert.equal(r.verdict, 'ACCEPT');
  });
});

describe('IPv6', () => {
  it('from the internet through an internet gateway to an IPv6 address with a ::/0 rule: ACCEPT; an egress-only gateway lets only outbound IPv6 through', async () => {
    const v = await vpc('10.4.0.0/16', true);
    const block = (await client.send(new DescribeVpcsCommand({ VpcIds: [v] }))).Vpcs![0]!.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock!;
    const sub6 = block.replace('::/56', '::/64');
    const s = await subnet(v, '10.4.1.0/24', sub6);
    const g = await openGroup(v, 'open-4');
    const i = await launch(s, g, { ipv6: true });
    const ipv6 = (await client.send(new DescribeInstancesCommand({ InstanceIds: [i.InstanceId!] }))).Reservations![0]!.Instances![0]!
      .NetworkInterfaces![0]!.Ipv6Addresses![0]!.Ipv6Address!;
    const tables = (await import('@aws-sdk/client-ec2')).DescribeRouteTablesCommand;
    const rt = (
      await client.send(
        new tables({
          Filters: [
            { Name: 'vpc-id', Values: [v] },
            { Name: 'association.main', Values: ['true'] },
          ],
        }),
      )
    ).RouteTables![0]!.RouteTableId!;
    // Egress-only: out yes, in no.
    const eigw = (await client.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: v }))).EgressOnlyInternetGateway!
      .EgressOnlyInternetGatewayId!;
    await client.send(new CreateRouteCommand({ RouteTableId: rt, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: eigw }));
    let r = await evaluate({ from: i.InstanceId, to: 'internet:2001:db8::1', protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
    r = await evaluate({ from: 'internet:2001:db8::1', to: ipv6, protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'REJECT');
    assert.equal(r.decidedBy, 'route');
    // An internet gateway and its ::/0 route: in too.
    const igw = (await client.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await client.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: v }));
    const { ReplaceRouteCommand } = await import('@aws-sdk/client-ec2');
    await client.send(new ReplaceRouteCommand({ RouteTableId: rt, DestinationIpv6CidrBlock: '::/0', GatewayId: igw }));
    r = await evaluate({ from: 'internet:2001:db8::1', to: ipv6, protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
    // Named by its id, from an IPv6 internet address: the instance's IPv6 address.
    r = await evaluate({ from: 'internet:2001:db8::1', to: i.InstanceId, protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
  });

  it('address families never mix: an IPv4-only instance cannot reach an IPv6 address', async () => {
    const v = await vpc('10.5.0.0/16', true);
    const block = (await client.send(new DescribeVpcsCommand({ VpcIds: [v] }))).Vpcs![0]!.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock!;
    const s = await subnet(v, '10.5.1.0/24', block.replace('::/56', '::/64'));
    const g = await openGroup(v, 'open-5');
    const v4only = await launch(s, g);
    const dual = await launch(s, g, { ipv6: true });
    const ipv6 = (await client.send(new DescribeInstancesCommand({ InstanceIds: [dual.InstanceId!] }))).Reservations![0]!.Instances![0]!
      .NetworkInterfaces![0]!.Ipv6Addresses![0]!.Ipv6Address!;
    const r = await evaluate({ from: v4only.InstanceId, to: ipv6, protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'REJECT');
    assert.equal(r.decidedBy, 'route');
    assert.match(r.reason, /families never mix/);
  });
});

describe('peering', () => {
  it('peered VPCs reach each other only with routes on both sides', async () => {
    const a = await vpc('10.6.0.0/16');
    const b = await vpc('10.7.0.0/16');
    const sa = await subnet(a, '10.6.1.0/24');
    const sb = await subnet(b, '10.7.1.0/24');
    const ia = await launch(sa, await openGroup(a, 'open-6a'));
    const ib = await launch(sb, await openGroup(b, 'open-6b'));
    const pcx = (await client.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: b }))).VpcPeeringConnection!
      .VpcPeeringConnectionId!;
    await client.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    const tables = (await import('@aws-sdk/client-ec2')).DescribeRouteTablesCommand;
    const main = async (vpcId: string) =>
      (
        await client.send(
          new tables({
            Filters: [
              { Name: 'vpc-id', Values: [vpcId] },
              { Name: 'association.main', Values: ['true'] },
            ],
          }),
        )
      ).RouteTables![0]!.RouteTableId!;
    let r = await evaluate({ from: ia.InstanceId, to: ib.InstanceId, protocol: 'tcp', port: 22 });
    assert.equal(r.decidedBy, 'route', 'no routes yet');
    await client.send(
      new CreateRouteCommand({ RouteTableId: await main(a), DestinationCidrBlock: '10.7.0.0/16', VpcPeeringConnectionId: pcx }),
    );
    r = await evaluate({ from: ia.InstanceId, to: ib.InstanceId, protocol: 'tcp', port: 22 });
    assert.equal(r.decidedBy, 'route', 'a route on one side only');
    assert.match(r.reason, /return route/);
    await client.send(
      new CreateRouteCommand({ RouteTableId: await main(b), DestinationCidrBlock: '10.6.0.0/16', VpcPeeringConnectionId: pcx }),
    );
    r = await evaluate({ from: ia.InstanceId, to: ib.InstanceId, protocol: 'tcp', port: 22 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
  });
});

describe('Elastic IPs', () => {
  it('an Elastic IP makes an instance reachable at that address', async () => {
    const v = await vpc('10.8.0.0/16');
    const s = await subnet(v, '10.8.1.0/24');
    const i = await launch(s, await openGroup(v, 'open-8'));
    const igw = (await client.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await client.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: v }));
    const tables = (await import('@aws-sdk/client-ec2')).DescribeRouteTablesCommand;
    const rt = (
      await client.send(
        new tables({
          Filters: [
            { Name: 'vpc-id', Values: [v] },
            { Name: 'association.main', Values: ['true'] },
          ],
        }),
      )
    ).RouteTables![0]!.RouteTableId!;
    await client.send(new CreateRouteCommand({ RouteTableId: rt, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    let r = await evaluate({ from: i.InstanceId, to: 'internet:198.51.100.20', protocol: 'tcp', port: 443 });
    assert.equal(r.decidedBy, 'route', 'no public address yet');
    const { AllocationId, PublicIp } = await client.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await client.send(new AssociateAddressCommand({ AllocationId, InstanceId: i.InstanceId }));
    r = await evaluate({ from: 'internet:198.51.100.20', to: PublicIp, protocol: 'tcp', port: 443 });
    assert.equal(r.verdict, 'ACCEPT', JSON.stringify(r));
  });
});

describe('an Elastic IP through stop and start', () => {
  it('stays the instance public address (an auto-assigned one would change)', async () => {
    const { StopInstancesCommand, StartInstancesCommand, DescribeAddressesCommand } = await import('@aws-sdk/client-ec2');
    const v = await vpc('10.9.0.0/16');
    const s = await subnet(v, '10.9.1.0/24');
    const i = await launch(s, await openGroup(v, 'open-9'));
    const igw = (await client.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await client.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: v }));
    const { AllocationId, PublicIp } = await client.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await client.send(new AssociateAddressCommand({ AllocationId, InstanceId: i.InstanceId }));
    await client.send(new StopInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    await client.send(new StartInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    const now = (await client.send(new DescribeInstancesCommand({ InstanceIds: [i.InstanceId!] }))).Reservations![0]!.Instances![0]!;
    assert.equal(now.PublicIpAddress, PublicIp);
    const addr = (await client.send(new DescribeAddressesCommand({ AllocationIds: [AllocationId!] }))).Addresses![0]!;
    assert.equal(addr.InstanceId, i.InstanceId);
  });
});
