// Reachability Analyzer follows the whole path (routes, internet and NAT gateways, peering,
// stateless network ACLs, both security-group gates) and answers in AWS's shape: the
// ForwardPathComponents in the order a packet meets them, or the Explanations of what blocks it
// with AWS's codes (Reachability Analyzer explanation codes).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AcceptVpcPeeringConnectionCommand,
  AuthorizeSecurityGroupEgressCommand,
  CreateInternetGatewayCommand,
  CreateNetworkInsightsPathCommand,
  DeleteNatGatewayCommand,
  RevokeSecurityGroupEgressCommand,
  type CreateNetworkInsightsPathCommandInput,
  type EC2Client,
  type NetworkInsightsAnalysis,
} from '@aws-sdk/client-ec2';
import { awsError, ec2, start } from './helpers/server.ts';
import { aclRule, analysePath, awsAnalysePath, EstateBuilder, type Launched } from './helpers/estate.ts';
import type { Palisade } from '../src/server.ts';

let server: Palisade;
let client: EC2Client;
let estate: EstateBuilder;

/** A group that admits tcp/22 and tcp/5432 from anywhere (egress: the default allow-all). */
const group = (vpcId: string, name: string) =>
  estate.group(vpcId, name, [
    { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
  ]);
/** Creates the path, analyses it and returns the finished analysis. */
async function analyse(path: Partial<CreateNetworkInsightsPathCommandInput>): Promise<NetworkInsightsAnalysis> {
  const a = await analysePath(client, path as CreateNetworkInsightsPathCommandInput);
  assert.equal(a.Status, 'succeeded', a.StatusMessage);
  return a;
}
const ids = (a: NetworkInsightsAnalysis) => a.ForwardPathComponents!.map((c) => c.Component!.Id!);
const prefixes = (a: NetworkInsightsAnalysis) => ids(a).map((id) => id.split('-')[0]);

before(async () => {
  server = await start({ clock: 'virtual' });
  client = ec2(server.url);
  estate = new EstateBuilder(client);
});
after(() => server.close());

describe('a public subnet: internet gateway, route table, ACL, group', () => {
  let v: string;
  let s: string;
  let rt: string;
  let igw: string;
  let web: Launched;
  before(async () => {
    v = await estate.vpc('10.40.0.0/16');
    s = await estate.subnet(v, '10.40.1.0/24');
    rt = await estate.mainRouteTable(v);
    igw = await estate.internetGateway(v);
    web = await estate.launch(s, await group(v, 'web'), { publicIp: true });
  });

  it('without a route to the internet gateway: not found, NO_ROUTE_TO_DESTINATION names the route table', async () => {
    const a = await analyse({ Source: igw, Destination: web.id, DestinationPort: 22 });
    assert.equal(a.NetworkPathFound, false);
    const e = a.Explanations![0]!;
    assert.equal(e.ExplanationCode, 'NO_ROUTE_TO_DESTINATION');
    assert.equal(e.RouteTable!.Id, rt);
    assert.match(e.RouteTable!.Arn!, new RegExp(`:route-table/${rt}$`));
    assert.equal(e.Vpc!.Id, v);
    // The instance out to the internet gateway: the same table, and the gateway as the destination.
    const out = await analyse({ Source: web.id, Destination: igw, DestinationPort: 443 });
    assert.equal(out.Explanations![0]!.ExplanationCode, 'NO_ROUTE_TO_DESTINATION');
    assert.equal(out.Explanations![0]!.RouteTable!.Id, rt);
    assert.equal(out.Explanations![0]!.Destination!.Id, igw);
  });

  it('an igw-… source reaches the instance at its public address: components in AWS order', async () => {
    await estate.route(rt, '0.0.0.0/0', { GatewayId: igw });
    const a = await analyse({ Source: igw, Destination: web.id, DestinationPort: 22 });
    assert.equal(a.NetworkPathFound, true, JSON.stringify(a.Explanations));
    assert.deepEqual(prefixes(a), ['igw', 'acl', 'sg', 'eni', 'i']);
    const [gw, acl, sg, eni, inst] = a.ForwardPathComponents!;
    assert.deepEqual(
      a.ForwardPathComponents!.map((c) => c.SequenceNumber),
      [1, 2, 3, 4, 5],
    );
    assert.equal(gw!.Component!.Id, igw);
    assert.equal(gw!.Vpc!.Id, v);
    assert.deepEqual(gw!.InboundHeader!.DestinationAddresses, [`${web.publicIp}/32`]);
    assert.deepEqual(gw!.OutboundHeader!.DestinationAddresses, [`${web.privateIp}/32`]);
    assert.deepEqual(acl!.AclRule, { Cidr: '0.0.0.0/0', Egress: false, Protocol: 'all', RuleAction: 'allow', RuleNumber: 100 });
    assert.deepEqual(sg!.SecurityGroupRule, {
      Cidr: '0.0.0.0/0',
      Direction: 'ingress',
      SecurityGroupId: sg!.Component!.Id,
      PortRange: { From: 22, To: 22 },
      Protocol: 'tcp',
    });
    assert.equal(eni!.AttachedTo!.Id, web.id);
    assert.equal(eni!.Subnet!.Id, s);
    assert.equal(eni!.Vpc!.Id, v);
    assert.equal(inst!.Component!.Id, web.id);
    assert.deepEqual(inst!.InboundHeader!.DestinationPortRanges, [{ From: 22, To: 22 }]);
    assert.equal(inst!.InboundHeader!.Protocol, '6');
  });

  it('an instance out to the internet gateway: instance → ENI → group → ACL → route table → igw', async () => {
    const a = await analyse({ Source: web.id, Destination: igw, DestinationPort: 443 });
    assert.equal(a.NetworkPathFound, true, JSON.stringify(a.Explanations));
    assert.deepEqual(prefixes(a), ['i', 'eni', 'sg', 'acl', 'rtb', 'igw']);
    const c = a.ForwardPathComponents!;
    assert.equal(c[2]!.SecurityGroupRule!.Direction, 'egress');
    assert.equal(c[3]!.AclRule!.Egress, true);
    assert.deepEqual(c[4]!.RouteTableRoute, {
      DestinationCidr: '0.0.0.0/0',
      GatewayId: igw,
      Origin: 'createroute',
      State: 'active',
    });
    assert.equal(c[4]!.Component!.Id, rt);
    assert.deepEqual(c[5]!.OutboundHeader!.SourceAddresses, [`${web.publicIp}/32`], 'the public address leaves the gateway');
    // An internet address as the destination ends at the same gateway.
    const ip = await analyse({ Source: web.id, DestinationIp: '198.51.100.77', DestinationPort: 443 });
    assert.equal(ip.NetworkPathFound, true);
    assert.equal(ids(ip).at(-1), igw);
  });

  it('a private instance behind the same gateway: IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS', async () => {
    const priv = await estate.launch(s, await group(v, 'private'), { publicIp: false });
    const a = await analyse({ Source: priv.id, Destination: igw, DestinationPort: 443 });
    assert.equal(a.NetworkPathFound, false);
    const e = a.Explanations![0]!;
    assert.equal(e.ExplanationCode, 'IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS');
    assert.equal(e.InternetGateway!.Id, igw);
    // … and from the internet it has no public address to be reached at.
    const b = await analyse({ Source: igw, Destination: priv.id, DestinationPort: 22 });
    assert.equal(b.Explanations![0]!.ExplanationCode, 'IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS');
  });

  it('a port the group does not open: ENI_SG_RULES_MISMATCH on the ingress side', async () => {
    const a = await analyse({ Source: igw, Destination: web.id, DestinationPort: 3389 });
    assert.equal(a.NetworkPathFound, false);
    const e = a.Explanations![0]!;
    assert.equal(e.ExplanationCode, 'ENI_SG_RULES_MISMATCH');
    assert.equal(e.Direction, 'ingress');
    assert.equal(e.Vpc!.Id, v);
  });
});

describe('network ACLs', () => {
  let v: string;
  let s: string;
  let acl: string;
  let app: Launched;
  let db: Launched;
  before(async () => {
    v = await estate.vpc('10.41.0.0/16');
    s = await estate.subnet(v, '10.41.1.0/24');
    const other = await estate.subnet(v, '10.41.2.0/24');
    const g = await group(v, 'acl-tier');
    db = await estate.launch(s, g);
    app = await estate.launch(other, g);
    acl = await estate.customAcl(v, s);
  });

  it('a deny entry: SUBNET_ACL_RESTRICTION with the ACL, its rule number, direction and subnet', async () => {
    await estate.aclEntry(acl, aclRule(90, 'ingress', 'deny', '10.41.2.0/24', { ports: [5432, 5432] }));
    const a = await analyse({ Source: app.id, Destination: db.id, DestinationPort: 5432 });
    assert.equal(a.NetworkPathFound, false);
    const e = a.Explanations![0]!;
    assert.equal(e.ExplanationCode, 'SUBNET_ACL_RESTRICTION');
    assert.equal(e.Acl!.Id, acl);
    assert.equal(e.Direction, 'ingress');
    assert.equal(e.Subnet!.Id, s);
    assert.equal(e.Vpc!.Id, v);
    assert.deepEqual(e.AclRule, {
      Cidr: '10.41.2.0/24',
      Egress: false,
      PortRange: { From: 5432, To: 5432 },
      Protocol: '6',
      RuleAction: 'deny',
      RuleNumber: 90,
    });
    // The components before the block are there: the source, its group, its ACL, the route.
    assert.deepEqual(prefixes(a), ['i', 'eni', 'sg', 'acl', 'rtb']);
  });

  it('the request allowed but not the reply (stateless): the outbound `*` rule is named', async () => {
    await estate.aclEntry(acl, aclRule(100, 'ingress', 'allow', '10.41.0.0/16', { ports: [22, 22] }));
    const a = await analyse({ Source: app.id, Destination: db.id, DestinationPort: 22 });
    assert.equal(a.NetworkPathFound, false);
    const e = a.Explanations![0]!;
    assert.equal(e.ExplanationCode, 'SUBNET_ACL_RESTRICTION');
    assert.equal(e.Direction, 'egress');
    assert.deepEqual(e.AclRule, { Cidr: '0.0.0.0/0', Egress: true, Protocol: 'all', RuleAction: 'deny', RuleNumber: 32767 });
    // With the ephemeral ports out, the path is found: both ACLs and the local route on it.
    await estate.aclEntry(acl, aclRule(100, 'egress', 'allow', '10.41.0.0/16', { ports: [1024, 65535] }));
    const ok = await analyse({ Source: app.id, Destination: db.id, DestinationPort: 22 });
    assert.equal(ok.NetworkPathFound, true, JSON.stringify(ok.Explanations));
    assert.deepEqual(prefixes(ok), ['i', 'eni', 'sg', 'acl', 'rtb', 'acl', 'sg', 'eni', 'i']);
    assert.equal(ok.ForwardPathComponents![4]!.RouteTableRoute!.GatewayId, 'local');
    assert.equal(ok.ForwardPathComponents![5]!.AclRule!.RuleNumber, 100);
  });
});

describe('peering', () => {
  it('routes on both sides: the peering connection is on the path; without the return route NO_ROUTE_TO_DESTINATION names the peer table', async () => {
    const a = await estate.vpc('10.42.0.0/16');
    const b = await estate.vpc('10.43.0.0/16');
    const ia = await estate.launch(await estate.subnet(a, '10.42.1.0/24'), await group(a, 'peer-a'));
    const ib = await estate.launch(await estate.subnet(b, '10.43.1.0/24'), await group(b, 'peer-b'));
    const pcx = await estate.peering(a, b, { accept: false });
    // Not accepted yet: the route leads to a peering connection that carries nothing.
    const rtA = await estate.mainRouteTable(a);
    const rtB = await estate.mainRouteTable(b);
    await estate.route(rtA, '10.43.0.0/16', { VpcPeeringConnectionId: pcx });
    let r = await analyse({ Source: ia.id, Destination: ib.id, DestinationPort: 22 });
    assert.equal(r.NetworkPathFound, false);
    assert.equal(r.Explanations![0]!.ExplanationCode, 'BAD_STATE');
    assert.equal(r.Explanations![0]!.VpcPeeringConnection!.Id, pcx);
    await client.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    r = await analyse({ Source: ia.id, Destination: ib.id, DestinationPort: 22 });
    assert.equal(r.NetworkPathFound, false);
    const e = r.Explanations![0]!;
    assert.equal(e.ExplanationCode, 'NO_ROUTE_TO_DESTINATION');
    assert.equal(e.RouteTable!.Id, rtB, 'the peer side has no route back');
    assert.equal(e.Vpc!.Id, b);
    // pcx-… as the destination: an address in the peer VPC, through the connection (one way is enough).
    const toPcx = await analyse({ Source: ia.id, Destination: pcx, DestinationIp: '10.43.1.50', DestinationPort: 22 });
    assert.equal(toPcx.NetworkPathFound, true, JSON.stringify(toPcx.Explanations));
    assert.deepEqual(prefixes(toPcx), ['i', 'eni', 'sg', 'acl', 'rtb', 'pcx']);
    await estate.route(rtB, '10.42.0.0/16', { VpcPeeringConnectionId: pcx });
    r = await analyse({ Source: ia.id, Destination: ib.id, DestinationPort: 22 });
    assert.equal(r.NetworkPathFound, true, JSON.stringify(r.Explanations));
    assert.deepEqual(prefixes(r), ['i', 'eni', 'sg', 'acl', 'rtb', 'pcx', 'acl', 'sg', 'eni', 'i']);
    const hop = r.ForwardPathComponents![5]!;
    assert.equal(hop.Component!.Id, pcx);
    assert.equal(hop.SourceVpc!.Id, a);
    assert.equal(hop.DestinationVpc!.Id, b);
    assert.equal(r.ForwardPathComponents![4]!.RouteTableRoute!.VpcPeeringConnectionId, pcx);
    // pcx-… as the source: from the peer VPC's addresses to an instance here.
    const fromPcx = await analyse({ Source: pcx, SourceIp: '10.42.1.9', Destination: ib.id, DestinationPort: 22 });
    assert.equal(fromPcx.NetworkPathFound, true, JSON.stringify(fromPcx.Explanations));
    assert.deepEqual(prefixes(fromPcx), ['pcx', 'acl', 'sg', 'eni', 'i']);
  });
});

describe('NAT gateway', () => {
  it('a private instance reaches the internet through the NAT gateway; once the gateway is gone the route is a blackhole (BAD_STATE_ROUTE)', async () => {
    const v = await estate.vpc('10.47.0.0/16');
    const pub = await estate.subnet(v, '10.47.1.0/24');
    const priv = await estate.subnet(v, '10.47.2.0/24');
    await estate.internetGateway(v, { route: true });
    const nat = await estate.natGateway(pub);
    const privRt = await estate.routeTable(v, [priv]);
    await estate.route(privRt, '0.0.0.0/0', { NatGatewayId: nat });
    const i = await estate.launch(priv, await group(v, 'natted'));
    const a = await analyse({ Source: i.id, DestinationIp: '198.51.100.99', DestinationPort: 443 });
    assert.equal(a.NetworkPathFound, true, JSON.stringify(a.Explanations));
    assert.deepEqual(prefixes(a), ['i', 'eni', 'sg', 'acl', 'rtb', 'acl', 'nat', 'acl', 'rtb', 'igw']);
    assert.equal(a.ForwardPathComponents![4]!.RouteTableRoute!.NatGatewayId, nat);
    await client.send(new DeleteNatGatewayCommand({ NatGatewayId: nat }));
    const b = await analyse({ Source: i.id, DestinationIp: '198.51.100.99', DestinationPort: 443 });
    assert.equal(b.NetworkPathFound, false);
    const e = b.Explanations![0]!;
    assert.equal(e.ExplanationCode, 'BAD_STATE_ROUTE', JSON.stringify(e));
    assert.equal(e.RouteTableRoute!.State, 'blackhole');
    assert.equal(e.RouteTable!.Id, privRt);
  });
});

describe('ends AWS does not know', () => {
  it('unknown igw-/pcx-/i- ids fail with AWS’s NotFound codes', async () => {
    const create = (Source: string, Destination: string) =>
      awsError(() => client.send(new CreateNetworkInsightsPathCommand({ Source, Destination, Protocol: 'tcp' })));
    const e1 = await create('igw-0123456789abcdef0', 'i-0123456789abcdef0');
    assert.equal(e1.name, 'InvalidInternetGatewayID.NotFound');
    const v = await estate.vpc('10.44.0.0/16');
    const i = await estate.launch(await estate.subnet(v, '10.44.1.0/24'), await group(v, 'nf'));
    const e2 = await create(i.id, 'pcx-0123456789abcdef0');
    assert.equal(e2.name, 'InvalidVpcPeeringConnectionID.NotFound');
    const e3 = await create('i-0123456789abcdef0', i.id);
    assert.equal(e3.name, 'InvalidInstanceID.NotFound');
  });

  it('a detached internet gateway as the source: UNASSOCIATED_COMPONENT', async () => {
    const v = await estate.vpc('10.45.0.0/16');
    const i = await estate.launch(await estate.subnet(v, '10.45.1.0/24'), await group(v, 'detached'), { publicIp: true });
    const igw = (await client.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    const a = await analyse({ Source: igw, Destination: i.id, DestinationPort: 22 });
    assert.equal(a.NetworkPathFound, false);
    assert.equal(a.Explanations![0]!.ExplanationCode, 'UNASSOCIATED_COMPONENT');
    assert.equal(a.Explanations![0]!.Component!.Id, igw);
  });
});

describe('the aws CLI', () => {
  it('start-network-insights-analysis and describe-network-insights-analyses parse (igw source, egress blocked by the group)', async () => {
    const v = await estate.vpc('10.46.0.0/16');
    const s = await estate.subnet(v, '10.46.1.0/24');
    const igw = await estate.internetGateway(v, { route: true });
    const g = await group(v, 'cli');
    await client.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: 'udp', FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    await client.send(
      new RevokeSecurityGroupEgressCommand({ GroupId: g, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }),
    );
    const i = await estate.launch(s, g, { publicIp: true });
    const { started, analysis: a } = await awsAnalysePath(server.url, igw, i.id, 22);
    assert.equal(started.NetworkInsightsAnalysis.Status, 'running');
    assert.equal(a.NetworkPathFound, true);
    assert.deepEqual(
      a.ForwardPathComponents.map((c: { Component: { Id: string } }) => c.Component.Id.split('-')[0]),
      ['igw', 'acl', 'sg', 'eni', 'i'],
    );
    assert.equal(a.ForwardPathComponents[1].AclRule.RuleNumber, 100);
    // The other way: the group's egress lets only DNS out.
    const { analysis: back } = await awsAnalysePath(server.url, i.id, igw, 443);
    const e = back.Explanations[0];
    assert.equal(back.NetworkPathFound, false);
    assert.equal(e.ExplanationCode, 'ENI_SG_RULES_MISMATCH');
    assert.equal(e.Direction, 'egress');
    assert.equal(e.SecurityGroups[0].Id, g);
  });
});
