// Reachability Analyzer follows the whole path (routes, internet and NAT gateways, peering,
// stateless network ACLs, both security-group gates) and answers in AWS's shape: the
// ForwardPathComponents in the order a packet meets them, or the Explanations of what blocks it
// with AWS's codes (Reachability Analyzer explanation codes).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  AcceptVpcPeeringConnectionCommand,
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  CreateNatGatewayCommand,
  CreateRouteTableCommand,
  DeleteNatGatewayCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateNetworkInsightsPathCommand,
  CreateRouteCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInsightsAnalysesCommand,
  DescribeRouteTablesCommand,
  ReplaceNetworkAclAssociationCommand,
  RevokeSecurityGroupEgressCommand,
  RunInstancesCommand,
  StartNetworkInsightsAnalysisCommand,
  type CreateNetworkInsightsPathCommandInput,
  type EC2Client,
  type NetworkInsightsAnalysis,
} from '@aws-sdk/client-ec2';
import { awsError, CREDS, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { timed } from './helpers/run.ts';

const run = timed(promisify(execFile));
let server: Palisade;
let client: EC2Client;

async function vpc(cidr: string) {
  return (await client.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
}
async function subnet(vpcId: string, cidr: string) {
  return (await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
}
async function mainTable(vpcId: string) {
  return (
    await client.send(
      new DescribeRouteTablesCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'association.main', Values: ['true'] },
        ],
      }),
    )
  ).RouteTables![0]!.RouteTableId!;
}
/** A group that admits tcp/22 and tcp/5432 from anywhere (egress: the default allow-all). */
async function group(vpcId: string, name: string) {
  const g = (await client.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpcId }))).GroupId!;
  await client.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: g,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
      ],
    }),
  );
  return g;
}
async function launch(subnetId: string, g: string, publicIp = false) {
  return (
    await client.send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, Groups: [g], AssociatePublicIpAddress: publicIp }],
      }),
    )
  ).Instances![0]!;
}
async function igwFor(vpcId: string) {
  const igw = (await client.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
  await client.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
  return igw;
}
/** Creates the path, analyses it and returns the finished analysis. */
async function analyse(path: Partial<CreateNetworkInsightsPathCommandInput>): Promise<NetworkInsightsAnalysis> {
  const { NetworkInsightsPath } = await client.send(
    new CreateNetworkInsightsPathCommand({ Protocol: 'tcp', ...path } as CreateNetworkInsightsPathCommandInput),
  );
  const { NetworkInsightsAnalysis } = await client.send(
    new StartNetworkInsightsAnalysisCommand({ NetworkInsightsPathId: NetworkInsightsPath!.NetworkInsightsPathId }),
  );
  const got = await client.send(
    new DescribeNetworkInsightsAnalysesCommand({ NetworkInsightsAnalysisIds: [NetworkInsightsAnalysis!.NetworkInsightsAnalysisId!] }),
  );
  const a = got.NetworkInsightsAnalyses![0]!;
  assert.equal(a.Status, 'succeeded', a.StatusMessage);
  return a;
}
const ids = (a: NetworkInsightsAnalysis) => a.ForwardPathComponents!.map((c) => c.Component!.Id!);
const prefixes = (a: NetworkInsightsAnalysis) => ids(a).map((id) => id.split('-')[0]);

before(async () => {
  server = await start({ clock: 'virtual' });
  client = ec2(server.url);
});
after(() => server.close());

describe('a public subnet: internet gateway, route table, ACL, group', () => {
  let v: string;
  let s: string;
  let rt: string;
  let igw: string;
  let web: { InstanceId?: string; PublicIpAddress?: string; PrivateIpAddress?: string };
  before(async () => {
    v = await vpc('10.40.0.0/16');
    s = await subnet(v, '10.40.1.0/24');
    rt = await mainTable(v);
    igw = await igwFor(v);
    web = await launch(s, await group(v, 'web'), true);
  });

  it('without a route to the internet gateway: not found, NO_ROUTE_TO_DESTINATION names the route table', async () => {
    const a = await analyse({ Source: igw, Destination: web.InstanceId, DestinationPort: 22 });
    assert.equal(a.NetworkPathFound, false);
    const e = a.Explanations![0]!;
    assert.equal(e.ExplanationCode, 'NO_ROUTE_TO_DESTINATION');
    assert.equal(e.RouteTable!.Id, rt);
    assert.match(e.RouteTable!.Arn!, new RegExp(`:route-table/${rt}$`));
    assert.equal(e.Vpc!.Id, v);
    // The instance out to the internet gateway: the same table, and the gateway as the destination.
    const out = await analyse({ Source: web.InstanceId, Destination: igw, DestinationPort: 443 });
    assert.equal(out.Explanations![0]!.ExplanationCode, 'NO_ROUTE_TO_DESTINATION');
    assert.equal(out.Explanations![0]!.RouteTable!.Id, rt);
    assert.equal(out.Explanations![0]!.Destination!.Id, igw);
  });

  it('an igw-… source reaches the instance at its public address: components in AWS order', async () => {
    await client.send(new CreateRouteCommand({ RouteTableId: rt, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    const a = await analyse({ Source: igw, Destination: web.InstanceId, DestinationPort: 22 });
    assert.equal(a.NetworkPathFound, true, JSON.stringify(a.Explanations));
    assert.deepEqual(prefixes(a), ['igw', 'acl', 'sg', 'eni', 'i']);
    const [gw, acl, sg, eni, inst] = a.ForwardPathComponents!;
    assert.deepEqual(
      a.ForwardPathComponents!.map((c) => c.SequenceNumber),
      [1, 2, 3, 4, 5],
    );
    assert.equal(gw!.Component!.Id, igw);
    assert.equal(gw!.Vpc!.Id, v);
    assert.deepEqual(gw!.InboundHeader!.DestinationAddresses, [`${web.PublicIpAddress}/32`]);
    assert.deepEqual(gw!.OutboundHeader!.DestinationAddresses, [`${web.PrivateIpAddress}/32`]);
    assert.deepEqual(acl!.AclRule, { Cidr: '0.0.0.0/0', Egress: false, Protocol: 'all', RuleAction: 'allow', RuleNumber: 100 });
    assert.deepEqual(sg!.SecurityGroupRule, {
      Cidr: '0.0.0.0/0',
      Direction: 'ingress',
      SecurityGroupId: sg!.Component!.Id,
      PortRange: { From: 22, To: 22 },
      Protocol: 'tcp',
    });
    assert.equal(eni!.AttachedTo!.Id, web.InstanceId);
    assert.equal(eni!.Subnet!.Id, s);
    assert.equal(eni!.Vpc!.Id, v);
    assert.equal(inst!.Component!.Id, web.InstanceId);
    assert.deepEqual(inst!.InboundHeader!.DestinationPortRanges, [{ From: 22, To: 22 }]);
    assert.equal(inst!.InboundHeader!.Protocol, '6');
  });

  it('an instance out to the internet gateway: instance → ENI → group → ACL → route table → igw', async () => {
    const a = await analyse({ Source: web.InstanceId, Destination: igw, DestinationPort: 443 });
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
    assert.deepEqual(c[5]!.OutboundHeader!.SourceAddresses, [`${web.PublicIpAddress}/32`], 'the public address leaves the gateway');
    // An internet address as the destination ends at the same gateway.
    const ip = await analyse({ Source: web.InstanceId, DestinationIp: '198.51.100.77', DestinationPort: 443 });
    assert.equal(ip.NetworkPathFound, true);
    assert.equal(ids(ip).at(-1), igw);
  });

  it('a private instance behind the same gateway: IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS', async () => {
    const priv = await launch(s, await group(v, 'private'), false);
    const a = await analyse({ Source: priv.InstanceId, Destination: igw, DestinationPort: 443 });
    assert.equal(a.NetworkPathFound, false);
    const e = a.Explanations![0]!;
    assert.equal(e.ExplanationCode, 'IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS');
    assert.equal(e.InternetGateway!.Id, igw);
    // … and from the internet it has no public address to be reached at.
    const b = await analyse({ Source: igw, Destination: priv.InstanceId, DestinationPort: 22 });
    assert.equal(b.Explanations![0]!.ExplanationCode, 'IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS');
  });

  it('a port the group does not open: ENI_SG_RULES_MISMATCH on the ingress side', async () => {
    const a = await analyse({ Source: igw, Destination: web.InstanceId, DestinationPort: 3389 });
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
  let app: { InstanceId?: string };
  let db: { InstanceId?: string };
  before(async () => {
    v = await vpc('10.41.0.0/16');
    s = await subnet(v, '10.41.1.0/24');
    const other = await subnet(v, '10.41.2.0/24');
    const g = await group(v, 'acl-tier');
    db = await launch(s, g);
    app = await launch(other, g);
    acl = (await client.send(new CreateNetworkAclCommand({ VpcId: v }))).NetworkAcl!.NetworkAclId!;
    const assoc = (
      await client.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [s] }] }))
    ).NetworkAcls![0]!.Associations!.find((x) => x.SubnetId === s)!.NetworkAclAssociationId!;
    await client.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assoc, NetworkAclId: acl }));
  });

  it('a deny entry: SUBNET_ACL_RESTRICTION with the ACL, its rule number, direction and subnet', async () => {
    await client.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: acl,
        RuleNumber: 90,
        Protocol: '6',
        RuleAction: 'deny',
        Egress: false,
        CidrBlock: '10.41.2.0/24',
        PortRange: { From: 5432, To: 5432 },
      }),
    );
    const a = await analyse({ Source: app.InstanceId, Destination: db.InstanceId, DestinationPort: 5432 });
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
    await client.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: acl,
        RuleNumber: 100,
        Protocol: '6',
        RuleAction: 'allow',
        Egress: false,
        CidrBlock: '10.41.0.0/16',
        PortRange: { From: 22, To: 22 },
      }),
    );
    const a = await analyse({ Source: app.InstanceId, Destination: db.InstanceId, DestinationPort: 22 });
    assert.equal(a.NetworkPathFound, false);
    const e = a.Explanations![0]!;
    assert.equal(e.ExplanationCode, 'SUBNET_ACL_RESTRICTION');
    assert.equal(e.Direction, 'egress');
    assert.deepEqual(e.AclRule, { Cidr: '0.0.0.0/0', Egress: true, Protocol: 'all', RuleAction: 'deny', RuleNumber: 32767 });
    // With the ephemeral ports out, the path is found: both ACLs and the local route on it.
    await client.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: acl,
        RuleNumber: 100,
        Protocol: '6',
        RuleAction: 'allow',
        Egress: true,
        CidrBlock: '10.41.0.0/16',
        PortRange: { From: 1024, To: 65535 },
      }),
    );
    const ok = await analyse({ Source: app.InstanceId, Destination: db.InstanceId, DestinationPort: 22 });
    assert.equal(ok.NetworkPathFound, true, JSON.stringify(ok.Explanations));
    assert.deepEqual(prefixes(ok), ['i', 'eni', 'sg', 'acl', 'rtb', 'acl', 'sg', 'eni', 'i']);
    assert.equal(ok.ForwardPathComponents![4]!.RouteTableRoute!.GatewayId, 'local');
    assert.equal(ok.ForwardPathComponents![5]!.AclRule!.RuleNumber, 100);
  });
});

describe('peering', () => {
  it('routes on both sides: the peering connection is on the path; without the return route NO_ROUTE_TO_DESTINATION names the peer table', async () => {
    const a = await vpc('10.42.0.0/16');
    const b = await vpc('10.43.0.0/16');
    const ia = await launch(await subnet(a, '10.42.1.0/24'), await group(a, 'peer-a'));
    const ib = await launch(await subnet(b, '10.43.1.0/24'), await group(b, 'peer-b'));
    const pcx = (await client.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: b }))).VpcPeeringConnection!
      .VpcPeeringConnectionId!;
    // Not accepted yet: the route leads to a peering connection that carries nothing.
    const rtA = await mainTable(a);
    const rtB = await mainTable(b);
    await client.send(new CreateRouteCommand({ RouteTableId: rtA, DestinationCidrBlock: '10.43.0.0/16', VpcPeeringConnectionId: pcx }));
    let r = await analyse({ Source: ia.InstanceId, Destination: ib.InstanceId, DestinationPort: 22 });
    assert.equal(r.NetworkPathFound, false);
    assert.equal(r.Explanations![0]!.ExplanationCode, 'BAD_STATE');
    assert.equal(r.Explanations![0]!.VpcPeeringConnection!.Id, pcx);
    await client.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    r = await analyse({ Source: ia.InstanceId, Destination: ib.InstanceId, DestinationPort: 22 });
    assert.equal(r.NetworkPathFound, false);
    const e = r.Explanations![0]!;
    assert.equal(e.ExplanationCode, 'NO_ROUTE_TO_DESTINATION');
    assert.equal(e.RouteTable!.Id, rtB, 'the peer side has no route back');
    assert.equal(e.Vpc!.Id, b);
    // pcx-… as the destination: an address in the peer VPC, through the connection (one way is enough).
    const toPcx = await analyse({ Source: ia.InstanceId, Destination: pcx, DestinationIp: '10.43.1.50', DestinationPort: 22 });
    assert.equal(toPcx.NetworkPathFound, true, JSON.stringify(toPcx.Explanations));
    assert.deepEqual(prefixes(toPcx), ['i', 'eni', 'sg', 'acl', 'rtb', 'pcx']);
    await client.send(new CreateRouteCommand({ RouteTableId: rtB, DestinationCidrBlock: '10.42.0.0/16', VpcPeeringConnectionId: pcx }));
    r = await analyse({ Source: ia.InstanceId, Destination: ib.InstanceId, DestinationPort: 22 });
    assert.equal(r.NetworkPathFound, true, JSON.stringify(r.Explanations));
    assert.deepEqual(prefixes(r), ['i', 'eni', 'sg', 'acl', 'rtb', 'pcx', 'acl', 'sg', 'eni', 'i']);
    const hop = r.ForwardPathComponents![5]!;
    assert.equal(hop.Component!.Id, pcx);
    assert.equal(hop.SourceVpc!.Id, a);
    assert.equal(hop.DestinationVpc!.Id, b);
    assert.equal(r.ForwardPathComponents![4]!.RouteTableRoute!.VpcPeeringConnectionId, pcx);
    // pcx-… as the source: from the peer VPC's addresses to an instance here.
    const fromPcx = await analyse({ Source: pcx, SourceIp: '10.42.1.9', Destination: ib.InstanceId, DestinationPort: 22 });
    assert.equal(fromPcx.NetworkPathFound, true, JSON.stringify(fromPcx.Explanations));
    assert.deepEqual(prefixes(fromPcx), ['pcx', 'acl', 'sg', 'eni', 'i']);
  });
});

describe('NAT gateway', () => {
  it('a private instance reaches the internet through the NAT gateway; once the gateway is gone the route is a blackhole (BAD_STATE_ROUTE)', async () => {
    const v = await vpc('10.47.0.0/16');
    const pub = await subnet(v, '10.47.1.0/24');
    const priv = await subnet(v, '10.47.2.0/24');
    const igw = await igwFor(v);
    await client.send(new CreateRouteCommand({ RouteTableId: await mainTable(v), DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    const eip = (await client.send(new AllocateAddressCommand({ Domain: 'vpc' }))).AllocationId!;
    const nat = (await client.send(new CreateNatGatewayCommand({ SubnetId: pub, AllocationId: eip }))).NatGateway!.NatGatewayId!;
    const privRt = (await client.send(new CreateRouteTableCommand({ VpcId: v }))).RouteTable!.RouteTableId!;
    await client.send(new CreateRouteCommand({ RouteTableId: privRt, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat }));
    await client.send(new AssociateRouteTableCommand({ RouteTableId: privRt, SubnetId: priv }));
    const i = await launch(priv, await group(v, 'natted'));
    const a = await analyse({ Source: i.InstanceId, DestinationIp: '198.51.100.99', DestinationPort: 443 });
    assert.equal(a.NetworkPathFound, true, JSON.stringify(a.Explanations));
    assert.deepEqual(prefixes(a), ['i', 'eni', 'sg', 'acl', 'rtb', 'acl', 'nat', 'acl', 'rtb', 'igw']);
    assert.equal(a.ForwardPathComponents![4]!.RouteTableRoute!.NatGatewayId, nat);
    await client.send(new DeleteNatGatewayCommand({ NatGatewayId: nat }));
    const b = await analyse({ Source: i.InstanceId, DestinationIp: '198.51.100.99', DestinationPort: 443 });
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
    const v = await vpc('10.44.0.0/16');
    const i = await launch(await subnet(v, '10.44.1.0/24'), await group(v, 'nf'));
    const e2 = await create(i.InstanceId!, 'pcx-0123456789abcdef0');
    assert.equal(e2.name, 'InvalidVpcPeeringConnectionID.NotFound');
    const e3 = await create('i-0123456789abcdef0', i.InstanceId!);
    assert.equal(e3.name, 'InvalidInstanceID.NotFound');
  });

  it('a detached internet gateway as the source: UNASSOCIATED_COMPONENT', async () => {
    const v = await vpc('10.45.0.0/16');
    const i = await launch(await subnet(v, '10.45.1.0/24'), await group(v, 'detached'), true);
    const igw = (await client.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    const a = await analyse({ Source: igw, Destination: i.InstanceId, DestinationPort: 22 });
    assert.equal(a.NetworkPathFound, false);
    assert.equal(a.Explanations![0]!.ExplanationCode, 'UNASSOCIATED_COMPONENT');
    assert.equal(a.Explanations![0]!.Component!.Id, igw);
  });
});

describe('the aws CLI', () => {
  it('start-network-insights-analysis and describe-network-insights-analyses parse (igw source, egress blocked by the group)', async () => {
    const v = await vpc('10.46.0.0/16');
    const s = await subnet(v, '10.46.1.0/24');
    const igw = await igwFor(v);
    await client.send(new CreateRouteCommand({ RouteTableId: await mainTable(v), DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
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
    const i = await launch(s, g, true);
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const aws = async (...args: string[]) =>
      JSON.parse((await run('aws', ['ec2', ...args, '--endpoint-url', server.url, '--output', 'json'], { env })).stdout);
    const path = await aws(
      'create-network-insights-path',
      '--source',
      igw,
      '--destination',
      i.InstanceId!,
      '--protocol',
      'TCP',
      '--destination-port',
      '22',
    );
    const started = await aws(
      'start-network-insights-analysis',
      '--network-insights-path-id',
      path.NetworkInsightsPath.NetworkInsightsPathId,
    );
    assert.equal(started.NetworkInsightsAnalysis.Status, 'running');
    const out = await aws(
      'describe-network-insights-analyses',
      '--network-insights-analysis-ids',
      started.NetworkInsightsAnalysis.NetworkInsightsAnalysisId,
    );
    const a = out.NetworkInsightsAnalyses[0];
    assert.equal(a.NetworkPathFound, true);
    assert.deepEqual(
      a.ForwardPathComponents.map((c: { Component: { Id: string } }) => c.Component.Id.split('-')[0]),
      ['igw', 'acl', 'sg', 'eni', 'i'],
    );
    assert.equal(a.ForwardPathComponents[1].AclRule.RuleNumber, 100);
    // The other way: the group's egress lets only DNS out.
    const back = await aws(
      'create-network-insights-path',
      '--source',
      i.InstanceId!,
      '--destination',
      igw,
      '--protocol',
      'TCP',
      '--destination-port',
      '443',
    );
    const s2 = await aws('start-network-insights-analysis', '--network-insights-path-id', back.NetworkInsightsPath.NetworkInsightsPathId);
    const out2 = await aws(
      'describe-network-insights-analyses',
      '--network-insights-analysis-ids',
      s2.NetworkInsightsAnalysis.NetworkInsightsAnalysisId,
    );
    const e = out2.NetworkInsightsAnalyses[0].Explanations[0];
    assert.equal(out2.NetworkInsightsAnalyses[0].NetworkPathFound, false);
    assert.equal(e.ExplanationCode, 'ENI_SG_RULES_MISMATCH');
    assert.equal(e.Direction, 'egress');
    assert.equal(e.SecurityGroups[0].Id, g);
  });
});
